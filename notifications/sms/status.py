"""What a delivery report from the SMS provider does to the ``Delivery`` it is about.

Twilio reports a message's progress (queued, sending, sent) and its outcome (delivered,
undelivered, failed), not always in order. The rules:

- ``provider_status`` records the latest report, except that a progress report never
  replaces an outcome (a late "sent" after "delivered" is ignored);
- "delivered" makes the delivery sent (``sent_at`` set if it was empty, the error cleared),
  whatever came before, and is final: nothing after it changes the delivery;
- "undelivered" / "failed" make it failed, with ``"<ErrorCode>: <what it means>"`` as error;
- progress reports never change the delivery's own status, so nothing moves a failed
  delivery back to sent except "delivered".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

DELIVERED = "delivered"
FAILED_STATUSES = frozenset({"failed", "undelivered"})
OUTCOMES = frozenset({DELIVERED, "read", "canceled", *FAILED_STATUSES})

# What the most common delivery error codes mean (https://www.twilio.com/docs/api/errors).
ERROR_MESSAGES = {
    "21211": "Invalid 'To' phone number",
    "21408": "Sending to this region is not enabled",
    "21610": "The recipient has opted out (replied STOP)",
    "21612": "The 'To' number cannot be reached from the 'From' number",
    "21614": "The 'To' number is not a mobile number",
    "30001": "Queue overflow",
    "30002": "Account suspended",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
    "30032": "Toll-free number not verified",
    "30034": "Sender number not registered (A2P 10DLC)",
}


@dataclass(frozen=True)
class StatusReport:
    message_sid: str
    message_status: str
    error_code: str = ""
    error_message: str = ""


def error_text(report: StatusReport) -> str:
    code = report.error_code.strip()
    meaning = report.error_message.strip() or ERROR_MESSAGES.get(code) or f"SMS {report.message_status}"
    return f"{code}: {meaning}" if code else f"{report.message_status}: {meaning}"


def record_status(report: StatusReport) -> int:
    """Apply ``report`` to the SMS deliveries with that provider id; returns how many there were."""
    status = report.message_status.strip().lower()
    if not report.message_sid:
        return 0
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update()
            .filter(channel=Channel.SMS, provider_id=report.message_sid)
            .order_by("pk")
        )
        for delivery in deliveries:
            if status:
                _apply(delivery, status, report)
    return len(deliveries)


def _apply(delivery: Delivery, status: str, report: StatusReport) -> None:
    previous = delivery.provider_status
    if previous == DELIVERED:
        if status != DELIVERED:
            logger.info("SMS %s: %r after delivered ignored", report.message_sid, status)
        return
    if previous in OUTCOMES and status not in OUTCOMES:
        return  # a late progress report
    fields = ["provider_status"]
    delivery.provider_status = status[:40]
    if status == DELIVERED:
        delivery.status = DeliveryStatus.SENT
        delivery.error = ""
        fields += ["status", "error"]
        if delivery.sent_at is None:
            delivery.sent_at = timezone.now()
            fields.append("sent_at")
    elif status in FAILED_STATUSES:
        delivery.status = DeliveryStatus.FAILED
        delivery.error = error_text(report)
        fields += ["status", "error"]
        logger.warning("SMS %s (delivery %s) %s: %s", report.message_sid, delivery.pk, status, delivery.error)
    delivery.save(update_fields=fields)
