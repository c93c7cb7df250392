"""An SMS backend that sends through Twilio's Messages API with the ``twilio`` library.

Settings: ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_FROM_NUMBER`` (all required
to send), and ``TWILIO_API_BASE`` to point the client at another address than
``https://api.twilio.com`` (a local fake in tests): it replaces the base URL of the library's
``api`` domain, the one the Messages resource is built on.

Errors become ``SmsError``: Twilio's answers keep its error code and message and are retryable
for 5xx, 429 and 408; a connection that could not be made is retryable; an answer that never
came (a read timeout) is not, since Twilio may have taken the message and a second send would
reach the person twice.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.sms import BaseSmsBackend, SmsConfigurationError, SmsError, SmsMessage

# Seconds to wait for Twilio to connect and to answer.
DEFAULT_TIMEOUT = 15.0
RETRYABLE_STATUSES = frozenset({408, 429})

# One client per thread and per configuration: a client holds a requests session, which is
# not meant to be shared across threads, nor across a fork (the process id is in the key).
_clients = threading.local()


def _required(name: str) -> str:
    value = getattr(settings, name, "") or ""
    if not value.strip():
        raise SmsConfigurationError(
            f"The Twilio SMS backend needs settings.{name}; set the {name} environment variable "
            "(or choose another SMS_BACKEND)."
        )
    return value.strip()


def _api_base() -> str:
    base = (getattr(settings, "TWILIO_API_BASE", "") or "").strip().rstrip("/")
    if base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SmsConfigurationError(
                f"settings.TWILIO_API_BASE must be an http(s) address such as http://127.0.0.1:8765, not {base!r}."
            )
    return base


def get_client(timeout: float = DEFAULT_TIMEOUT) -> Client:
    """The Twilio client for the current settings (cached per thread)."""
    account_sid = _required("TWILIO_ACCOUNT_SID")
    auth_token = _required("TWILIO_AUTH_TOKEN")
    base = _api_base()
    key = (os.getpid(), account_sid, auth_token, base, timeout)
    cached = getattr(_clients, "entry", None)
    if cached is not None:
        if cached[0] == key:
            return cached[1]
        if cached[0][0] == os.getpid():  # a parent's client after a fork is left alone
            _close(cached[1])
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    if base:
        client.api.base_url = base
        # An explicit address wins over any TWILIO_EDGE / TWILIO_REGION from the environment,
        # which would otherwise rewrite its host name.
        client.edge = None
        client.region = None
    _clients.entry = (key, client)
    return client


def _close(client: Client) -> None:
    session = getattr(client.http_client, "session", None)
    if session is not None:
        session.close()


def _describe(message: str) -> str:
    prefix = "Unable to create record: "
    return message[len(prefix) :] if message.startswith(prefix) else message


class SmsBackend(BaseSmsBackend):
    def __init__(self, timeout: float = DEFAULT_TIMEOUT, **options):
        self.timeout = timeout

    def send(self, message: SmsMessage) -> str:
        from_number = _required("TWILIO_FROM_NUMBER")
        client = get_client(self.timeout)
        try:
            created = client.messages.create(
                to=message.to,
                from_=from_number,
                body=message.body,
                status_callback=message.status_callback,
            )
        except TwilioRestException as exc:
            raise self._answer_error(exc.status, exc.code, _describe(str(exc.msg))) from exc
        except TwilioServiceException as exc:
            raise self._answer_error(exc.status, exc.code, exc.detail or exc.title) from exc
        except requests.exceptions.ConnectionError as exc:
            # Nothing reached Twilio (refused, unreachable, no name, connect timeout): try again later.
            raise SmsError(f"Could not reach Twilio: {type(exc).__name__}.", retryable=True) from exc
        except requests.exceptions.Timeout as exc:
            raise SmsError(
                f"Twilio did not answer within {self.timeout:g} s; the message may have gone out, "
                "so it is not sent again.",
                retryable=False,
            ) from exc
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise SmsError(f"Twilio request failed: {exc}", retryable=False) from exc
        if not created.sid:
            raise SmsError("Twilio accepted the message but gave no message id.", retryable=False)
        return created.sid

    @staticmethod
    def _answer_error(status: int, code: int | None, text: str) -> SmsError:
        status = int(status or 0)
        retryable = status >= 500 or status in RETRYABLE_STATUSES
        label = f"Twilio error {code}" if code and code != status else f"Twilio HTTP {status}"
        return SmsError(f"{label}: {text}", retryable=retryable, code=code, status=status)
