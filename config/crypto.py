"""Secrets the product must keep and read back (a CalDAV account's password), encrypted
with Fernet (AES-128-CBC with HMAC-SHA256, a random IV per value, authenticated).

Keys come from ``FIELD_ENCRYPTION_KEYS`` (several, comma-separated Fernet keys: the first
encrypts, every one decrypts, so a new key is put first and the old ones kept until the
values are re-encrypted). With none set, one key is derived from ``SECRET_KEY``, which is
enough for a machine of one's own, not for production."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class Unreadable(Exception):
    """A value no configured key opens (a key was removed, or the value was altered)."""


def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(b"field-encryption:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(text: str) -> str:
    """``text`` encrypted under the first key, as ASCII (empty stays empty)."""
    if not text:
        return ""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The text of an ``encrypt`` result, opened with whichever key made it."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise Unreadable("no configured key opens this value") from error
