"""Text messages, sent through the backend named by ``settings.SMS_BACKEND`` the way Django
sends email through ``EMAIL_BACKEND``:

- ``notifications.sms.console.SmsBackend`` prints each message (the default: no outside service);
- ``notifications.sms.locmem.SmsBackend`` keeps them in ``notifications.sms.locmem.outbox`` (tests);
- ``notifications.sms.twilio.SmsBackend`` sends them through Twilio's API.

A backend is a class with ``send(message: SmsMessage) -> str`` that returns the provider's
message id and raises ``SmsError`` when the message did not go out. ``SmsError.retryable``
tells the caller whether trying again later may work (the network, a provider outage, a rate
limit) or not (an invalid number, a misconfigured account).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.module_loading import import_string


class SmsError(Exception):
    """A message that did not go out. ``str(error)`` is a short text fit for ``Delivery.error``.

    ``retryable``: whether sending the same message again later may succeed.
    ``code``: the provider's error code when it gave one (Twilio: 21211 for an invalid number…).
    ``status``: the provider's HTTP status when there was an answer.
    """

    def __init__(self, message: str, *, retryable: bool, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.status = status


class SmsConfigurationError(SmsError, ImproperlyConfigured):
    """A backend that cannot send because a setting is missing; never retryable as it stands."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    # The address the provider reports delivery to (see ``status_callback_url``).
    status_callback: str | None = None


class BaseSmsBackend:
    """What every SMS backend offers. Backends take keyword options in ``__init__``."""

    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError("An SMS backend must implement send(message) -> provider id.")


def get_backend(path: str | None = None, **options) -> BaseSmsBackend:
    """The backend at ``path`` (``settings.SMS_BACKEND`` by default), made with ``options``.

    A path that names no backend raises ``SmsConfigurationError`` — an ``ImproperlyConfigured``
    that is also an ``SmsError``, so a sender records it on the delivery instead of crashing."""
    path = path or settings.SMS_BACKEND
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise SmsConfigurationError(
            f"SMS backend {path!r} could not be loaded ({exc}). Set SMS_BACKEND to a dotted path such as "
            "'notifications.sms.console.SmsBackend', 'notifications.sms.locmem.SmsBackend' or "
            "'notifications.sms.twilio.SmsBackend'."
        ) from exc
    if not (isinstance(backend_class, type) and callable(getattr(backend_class, "send", None))):
        raise SmsConfigurationError(f"SMS backend {path!r} is not a class with a send(message) method.")
    return backend_class(**options)


def send_sms(to: str, body: str, *, status_callback: str | None = None, backend: BaseSmsBackend | None = None) -> str:
    """Send one text message and return the provider's message id. Raises ``SmsError``."""
    to = (to or "").strip()
    if not to:
        raise SmsError("No phone number to send the message to.", retryable=False)
    if not body:
        raise SmsError("The message is empty.", retryable=False)
    backend = backend or get_backend()
    return backend.send(SmsMessage(to=to, body=body, status_callback=status_callback))


def status_callback_url() -> str | None:
    """The public address Twilio reports delivery status to, to pass as ``status_callback``.

    None when ``TWILIO_AUTH_TOKEN`` is empty: without it no callback could be verified, so none
    is asked for. Built from ``SITE_URL`` — the same base the callback view checks signatures against.
    """
    if not settings.TWILIO_AUTH_TOKEN:
        return None
    return settings.SITE_URL.rstrip("/") + reverse("sms_twilio_status")
