"""The reports' aggregates, kept by a consumer of the booking event stream.

Each booking has one ``BookingFact`` (what the reports need of it, derived from the
booking, its session and its history), and the facts are summed into ``BookingRollup``
rows per quarter hour of the session's start, coach, session type, room, status and
currency, and those into ``PracticeRollup`` rows per hour, status and currency (every
coach together, what the unnarrowed pages read). The report pages read the rollups (and,
for the clients section, the facts); they never scan the bookings.

The consumer is idempotent by construction: for the bookings an event batch names, it
rebuilds their facts — and those of every booking sharing their sessions, old and new,
because a session's held time is counted on one of its bookings — from the database as it
is now, then recomputes the rollup rows of every (coach, quarter hour) whose facts changed
and the practice-wide rows of their hours.
Handing it the same events twice writes the same rows. ``rebuild`` does the same for every
booking; ``manage.py rebuild_report_rollups`` runs it, and a test checks that the
consumer's rows equal a rebuild's. Writers take the ``RollupState`` row's lock, so two relays
(or a relay and a rebuild) never interleave their deletes and inserts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from accounts.models import Role
from bookings.models import ACTIVE_STATUSES, Booking, BookingEvent, BookingStatus
from config.money import to_minor
from reports.models import (
    BUCKET_MINUTES,
    PRACTICE_BUCKET_MINUTES,
    BookingFact,
    BookingRollup,
    CancelledBy,
    PracticeRollup,
    RollupState,
)

# Statuses whose session held the coach's time, or used it.
HOLDING = frozenset({*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW})
# Statuses whose price counts as the practice's revenue (a late cancellation counts the
# share its policy keeps).
EARNING = frozenset(
    {BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW}
)
CHUNK = 2000

Key = tuple[int, dt.datetime]  # (coach id, bucket)


def bucket_of(moment: dt.datetime) -> dt.datetime:
    """``moment`` (aware) to the quarter hour below, in UTC."""
    utc = moment.astimezone(dt.UTC)
    return utc.replace(minute=utc.minute - utc.minute % BUCKET_MINUTES, second=0, microsecond=0)


def hour_of(bucket: dt.datetime) -> dt.datetime:
    """A (UTC) bucket's practice-wide bucket: the hour it falls in."""
    return bucket.replace(minute=bucket.minute - bucket.minute % PRACTICE_BUCKET_MINUTES)


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _cancelled_by(role: str | None, superuser: bool | None, status: str) -> str:
    if status != BookingStatus.CANCELLED:
        return CancelledBy.NOBODY
    if role is None:
        return CancelledBy.SYSTEM
    if superuser or role == Role.STAFF:
        return CancelledBy.STAFF
    if role == Role.COACH:
        return CancelledBy.COACH
    return CancelledBy.CLIENT


FIELDS = (
    "pk",
    "session_id",
    "client_id",
    "session__coach_id",
    "session__session_type_id",
    "session__resource_id",
    "session__session_type__kind",
    "status",
    "currency",
    "session__start",
    "session__end",
    "session__started_at",
    "session__ended_at",
    "created_at",
    "cancelled_at",
    "cancelled_by__role",
    "cancelled_by__is_superuser",
    "is_late_cancellation",
    "price",
    "late_refund_percent",
    "status_after_payment",
    "rating",
)


def facts_for_sessions(session_ids: Iterable[int]) -> list[BookingFact]:
    """The facts of every booking of these sessions, as the database says now (three
    queries whatever the number)."""
    session_ids = list(session_ids)
    if not session_ids:
        return []
    rows = list(Booking.objects.filter(session_id__in=session_ids).order_by("pk").values_list(*FIELDS))
    history: dict[int, list[tuple[str, str, dt.datetime]]] = defaultdict(list)
    for booking_id, action, to_status, created_at in (
        BookingEvent.objects.filter(booking__session_id__in=session_ids)
        .order_by("pk")
        .values_list("booking_id", "action", "to_status", "created_at")
    ):
        history[booking_id].append((action, to_status, created_at))
    holder: dict[int, int] = {}
    for row in rows:
        if row[7] in HOLDING:
            holder.setdefault(row[1], row[0])
    return [_fact(row, history.get(row[0], []), holder) for row in rows]


