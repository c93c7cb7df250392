"""Cancelling and rescheduling a booking."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from accounts.models import User
from accounts.selectors import is_connected
from availability.models import Allocation, AllocationKind
from availability.rules import BookingRules, rules_for
from availability.selectors import tag_rules_for
from bookings.models import (
    ACTIVE_STATUSES,
    BOOKED_STATUSES,
    MOVABLE_STATUSES,
    Booking,
    BookingStatus,
    HostMode,
    Session,
    SessionStatus,
)
from bookings.services.checks import _check_timing
from bookings.services.common import (
    MSG_SLOT_TAKEN,
    BookingRefused,
    _aware,
    _hours,
    _lock_booking,
    _lock_users,
    _now,
    _record,
    _request_deadline,
    _require_client_side,
    _require_status,
    is_manager,
)
from bookings.services.hosts import HostPlan, check_offered, claim_hosts, plan_hosts
from bookings.services.ledger import _allocate, _free_seat, _pick_resource, _release
from bookings.services.payment import _lapse
from bookings.video import new_meeting_link
from config.errors import DomainError
from config.inputs import LONG_TEXT, clean_text


def _set_cancelled(booking: Booking, *, actor: User | None, reason: str, now: dt.datetime, late: bool) -> None:
    from_status = booking.status
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = actor
    booking.cancellation_reason = reason
    booking.is_late_cancellation = late
    booking.expires_at = None
    booking.save()
    _record(booking, actor=actor, action="cancelled", from_status=from_status, note=reason, late=late)


def _require_movable(booking: Booking) -> None:
    if booking.status == BookingStatus.AWAITING_PAYMENT:
        raise DomainError(
            gettext("Pay for this booking first, or cancel it and book another time."),
            code="invalid_transition",
            status=409,
        )
    _require_status(booking, *MOVABLE_STATUSES, message=gettext("This booking is no longer active."))


def _late_policy(booking: Booking, rules: BookingRules, *, now: dt.datetime, verb: str) -> bool:
    """For a client's change: whether it is late, or a refusal when late isn't allowed."""
    if booking.status == BookingStatus.REQUESTED:
        return False
    if booking.session.start - now >= rules.cancellation_notice:
        return False
    if rules.allow_late_cancellation:
        return True
    values = {"notice": _hours(rules.cancellation_notice), "coach": booking.session.coach.display_name}
    if verb == "moved":
        text = gettext(
            "Sessions can be moved up to %(notice)s before they start. Contact %(coach)s to change this one."
        )
    else:
        text = gettext(
            "Sessions can be cancelled up to %(notice)s before they start. Contact %(coach)s to change this one."
        )
    raise BookingRefused(text % values, code="policy_violation")


def cancel(*, booking: Booking, actor: User, reason: str = "", now: dt.datetime | None = None) -> Booking:
    """Clients cancel within the cancellation notice (or late, marked so, when the type
    allows it); the coach and staff cancel any time, with a reason.
    Locks the booking's row."""
    now = _now(now)
    manager = is_manager(actor, booking.session.coach)
    if not manager:
        _require_client_side(actor, booking)
    reason = clean_text(reason, LONG_TEXT, field="reason")
    if manager and actor.pk != booking.client_id and not reason:
        raise DomainError(gettext("Tell the client why the session is cancelled."), code="reason_required")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, *ACTIVE_STATUSES, message=gettext("This booking is no longer active."))
        if booking.status == BookingStatus.AWAITING_PAYMENT:
            # Not booked yet: the hold ends, nothing was paid, a code's use comes back.
            _lapse(booking, actor=actor, reason=reason, now=now)
            return booking
        if booking.session.start <= now:
            raise DomainError(gettext("This session has already started."), code="invalid_transition", status=409)
        late = False
        if not manager:
            rules = rules_for(booking.session.coach.coach_profile, booking.session.session_type)
            late = _late_policy(booking, rules, now=now, verb="cancelled")
        _set_cancelled(booking, actor=actor, reason=reason, now=now, late=late)
        _free_seat(booking)
    return booking


def cancel_by_system(*, booking: Booking, reason: str, now: dt.datetime | None = None) -> Booking | None:
    """The system cancels an active booking that is still to come (``actor`` None), e.g. when
    its client's account is erased: the event stream tells the coach as for any cancellation.
    Returns None when the booking is no longer active or has already started (nothing done).
    Locks the booking's row."""
    now = _now(now)
    reason = clean_text(reason, LONG_TEXT, field="reason")
    with transaction.atomic():
        booking = _lock_booking(booking)
        if booking.status not in ACTIVE_STATUSES or booking.session.start <= now:
            return None
        if booking.status == BookingStatus.AWAITING_PAYMENT:
            _lapse(booking, actor=None, reason=reason, now=now)
            return booking
        _set_cancelled(booking, actor=None, reason=reason, now=now, late=False)
        _free_seat(booking)
    return booking


