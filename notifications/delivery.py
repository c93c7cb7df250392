"""Sending queued email and SMS deliveries: claimed a few at a time, each result recorded
at once, retried with backoff, and nothing lost when a worker dies.

A delivery is claimed by a conditional update (``queued`` → ``sending``, only if still
queued), so two workers never send the same one. Each is then sent on its own: just
before the provider is called, ``call_started_at`` is set and committed (only if the
claim is still this worker's), and the result is recorded right after the call. A send
that fails for a reason that may pass (a network error, a provider's 5xx or 429, an SMTP
error) is queued again after 1, 5, 25… minutes, up to ``NOTIFICATION_MAX_ATTEMPTS``; one
that can't succeed (an invalid number) fails at once.

A worker that dies leaves its claims ``sending``. Once a claim is older than
``NOTIFICATION_CLAIM_TIMEOUT_SECONDS`` (``requeue_stale``, every minute): if its provider
call never started it is simply queued again; if the call may have started it is queued
again once and marked ``possibly_duplicated`` — email and SMS have no idempotency key, so
the person may get that one message twice, but never zero times. At most the message in
flight per killed worker can thus go out twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.language import in_language_of
from notifications import messages
from notifications.models import Channel, Delivery, DeliveryStatus, Kind

logger = logging.getLogger(__name__)

# How many deliveries one claim takes: few, so that a worker that dies leaves little
# waiting for its claim to time out (none of it is lost either way).
CLAIM_GROUP = 5
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


def claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT_SECONDS)


def claim(
    *, now: dt.datetime, worker: str, ids: Iterable[int] | None = None, limit: int = CLAIM_GROUP
) -> list[Delivery]:
    """Take up to ``limit`` due queued deliveries (of ``ids`` if given) for ``worker``."""
    claimed_at = timezone.now()
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
            claimed_at=claimed_at,
            call_started_at=None,
            attempts=F("attempts") + 1,
        )
    return list(
        Delivery.objects.filter(pk__in=picked, status=DeliveryStatus.SENDING, claimed_by=worker)
        .order_by("next_attempt_at", "pk")
        .select_related(
            "notification__recipient",
            "notification__booking__session__session_type",
            "notification__booking__session__coach",
            "notification__booking__session__resource",
            "notification__booking__client",
        )
        .prefetch_related("notification__booking__session__co_hosts")
    )


def send_deliveries(ids: Iterable[int] | None = None, *, now: dt.datetime | None = None, worker: str = "") -> int:
    """Send what is due (of ``ids`` if given), a few claimed at a time and each result
    recorded as soon as it is known; returns how many went."""
    now = now or timezone.now()
    worker = worker or f"w-{uuid.uuid4().hex[:12]}"
    sent = 0
    ids = list(ids) if ids is not None else None
    mail = None
    try:
        while True:
            group = claim(now=now, worker=worker, ids=ids)
            if not group:
                return sent
            custom = messages.custom_templates({d.notification.kind for d in group})
            for item in group:
                if item.channel == Channel.EMAIL and mail is None:
                    mail = get_connection()
                sent += _send_one(item, custom=custom, mail=mail, worker=worker)
    finally:
        if mail is not None:
            mail.close()


def _send_one(item: Delivery, *, custom: dict, mail, worker: str) -> bool:
    """Send one claimed delivery and record the result; True if it went."""
    try:
        call = _prepare(item, custom, mail)
    except Skip as skip:
        return _record(item, worker, {"status": DeliveryStatus.SKIPPED, "error": str(skip), "next_attempt_at": None})
    except SendError as exc:
        return _record(item, worker, _failed(item, str(exc), retryable=exc.retryable, now=timezone.now()))
    except Exception as exc:  # a template surprise must not stop the others
        logger.exception("Delivery %s failed", item.pk)
        return _record(item, worker, _failed(item, f"{type(exc).__name__}: {exc}", retryable=True, now=timezone.now()))
    if not _start_call(item, worker):
        logger.warning("Delivery %s: the claim was taken back before the call; left to the next worker", item.pk)
        return False
    try:
        to, provider_id = call()
    except SendError as exc:
        changes = _failed(item, str(exc), retryable=exc.retryable, now=timezone.now())
    except Exception as exc:  # a provider surprise must not stop the others
        logger.exception("Delivery %s failed", item.pk)
        changes = _failed(item, f"{type(exc).__name__}: {exc}", retryable=True, now=timezone.now())
    else:
        changes = {
            "status": DeliveryStatus.SENT,
            "to": to,
            "provider_id": provider_id,
            "sent_at": timezone.now(),
            "error": "",
            "next_attempt_at": None,
        }
    return _record(item, worker, changes)


def _start_call(item: Delivery, worker: str) -> bool:
    """Note (and commit) that the provider call starts, if the claim is still ours; the
    claim's clock starts again, so the call has the whole timeout."""
    started = timezone.now()
    return bool(
        Delivery.objects.filter(pk=item.pk, status=DeliveryStatus.SENDING, claimed_by=worker).update(
            call_started_at=started, claimed_at=started
        )
    )


