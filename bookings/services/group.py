"""Group sessions and workshops: publishing, taking seats, calling a session off."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from availability.models import AllocationKind
from bookings import live, waiting
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    HostMode,
    Session,
    SessionKind,
    SessionStatus,
    SessionType,
)
from bookings.services.booking import _close_plan, _price, _price_fields
from bookings.services.changes import _set_cancelled
from bookings.services.checks import (
    _check_client_free,
    _check_coach_free,
    _check_group_sessions_enabled,
    _check_may_book,
)
from bookings.services.common import (
    BookingRefused,
    _assign_reference,
    _aware,
    _integrity_as_taken,
    _lock_users,
    _new_reference_placeholder,
    _now,
    _record,
    _require_manager,
    is_manager,
)
from bookings.services.enrollment import check_enrollment
from bookings.services.hosts import plan_hosts
from bookings.services.ledger import _allocate, _pick_resource, _release
from bookings.services.payment import hold_deadline, payment_needed
from bookings.video import new_meeting_link
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, clean_text


def publish_session(
    *,
    actor: User,
    session_type: SessionType,
    start: dt.datetime,
    capacity: int | None = None,
    now: dt.datetime | None = None,
) -> Session:
    """A coach (or staff) puts a group session or workshop on the calendar, with every
    co-host of a co-facilitated type, in the smallest free room that holds its seats when
    the type needs one (a session never has more seats than its room holds).
    Locks the hosts' user rows, then the rooms the type may use."""
    now = _now(now)
    start = _aware(start)
    coach = session_type.coach
    if not is_manager(actor, coach):
        raise NotAllowed(_("Only the coach or back-office staff can publish this coach's sessions."))
    if not session_type.is_group:
        raise DomainError(_("One-on-one sessions are created by booking them."), code="invalid")
    _check_group_sessions_enabled(session_type)
    if not session_type.is_active:
        raise DomainError(_("This session type is not active."), code="invalid")
    capacity = session_type.capacity if capacity is None else capacity
    if not 1 <= capacity <= settings.MAX_GROUP_CAPACITY:
        raise DomainError(
            _("Capacity must be between 1 and %(max)d.") % {"max": settings.MAX_GROUP_CAPACITY},
            code="invalid",
            status=400,
        )
    if start <= now:
        raise BookingRefused(_("This time has already passed."), code="too_soon")
    # A co-facilitated type is published with every host; a team's type with its coach.
    plan = plan_hosts(session_type, tag_rules=[], keep=None if session_type.host_mode == HostMode.ALL else [coach])
    rules = plan.rules
    end = start + rules.duration
    try:
        with transaction.atomic():
            _lock_users(*plan.hosts)
            for host in plan.hosts:
                host_rules = plan.host_rules[host.pk]
                try:
                    _check_coach_free(
                        host, blocked_start=start - host_rules.buffer_before, blocked_end=end + host_rules.buffer_after
                    )
                except BookingRefused:
                    if host.pk == coach.pk:
                        raise
                    raise BookingRefused(
                        _("%(host)s already has something at this time.") % {"host": host.display_name},
                        code="slot_taken",
                    ) from None
            resource = (
                _pick_resource(session_type, start=start, end=end, seats=capacity)
                if session_type.resource_kind
                else None
            )
            session = Session.objects.create(
                session_type=session_type,
                coach=coach,
                start=start,
                end=end,
                capacity=capacity,
                resource=resource,
                meeting_link=new_meeting_link(session_type),
                location=session_type.location or (resource.location if resource else ""),
                confirm_by=confirmation_deadline(session_type, start, now),
            )
            _allocate(
                session,
                rules=rules,
                kind=AllocationKind.SESSION,
                resource=resource,
                co_hosts=plan.co_hosts(plan.hosts),
            )
            transaction.on_commit(lambda: live.bump(coach.pk, live.STAFF_SCOPE))
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    return session


