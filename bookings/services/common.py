"""Shared pieces of the booking services: refusals, the audit record, references, who may act."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _lazy

from accounts.access import can_book_for
from accounts.models import User
from availability.rules import CoachLoad
from bookings import relay
from bookings.models import (
    TRANSITIONS,
    Booking,
    BookingEvent,
    Session,
)
from config import sql
from config.errors import DomainError, NotAllowed

REQUEST_EXPIRY = dt.timedelta(hours=24)
MAX_ALTERNATIVES = 5

# Messages people read (seed 004 where it has one).
MSG_SLOT_TAKEN = _lazy("This time is no longer available. Select another.")
MSG_CLIENT_CONFLICT = _lazy("You have another session at this time.")
MSG_FAILED = _lazy("Unable to book. Please try again.")


# Set while one change acts on several occurrences of a series (``series_batch``).
_SERIES_BATCH: ContextVar[dict | None] = ContextVar("series_batch", default=None)


@contextmanager
def series_batch(series_id: int, count: int) -> Iterator[dict]:
    """Within it, every ``BookingEvent`` written says it is one of ``count`` changes made
    together to series ``series_id`` (``data``: series, batch, count, lead — the first):
    consumers speak of the batch once (one "Series booked", not twelve messages)."""
    state = {"series": series_id, "batch": uuid.uuid4().hex, "count": count, "seen": 0}
    token = _SERIES_BATCH.set(state)
    try:
        yield state
    finally:
        _SERIES_BATCH.reset(token)


def series_data(state: dict) -> dict:
    """The next event's share of a series batch (see ``series_batch``)."""
    data = {"series": state["series"], "batch": state["batch"], "count": state["count"], "lead": state["seen"] == 0}
    state["seen"] += 1
    return data


class BookingRefused(DomainError):
    """A booking the rules or the calendar refuse: HTTP 409 with a stable code."""

    status = 409


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _aware(value: dt.datetime, name: str = "start") -> dt.datetime:
    if timezone.is_naive(value):
        raise DomainError(
            gettext("The %(name)s time needs a UTC offset or a time zone.") % {"name": name}, code="invalid"
        )
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise DomainError(gettext("The %(name)s time is out of range.") % {"name": name}, code="invalid") from None


def _hours(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours and delta.total_seconds() % 3600 == 0:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    minutes = int(delta.total_seconds() // 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def _lock_users(*users: User) -> None:
    """Lock the rows of the people a change depends on, always in the same order."""
    ids = sorted({user.pk for user in users})
    pk = sql.column(User, "id")
    sql.rows(
        f"SELECT {pk} FROM {sql.table(User)} WHERE {pk} IN ({sql.placeholders(len(ids))}) ORDER BY {pk}"  # noqa: S608 (names from the models; values are parameters)
        + sql.for_update(),
        ids,
    )


def _record(
    booking: Booking,
    *,
    actor: User | None,
    action: str,
    from_status: str,
    note: str = "",
    coach_load: CoachLoad | None = None,
    **data,
) -> None:
    """The change's ``BookingEvent``, in its transaction: the audit record and the outbox
    the relay hands to every consumer after the commit (``bookings.relay``).
    ``coach_load``, when the change counted the coach's day and week, goes with it so
    that consumers need not count again."""
    if from_status and booking.status not in TRANSITIONS[from_status]:
        # People read this: it names no internal status.
        raise DomainError(
            gettext("This booking can't be changed that way any more."), code="invalid_transition", status=409
        )
    batch = _SERIES_BATCH.get()
    if batch is not None:
        data.update(series_data(batch))
    if coach_load is not None:
        data["coach_load"] = {
            "day": coach_load.day.isoformat(),
            "in_day": coach_load.in_day,
            "in_week": coach_load.in_week,
        }
    sql.insert(  # append-only: a new row, as BookingEvent.save allows
        BookingEvent(
            booking=booking,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=booking.status,
            note=note,
            data=data,
        )
    )
    transaction.on_commit(relay.wake)


def _new_reference_placeholder() -> str:
    return f"tmp-{uuid.uuid4().hex}"


def _reference(pk: int, when: dt.datetime) -> str:
    return f"BK-{when:%Y}-{pk:06d}"


def _reserve_booking() -> tuple[int | None, str]:
    """Before a booking's transaction: its id and reference where the database can give
    the id now (PostgreSQL's sequence; no lock is held, and an id a refused booking leaves
    unused is only a gap), so the row is written whole and the transaction is one
    statement shorter; else (SQLite) a placeholder that ``_assign_reference`` replaces."""
    pk = sql.next_id(Booking)
    return (pk, _reference(pk, timezone.now())) if pk is not None else (None, _new_reference_placeholder())


def _assign_reference(booking: Booking) -> None:
    """``BK-YYYY-NNNNNN``: the year the booking was made and its row number, unique by
    construction and free of any counter every booking would have to lock."""
    booking.reference = _reference(booking.pk, booking.created_at)
    reference, pk = sql.column(Booking, "reference"), sql.column(Booking, "id")
    sql.execute(f"UPDATE {sql.table(Booking)} SET {reference} = %s WHERE {pk} = %s", [booking.reference, booking.pk])  # noqa: S608 (names from the models; values are parameters)


def is_manager(actor: User, coach: User) -> bool:
    """The coach themself, back-office staff and admins manage a coach's sessions."""
    return actor.pk == coach.pk or actor.is_staff_member


def _require_manager(actor: User, booking_or_session: Booking | Session) -> None:
    session = booking_or_session.session if isinstance(booking_or_session, Booking) else booking_or_session
    if not is_manager(actor, session.coach):
        raise NotAllowed(gettext("Only the coach or back-office staff can do that."))


def can_act_for_client(actor: User, booking: Booking) -> bool:
    return actor.pk in (booking.client_id, booking.booked_by_id) or can_book_for(
        actor, booking.client, coach=booking.session.coach
    )


def _require_client_side(actor: User, booking: Booking) -> None:
    if not can_act_for_client(actor, booking):
        raise NotAllowed(gettext("Only the client (or who booked for them) can do that."))


def _request_deadline(start: dt.datetime, now: dt.datetime) -> dt.datetime:
    return min(now + REQUEST_EXPIRY, start)


def _integrity_as_taken(exc: IntegrityError) -> BookingRefused:
    text = str(exc)
    if "booking_one_active_per_client_session" in text or ("UNIQUE" in text and "bookings_booking" in text):
        return BookingRefused(gettext("You already have a place in this session."), code="client_conflict")
    return BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")


def _lock_booking(booking: Booking) -> Booking:
    """The booking's row and its session's, locked (not the coach's or the type's: a row
    that only points at a user takes a key-share lock on it, and a FOR UPDATE there would
    make the two wait on each other)."""
    return (
        Booking.objects.select_for_update(no_key=True, of=("self", "session"))
        .select_related("session", "session__coach", "session__session_type")
        .get(pk=booking.pk)
    )


def _work_through(due: QuerySet[Booking], handle: Callable[[Booking], None], *, limit: int) -> int:
    """Handle the bookings ``due`` (ordered, most urgent first) one at a time, each in its own
    transaction under its row lock, skipping rows another worker holds: safe with several
    workers. Returns how many were handled."""
    done = 0
    for _i in range(limit):
        with transaction.atomic():
            booking = due.select_for_update(no_key=True, skip_locked=True).first()
            if booking is None:
                break
            handle(booking)
            done += 1
    return done


def _require_status(booking: Booking, *statuses: str, message: str) -> None:
    if booking.status not in statuses:
        raise DomainError(message, code="invalid_transition", status=409)
