"""Production settings: secrets and hosts must come from the environment; HTTPS only."""

from config.env import env_bool, env_int, env_list, env_str
from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names in production.")
# Without keys of its own the site would encrypt under a key derived from SECRET_KEY, and
# changing SECRET_KEY would then make every stored secret unreadable.
if not FIELD_ENCRYPTION_KEYS:  # noqa: F405
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set in production (one or more Fernet keys, comma-separated; "
        'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
    )
if ENABLE_PAYMENT_GATEWAY and PAYMENT_BACKEND == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):  # noqa: F405
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("PAYMENT_BACKEND=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")
# The local test gateway accepts test cards and moves no money: never by accident in production.
if ENABLE_PAYMENT_GATEWAY and PAYMENT_BACKEND == "local" and not env_bool("ALLOW_TEST_GATEWAY", False):  # noqa: F405
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "PAYMENT_BACKEND=local is the test gateway (no money moves): set PAYMENT_BACKEND=stripe, "
        "or ALLOW_TEST_GATEWAY=true for a demo site."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# Behind the load balancer the client's address is the last one it adds to X-Forwarded-For;
# allauth's per-IP rate limits need it.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=0)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
