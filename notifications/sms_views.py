"""Delivery reports from Twilio about the text messages the product sent."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from notifications.sms import status_callback_url
from notifications.sms.status import StatusReport, record_status

__all__ = ["public_url", "status_callback_url", "twilio_status"]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_url(request: HttpRequest) -> str:
    """The address Twilio requested: ``SITE_URL`` + the path and query string.

    Twilio signs the exact URL it posted to, which is the public one we gave it
    (``status_callback_url()``, built from ``SITE_URL``). Behind a proxy or load balancer
    the request seen here may carry another scheme, host or port, so
    ``request.build_absolute_uri()`` could differ from what Twilio signed; ``SITE_URL``
    does not.
    """
    return settings.SITE_URL.rstrip("/") + request.get_full_path()


def signature_is_valid(request: HttpRequest) -> bool:
    """True when ``X-Twilio-Signature`` is Twilio's HMAC-SHA1, keyed with ``TWILIO_AUTH_TOKEN``,
    of the public URL and the POSTed fields. Without a token nothing is valid."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(request), request.POST, signature)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a message: updates the Delivery whose provider id it names.

    Forged or unsigned → 403. A message we don't know is answered 200 (else Twilio retries)
    and logged.
    """
    if not signature_is_valid(request):
        logger.warning(
            "Twilio status callback refused: %s signature from %s",
            "invalid" if request.headers.get(SIGNATURE_HEADER) else "missing",
            request.META.get("REMOTE_ADDR", "?"),
        )
        return HttpResponseForbidden("Invalid or missing Twilio signature.\n", content_type="text/plain")
    report = StatusReport(
        message_sid=request.POST.get("MessageSid", "").strip(),
        message_status=request.POST.get("MessageStatus", "") or request.POST.get("SmsStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
        error_message=request.POST.get("ErrorMessage", ""),
    )
    if not record_status(report):
        logger.warning(
            "Twilio status callback for unknown message %r (status %r) ignored",
            report.message_sid,
            report.message_status,
        )
        return HttpResponse("Ignored: unknown message.\n", content_type="text/plain")
    return HttpResponse("OK\n", content_type="text/plain")