def confirmation_deadline(session_type: SessionType, start: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """When a workshop with a minimum number of participants is confirmed or called off:
    its type's hours before the start. None for a workshop published after that moment:
    nobody has had time to book it, so the coach confirms it or calls it off by hand."""
    if session_type.kind != SessionKind.WORKSHOP or not session_type.min_participants:
        return None
    deadline = start - dt.timedelta(hours=session_type.confirm_hours_before)
    return deadline if deadline > now else None


def take_seat(
    *,
    client: User,
    session: Session,
    booked_by: User | None = None,
    notes: str = "",
    reminders: bool = True,
    now: dt.datetime | None = None,
    promo_code: str = "",
    hold_for_payment: bool | None = None,
    held_seat: bool = False,
) -> Booking:
    """Take one seat in a published group session or workshop (firm: no approval). A
    priced seat with payments on is held ``awaiting_payment`` (``services.payment``): its
    early-bird price, discounts and deposit by ``bookings.pricing``.

    A free seat is not free while people wait for one (``bookings.waiting``): it goes to
    them through the waitlist's offers, and this refuses it as full. ``held_seat``: the
    client accepts a seat the waitlist held for them (``hold_seats``), which becomes theirs.
    Locks the client's user row, then the session's row, then a promotion code's row."""
    actor = booked_by or client
    now = _now(now)
    session_type = session.session_type
    if not session_type.is_group:
        raise DomainError(_("Book a one-on-one session by choosing a time."), code="invalid")
    _check_group_sessions_enabled(session_type)
    standing = _check_may_book(actor=actor, client=client, coach=session.coach, session_type=session_type)
    try:
        with transaction.atomic():
            _lock_users(client)
            locked = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
            if locked.status != SessionStatus.SCHEDULED:
                raise BookingRefused(_("This session is no longer taking bookings."), code="full")
            if locked.start <= now:
                raise BookingRefused(_("This session has already started."), code="too_soon")
            if Booking.objects.filter(session=locked, client=client, status__in=ACTIVE_STATUSES).exists():
                raise BookingRefused(_("You already have a place in this session."), code="client_conflict")
            _check_client_free(client, start=locked.start, end=locked.end)
            if held_seat:
                if locked.seats_held < 1:
                    raise BookingRefused(_("The seat held for you is no longer held."), code="offer_expired")
                Session.objects.filter(pk=locked.pk).update(
                    seats_taken=F("seats_taken") + 1, seats_held=F("seats_held") - 1
                )
            else:
                _check_seat_free(locked, client)
                Session.objects.filter(pk=locked.pk).update(seats_taken=F("seats_taken") + 1)
            enrollment = check_enrollment(client, session_type, now=now)
            price = _price(session_type, start=locked.start, now=now, standing=standing, promo_code=promo_code)
            hold = payment_needed(price.due_now) if hold_for_payment is None else hold_for_payment
            if enrollment is not None:
                price, hold = None, False
            booking = Booking.objects.create(
                session=locked,
                client=client,
                booked_by=actor,
                reference=_new_reference_placeholder(),
                status=BookingStatus.AWAITING_PAYMENT if hold else BookingStatus.FIRM_BOOKED,
                status_after_payment=BookingStatus.FIRM_BOOKED if hold else "",
                expires_at=hold_deadline(locked.start, now) if hold else None,
                client_notes=clean_text(notes, LONG_TEXT, field="notes"),
                confirmed_at=None if hold else now,
                **_price_fields(session_type, price),
                enrollment=enrollment,
                late_refund_percent=session_type.late_cancellation_refund_percent,
                reminders_enabled=reminders,
            )
            _assign_reference(booking)
            if hold:
                _record(booking, actor=actor, action="held_for_payment", from_status="", then=BookingStatus.FIRM_BOOKED)
            else:
                _record(booking, actor=actor, action="seat_taken", from_status="")
            if standing.planning:
                _close_plan(client, session_type, booking, now)
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    session.refresh_from_db()
    return booking


def _check_seat_free(session: Session, client: User) -> None:
    """Refuse a seat when none is free for a newcomer: every seat taken or held, or the free
    ones owed to the people waiting for them. The refusal says whether ``client`` may wait."""
    free = session.capacity - session.seats_taken - session.seats_held
    if free > 0 and free > waiting.waiting(session):
        return
    raise BookingRefused(_("This session is full."), code="full", extra={"waitlist": waiting.may_join(session, client)})


def hold_seats(session: Session, count: int = 1) -> None:
    """Hold ``count`` free seats of ``session`` for people offered them from the waitlist:
    nobody else can take one until ``take_seat(held_seat=True)`` gives it to its person or
    ``release_held_seat`` frees it. The caller has locked the session's row
    (``lock_session``) in its transaction; the database refuses a seat beyond the capacity."""
    if session.seats_taken + session.seats_held + count > session.capacity:
        raise BookingRefused(_("This session is full."), code="full")
    Session.objects.filter(pk=session.pk).update(seats_held=F("seats_held") + count)
    session.seats_held += count


def release_held_seat(session: Session) -> None:
    """A held seat's offer was declined, expired or withdrawn: the seat is free again."""
    Session.objects.filter(pk=session.pk, seats_held__gt=0).update(seats_held=F("seats_held") - 1)
    session.seats_held = max(session.seats_held - 1, 0)


def lock_session(session_id: int) -> Session:
    """The session's row, locked for the rest of the caller's transaction."""
    return Session.objects.select_for_update(no_key=True).select_related("session_type").get(pk=session_id)


def cancel_session(*, session: Session, actor: User, reason: str, now: dt.datetime | None = None) -> Session:
    """The coach or staff call a session off: every active booking in it is cancelled.
    Locks the session's row, then the rows of its active bookings."""
    now = _now(now)
    _require_manager(actor, session)
    reason = clean_text(reason, LONG_TEXT, field="reason")
    if not reason:
        raise DomainError(_("Give the attendees a reason."), code="reason_required")
    return call_off(session=session, actor=actor, reason=reason, now=now)


def call_off(*, session: Session, actor: User | None, reason: str, now: dt.datetime) -> Session:
    """Cancel the session and every active booking in it (``actor`` None: the system, e.g.
    a workshop below its minimum at its deadline). The checks are the caller's."""
    with transaction.atomic():
        locked = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
        if locked.status in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            raise DomainError(_("This session is already over or cancelled."), code="invalid_transition", status=409)
        for booking in Booking.objects.select_for_update(no_key=True).filter(
            session=locked, status__in=ACTIVE_STATUSES
        ):
            _set_cancelled(booking, actor=actor, reason=reason, now=now, late=False)
        locked.status = SessionStatus.CANCELLED
        locked.seats_taken = 0
        locked.seats_held = 0
        locked.save(update_fields=["status", "seats_taken", "seats_held", "updated_at"])
        _release(locked)
        transaction.on_commit(lambda: live.bump(locked.coach_id, live.STAFF_SCOPE))
    return locked
