"""Running and ending sessions: started, completed, no-show, ratings."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import User
from bookings import live, reasons
from bookings.models import (
    ACTIVE_STATUSES,
    BOOKED_STATUSES,
    Booking,
    BookingStatus,
    Session,
    SessionStatus,
)
from bookings.services.common import (
    _lock_booking,
    _now,
    _record,
    _require_client_side,
    _require_manager,
    _require_status,
)
from bookings.services.payment import _lapse
from bookings.services.requests import _end_request
from config.errors import DomainError

# A session can be marked started this long before its start time (and until its end).
START_EARLY = dt.timedelta(minutes=30)


def can_start(session: Session, *, now: dt.datetime) -> bool:
    """Whether ``mark_started`` would take this session now (pages offer "Start" on it)."""
    return session.status == SessionStatus.SCHEDULED and session.start - START_EARLY <= now < session.end


def mark_started(*, session: Session, actor: User, now: dt.datetime | None = None) -> Session:
    """The coach (or staff) marks a scheduled session as in progress, from ``START_EARLY``
    before its start until its end. Locks the session row; its bookings don't change (they
    are completed with the session)."""
    now = _now(now)
    _require_manager(actor, session)
    with transaction.atomic():
        locked = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
        if locked.status != SessionStatus.SCHEDULED:
            raise DomainError(gettext("Only a scheduled session can start."), code="invalid_transition", status=409)
        if now < locked.start - START_EARLY:
            raise DomainError(
                gettext("A session can be started from 30 minutes before its time."),
                code="invalid_transition",
                status=409,
            )
        if now >= locked.end:
            raise DomainError(gettext("This session is already over."), code="invalid_transition", status=409)
        locked.status = SessionStatus.IN_PROGRESS
        locked.started_at = now
        locked.save(update_fields=["status", "started_at", "updated_at"])
        # No booking changes, so no history entry moves the open dashboards' stamps.
        transaction.on_commit(lambda: live.bump(locked.coach_id, live.STAFF_SCOPE))
    return locked


def _finish_session(session: Session, *, actor: User | None, now: dt.datetime, action: str) -> None:
    for booking in (
        Booking.objects.select_for_update(no_key=True)
        .select_related("session__session_type")
        .filter(session=session, status__in=ACTIVE_STATUSES)
    ):
        if booking.status == BookingStatus.REQUESTED:
            _end_request(
                booking,
                actor=actor,
                status=BookingStatus.DECLINED,
                action="expired",
                reason=reasons.SESSION_PASSED_UNANSWERED,
                now=now,
            )
            continue
        if booking.status == BookingStatus.AWAITING_PAYMENT:
            # Never paid (the hold's expiry didn't run in time): it did not take place.
            _lapse(booking, actor=None, reason=reasons.PAYMENT_NOT_COMPLETED, now=now)
            continue
        from_status = booking.status
        booking.status = BookingStatus.COMPLETED
        booking.save()
        _record(booking, actor=actor, action=action, from_status=from_status)
    if session.status != SessionStatus.CANCELLED:
        # Closed by its coach: the moment it really ended (the clock's completion knows none).
        ended_at = now if action == "completed" else None
        Session.objects.filter(pk=session.pk).update(status=SessionStatus.COMPLETED, ended_at=ended_at)


def mark_completed(*, session: Session, actor: User, now: dt.datetime | None = None) -> Session:
    """The coach closes a session: its attendees' bookings are completed (no-shows stay).
    Locks the session's row, then the rows of its active bookings."""
    now = _now(now)
    _require_manager(actor, session)
    with transaction.atomic():
        locked = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
        if locked.status not in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS):
            raise DomainError(
                gettext("This session is already over or cancelled."), code="invalid_transition", status=409
            )
        if now < locked.start:
            raise DomainError(
                gettext("A session can't be completed before it starts."), code="invalid_transition", status=409
            )
        _finish_session(locked, actor=actor, now=now, action="completed")
    locked.refresh_from_db()
    return locked


def mark_no_show(*, booking: Booking, actor: User, now: dt.datetime | None = None) -> Booking:
    """The coach (or staff) records that the client didn't come to a session that has
    started. Locks the booking's row."""
    now = _now(now)
    _require_manager(actor, booking)
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, *BOOKED_STATUSES, message=gettext("Only a booked session can be marked as a no-show."))
        if now < booking.session.start:
            raise DomainError(gettext("The session hasn't started yet."), code="invalid_transition", status=409)
        from_status = booking.status
        booking.status = BookingStatus.NO_SHOW
        booking.save()
        _record(booking, actor=actor, action="no_show", from_status=from_status)
    return booking


def complete_past_sessions(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Sessions past their end are completed, and their attendees' bookings with them.
    Safe with several workers (each session is claimed under a skipped row lock).
    Locks each ended session's row in turn (skipping rows another worker holds), then
    its active bookings' rows."""
    now = _now(now)
    done = 0
    for _ in range(limit):
        with transaction.atomic():
            session = (
                Session.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(status__in=[SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS], end__lte=now)
                .order_by("end")
                .first()
            )
            if session is None:
                break
            _finish_session(session, actor=None, now=now, action="completed_automatically")
            done += 1
    return done


def rate(*, booking: Booking, actor: User, rating: int, feedback: str = "") -> Booking:
    """The client rates a session that has taken place (1–5) and may leave a comment. Locks
    the booking's row; a ``rated`` event carries the rating to the reports."""
    _require_client_side(actor, booking)
    if booking.status != BookingStatus.COMPLETED:
        raise DomainError(
            gettext("You can rate a session once it has taken place."), code="invalid_transition", status=409
        )
    if not 1 <= rating <= 5:
        raise DomainError(gettext("Give a rating from 1 to 5."), code="invalid")
    with transaction.atomic():
        booking = _lock_booking(booking)
        booking.rating, booking.feedback = rating, feedback.strip()
        booking.save(update_fields=["rating", "feedback", "updated_at"])
        _record(booking, actor=actor, action="rated", from_status=booking.status, rating=rating)
    return booking