def _record(item: Delivery, worker: str, changes: dict) -> bool:
    """Write the result of ``item``'s send at once (if the claim is still ours)."""
    for field, value in changes.items():
        setattr(item, field, value)
    if Delivery.objects.filter(pk=item.pk, status=DeliveryStatus.SENDING, claimed_by=worker).update(**changes):
        return changes["status"] == DeliveryStatus.SENT
    # The call outlasted the claim timeout and the delivery was queued again meanwhile:
    # it went, so it is recorded sent unless another worker has already taken it again.
    sent = changes["status"] == DeliveryStatus.SENT
    if sent and Delivery.objects.filter(pk=item.pk, status=DeliveryStatus.QUEUED).update(**changes):
        logger.warning("Delivery %s sent after its claim had timed out", item.pk)
        return True
    logger.warning("Delivery %s: result %s not recorded, the claim had been taken back", item.pk, changes["status"])
    return sent


class Skip(Exception):
    """Nothing to send to (no address or number any more)."""


def _failed(item: Delivery, error: str, *, retryable: bool, now: dt.datetime) -> dict:
    """The fields to record for a send that failed: queued again after a wait, or failed."""
    if retryable and item.attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
        return {"status": DeliveryStatus.QUEUED, "error": error[:2000], "next_attempt_at": now + backoff(item.attempts)}
    logger.warning("Delivery %s failed for good after %s attempt(s): %s", item.pk, item.attempts, error)
    return {"status": DeliveryStatus.FAILED, "error": error[:2000], "next_attempt_at": None}


def _context(item: Delivery) -> dict:
    note = item.notification
    extra = (note.payload or {}).get("extra") or {}
    if note.booking is None:  # a purchase's receipt or refund
        return messages.person_context(note.recipient, **extra)
    return messages.booking_context(note.booking, note.recipient, **extra)


def email_message(item: Delivery, custom: dict | None = None) -> EmailMultiAlternatives:
    """The email of a delivery: text, HTML, and for bookings changes an .ics invitation —
    all in the recipient's language."""
    with in_language_of(item.notification.recipient):
        return _email_message(item, custom)


def _email_message(item: Delivery, custom: dict | None = None) -> EmailMultiAlternatives:
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
        headers={"Message-ID": make_msgid(domain=DNS_NAME), "X-Delivery-ID": str(item.pk)},
    )
    mail.attach_alternative(words.html, "text/html")
    method = INVITATION_METHOD.get(note.kind)
    if method and note.booking is not None and not (note.payload or {}).get("staff"):
        from notifications import calendar

        cancel = method == "CANCEL"
        together = _series_bookings(note)
        if len(together) > 1:  # a series changed at once: every session it touched
            invite = calendar.series_invitation(together, recipient=person, cancel=cancel)
        else:
            invite = calendar.invitation(note.booking, recipient=person, cancel=cancel)
        method = calendar.invitation_method(note.booking, recipient=person, cancel=cancel)
        mail.attach("invite.ics", invite, f"text/calendar; charset=utf-8; method={method}")
    return mail


