"""Sending queued email and SMS deliveries: claimed once, retried with backoff, then failed.

A delivery is claimed by a conditional update (``queued`` → ``sending``, only if still
queued), so two workers never send the same one. A send that fails for a reason that may
pass (a network error, a provider's 5xx or 429, an SMTP error) is queued again after 1, 5,
25… minutes, up to ``NOTIFICATION_MAX_ATTEMPTS``; one that can't succeed (an invalid
number) fails at once. A worker that dies between claiming and recording the result
leaves the delivery ``sending``; once its claim expires it is marked failed, not sent
again — nobody can know whether the provider already took it, and a message must not
arrive twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from notifications import messages
from notifications.models import Channel, Delivery, DeliveryStatus, Kind

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=10)
# Kinds whose email carries the booking as a calendar invitation, and which method.
INVITATION_METHOD = {
    Kind.BOOKING_CREATED: "REQUEST",
    Kind.CONFIRMED: "REQUEST",
    Kind.RESCHEDULED: "REQUEST",
    Kind.CANCELLED: "CANCEL",
    Kind.DECLINED: "CANCEL",
}


class SendError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 1, 5, 25, 125… minutes (at most a day)."""
    return min(dt.timedelta(minutes=5 ** max(attempts - 1, 0)), dt.timedelta(days=1))


def claim(*, now: dt.datetime, worker: str, ids: Iterable[int] | None = None, limit: int = 200) -> list[Delivery]:
    """Take up to ``limit`` due queued deliveries (of ``ids`` if given) for ``worker``."""
    with transaction.atomic():
        due = Delivery.objects.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        picked = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        if not picked:
            return []
        Delivery.objects.filter(pk__in=picked, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.SENDING,
            claimed_by=worker,
            attempts=F("attempts") + 1,
            next_attempt_at=now + CLAIM_TIMEOUT,
        )
    return list(
        Delivery.objects.filter(pk__in=picked, status=DeliveryStatus.SENDING, claimed_by=worker).select_related(
            "notification__recipient",
            "notification__booking__session__session_type",
            "notification__booking__session__coach",
            "notification__booking__client",
        )
    )


def send_deliveries(ids: Iterable[int] | None = None, *, now: dt.datetime | None = None, worker: str = "") -> int:
    """Send what is due (of ``ids`` if given), batch after batch; returns how many went."""
    now = now or timezone.now()
    worker = worker or f"w-{uuid.uuid4().hex[:12]}"
    sent = 0
    ids = list(ids) if ids is not None else None
    while True:
        batch = claim(now=now, worker=worker, ids=ids)
        if not batch:
            return sent
        sent += _send_batch(batch, now=now)


def _send_batch(batch: list[Delivery], *, now: dt.datetime) -> int:
    custom = messages.custom_templates({d.notification.kind for d in batch})
    mail = None
    for item in batch:
        try:
            if item.channel == Channel.EMAIL:
                mail = mail or get_connection()
                item.to, item.provider_id = _send_email(item, custom, mail)
            elif item.channel == Channel.SMS:
                item.to, item.provider_id = _send_sms(item, custom)
            else:
                raise SendError(f"Unknown channel {item.channel}.", retryable=False)
        except Skip as skip:
            item.status, item.error = DeliveryStatus.SKIPPED, str(skip)
        except SendError as exc:
            _failed(item, str(exc), retryable=exc.retryable, now=now)
        except Exception as exc:  # a provider or template surprise must not stop the batch
            logger.exception("Delivery %s failed", item.pk)
            _failed(item, f"{type(exc).__name__}: {exc}", retryable=True, now=now)
        else:
            item.status, item.sent_at, item.error = DeliveryStatus.SENT, timezone.now(), ""
            item.next_attempt_at = None
    if mail is not None:
        mail.close()
    Delivery.objects.bulk_update(batch, ["status", "to", "provider_id", "sent_at", "error", "next_attempt_at"])
    return sum(item.status == DeliveryStatus.SENT for item in batch)


class Skip(Exception):
    """Nothing to send to (no address or number any more)."""


def _failed(item: Delivery, error: str, *, retryable: bool, now: dt.datetime) -> None:
    item.error = error[:2000]
    if retryable and item.attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
        item.status = DeliveryStatus.QUEUED
        item.next_attempt_at = now + backoff(item.attempts)
    else:
        item.status = DeliveryStatus.FAILED
        item.next_attempt_at = None
        logger.warning("Delivery %s failed for good after %s attempt(s): %s", item.pk, item.attempts, error)


def _context(item: Delivery) -> dict:
    note = item.notification
    extra = (note.payload or {}).get("extra") or {}
    return messages.booking_context(note.booking, note.recipient, **extra)


def email_message(item: Delivery, custom: dict | None = None) -> EmailMultiAlternatives:
    """The email of a delivery: text, HTML, and for bookings changes an .ics invitation."""
    note = item.notification
    person = note.recipient
    if not person.email:
        raise Skip("No email address.")
    custom = custom if custom is not None else messages.custom_templates({note.kind})
    words = messages.render(note.kind, Channel.EMAIL, _context(item), custom=custom.get((note.kind, Channel.EMAIL)))
    mail = EmailMultiAlternatives(
        subject=words.subject,
        body=words.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[person.email],
        headers={"Message-ID": make_msgid(domain=DNS_NAME)},
    )
    mail.attach_alternative(words.html, "text/html")
    method = INVITATION_METHOD.get(note.kind)
    if method and note.booking is not None and not (note.payload or {}).get("staff"):
        from notifications import calendar

        cancel = method == "CANCEL"
        invite = calendar.invitation(note.booking, recipient=person, cancel=cancel)
        method = calendar.invitation_method(note.booking, recipient=person, cancel=cancel)
        mail.attach("invite.ics", invite, f"text/calendar; charset=utf-8; method={method}")
    return mail


def _send_email(item: Delivery, custom: dict, mail_connection) -> tuple[str, str]:
    message = email_message(item, custom)
    message.connection = mail_connection
    try:
        message.send()
    except OSError as exc:  # SMTP and socket errors: may pass
        raise SendError(f"Email not sent: {exc}", retryable=True) from exc
    return message.to[0], message.extra_headers["Message-ID"]


def _send_sms(item: Delivery, custom: dict) -> tuple[str, str]:
    from notifications import sms
    from notifications.sms_views import status_callback_url

    note = item.notification
    person = note.recipient
    from notifications.preferences import has_sms_number

    if not has_sms_number(person):
        raise Skip("No usable phone number.")
    words = messages.render(note.kind, Channel.SMS, _context(item), custom=custom.get((note.kind, Channel.SMS)))
    try:
        provider_id = sms.send_sms(person.phone, words.text, status_callback=status_callback_url())
    except sms.SmsError as exc:
        raise SendError(str(exc), retryable=exc.retryable) from exc
    return person.phone, provider_id


def fail_stale(*, now: dt.datetime | None = None) -> int:
    """Deliveries left ``sending`` by a worker that stopped: failed, never sent twice."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, next_attempt_at__lt=now).update(
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        error="The worker stopped while sending; not retried, so that it can't arrive twice.",
    )
