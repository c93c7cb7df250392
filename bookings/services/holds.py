"""A one-on-one time held for people offered it from the waitlist: a tentative allocation
of the coach's time (``AllocationKind.HOLD``), under the same locks, checks and database
constraints as a booking, so nobody else can book it (the slot engine reads it as busy and
PostgreSQL's exclusion constraint refuses an overlap). ``book_slot(held=...)`` turns it
into the booking of whoever accepts first; ``release_slot`` frees it when nobody did."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from availability.models import Allocation, AllocationKind
from availability.rules import rules_for
from bookings.models import HostMode, SessionKind, SessionType
from bookings.services.checks import _check_coach_free, _check_in_availability, _check_timing
from bookings.services.common import BookingRefused, _aware, _integrity_as_taken, _lock_users, _now
from config import sql


def may_hold(session_type: SessionType) -> bool:
    """Types whose times the waitlist can hold: one-on-one, hosted by the coach alone."""
    return (
        session_type.kind == SessionKind.ONE_ON_ONE
        and session_type.host_mode == HostMode.SINGLE
        and session_type.required_subject_id is None
    )


def hold_slot(*, session_type: SessionType, start: dt.datetime, now: dt.datetime | None = None) -> Allocation:
    """Hold the coach's time for ``session_type`` at ``start`` (buffers included), as
    bookable now: within the window and notice, offered by the coach's hours, free.
    Locks the coach's row."""
    now = _now(now)
    start = _aware(start)
    if not may_hold(session_type) or not session_type.is_active:
        raise BookingRefused(_("This session type can't be held for the waitlist."), code="invalid")
    coach = session_type.coach
    rules = rules_for(coach.coach_profile, session_type)
    _check_timing(rules, coach=coach, start=start, now=now)
    _check_in_availability(coach, session_type, rules, start)
    end = start + rules.duration
    try:
        with transaction.atomic():
            _lock_users(coach)
            blocked_start, blocked_end = start - rules.buffer_before, end + rules.buffer_after
            _check_coach_free(coach, blocked_start=blocked_start, blocked_end=blocked_end)
            return sql.insert(
                Allocation(
                    staff=coach,
                    kind=AllocationKind.HOLD,
                    start=start,
                    end=end,
                    blocked_start=blocked_start,
                    blocked_end=blocked_end,
                    counts_toward_limits=False,
                )
            )
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc


def release_slot(hold: Allocation) -> bool:
    """Nobody took the held time: it is free again. False when it was already let go."""
    return bool(Allocation.objects.filter(pk=hold.pk, kind=AllocationKind.HOLD, is_active=True).update(is_active=False))


def take_hold(hold: Allocation) -> None:
    """In ``book_slot``'s transaction, after its locks: the held time is let go so that the
    booking can take it; refused when it is no longer held."""
    if not release_slot(hold):
        raise BookingRefused(_("The time held for you is no longer held."), code="offer_expired")