def _fact(row: tuple, history: list[tuple[str, str, dt.datetime]], holder: dict[int, int]) -> BookingFact:
    (
        pk,
        session_id,
        client_id,
        coach_id,
        type_id,
        resource_id,
        kind,
        status,
        currency,
        start,
        end,
        started_at,
        ended_at,
        created_at,
        cancelled_at,
        cancelled_role,
        cancelled_superuser,
        late,
        price,
        late_refund_percent,
        status_after_payment,
        rating,
    ) = row
    minutes = _minutes(end - start)
    # How it was booked: its first status other than awaiting payment (a paid booking
    # becomes what the firm/request rule decided when it was made).
    first = next((to for _action, to, _at in history if to != BookingStatus.AWAITING_PAYMENT), status_after_payment)
    was_request = first == BookingStatus.REQUESTED
    approved_at = next((at for action, _to, at in history if action == "approved"), None)
    value = Decimal(0)
    if status in EARNING:
        value = price
    elif status == BookingStatus.CANCELLED and late:
        value = price * (100 - late_refund_percent) / 100
    actual = None
    if status == BookingStatus.COMPLETED and started_at and ended_at and ended_at > started_at:
        actual = _minutes(ended_at - started_at)
    return BookingFact(
        booking_id=pk,
        session_id=session_id,
        client_id=client_id,
        coach_id=coach_id,
        session_type_id=type_id,
        resource_id=resource_id or 0,
        kind=kind,
        status=status,
        currency=currency,
        start=start,
        bucket=bucket_of(start),
        minutes=minutes,
        held_minutes=minutes if holder.get(session_id) == pk else 0,
        was_request=was_request,
        approved=approved_at is not None,
        approval_minutes=max(_minutes(approved_at - created_at), 0) if approved_at else 0,
        cancelled_by=_cancelled_by(cancelled_role, cancelled_superuser, status),
        late=bool(late) and status == BookingStatus.CANCELLED,
        cancel_lead_minutes=_minutes(start - cancelled_at) if status == BookingStatus.CANCELLED and cancelled_at else 0,
        value_minor=to_minor(value, currency),
        rating=rating,
        actual_minutes=actual,
    )


def _key(fact: BookingFact) -> Key:
    return (fact.coach_id, fact.bucket)


ROLLUP_KEY = ("bucket", "coach_id", "session_type_id", "resource_id", "status", "currency")
SUMS = {
    "bookings": Count("booking_id"),
    "requests": Count("booking_id", filter=Q(was_request=True)),
    "approved": Count("booking_id", filter=Q(approved=True)),
    "approval_minutes": Sum("approval_minutes"),
    "cancelled_client": Count("booking_id", filter=Q(cancelled_by=CancelledBy.CLIENT)),
    "cancelled_coach": Count("booking_id", filter=Q(cancelled_by=CancelledBy.COACH)),
    "cancelled_staff": Count("booking_id", filter=Q(cancelled_by=CancelledBy.STAFF)),
    "cancelled_system": Count("booking_id", filter=Q(cancelled_by=CancelledBy.SYSTEM)),
    "late": Count("booking_id", filter=Q(late=True)),
    "cancel_lead_minutes": Sum("cancel_lead_minutes"),
    "minutes": Sum("minutes"),
    "held_minutes": Sum("held_minutes"),
    "value_minor": Sum("value_minor"),
    "ratings": Count("rating"),
    "rating_sum": Sum("rating"),
    "timed": Count("actual_minutes"),
    "actual_minutes": Sum("actual_minutes"),
}


# The columns every rollup row sums.
MEASURES = tuple(SUMS)


def _summed(facts) -> list[BookingRollup]:
    return [
        BookingRollup(**{name: value or 0 for name, value in row.items()})
        for row in facts.order_by().values(*ROLLUP_KEY).annotate(**SUMS)
    ]


def _practice_rows(rollups) -> list[PracticeRollup]:
    """``rollups`` (quarter-hour rows) summed per hour, status and currency."""
    rows = (
        rollups.annotate(hour=Trunc("bucket", "hour", tzinfo=dt.UTC))
        .order_by()
        .values("hour", "status", "currency")
        .annotate(**{name: Sum(name) for name in MEASURES})
    )
    return [
        PracticeRollup(
            bucket=row["hour"],
            status=row["status"],
            currency=row["currency"],
            **{name: row[name] or 0 for name in MEASURES},
        )
        for row in rows
    ]


