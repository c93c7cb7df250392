"""Signing a message by the Standard Webhooks specification (https://www.standardwebhooks.com/).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is
``v1,`` and the base64 of its HMAC-SHA256 under the secret's bytes (the base64 after
``whsec_``). Several signatures are separated by spaces: while a rotated secret's
predecessor still signs, a receiver that knows either one accepts the message."""

from __future__ import annotations

import base64
import hashlib
import hmac

from webhooks.models import SECRET_PREFIX


def secret_bytes(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        secret = secret[len(SECRET_PREFIX) :]
    return base64.b64decode(secret)


def sign(secret: str, *, msg_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: list[str], *, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with each of ``secrets``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret, msg_id=msg_id, timestamp=timestamp, body=body) for secret in secrets
        ),
    }
