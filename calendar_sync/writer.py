"""The coach's bookings written into their own calendar (a CalDAV, Google or Microsoft
account, through ``calendar_sync.providers``) and kept in step.

The booking event stream's consumer (``on_booking_events``) only marks, per host and
booking (or group session), a ``WrittenEvent`` as pending and bumps its ``version``; the
writer (``write_pending``, a django-q2 task right after the relay's commit and every
minute) then makes the calendar say what the database says *now*: the event written or
moved (written again), or deleted when the booking was cancelled or declined, the session cancelled,
or the coach stopped writing. So events handed over twice or out of order write the same
thing, and a writer that dies leaves the row pending for the next. A row is marked done
only if nobody marked it pending again meanwhile (its version is unchanged).

Our events carry the feeds' UIDs (``booking-…@host``, ``session-…@host``), which the
reading side (``services._ours``) never reads back as busy — the booking already is.
A failed write is tried again after 1, 5, 25… minutes, at most hourly, its reason shown
on the coach's page."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.language import in_language_of
from bookings.models import ACTIVE_STATUSES, Booking, BookingEvent, BookingStatus, Session, SessionStatus
from calendar_sync import providers
from calendar_sync.models import ACCOUNT_KINDS, CalendarConnection, WrittenEvent
from notifications import calendar as ical
from notifications.calendar import EventData

KEPT = (*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
BATCH = 200
MAX_WAIT = dt.timedelta(hours=1)


def writing(connections):
    return connections.filter(kind__in=ACCOUNT_KINDS, is_active=True).exclude(write_url="")


def _target(booking: Booking) -> tuple[str, dict]:
    """The UID of the host's event for this booking and what it is about."""
    if booking.session.session_type.kind in ical.GROUP_KINDS:
        return ical.session_uid(booking.session), {"session_id": booking.session_id, "booking_id": booking.pk}
    return ical.booking_uid(booking), {"booking_id": booking.pk, "session_id": booking.session_id}


def mark(connection: CalendarConnection, bookings: Sequence[Booking]) -> int:
    """Mark the connection's events of these bookings as to be written again, at once."""
    marked = 0
    for booking in bookings:
        uid, about = _target(booking)
        updated = WrittenEvent.objects.filter(connection=connection, uid=uid).update(
            pending=True, version=F("version") + 1, next_attempt_at=None, attempts=0
        )
        if not updated:
            WrittenEvent.objects.bulk_create(
                [WrittenEvent(connection=connection, uid=uid, **about)], ignore_conflicts=True
            )
        marked += 1
    return marked


def on_booking_events(batch: Sequence[BookingEvent]) -> None:
    bookings = {
        booking.pk: booking
        for booking in Booking.objects.filter(pk__in={event.booking_id for event in batch})
        .select_related("session__session_type")
        .prefetch_related("session__co_hosts")
    }
    hosts_of = {
        pk: {booking.session.coach_id, *(host.pk for host in booking.session.co_hosts.all())}
        for pk, booking in bookings.items()
    }
    everyone = set().union(*hosts_of.values()) if hosts_of else set()
    connections = defaultdict(list)
    for connection in writing(CalendarConnection.objects.filter(coach_id__in=everyone)):
        connections[connection.coach_id].append(connection)
    if not connections:
        return
    for pk, booking in bookings.items():
        for host in hosts_of[pk]:
            for connection in connections.get(host, []):
                mark(connection, [booking])
    transaction.on_commit(write_soon)


def write_soon() -> None:
    from django_q.tasks import async_task

    async_task("calendar_sync.tasks.write_pending", task_name="calendar write-back")


def backfill(connection: CalendarConnection, *, now: dt.datetime | None = None) -> int:
    """Mark every booking ahead that the connection's coach hosts (and every event already
    written) to be written: after writing is turned on, moved to another calendar, or its
    details hidden or shown."""
    now = now or timezone.now()
    coach = connection.coach_id
    ahead = (
        Booking.objects.filter(status__in=ACTIVE_STATUSES, session__end__gt=now)
        .filter(Q(session__coach_id=coach) | Q(session__co_hosts__id=coach))
        .select_related("session__session_type")
        .distinct()
    )
    count = WrittenEvent.objects.filter(connection=connection, pending=False).update(
        pending=True, version=F("version") + 1, next_attempt_at=None, attempts=0
    )
    count += mark(connection, list(ahead))
    return count


