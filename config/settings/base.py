"""Settings shared by every environment; values come from the environment (see README)."""

from __future__ import annotations

from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    database_from_url,
    email_from_url,
    env_bool,
    env_choice,
    env_fernet_keys,
    env_int,
    env_int_list,
    env_list,
    env_str,
    env_years_by_kind,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "django-insecure-local-development-key-change-me")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "django_htmx",
    "template_partials",
    "django_q",
    "csp",
    # Serves the API docs' Swagger UI from static files instead of a CDN.
    "ninja",
    "accounts",
    "availability",
    "bookings",
    "notifications",
    "payments",
    "waitlist",
    "calendar_sync",
    "webhooks",
    "intake",
    "reports",
    "pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.security_headers.PermissionsPolicyMiddleware",
    "config.middleware.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the browser's (Accept-Language) or the footer's choice (a cookie);
    # after the session, before CommonMiddleware, as Django asks.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ViewerTimezoneMiddleware",
    # A signed-in person's own language (their profile) wins over the browser's.
    "accounts.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication (it counts per signed-in client) and after the CSRF check (a
    # refused form is no attempt): booking attempts over BOOKING_ATTEMPTS_* answer 429.
    "bookings.throttle.BookingThrottleMiddleware",
    # The booking funnel's steps, written after the response (reports.funnel).
    "reports.funnel.FunnelMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.viewer",
            ],
            # ``{{ value|when:"day_long" }}``: dates in the reader's language (config/dates.py).
            "builtins": ["config.dates", "config.numbers", "config.stored_text", "config.money"],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", ""), base_dir=BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "booking",
        }
    }
else:
    # A database cache is shared by the web server and the worker processes, which the
    # login rate limits and the worker heartbeat on /health/ both need.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_entries",
            # Past MAX_ENTRIES rows (Django's default: 300) the table is culled, live rate
            # limit counters included: room for many people's counters.
            "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 50_000, minimum=300)},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