def reschedule(*, booking: Booking, actor: User, start: dt.datetime, now: dt.datetime | None = None) -> Booking:
    """Move a one-on-one booking to ``start`` in one step: the new time is taken before the
    old one is released, so a refusal leaves the booking where it was. A co-hosted session
    moves with all its hosts; a team's session keeps its host when free, else goes to the
    fairest free member.
    Locks the user rows of the client and the hosts, then the booking's row, then the
    rooms the type may use if it needs one."""
    now = _now(now)
    start = _aware(start)
    session = booking.session
    session_type = session.session_type
    manager = is_manager(actor, session.coach)
    if not manager:
        _require_client_side(actor, booking)
    if session_type.is_group:
        raise DomainError(
            gettext("A seat in a group session can't be moved; cancel it and take a seat in another session."),
            code="invalid_transition",
            status=409,
        )
    _require_movable(booking)
    if start == session.start:
        raise DomainError(gettext("That is the booking's current time."), code="invalid")
    plan = _move_plan(booking)
    if booking.series_id is not None:
        # An occurrence of a series may be as far ahead as the series reaches.
        horizon = dt.timedelta(
            days=getattr(session.coach.coach_profile, "series_horizon_days", None) or settings.SERIES_HORIZON_DAYS
        )
        plan.rules = dataclasses.replace(plan.rules, booking_window=max(plan.rules.booking_window, horizon))
    if manager:
        if start <= now:
            raise BookingRefused(gettext("This time has already passed. Select another."), code="too_soon")
        # A booked session stays as it was booked; a request the coach moves is accepted.
        status: str | Callable[[bool], str] = (
            BookingStatus.CONFIRMED if booking.status == BookingStatus.REQUESTED else booking.status
        )
    else:
        _late_policy(booking, rules_for(session.coach.coach_profile, session_type), now=now, verb="moved")
        _check_timing(plan.rules, coach=session_type.coach, start=start, now=now)
        check_offered(plan, start=start)
        connected = is_connected(booking.client, session_type.coach)

        def status(window_firm: bool) -> str:
            firm = plan.rules.is_firm(start=start, now=now, connected=connected, window_allows_firm=window_firm)
            return BookingStatus.FIRM_BOOKED if firm else BookingStatus.REQUESTED

    return _move(booking, actor=actor, start=start, status=status, action="rescheduled", now=now, plan=plan)


def _move_plan(booking: Booking) -> HostPlan:
    """The hosts a moved booking's session may have: its own (a co-hosted session keeps
    them all), or the whole team for a team's type."""
    session = booking.session
    session_type = session.session_type
    tag_rules = tag_rules_for(booking.client, session_type.coach)
    if session_type.host_mode == HostMode.ANY:
        return plan_hosts(session_type, tag_rules=tag_rules)
    keep = [session.coach, *session.co_hosts.select_related("coach_profile").order_by("pk")]
    return plan_hosts(session_type, tag_rules=tag_rules, keep=keep)


def _move(
    booking: Booking,
    *,
    actor: User,
    start: dt.datetime,
    status: str | Callable[[bool], str],
    action: str,
    now: dt.datetime,
    plan: HostPlan | None = None,
) -> Booking:
    """``status``: the new status, or a function of whether the new time's window allows
    firm booking (known once the host is chosen)."""
    plan = plan or _move_plan(booking)
    old_session = booking.session
    session_type = old_session.session_type
    end = start + plan.rules.duration
    try:
        with transaction.atomic():
            _lock_users(booking.client, *plan.hosts)
            booking = _lock_booking(booking)
            _require_movable(booking)
            old_session = booking.session
            own = list(Allocation.objects.filter(session=old_session, is_active=True).values_list("pk", flat=True))
            hosts, load = claim_hosts(
                plan,
                start=start,
                end=end,
                client=booking.client,
                exclude=own,
                exclude_booking=booking.pk,
                prefer=old_session.coach,
            )
            host = hosts[0]
            new_status = status if isinstance(status, str) else status(plan.firm_window.get(host.pk, True))
            resource = (
                _pick_resource(session_type, start=start, end=end, ignore_session_id=old_session.pk)
                if session_type.resource_kind
                else None
            )
            new_session = Session.objects.create(
                session_type=session_type,
                coach=host,
                start=start,
                end=end,
                capacity=1,
                seats_taken=1,
                resource=resource,
                # The booking keeps its room (its people have the link already); one that had
                # none gets what its type gives now.
                meeting_link=old_session.meeting_link or new_meeting_link(session_type),
                location=session_type.location or (resource.location if resource else old_session.location),
            )
            kind = AllocationKind.REQUEST if new_status == BookingStatus.REQUESTED else AllocationKind.SESSION
            # The new time was checked free (under the locks) above; the old allocation is
            # let go in the same transaction just before the new one is written, so a new
            # time overlapping the old one doesn't trip PostgreSQL's exclusion constraint.
            # Nobody sees the booking without a time: a refusal rolls both back.
            _release(old_session)
            _allocate(
                new_session,
                rules=plan.host_rules[host.pk],
                kind=kind,
                resource=resource,
                co_hosts=plan.co_hosts(hosts),
            )
            Session.objects.filter(pk=old_session.pk).update(status=SessionStatus.CANCELLED, seats_taken=0)
            from_status = booking.status
            booking.session = new_session
            booking.rescheduled_from = old_session
            booking.status = new_status
            booking.suggested_alternatives = []
            booking.expires_at = _request_deadline(start, now) if new_status == BookingStatus.REQUESTED else None
            if new_status in BOOKED_STATUSES:
                booking.confirmed_at = now
            booking.save()
            _record(
                booking,
                actor=actor,
                action=action,
                from_status=from_status,
                coach_load=load.plus_one(),
                previous_start=old_session.start.isoformat(),
                new_start=start.isoformat(),
            )
    except IntegrityError as exc:
        raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken") from exc
    return booking
