"""Settings for the test suite: fast hashing, in-memory mail and cache, tasks run inline."""

import tempfile

from config.settings.base import *  # noqa: F403
from config.settings.base import Q_CLUSTER

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else-0123456789"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Two keys, as after a rotation began: the first encrypts, both decrypt. Test-only keys.
FIELD_ENCRYPTION_KEYS = [
    "z3LxB3RUJvCLvmpghK2XW-S6sgHsRHORjIOPvafQ3JI=",
    "FEJ9dDpeLAkgTXPtrnp7d9N8tk0R7RyWdw-7otoRc-4=",
]
NOTIFICATION_SEND_AT_ONCE = True  # tasks run inline: a booking's emails are in the outbox at once
# The relay runs inline after every commit (tasks are synchronous), once, without watching.
RELAY_WAKE_SECONDS = 0
RELAY_LINGER_SECONDS = 0
# Booking throttles: the suite books dozens of times as one person from 127.0.0.1. The
# middleware still counts every attempt, under limits no test reaches; the throttle's own
# tests (bookings/tests/test_throttle.py) set real ones.
BOOKING_ATTEMPTS_PER_CLIENT = "1000000/m"
BOOKING_ATTEMPTS_PER_ADDRESS = "1000000/m"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# No collected static files in tests: the live server serves them through the finders.
STATIC_ROOT = None

# SQLite: the test database is a file of this process's own, not Django's shared-cache
# in-memory database, so that threads (the concurrency tests) each open their own
# connection with the production settings — WAL, BEGIN IMMEDIATE, a busy timeout — and
# queue on the write lock as the real site's workers do.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os as _os
    import tempfile as _tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": _os.path.join(_tempfile.gettempdir(), f"booking-test-{_os.getpid()}.sqlite3")
    }
# Uploaded files (workshop materials) go to a folder of this run's own.
MEDIA_ROOT = tempfile.mkdtemp(prefix="booking-media-")