def _series_bookings(note) -> list:
    """The bookings a series message speaks of (its payload names them), by start; empty
    for a message about one booking."""
    ids = ((note.payload or {}).get("series") or {}).get("bookings") or []
    if len(ids) < 2:
        return []
    from notifications import calendar

    return calendar.series_bookings(ids)


def _prepare(item: Delivery, custom: dict, mail_connection) -> Callable[[], tuple[str, str]]:
    """Everything short of calling the provider (finding the address, rendering); returns
    the call, which gives (sent to, provider id)."""
    if item.channel == Channel.EMAIL:
        return _prepare_email(item, custom, mail_connection)
    if item.channel == Channel.SMS:
        return _prepare_sms(item, custom)
    raise SendError(f"Unknown channel {item.channel}.", retryable=False)


def _prepare_email(item: Delivery, custom: dict, mail_connection) -> Callable[[], tuple[str, str]]:
    message = email_message(item, custom)
    message.connection = mail_connection

    def call() -> tuple[str, str]:
        try:
            message.send()
        except OSError as exc:  # SMTP and socket errors: may pass
            raise SendError(f"Email not sent: {exc}", retryable=True) from exc
        return message.to[0], message.extra_headers["Message-ID"]

    return call


def _prepare_sms(item: Delivery, custom: dict) -> Callable[[], tuple[str, str]]:
    from notifications import sms
    from notifications.preferences import has_sms_number
    from notifications.sms_views import status_callback_url

    note = item.notification
    person = note.recipient
    if not has_sms_number(person):
        raise Skip("No usable phone number.")
    with in_language_of(person):
        words = messages.render(note.kind, Channel.SMS, _context(item), custom=custom.get((note.kind, Channel.SMS)))
    callback = status_callback_url()

    def call() -> tuple[str, str]:
        try:
            provider_id = sms.send_sms(person.phone, words.text, status_callback=callback)
        except sms.SmsError as exc:
            raise SendError(str(exc), retryable=exc.retryable) from exc
        return person.phone, provider_id

    return call


STALE_NOTE = (
    "The worker stopped during the provider call (started {started}); queued again, so the "
    "person may get this message twice."
)


def requeue_stale(*, now: dt.datetime | None = None) -> int:
    """Claims left ``sending`` longer than the claim timeout (their worker stopped) are
    queued again: at once if the provider call never started (that claim was no attempt),
    once and marked possibly duplicated if it may have. One whose call was cut off again
    after that is retried like a failed send, up to ``NOTIFICATION_MAX_ATTEMPTS``.
    Returns how many were queued again. Each step is one conditional update, so several
    workers running this at once requeue a claim once."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - claim_timeout())
    again = {"status": DeliveryStatus.QUEUED, "next_attempt_at": now, "claimed_by": "", "claimed_at": None}
    requeued = stale.filter(call_started_at__isnull=True).update(**again, attempts=F("attempts") - 1)
    started = stale.filter(call_started_at__isnull=False)
    for row in started.values("pk", "call_started_at", "possibly_duplicated", "attempts"):
        error = STALE_NOTE.format(started=row["call_started_at"].isoformat(timespec="seconds"))
        mine = started.filter(pk=row["pk"], call_started_at=row["call_started_at"])
        if not row["possibly_duplicated"] or row["attempts"] < settings.NOTIFICATION_MAX_ATTEMPTS:
            done = mine.update(**again, possibly_duplicated=True, error=error)
            requeued += done
            if done:
                logger.warning("Delivery %s queued again after a stopped worker's call: it may arrive twice", row["pk"])
        elif mine.update(status=DeliveryStatus.FAILED, next_attempt_at=None, claimed_at=None, error=error):
            logger.warning("Delivery %s failed for good: its worker stopped during the call again", row["pk"])
    return requeued