# django-allauth: email is the login; verification is mandatory; rate limits use the cache.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = env_choice("ACCOUNT_EMAIL_VERIFICATION", "mandatory", ("mandatory", "optional", "none"))
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_SESSION_REMEMBER = None
# The site's name in the account emails (templates/account/email/) and their subjects.
SITE_NAME = env_str("SITE_NAME", "Booking")
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env_choice("ACCOUNT_DEFAULT_HTTP_PROTOCOL", "http", ("http", "https"))
# Sign-in throttling (accounts/adapter.py): a browser that has signed in to the account
# before is limited only on its own; any other attempt per address, per address and
# account, then per account over all such devices, a ceiling only guessing from many
# places reaches. No one can lock the owner out of a device they have used before.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# The reset signs the person in, which makes that browser a known device.
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
LOGIN_KNOWN_DEVICE_DAYS = env_int("LOGIN_KNOWN_DEVICE_DAYS", 365, minimum=1)
ACCOUNT_RATE_LIMITS = {
    # Replaced by the buckets below: its per-account count let anyone lock the owner out.
    "login_failed": "",
    # allauth's limit of every sign-in POST per address would stop a known device too,
    # behind the same address as a guesser; failures are what the buckets below count.
    "login": "",
    "login_failed_known_device": "10/5m/key",
    "login_failed_address": "30/m/ip",
    "login_failed_address_account": "5/5m/key,20/h/key",
    "login_failed_account": "100/h/key",
    "signup": "20/h/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}

# Languages (README "Languages"): each person's own (their profile), else the footer's
# choice or the browser's, else English. The names are each language's own, untranslated.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times per language (config/formats/<language>/formats.py), with the product's
# named formats (config/dates.py) beside Django's own.
FORMAT_MODULE_PATH = ["config.formats"]
# The footer's choice is kept a year (a signed-in person's is also saved on their profile).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files people upload (workshop materials), through Django's storage API; served only by
# the views that check who may see them, never as public media.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# `make run` serves the demo with DEBUG off (the site's own 404 and 500 pages) and its
# static files straight from static/, without collectstatic: STATIC_FROM_SOURCE=true.
if env_bool("STATIC_FROM_SOURCE", False):
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

MESSAGE_TAGS = {40: "error"}

# Email: EMAIL_URL (smtp://user:pass@host:587) or EMAIL_BACKEND; console by default.
globals().update(email_from_url(env_str("EMAIL_URL", "")))
# Seconds an SMTP call may hang; below NOTIFICATION_CLAIM_TIMEOUT_SECONDS, so a slow call
# is never taken for a stopped worker's (and sent again).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Booking <no-reply@booking.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work: django-q2 on the ORM broker, or Redis when REDIS_URL is set.
Q_CLUSTER = {
    "name": "booking",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 3,
    "queue_limit": 50,
    "catch_up": False,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Product configuration (DESIGN.md); each coach and session type may override the
# coach-level values, whose defaults live in BOOKING_DEFAULTS.
ENABLE_GROUP_SESSIONS = env_bool("ENABLE_GROUP_SESSIONS", True)
MAX_GROUP_CAPACITY = env_int("MAX_GROUP_CAPACITY", 10, minimum=1)
BOOKING_WINDOW_DAYS = env_int("BOOKING_WINDOW_DAYS", 7, minimum=1)
# Recurring bookings (issue 17): at most this many occurrences, this far ahead (a series may
# reach past the booking window).
MAX_SERIES_OCCURRENCES = env_int("MAX_SERIES_OCCURRENCES", 52, minimum=1)
SERIES_HORIZON_DAYS = env_int("SERIES_HORIZON_DAYS", 182, minimum=1)
# Waitlists (issue 18): how many may wait per session (a session type may set its own), and
# how long a freed seat offered to the next in line is held for them.
MAX_WAITLIST_SIZE = env_int("MAX_WAITLIST_SIZE", 20, minimum=1)
WAITLIST_OFFER_MINUTES = env_int("WAITLIST_OFFER_MINUTES", 120, minimum=1)
# A freed one-on-one time is offered to this many people waiting for it at once; the first
# to accept takes it.
WAITLIST_TIME_OFFERS_AT_ONCE = env_int("WAITLIST_TIME_OFFERS_AT_ONCE", 1, minimum=1)
# Reports (issue 19): the booking funnel's analytics events are kept this many days.
ANALYTICS_RETENTION_DAYS = env_int("ANALYTICS_RETENTION_DAYS", 400, minimum=1)
# Connected calendars (issue 20): each is read every this many minutes (a failing one
# less often, up to hourly), within this deadline, up to this size.
CALENDAR_SYNC_MINUTES = env_int("CALENDAR_SYNC_MINUTES", 5, minimum=1)
CALENDAR_FETCH_TIMEOUT_SECONDS = env_int("CALENDAR_FETCH_TIMEOUT_SECONDS", 20, minimum=1)
CALENDAR_MAX_BYTES = env_int("CALENDAR_MAX_MB", 5, minimum=1) * 1_000_000
# A calendar account's server (CalDAV, Google's and Microsoft's APIs and their OAuth token
# endpoints) may take this long to answer each request.
CALDAV_TIMEOUT_SECONDS = env_int("CALDAV_TIMEOUT_SECONDS", 20, minimum=1)
# Google Calendar and Microsoft 365 / Outlook through their own APIs (OAuth): each shows its
# "Connect" button only when its app's credentials are set. The endpoints are settings so a
# test (or a sovereign cloud) can name others; users never choose them.
GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID", "")
GOOGLE_CLIENT_SECRET = env_str("GOOGLE_CLIENT_SECRET", "")
GOOGLE_OAUTH_AUTHORIZE_URL = env_str("GOOGLE_OAUTH_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth")
GOOGLE_OAUTH_TOKEN_URL = env_str("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
GOOGLE_API_URL = env_str("GOOGLE_API_URL", "https://www.googleapis.com/calendar/v3").rstrip("/")
MICROSOFT_CLIENT_ID = env_str("MICROSOFT_CLIENT_ID", "")
MICROSOFT_CLIENT_SECRET = env_str("MICROSOFT_CLIENT_SECRET", "")
MICROSOFT_TENANT = env_str("MICROSOFT_TENANT", "common")
MICROSOFT_OAUTH_AUTHORIZE_URL = env_str(
    "MICROSOFT_OAUTH_AUTHORIZE_URL", f"https://login.microsoftonline.com/{MICROSOFT_TENANT}/oauth2/v2.0/authorize"
)
MICROSOFT_OAUTH_TOKEN_URL = env_str(
    "MICROSOFT_OAUTH_TOKEN_URL", f"https://login.microsoftonline.com/{MICROSOFT_TENANT}/oauth2/v2.0/token"
)
MICROSOFT_API_URL = env_str("MICROSOFT_API_URL", "https://graph.microsoft.com/v1.0").rstrip("/")
# Fernet keys for the secrets the product keeps (config/crypto.py): the first encrypts,
# every one decrypts; each is checked here, so a malformed one stops start-up.
FIELD_ENCRYPTION_KEYS = env_fernet_keys("FIELD_ENCRYPTION_KEYS")
# The personal data download (/account/my-data/) holds the coach's private notes about the
# person only when this is on: some laws give clients a right to their records, others not.
PRIVACY_EXPORT_COACH_NOTES = env_bool("PRIVACY_EXPORT_COACH_NOTES", False)
# Erasure (pages/erasure.py): a person's request to be erased waits this many days, during
# which they may cancel it, before the hourly task anonymises their account.
ERASURE_GRACE_DAYS = env_int("ERASURE_GRACE_DAYS", 14, minimum=0)
# The retention policy (pages/retention.py, every day): whole years each kind of record is
# kept; "never" keeps it for ever. RETENTION_YEARS="notifications=1,inactive_accounts=3"
# overrides some; an unknown kind or a bad number stops start-up.
RETENTION_YEARS = env_years_by_kind(
    "RETENTION_YEARS",
    {
        "booking_texts": 3,
        "notifications": 2,
        "webhook_deliveries": 1,
        "intake_answers": 7,
        "coach_notes": 7,
        "inactive_accounts": 3,
    },
)
# Addresses users give (calendars) may point into private networks only when this is on:
# a server must never be made to fetch its own internal services.
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", False)
# Outgoing webhooks: each try must be answered within this many seconds; a failed delivery
# is tried again after each of these waits (minutes; about a day in all), then its endpoint
# is disabled. Finished deliveries are kept in the log this many days.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_RETRY_SCHEDULE = env_int_list("WEBHOOK_RETRY_MINUTES", [1, 5, 30, 60, 120, 240, 480, 480])
if any(minutes < 1 for minutes in WEBHOOK_RETRY_SCHEDULE):
    raise ImproperlyConfigured("WEBHOOK_RETRY_MINUTES must list whole numbers of minutes, each at least 1.")
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30, minimum=1)
# Workshop materials: the largest file, and the kinds of file that may be shared.
MATERIAL_MAX_MB = env_int("MATERIAL_MAX_MB", 20, minimum=1)
MATERIAL_FILE_TYPES = ("pdf", "png", "jpg", "jpeg", "txt", "md", "docx", "xlsx", "pptx", "odt", "ods", "odp", "zip")
# Video rooms (bookings/video.py): the Jitsi Meet-style server where a session type with
# "a private video room for each session" gets an unguessable room per session
# (<server>/<room>); empty: that choice is not offered.
VIDEO_ROOMS_URL = env_str("VIDEO_ROOMS_URL", "https://meet.jit.si").strip().rstrip("/")
if VIDEO_ROOMS_URL:
    from urllib.parse import urlsplit as _urlsplit

    _video = _urlsplit(VIDEO_ROOMS_URL)
    if _video.scheme not in ("https", "http") or not _video.hostname or _video.query or _video.fragment:
        raise ImproperlyConfigured(
            f"VIDEO_ROOMS_URL={VIDEO_ROOMS_URL!r} must be the meeting server's address, e.g. https://meet.jit.si "
            "(empty: no video rooms)."
        )
    if len(VIDEO_ROOMS_URL) > 200:
        raise ImproperlyConfigured("VIDEO_ROOMS_URL must be at most 200 characters.")
NOTIFICATION_METHOD = env_choice("NOTIFICATION_METHOD", "email", ("email", "sms", "both"))
ENABLE_PAYMENT_GATEWAY = env_bool("ENABLE_PAYMENT_GATEWAY", False)
# Payments (issue 16, payments.gateways): "local" (the test gateway) or "stripe". A payment
# holds its place this long; Stripe's own Checkout Session lives at least 30 minutes (its
# minimum), so when our hold runs out first we expire the session ourselves.
PAYMENT_BACKEND = env_choice("PAYMENT_BACKEND", "local", ("local", "stripe"))
PAYMENT_HOLD_MINUTES = env_int("PAYMENT_HOLD_MINUTES", 15, minimum=1)
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
# Only for pointing the client somewhere else than api.stripe.com (a local fake in tests).
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")

# Notifications (issue 5). Reminders: minutes before a session (a session type may have
# its own); the feedback request goes this long after the end; the cancellation-window
# message this long before free cancellation closes.
NOTIFICATION_REMINDER_MINUTES = env_int_list("NOTIFICATION_REMINDER_MINUTES", [24 * 60, 120, 30])
NOTIFICATION_FEEDBACK_DELAY_MINUTES = env_int("NOTIFICATION_FEEDBACK_DELAY_MINUTES", 60, minimum=0)
NOTIFICATION_CANCELLATION_WARNING_HOURS = env_int("NOTIFICATION_CANCELLATION_WARNING_HOURS", 6, minimum=1)
# Email and SMS of a booking change go to the worker at once (with Redis as the broker);
# with the ORM broker the every-minute run sends them.
NOTIFICATION_SEND_AT_ONCE = env_bool("NOTIFICATION_SEND_AT_ONCE", bool(REDIS_URL))
# A failed email or SMS is tried again after 1, 5, 25… minutes, this many times in all.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5, minimum=1)
# An email or SMS claimed by a worker that has not recorded its result this long after the
# claim (or after the provider call started) belongs to a worker that stopped: it is
# queued again. Keep it above the provider's own timeouts (EMAIL_TIMEOUT, Twilio's).
NOTIFICATION_CLAIM_TIMEOUT_SECONDS = env_int("NOTIFICATION_CLAIM_TIMEOUT_SECONDS", 180, minimum=1)
# The booking event relay (bookings.relay): events per batch; a relay task is queued
# right after a change's commit at most once per RELAY_WAKE_SECONDS per process, and keeps
# watching for RELAY_LINGER_SECONDS after the last event (longer than the wake interval);
# a consumer that fails on an event is retried this many times.
RELAY_BATCH = env_int("RELAY_BATCH", 200, minimum=1)
RELAY_WAKE = env_bool("RELAY_WAKE", True)
RELAY_WAKE_SECONDS = env_int("RELAY_WAKE_SECONDS", 2, minimum=0)
RELAY_LINGER_SECONDS = env_int("RELAY_LINGER_SECONDS", 3, minimum=0)
RELAY_MAX_ATTEMPTS = env_int("RELAY_MAX_ATTEMPTS", 5, minimum=1)
# SMS like EMAIL_BACKEND: console (prints), locmem (tests), twilio.
SMS_BACKEND = env_str("SMS_BACKEND", "notifications.sms.console.SmsBackend")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
# Only for pointing the client somewhere else than api.twilio.com (a local fake in tests).
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "")
# The site's public address, for links in emails and SMS and Twilio's status callbacks.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Booking throttles (bookings/throttle.py). Attempts to book — a booking or a seat taken,
# a reschedule, from the pages or the API — per signed-in person and per client address
# (behind a proxy: TRUSTED_PROXY_COUNT, as for the sign-in limits): "count/period" limits,
# comma-separated, period s, m, h or d with an optional number ("20/10m,100/d": at most 20
# in any fixed 10 minutes and 100 in a day, UTC); empty: no limit. Over a limit the answer
# is 429 with Retry-After. A person booking by hand needs a few attempts a session; a
# script or a shared account hits these. Raise the per-address one where many people
# share an address (a campus, an office).
BOOKING_ATTEMPTS_PER_CLIENT = env_str("BOOKING_ATTEMPTS_PER_CLIENT", "20/10m,100/d")
BOOKING_ATTEMPTS_PER_ADDRESS = env_str("BOOKING_ATTEMPTS_PER_ADDRESS", "100/10m,1000/d")
# Requests (bookings waiting for the coach's answer) one client may have open with one
# coach; one more is refused (429) until one is answered or expires. 0: no limit.
MAX_OPEN_REQUESTS_PER_COACH = env_int("MAX_OPEN_REQUESTS_PER_COACH", 3, minimum=0)
BOOKING_DEFAULTS = {
    "allow_firm_booking": True,
    "firm_booking_threshold_hours": 24,
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 15,
    "max_sessions_per_day": 8,
    "max_sessions_per_week": 30,
    "calendar_visibility": "public",
    "require_approval_unconnected": True,
    "minimum_notice_hours": 2,
    "booking_window_days": BOOKING_WINDOW_DAYS,
    "slot_step_minutes": 30,
    "cancellation_notice_hours": 24,
}

# Content-Security-Policy (django-csp): scripts, styles, fonts and connections from this
# site only — no inline script or style, no eval, no plugins — and no framing by other
# sites. Images may also be data: URIs (the API docs' icons). CSP_REPORT_ONLY=true sends
# the same policy as Content-Security-Policy-Report-Only, to try it on a live site first;
# CSP_REPORT_URI is where browsers then send what it would have blocked.
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": env_list("CSP_REPORT_URI") or None,
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY
# Browser features the site never uses, refused to every page and anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_REFERRER_POLICY = "same-origin"
# GET /health/ gives its details (checks, hosts, timings) to signed-in staff and to a
# monitor sending "Authorization: Bearer <HEALTH_TOKEN>"; empty: staff only.
HEALTH_TOKEN = env_str("HEALTH_TOKEN", "")
if HEALTH_TOKEN and len(HEALTH_TOKEN) < 32:
    raise ImproperlyConfigured("HEALTH_TOKEN must be at least 32 characters (e.g. `openssl rand -hex 32`).")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
