"""The retention policy: each kind of record is kept ``RETENTION_YEARS[kind]`` whole years
(None: for ever), then deleted or anonymised by a daily task (``pages.tasks.apply_retention``).

Kinds:

- ``booking_texts``: the free text on a booking whose session ended before the limit (the
  client's notes, answers and feedback, the coach's messages, decline and cancellation
  reasons, and its history's notes) is cleared; the booking itself stays, for reports.
- ``notifications``: notifications (with their deliveries) made before the limit.
- ``webhook_deliveries``: webhook deliveries written before the limit, whatever their status
  (finished ones go sooner, after ``WEBHOOK_LOG_DAYS``).
- ``intake_answers``: intake answers and their files given before the limit.
- ``coach_notes``: coaches' private notes last changed before the limit.
- ``inactive_accounts``: client accounts with no sign-in, no booking made and no session since
  the limit are erased (``pages.erasure.erase``), with an ``ErasureRecord``.

``apply`` with ``dry_run`` counts what would go and changes nothing
(``manage.py apply_retention --dry-run``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import Role, User
from bookings.models import Booking, BookingEvent
from intake import erasure as intake_erasure
from notifications.models import Notification
from pages import erasure
from pages.models import ErasureSource
from webhooks.models import WebhookDelivery

logger = logging.getLogger(__name__)

BOOKING_TEXT_FIELDS = (
    "client_notes",
    "coach_notes",
    "decline_reason",
    "info_request",
    "info_response",
    "cancellation_reason",
    "feedback",
)
KINDS = ("booking_texts", "notifications", "webhook_deliveries", "intake_answers", "coach_notes", "inactive_accounts")
CHUNK = 2000


def cutoff(years: int, now: dt.datetime) -> dt.datetime:
    """``years`` whole years before ``now`` (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def _chunked_delete(queryset) -> int:
    deleted = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return deleted
        queryset.model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


def booking_texts(limit: dt.datetime, *, dry_run: bool) -> int:
    has_text = Q()
    for name in BOOKING_TEXT_FIELDS:
        has_text |= ~Q(**{name: ""})
    old = Booking.objects.filter(session__end__lt=limit).filter(has_text)
    events = BookingEvent.objects.filter(booking__session__end__lt=limit).exclude(note="")
    if dry_run:
        return old.count()
    count = 0
    while True:
        ids = list(old.order_by().values_list("pk", flat=True)[:CHUNK])
        if not ids:
            break
        count += Booking.objects.filter(pk__in=ids).update(**{name: "" for name in BOOKING_TEXT_FIELDS})
    events.update(note="")
    return count


def notifications(limit: dt.datetime, *, dry_run: bool) -> int:
    old = Notification.objects.filter(created_at__lt=limit)
    return old.count() if dry_run else _chunked_delete(old)


def webhook_deliveries(limit: dt.datetime, *, dry_run: bool) -> int:
    old = WebhookDelivery.objects.filter(created_at__lt=limit)
    return old.count() if dry_run else _chunked_delete(old)


def intake_answers(limit: dt.datetime, *, dry_run: bool) -> int:
    return intake_erasure.delete_old_answers(limit, dry_run=dry_run)


def coach_notes(limit: dt.datetime, *, dry_run: bool) -> int:
    return intake_erasure.delete_old_notes(limit, dry_run=dry_run)


def inactive_clients(limit: dt.datetime):
    """Client accounts (never staff, admins or coaches) not yet erased, with no sign-in, no
    booking made and no session since ``limit``."""
    recent = Booking.objects.filter(client=OuterRef("pk")).filter(Q(created_at__gte=limit) | Q(session__end__gte=limit))
    return (
        User.objects.filter(role=Role.CLIENT, is_staff=False, is_superuser=False)
        .exclude(email__endswith="@" + erasure.ERASED_DOMAIN)
        .annotate(last_seen=Greatest(Coalesce("last_login", "date_joined"), "date_joined"))
        .filter(last_seen__lt=limit)
        .exclude(Exists(recent))
        .order_by("pk")
    )


def inactive_accounts(limit: dt.datetime, *, dry_run: bool, now: dt.datetime) -> int:
    accounts = inactive_clients(limit)
    if dry_run:
        return accounts.count()
    count = 0
    for user in accounts.iterator():
        if erasure.blocked_by(user, now=now):
            continue
        erasure.erase_account(user, source=ErasureSource.RETENTION, now=now)
        count += 1
    return count


RECORDS = {
    "booking_texts": booking_texts,
    "notifications": notifications,
    "webhook_deliveries": webhook_deliveries,
    "intake_answers": intake_answers,
    "coach_notes": coach_notes,
}


def apply(*, now: dt.datetime | None = None, dry_run: bool = False) -> dict[str, int | None]:
    """Each kind's count of what went (or would go); None for a kind kept for ever."""
    now = now or timezone.now()
    years = settings.RETENTION_YEARS
    done: dict[str, int | None] = {}
    for kind in KINDS:
        if years.get(kind) is None:
            done[kind] = None
            continue
        limit = cutoff(years[kind], now)
        if kind == "inactive_accounts":
            done[kind] = inactive_accounts(limit, dry_run=dry_run, now=now)
        else:
            done[kind] = RECORDS[kind](limit, dry_run=dry_run)
    if not dry_run:
        logger.info("Retention applied: %s", done)
    return done