def _document(item: WrittenEvent, connection: CalendarConnection) -> EventData | None:
    """What the coach's calendar should hold for this row now, or None (nothing)."""
    if not connection.is_active or not connection.write_url:
        return None
    if item.uid.startswith("session-"):
        session = Session.objects.filter(pk=item.session_id).first()
        if session is None or session.status == SessionStatus.CANCELLED:
            return None
        seat = (
            Booking.objects.filter(session=session, status__in=KEPT)
            .select_related("session__session_type", "session__coach", "client")
            .order_by("pk")
            .first()
        )
        if seat is None:
            return None
        return ical.calendar_copy_data(seat, host=connection.coach, private=connection.private_details)
    booking = (
        Booking.objects.filter(pk=item.booking_id)
        .select_related("session__session_type", "session__coach", "client")
        .first()
    )
    if booking is None or booking.status not in KEPT or booking.session.status == SessionStatus.CANCELLED:
        return None
    return ical.calendar_copy_data(booking, host=connection.coach, private=connection.private_details)


def _wait(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(minutes=5 ** max(attempts - 1, 0)), MAX_WAIT)


def _write_one(conversation: providers.Provider, item: WrittenEvent, connection: CalendarConnection, now) -> None:
    version = item.version
    data = _document(item, connection)
    href = item.href
    if data is None:
        if href:
            conversation.delete(href)
        fields = {"href": "", "digest": "", "written_at": now}
    else:
        digest = hashlib.sha256(conversation.render(data)).hexdigest()
        if href and not conversation.holds(connection.write_url, href):
            # Written into another calendar of the account before: moved to the chosen one.
            conversation.delete(href)
            href = ""
        if not (href and digest == item.digest):
            href = conversation.put(connection.write_url, data, href=href)
        fields = {"href": href[:2000], "digest": digest, "written_at": now}
    done = WrittenEvent.objects.filter(pk=item.pk, version=version).update(
        pending=False, attempts=0, last_error="", next_attempt_at=None, **fields
    )
    if not done:  # marked again meanwhile: keep what was written, write again next round
        WrittenEvent.objects.filter(pk=item.pk).update(**fields)


def write_pending(*, now: dt.datetime | None = None) -> int:
    """Write the due pending events, one conversation per account; how many were done."""
    now = now or timezone.now()
    due = list(
        WrittenEvent.objects.filter(pending=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .select_related("connection__coach")
        .order_by("connection_id", "pk")[:BATCH]
    )
    by_connection: dict[int, list[WrittenEvent]] = defaultdict(list)
    for item in due:
        by_connection[item.connection_id].append(item)
    written = 0
    for items in by_connection.values():
        connection = items[0].connection
        # The errors kept for the coach's page (and the events' words) in the coach's language.
        with in_language_of(connection.coach):
            written += _write_all(connection, items, now)
    return written


def _write_all(connection: CalendarConnection, items: Sequence[WrittenEvent], now: dt.datetime) -> int:
    written = 0
    try:
        conversation = providers.open_for(connection)
    except providers.ProviderError as error:
        _postpone(items, error.message, now)
        return 0
    with conversation:
        for item in items:
            try:
                _write_one(conversation, item, connection, now)
                written += 1
            except providers.ProviderError as error:
                _postpone([item], error.message, now)
    return written


def _postpone(items: Sequence[WrittenEvent], message: str, now: dt.datetime) -> None:
    for item in items:
        attempts = item.attempts + 1
        WrittenEvent.objects.filter(pk=item.pk).update(
            attempts=attempts, next_attempt_at=now + _wait(attempts), last_error=message[:300]
        )


def forget(connection: CalendarConnection) -> int:
    """Delete from the coach's calendar every event written there (when the account is
    disconnected), as far as the server lets us now; how many were deleted."""
    hrefs = list(WrittenEvent.objects.filter(connection=connection).exclude(href="").values_list("href", flat=True))
    if not hrefs:
        return 0
    deleted = 0
    try:
        with providers.open_for(connection) as conversation:
            for href in hrefs:
                conversation.delete(href)
                deleted += 1
    except providers.ProviderError:
        pass
    return deleted


def write_errors(connection: CalendarConnection) -> tuple[int, str]:
    """How many of the connection's events wait after a failure, and the latest reason."""
    failing = WrittenEvent.objects.filter(connection=connection, pending=True).exclude(last_error="")
    latest = failing.order_by("-next_attempt_at").values_list("last_error", flat=True).first()
    return failing.count(), latest or ""