def _recompute_practice(hours: set[dt.datetime]) -> None:
    quarter = dt.timedelta(minutes=BUCKET_MINUTES)
    per_hour = PRACTICE_BUCKET_MINUTES // BUCKET_MINUTES
    ordered = sorted(hours)
    for index in range(0, len(ordered), 200):
        chunk = ordered[index : index + 200]
        buckets = [hour + quarter * n for hour in chunk for n in range(per_hour)]
        PracticeRollup.objects.filter(bucket__in=chunk).delete()
        PracticeRollup.objects.bulk_create(_practice_rows(BookingRollup.objects.filter(bucket__in=buckets)))


def _keys_filter(keys: Sequence[Key]) -> Q:
    by_coach: dict[int, list[dt.datetime]] = defaultdict(list)
    for coach_id, bucket in keys:
        by_coach[coach_id].append(bucket)
    condition = Q()
    for coach_id, buckets in by_coach.items():
        condition |= Q(coach_id=coach_id, bucket__in=buckets)
    return condition


def _recompute(keys: set[Key]) -> None:
    ordered = sorted(keys)
    for index in range(0, len(ordered), 500):
        chunk = _keys_filter(ordered[index : index + 500])
        BookingRollup.objects.filter(chunk).delete()
        BookingRollup.objects.bulk_create(_summed(BookingFact.objects.filter(chunk)))
    _recompute_practice({hour_of(bucket) for _coach, bucket in keys})


def _lock() -> RollupState:
    state, _made = RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=state.pk)


def refresh(booking_ids: Iterable[int]) -> int:
    """Rewrite the facts of these bookings (and their session-mates, old and new) and the
    rollups they touch; returns how many facts were written. Runs in the caller's
    transaction, under the rollups' lock."""
    booking_ids = set(booking_ids)
    if not booking_ids:
        return 0
    with transaction.atomic():
        _lock()
        old = {fact.booking_id: fact for fact in BookingFact.objects.filter(booking_id__in=booking_ids)}
        sessions = set(Booking.objects.filter(pk__in=booking_ids).values_list("session_id", flat=True))
        sessions |= {fact.session_id for fact in old.values()}
        new = facts_for_sessions(sessions)
        ids = {fact.booking_id for fact in new} | booking_ids
        old |= {fact.booking_id: fact for fact in BookingFact.objects.filter(booking_id__in=ids - set(old))}
        # Also every fact still filed under one of these sessions (a booking moved away).
        old |= {fact.booking_id: fact for fact in BookingFact.objects.filter(session_id__in=sessions)}
        keys = {_key(fact) for fact in old.values()} | {_key(fact) for fact in new}
        BookingFact.objects.filter(booking_id__in=set(old) | ids).delete()
        BookingFact.objects.bulk_create(new)
        _recompute(keys)
    return len(new)


def on_booking_events(events: Sequence[BookingEvent]) -> None:
    """The consumer: the bookings these events name, refreshed."""
    refresh({event.booking_id for event in events})


def rebuild(*, chunk: int = CHUNK) -> tuple[int, int]:
    """Every fact and rollup from scratch, from the bookings; returns (facts, rollups)."""
    from bookings.models import Session

    with transaction.atomic():
        state = _lock()
        PracticeRollup.objects.all().delete()
        BookingRollup.objects.all().delete()
        BookingFact.objects.all().delete()
        facts = 0
        last = 0
        while True:
            ids = list(
                Session.objects.filter(pk__gt=last, bookings__isnull=False)
                .distinct()
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            made = facts_for_sessions(ids)
            BookingFact.objects.bulk_create(made, batch_size=1000)
            facts += len(made)
            last = ids[-1]
        rollups = BookingRollup.objects.bulk_create(_summed(BookingFact.objects.all()), batch_size=1000)
        PracticeRollup.objects.bulk_create(_practice_rows(BookingRollup.objects.all()), batch_size=1000)
        state.rebuilt_at = timezone.now()
        state.save(update_fields=["rebuilt_at"])
    return facts, len(rollups)
