"""Typed readers for configuration from the environment.

Every helper fails loudly with ``ImproperlyConfigured`` on a value it cannot parse,
so a typo in a deployment shows up at start-up instead of as odd behaviour later.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_UNSET = object()


def env_str(name: str, default: Any = _UNSET) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"The environment variable {name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false).")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int_list(name: str, default: list[int]) -> list[int]:
    """Comma-separated whole numbers, e.g. ``1440,120,30``; empty means none."""
    try:
        return [int(item) for item in env_list(name, [str(n) for n in default])]
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={os.environ.get(name)!r} is not a comma-separated list of integers."
        ) from None


def env_fernet_keys(name: str) -> list[str]:
    """Fernet keys (``Fernet.generate_key()``), in order, separated by commas (spaces and
    line breaks are tolerated: no key contains one); none set is an empty list. A key that
    isn't one — cut short, pasted with a quote, made some other way — stops start-up with
    its position named; the key itself is never repeated in the message."""
    from cryptography.fernet import Fernet

    keys = [key for key in re.split(r"[\s,]+", os.environ.get(name, "")) if key]
    for position, key in enumerate(keys, start=1):
        try:
            # Fernet itself skips characters outside base64 (quotes, say): the key must be
            # exactly as generated, so that what is backed up is what is in use.
            if not re.fullmatch(r"[A-Za-z0-9_-]{43}=", key):
                raise ValueError
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: key {position} of {len(keys)} is not a Fernet key (44 characters of URL-safe "
                'base64 encoding 32 bytes). Make one with: python -c "from cryptography.fernet import '
                'Fernet; print(Fernet.generate_key().decode())"'
            ) from None
    return keys


def env_years_by_kind(name: str, defaults: dict[str, int | None]) -> dict[str, int | None]:
    """Whole years per kind, e.g. ``notifications=1,inactive_accounts=3``, over ``defaults``
    (kinds not named keep theirs); ``never`` (or ``0``) keeps that kind for ever (None). An
    unknown kind, a missing ``=`` or a value that isn't a whole number stops start-up."""
    years = dict(defaults)
    raw = os.environ.get(name, "")
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        kind, sep, value = (piece.strip() for piece in item.partition("="))
        if not sep or not kind:
            raise ImproperlyConfigured(f"{name}: {item!r} must be kind=years, e.g. notifications=2.")
        if kind not in defaults:
            known = ", ".join(sorted(defaults))
            raise ImproperlyConfigured(f"{name}: unknown kind {kind!r}; the kinds are {known}.")
        if value.lower() in ("never", "0"):
            years[kind] = None
            continue
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {kind}={value!r} is not a whole number of years (or never).") from None
        if number < 1:
            raise ImproperlyConfigured(f"{name}: {kind}={number} must be at least 1 year (or never).")
        years[kind] = number
    return years


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}.")
    return value


def database_from_url(url: str | None, *, base_dir: Path) -> dict[str, Any]:
    """Django DATABASES['default'] from ``DATABASE_URL``; SQLite in the project when unset.

    SQLite runs in WAL mode and opens write transactions with ``BEGIN IMMEDIATE`` so
    that two writers queue on the lock instead of failing half-way through.
    """
    if not url:
        return sqlite_database(base_dir / "db.sqlite3")
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL must name a database, e.g. postgres://user@host:5432/booking.")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        # No JIT compilation unless the URL asks: for a web application's short queries it
        # costs tens of milliseconds more than it saves (a year's report paid 18 ms for it).
        options.setdefault("options", "-c jit=off")
        config: dict[str, Any] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
        return config
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative/path → "relative/path"; sqlite:////abs/path → "/abs/path"
        path = path.removeprefix("/")
        if not path:
            raise ImproperlyConfigured("DATABASE_URL=sqlite:/// needs a file name.")
        return sqlite_database(Path(path) if Path(path).is_absolute() else base_dir / path)
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported (use postgres:// or sqlite:///)."
    )


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;PRAGMA busy_timeout=20000;"
            ),
        },
    }


def email_from_url(url: str | None) -> dict[str, Any]:
    """Email settings from ``EMAIL_URL`` (smtp://user:pass@host:587?tls=1, console://, locmem://)."""
    if not url:
        return {"EMAIL_BACKEND": env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}
    parts = urlsplit(url)
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if parts.scheme in backends:
        return {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(f"EMAIL_URL scheme {parts.scheme!r} is not supported (smtp, smtps, console).")
    query = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 587),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": parts.scheme == "smtp" and query.get("tls", "1") in _TRUE,
    }
