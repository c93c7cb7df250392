"""Every write that books, answers, moves or ends a session.

Each service runs in one transaction that locks what it depends on (the coach's and the
client's user rows, the session row for seats), re-checks the rules against what is in the
database now, writes, records a ``BookingEvent`` with its actor, and queues its side
effects to run after the commit (``booking_changed``). SQLite serialises writers with
``BEGIN IMMEDIATE``; PostgreSQL has row locks plus exclusion and check constraints, so an
overlap is impossible even if a check here were wrong. A refusal is a ``DomainError`` with
one of the stable codes below, and leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone

from accounts.access import can_book_for
from accounts.models import CalendarVisibility, Role, User
from accounts.selectors import is_connected
from availability import slots as engine
from availability.models import Resource
from availability.selectors import LONGEST_ALLOCATION, availability_inputs
from bookings import live
from bookings.models import (
    ACTIVE_STATUSES,
    BOOKED_STATUSES,
    TRANSITIONS,
    Allocation,
    AllocationKind,
    Booking,
    BookingEvent,
    BookingStatus,
    PlannedSession,
    Session,
    SessionKind,
    SessionStatus,
    SessionType,
)
from bookings.rules import BookingRules, CoachLoad, rules_for
from config.errors import DomainError, NotAllowed

# Sent after the commit of every change: sender=Booking and the ids of the booking, the
# actor (None: the system), the client, who booked, and the coach; plus the action's name.
booking_changed = Signal()
# Sent inside the transaction of every change, with the booking itself, so that what must
# never be lost with it (its notifications and reminders) is written in the same commit.
booking_recorded = Signal()

REQUEST_EXPIRY = dt.timedelta(hours=24)
MAX_ALTERNATIVES = 5

# Messages people read (seed 004 where it has one).
MSG_SLOT_TAKEN = "This time is no longer available. Select another."
MSG_CLIENT_CONFLICT = "You have another session at this time."
MSG_FAILED = "Unable to book. Please try again."


class BookingRefused(DomainError):
    """A booking the rules or the calendar refuse: HTTP 409 with a stable code."""

    status = 409


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _aware(value: dt.datetime, name: str = "start") -> dt.datetime:
    if timezone.is_naive(value):
        raise DomainError(f"The {name} time needs a UTC offset or a time zone.", code="invalid")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise DomainError(f"The {name} time is out of range.", code="invalid") from None


def _hours(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours and delta.total_seconds() % 3600 == 0:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minutes"


def _lock_users(*users: User) -> None:
    """Lock the rows of the people a change depends on, always in the same order."""
    ids = sorted({user.pk for user in users})
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


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
    """The audit event of a change, and the ``booking_recorded`` signal inside the
    transaction (``coach_load``, when the change read it, saves receivers a count)."""
    if from_status and booking.status not in TRANSITIONS[from_status]:
        raise DomainError(
            f"A booking can't go from {from_status} to {booking.status}.", code="invalid_transition", status=409
        )
    event = BookingEvent.objects.create(
        booking=booking,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=booking.status,
        note=note,
        data=data,
    )
    booking_recorded.send(sender=Booking, booking=booking, event=event, coach_load=coach_load)
    changed = {
        "booking_id": booking.pk,
        "action": action,
        "actor_id": actor.pk if actor else None,
        "client_id": booking.client_id,
        "booked_by_id": booking.booked_by_id,
        "coach_id": booking.session.coach_id,
    }
    transaction.on_commit(lambda: booking_changed.send(sender=Booking, **changed))


def _new_reference_placeholder() -> str:
    return f"tmp-{uuid.uuid4().hex}"


def _assign_reference(booking: Booking) -> None:
    """``BK-YYYY-NNNNNN``: the year the booking was made and its row number, unique by
    construction and free of any counter every booking would have to lock."""
    booking.reference = f"BK-{booking.created_at:%Y}-{booking.pk:06d}"
    Booking.objects.filter(pk=booking.pk).update(reference=booking.reference)


def is_manager(actor: User, coach: User) -> bool:
    """The coach themself, back-office staff and admins manage a coach's sessions."""
    return actor.pk == coach.pk or actor.is_staff_member


def _require_manager(actor: User, booking_or_session: Booking | Session) -> None:
    session = booking_or_session.session if isinstance(booking_or_session, Booking) else booking_or_session
    if not is_manager(actor, session.coach):
        raise NotAllowed("Only the coach or back-office staff can do that.")


def can_act_for_client(actor: User, booking: Booking) -> bool:
    return actor.pk in (booking.client_id, booking.booked_by_id) or can_book_for(actor, booking.client)


def _require_client_side(actor: User, booking: Booking) -> None:
    if not can_act_for_client(actor, booking):
        raise NotAllowed("Only the client (or who booked for them) can do that.")


def _check_group_sessions_enabled(session_type: SessionType) -> None:
    if session_type.is_group and not settings.ENABLE_GROUP_SESSIONS:
        raise BookingRefused("Group sessions and workshops are turned off.", code="policy_violation")


def _check_may_book(*, actor: User, client: User, coach: User) -> bool:
    """Who may book whom; returns whether the client is connected to the coach."""
    if not can_book_for(actor, client):
        raise NotAllowed("You can book only for yourself or for someone you are the guardian of.")
    if client.pk == coach.pk:
        raise DomainError("You can't book a session with yourself.", code="invalid")
    if not coach.is_active or coach.role != Role.COACH:
        raise BookingRefused("This coach is not taking bookings.", code="not_connected")
    connected = is_connected(client, coach)
    visibility = coach.coach_profile.calendar_visibility
    if actor.is_staff_member:
        return connected
    if visibility == CalendarVisibility.PRIVATE or (visibility == CalendarVisibility.CONNECTED and not connected):
        raise BookingRefused(
            f"{coach.display_name} takes bookings from connected clients only. Ask to connect first.",
            code="not_connected",
        )
    return connected


# ---------------------------------------------------------------------------------------
# Reads under the lock
# ---------------------------------------------------------------------------------------


def _overlapping(
    queryset, *, blocked_start: dt.datetime, blocked_end: dt.datetime, exclude: Iterable[int] = ()
) -> list[Allocation]:
    return list(
        queryset.filter(
            is_active=True,
            blocked_start__gte=blocked_start - LONGEST_ALLOCATION,
            blocked_start__lt=blocked_end,
            blocked_end__gt=blocked_start,
        )
        .exclude(pk__in=list(exclude))
        .values_list("pk", flat=True)
    )


def _check_coach_free(
    coach: User, *, blocked_start: dt.datetime, blocked_end: dt.datetime, exclude: Iterable[int] = (), firm_only=False
) -> None:
    queryset = Allocation.objects.filter(staff=coach)
    if firm_only:
        queryset = queryset.exclude(kind=AllocationKind.REQUEST)
    if _overlapping(queryset, blocked_start=blocked_start, blocked_end=blocked_end, exclude=exclude):
        raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")


def _check_coach_time(
    coach: User,
    rules: BookingRules,
    *,
    start: dt.datetime,
    blocked_start: dt.datetime,
    blocked_end: dt.datetime,
    exclude: Iterable[int] = (),
) -> CoachLoad:
    """One read of the coach's active allocations around ``start`` (its local ISO week and
    anything near the blocked range): no overlap with the blocked range (``slot_taken``),
    and room under the day and week limits in the coach's zone (``limit_reached``).
    Returns the day's and week's load without the new session."""
    zone = ZoneInfo(coach.timezone)
    day = start.astimezone(zone).date()
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    monday = day - dt.timedelta(days=day.weekday())
    week_start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    week_end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    rows = (
        Allocation.objects.filter(staff=coach, is_active=True)
        .filter(
            Q(blocked_start__gte=blocked_start - LONGEST_ALLOCATION, blocked_start__lt=blocked_end)
            | Q(start__gte=week_start, start__lt=week_end)
        )
        .exclude(pk__in=list(exclude))
        .values_list("start", "blocked_start", "blocked_end", "counts_toward_limits")
    )
    in_week = in_day = 0
    for other_start, other_blocked_start, other_blocked_end, counts in rows:
        if other_blocked_start < blocked_end and other_blocked_end > blocked_start:
            raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")
        if counts and week_start <= other_start < week_end:
            in_week += 1
            in_day += day_start <= other_start < day_end
    if rules.max_per_week is not None and in_week >= rules.max_per_week:
        raise BookingRefused(f"{coach.display_name} is fully booked that week.", code="limit_reached")
    if rules.max_per_day is not None and in_day >= rules.max_per_day:
        raise BookingRefused(f"{coach.display_name} is fully booked that day.", code="limit_reached")
    return CoachLoad(day, monday, in_day, in_week)


def _check_client_free(
    client: User, *, start: dt.datetime, end: dt.datetime, exclude_booking: int | None = None
) -> None:
    clash = Booking.objects.filter(
        client=client,
        status__in=ACTIVE_STATUSES,
        session__start__lt=end,
        session__end__gt=start,
        session__start__gte=start - LONGEST_ALLOCATION,
    )
    if exclude_booking is not None:
        clash = clash.exclude(pk=exclude_booking)
    if clash.exists():
        raise BookingRefused(MSG_CLIENT_CONFLICT, code="client_conflict")


def _check_timing(rules: BookingRules, *, coach: User, start: dt.datetime, now: dt.datetime) -> None:
    if start < now + rules.minimum_notice:
        if start <= now:
            raise BookingRefused("This time has already passed. Select another.", code="too_soon")
        raise BookingRefused(
            f"{coach.display_name} needs at least {_hours(rules.minimum_notice)}' notice. Select a later time.",
            code="too_soon",
        )
    if start + rules.duration > now + rules.booking_window:
        days = rules.booking_window.days
        raise BookingRefused(
            f"Bookings open {days} day{'s' if days != 1 else ''} ahead. Select an earlier time.", code="beyond_window"
        )


def _check_in_availability(coach: User, session_type: SessionType, rules: BookingRules, start: dt.datetime) -> None:
    """``start`` is a start the coach's windows offer for this type (on the step grid)."""
    zone = ZoneInfo(coach.timezone)
    local_day = start.astimezone(zone).date()
    windows, overrides, time_off = availability_inputs(
        coach, first_day=local_day - dt.timedelta(days=1), last_day=local_day + dt.timedelta(days=1)
    )
    open_rules = engine.SlotRules(
        duration=rules.duration,
        step=rules.step,
        booking_window=rules.duration + dt.timedelta(days=1),
    )
    found = engine.free_slots(
        windows=windows,
        overrides=overrides,
        time_off=time_off,
        busy=(),
        rules=open_rules,
        zone=zone,
        range_start=start,
        range_end=start + dt.timedelta(seconds=1),
        now=start,
        session_type_id=session_type.pk,
    )
    if not any(slot.start == start for slot in found):
        raise BookingRefused(
            f"{coach.display_name} doesn't offer {session_type.title} at this time. Select a listed time.",
            code="outside_availability",
        )


def _free_resource(kind: str, *, start: dt.datetime, end: dt.datetime, exclude: Iterable[int] = ()) -> Resource:
    resources = list(Resource.objects.select_for_update().filter(kind=kind, is_active=True).order_by("pk"))
    exclude = list(exclude)
    for resource in resources:
        if not _overlapping(
            Allocation.objects.filter(resource=resource), blocked_start=start, blocked_end=end, exclude=exclude
        ):
            return resource
    raise BookingRefused(f"No {kind.replace('_', ' ')} is free at this time. Select another.", code="slot_taken")


def _allocate(session: Session, *, rules: BookingRules, kind: str, resource: Resource | None) -> list[Allocation]:
    rows = [
        Allocation(
            session=session,
            staff=session.coach,
            kind=kind,
            start=session.start,
            end=session.end,
            blocked_start=session.start - rules.buffer_before,
            blocked_end=session.end + rules.buffer_after,
        )
    ]
    if resource is not None:
        rows.append(
            Allocation(
                session=session,
                resource=resource,
                kind=kind,
                start=session.start,
                end=session.end,
                blocked_start=session.start,
                blocked_end=session.end,
                counts_toward_limits=False,
            )
        )
    for row in rows:
        row.save()
    return rows


def _release(session: Session) -> None:
    Allocation.objects.filter(session=session, is_active=True).update(is_active=False)


def _request_deadline(start: dt.datetime, now: dt.datetime) -> dt.datetime:
    return min(now + REQUEST_EXPIRY, start)


def _integrity_as_taken(exc: IntegrityError) -> BookingRefused:
    text = str(exc)
    if "booking_one_active_per_client_session" in text or ("UNIQUE" in text and "bookings_booking" in text):
        return BookingRefused("You already have a place in this session.", code="client_conflict")
    return BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")


# ---------------------------------------------------------------------------------------
# One-on-one
# ---------------------------------------------------------------------------------------


def book_slot(
    *,
    client: User,
    session_type: SessionType,
    start: dt.datetime,
    booked_by: User | None = None,
    notes: str = "",
    reminders: bool = True,
    now: dt.datetime | None = None,
) -> Booking:
    """Book a one-on-one ``session_type`` at ``start``: firm or a request, by the rules."""
    actor = booked_by or client
    now = _now(now)
    start = _aware(start)
    if session_type.kind != SessionKind.ONE_ON_ONE:
        raise DomainError("Take a seat in one of this type's published sessions instead.", code="invalid")
    if not session_type.is_active:
        raise BookingRefused("This session type is no longer offered.", code="outside_availability")
    coach = session_type.coach
    connected = _check_may_book(actor=actor, client=client, coach=coach)
    rules = rules_for(coach.coach_profile, session_type)
    _check_timing(rules, coach=coach, start=start, now=now)
    _check_in_availability(coach, session_type, rules, start)
    firm = rules.is_firm(start=start, now=now, connected=connected)
    end = start + rules.duration
    try:
        with transaction.atomic():
            _lock_users(coach, client)
            load = _check_coach_time(
                coach,
                rules,
                start=start,
                blocked_start=start - rules.buffer_before,
                blocked_end=end + rules.buffer_after,
            )
            _check_client_free(client, start=start, end=end)
            resource = (
                _free_resource(session_type.resource_kind, start=start, end=end) if session_type.resource_kind else None
            )
            session = Session.objects.create(
                session_type=session_type,
                coach=coach,
                start=start,
                end=end,
                capacity=1,
                seats_taken=1,
                resource=resource,
                meeting_link=session_type.meeting_link,
                location=session_type.location or (resource.location if resource else ""),
            )
            _allocate(
                session, rules=rules, kind=AllocationKind.SESSION if firm else AllocationKind.REQUEST, resource=resource
            )
            booking = Booking.objects.create(
                session=session,
                client=client,
                booked_by=actor,
                reference=_new_reference_placeholder(),
                status=BookingStatus.FIRM_BOOKED if firm else BookingStatus.REQUESTED,
                client_notes=notes.strip(),
                expires_at=None if firm else _request_deadline(start, now),
                confirmed_at=now if firm else None,
                price=session_type.price,
                currency=session_type.currency,
                reminders_enabled=reminders,
            )
            _assign_reference(booking)
            _record(
                booking,
                actor=actor,
                action="booked" if firm else "requested",
                from_status="",
                coach_load=load.plus_one(),
            )
            _close_plan(client, session_type, booking, now)
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    return booking


def _close_plan(client: User, session_type: SessionType, booking: Booking, now: dt.datetime) -> None:
    PlannedSession.objects.filter(client=client, session_type=session_type, closed_at__isnull=True).update(
        booking=booking, closed_at=now
    )


def schedule_later(
    *, client: User, session_type: SessionType, booked_by: User | None = None, notes: str = ""
) -> PlannedSession:
    """Record that the client wants ``session_type`` without choosing a time yet."""
    actor = booked_by or client
    _check_may_book(actor=actor, client=client, coach=session_type.coach)
    if not session_type.is_active:
        raise BookingRefused("This session type is no longer offered.", code="outside_availability")
    plan, _ = PlannedSession.objects.get_or_create(
        client=client,
        session_type=session_type,
        closed_at__isnull=True,
        defaults={"booked_by": actor, "notes": notes.strip()},
    )
    return plan


def drop_plan(*, plan: PlannedSession, actor: User) -> None:
    if not (actor.pk in (plan.client_id, plan.booked_by_id) or can_book_for(actor, plan.client)):
        raise NotAllowed()
    if plan.closed_at is None:
        plan.closed_at = timezone.now()
        plan.save(update_fields=["closed_at"])


# ---------------------------------------------------------------------------------------
# Group sessions and workshops
# ---------------------------------------------------------------------------------------


def publish_session(
    *,
    actor: User,
    session_type: SessionType,
    start: dt.datetime,
    capacity: int | None = None,
    now: dt.datetime | None = None,
) -> Session:
    """A coach (or staff) puts a group session or workshop on the calendar."""
    now = _now(now)
    start = _aware(start)
    coach = session_type.coach
    if not is_manager(actor, coach):
        raise NotAllowed("Only the coach or back-office staff can publish this coach's sessions.")
    if not session_type.is_group:
        raise DomainError("One-on-one sessions are created by booking them.", code="invalid")
    _check_group_sessions_enabled(session_type)
    if not session_type.is_active:
        raise DomainError("This session type is not active.", code="invalid")
    capacity = session_type.capacity if capacity is None else capacity
    if not 1 <= capacity <= settings.MAX_GROUP_CAPACITY:
        raise DomainError(f"Capacity must be between 1 and {settings.MAX_GROUP_CAPACITY}.", code="invalid", status=400)
    if start <= now:
        raise BookingRefused("This time has already passed.", code="too_soon")
    rules = rules_for(coach.coach_profile, session_type)
    end = start + rules.duration
    try:
        with transaction.atomic():
            _lock_users(coach)
            _check_coach_free(coach, blocked_start=start - rules.buffer_before, blocked_end=end + rules.buffer_after)
            resource = (
                _free_resource(session_type.resource_kind, start=start, end=end) if session_type.resource_kind else None
            )
            session = Session.objects.create(
                session_type=session_type,
                coach=coach,
                start=start,
                end=end,
                capacity=capacity,
                resource=resource,
                meeting_link=session_type.meeting_link,
                location=session_type.location or (resource.location if resource else ""),
            )
            _allocate(session, rules=rules, kind=AllocationKind.SESSION, resource=resource)
            transaction.on_commit(lambda: live.bump(coach.pk, live.STAFF_SCOPE))
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    return session


def take_seat(
    *,
    client: User,
    session: Session,
    booked_by: User | None = None,
    notes: str = "",
    reminders: bool = True,
    now: dt.datetime | None = None,
) -> Booking:
    """Take one seat in a published group session or workshop (firm: no approval)."""
    actor = booked_by or client
    now = _now(now)
    session_type = session.session_type
    if not session_type.is_group:
        raise DomainError("Book a one-on-one session by choosing a time.", code="invalid")
    _check_group_sessions_enabled(session_type)
    _check_may_book(actor=actor, client=client, coach=session.coach)
    try:
        with transaction.atomic():
            _lock_users(client)
            locked = Session.objects.select_for_update().get(pk=session.pk)
            if locked.status != SessionStatus.SCHEDULED:
                raise BookingRefused("This session is no longer taking bookings.", code="full")
            if locked.start <= now:
                raise BookingRefused("This session has already started.", code="too_soon")
            if Booking.objects.filter(session=locked, client=client, status__in=ACTIVE_STATUSES).exists():
                raise BookingRefused("You already have a place in this session.", code="client_conflict")
            _check_client_free(client, start=locked.start, end=locked.end)
            if locked.seats_taken >= locked.capacity:
                raise BookingRefused("This session is full.", code="full")
            Session.objects.filter(pk=locked.pk).update(seats_taken=F("seats_taken") + 1)
            booking = Booking.objects.create(
                session=locked,
                client=client,
                booked_by=actor,
                reference=_new_reference_placeholder(),
                status=BookingStatus.FIRM_BOOKED,
                client_notes=notes.strip(),
                confirmed_at=now,
                price=session_type.price,
                currency=session_type.currency,
                reminders_enabled=reminders,
            )
            _assign_reference(booking)
            _record(booking, actor=actor, action="seat_taken", from_status="")
            _close_plan(client, session_type, booking, now)
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    session.refresh_from_db()
    return booking


def cancel_session(*, session: Session, actor: User, reason: str, now: dt.datetime | None = None) -> Session:
    """The coach or staff call a session off: every active booking in it is cancelled."""
    now = _now(now)
    _require_manager(actor, session)
    reason = reason.strip()
    if not reason:
        raise DomainError("Give the attendees a reason.", code="reason_required")
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.status in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            raise DomainError("This session is already over or cancelled.", code="invalid_transition", status=409)
        for booking in Booking.objects.select_for_update().filter(session=locked, status__in=ACTIVE_STATUSES):
            _set_cancelled(booking, actor=actor, reason=reason, now=now, late=False)
        locked.status = SessionStatus.CANCELLED
        locked.seats_taken = 0
        locked.save(update_fields=["status", "seats_taken", "updated_at"])
        _release(locked)
        transaction.on_commit(lambda: live.bump(locked.coach_id, live.STAFF_SCOPE))
    return locked


# ---------------------------------------------------------------------------------------
# Answering requests
# ---------------------------------------------------------------------------------------


def _lock_booking(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update()
        .select_related("session", "session__coach", "session__session_type")
        .get(pk=booking.pk)
    )


def _require_status(booking: Booking, *statuses: str, message: str) -> None:
    if booking.status not in statuses:
        raise DomainError(message, code="invalid_transition", status=409)


def approve(*, booking: Booking, actor: User, note: str = "", now: dt.datetime | None = None) -> Booking:
    """The coach accepts a request: its tentative hold becomes a firm allocation."""
    now = _now(now)
    _require_manager(actor, booking)
    coach = booking.session.coach
    try:
        with transaction.atomic():
            _lock_users(coach)
            booking = _lock_booking(booking)
            _require_status(booking, BookingStatus.REQUESTED, message="This request has already been answered.")
            session = booking.session
            if session.start <= now:
                raise DomainError(
                    "This session's time has passed; the request can only be declined.",
                    code="invalid_transition",
                    status=409,
                )
            holds = list(Allocation.objects.filter(session=session, is_active=True))
            own = [hold.pk for hold in holds]
            staff_hold = next((hold for hold in holds if hold.staff_id), None)
            if staff_hold is None:
                raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")
            _check_coach_free(
                coach,
                blocked_start=staff_hold.blocked_start,
                blocked_end=staff_hold.blocked_end,
                exclude=own,
                firm_only=True,
            )
            Allocation.objects.filter(pk__in=own).update(kind=AllocationKind.SESSION)
            booking.status = BookingStatus.CONFIRMED
            booking.confirmed_at = now
            booking.expires_at = None
            booking.suggested_alternatives = []
            booking.save()
            _record(booking, actor=actor, action="approved", from_status=BookingStatus.REQUESTED, note=note.strip())
    except IntegrityError as exc:
        raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken") from exc
    return booking


def _end_request(
    booking: Booking, *, actor: User | None, status: str, action: str, reason: str, now: dt.datetime
) -> None:
    from_status = booking.status
    booking.status = status
    booking.expires_at = None
    if status == BookingStatus.DECLINED:
        booking.decline_reason = reason
    else:
        booking.cancelled_at = now
        booking.cancelled_by = actor
        booking.cancellation_reason = reason
    booking.save()
    _free_seat(booking)
    _record(booking, actor=actor, action=action, from_status=from_status, note=reason)


def _free_seat(booking: Booking) -> None:
    session = booking.session
    if session.session_type.is_group:
        Session.objects.filter(pk=session.pk, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    else:
        Session.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED, seats_taken=0)
        _release(session)


def decline(*, booking: Booking, actor: User, reason: str, now: dt.datetime | None = None) -> Booking:
    """The coach turns a request down, saying why; the slot is free again."""
    now = _now(now)
    _require_manager(actor, booking)
    reason = reason.strip()
    if not reason:
        raise DomainError("Tell the client why you are declining.", code="reason_required")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message="This request has already been answered.")
        _end_request(booking, actor=actor, status=BookingStatus.DECLINED, action="declined", reason=reason, now=now)
    return booking


def suggest_alternatives(
    *,
    booking: Booking,
    actor: User,
    alternatives: Sequence[dt.datetime],
    note: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """The coach offers other times; the request stays open (holding its slot) until the
    client accepts one of them or declines."""
    now = _now(now)
    _require_manager(actor, booking)
    times = sorted({_aware(value, "suggested") for value in alternatives})
    if not times:
        raise DomainError("Suggest at least one time.", code="invalid")
    if len(times) > MAX_ALTERNATIVES:
        raise DomainError(f"Suggest at most {MAX_ALTERNATIVES} times.", code="invalid")
    if times[0] <= now:
        raise DomainError("Suggested times must be in the future.", code="invalid")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message="This request has already been answered.")
        rules = rules_for(booking.session.coach.coach_profile, booking.session.session_type)
        own = list(Allocation.objects.filter(session=booking.session).values_list("pk", flat=True))
        for value in times:
            try:
                _check_coach_free(
                    booking.session.coach,
                    blocked_start=value - rules.buffer_before,
                    blocked_end=value + rules.duration + rules.buffer_after,
                    exclude=own,
                )
            except BookingRefused:
                local = value.astimezone(ZoneInfo(actor.timezone))
                raise BookingRefused(
                    f"You already have something at {local:%a %d %b, %H:%M}.", code="slot_taken"
                ) from None
        booking.suggested_alternatives = [value.isoformat() for value in times]
        booking.coach_notes = note.strip() or booking.coach_notes
        booking.expires_at = max(booking.expires_at or now, min(now + REQUEST_EXPIRY, times[0]))
        booking.save()
        _record(
            booking,
            actor=actor,
            action="alternatives_suggested",
            from_status=BookingStatus.REQUESTED,
            note=note.strip(),
            alternatives=booking.suggested_alternatives,
        )
    return booking


def accept_alternative(*, booking: Booking, actor: User, start: dt.datetime, now: dt.datetime | None = None) -> Booking:
    """The client takes one of the suggested times: the booking moves there, confirmed
    (the coach offered it), in one step."""
    now = _now(now)
    _require_client_side(actor, booking)
    start = _aware(start)
    if booking.status != BookingStatus.REQUESTED:
        raise DomainError("This request has already been answered.", code="invalid_transition", status=409)
    offered = {dt.datetime.fromisoformat(value) for value in booking.suggested_alternatives}
    if start not in offered:
        raise DomainError("That time was not one of the suggested times.", code="invalid")
    if start <= now:
        raise BookingRefused("This time has already passed. Select another.", code="too_soon")
    return _move(
        booking, actor=actor, start=start, status=BookingStatus.CONFIRMED, action="alternative_accepted", now=now
    )


def decline_alternatives(*, booking: Booking, actor: User, note: str = "", now: dt.datetime | None = None) -> Booking:
    """The client turns the suggested times down; the request is withdrawn."""
    now = _now(now)
    _require_client_side(actor, booking)
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message="This request has already been answered.")
        reason = note.strip() or "The client declined the suggested times."
        _end_request(
            booking, actor=actor, status=BookingStatus.CANCELLED, action="alternatives_declined", reason=reason, now=now
        )
    return booking


def request_information(*, booking: Booking, actor: User, question: str, now: dt.datetime | None = None) -> Booking:
    now = _now(now)
    _require_manager(actor, booking)
    question = question.strip()
    if not question:
        raise DomainError("Write your question to the client.", code="invalid")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message="This request has already been answered.")
        booking.info_request = question
        booking.info_response = ""
        booking.expires_at = _request_deadline(booking.session.start, now)
        booking.save()
        _record(
            booking, actor=actor, action="information_requested", from_status=BookingStatus.REQUESTED, note=question
        )
    return booking


def answer_information(*, booking: Booking, actor: User, answer: str, now: dt.datetime | None = None) -> Booking:
    now = _now(now)
    _require_client_side(actor, booking)
    answer = answer.strip()
    if not answer:
        raise DomainError("Write your answer.", code="invalid")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message="This request has already been answered.")
        if not booking.info_request:
            raise DomainError("The coach hasn't asked anything.", code="invalid_transition", status=409)
        booking.info_response = answer
        booking.expires_at = _request_deadline(booking.session.start, now)
        booking.save()
        _record(booking, actor=actor, action="information_given", from_status=BookingStatus.REQUESTED, note=answer)
    return booking


def expire_requests(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Decline the requests nobody answered in time. Safe with several workers: each
    request is claimed under a row lock that other workers skip."""
    now = _now(now)
    done = 0
    for _ in range(limit):
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update(skip_locked=True)
                .select_related("session", "session__session_type")
                .filter(status=BookingStatus.REQUESTED, expires_at__lte=now)
                .order_by("expires_at")
                .first()
            )
            if booking is None:
                break
            _end_request(
                booking,
                actor=None,
                status=BookingStatus.DECLINED,
                action="expired",
                reason="The request was not answered in time.",
                now=now,
            )
            done += 1
    return done


# ---------------------------------------------------------------------------------------
# Cancel and reschedule
# ---------------------------------------------------------------------------------------


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


def _late_policy(booking: Booking, rules: BookingRules, *, now: dt.datetime, verb: str) -> bool:
    """For a client's change: whether it is late, or a refusal when late isn't allowed."""
    if booking.status == BookingStatus.REQUESTED:
        return False
    if booking.session.start - now >= rules.cancellation_notice:
        return False
    if rules.allow_late_cancellation:
        return True
    raise BookingRefused(
        f"Sessions can be {verb} up to {_hours(rules.cancellation_notice)} before they start. "
        f"Contact {booking.session.coach.display_name} to change this one.",
        code="policy_violation",
    )


def cancel(*, booking: Booking, actor: User, reason: str = "", now: dt.datetime | None = None) -> Booking:
    """Clients cancel within the cancellation notice (or late, marked so, when the type
    allows it); the coach and staff cancel any time, with a reason."""
    now = _now(now)
    manager = is_manager(actor, booking.session.coach)
    if not manager:
        _require_client_side(actor, booking)
    reason = reason.strip()
    if manager and actor.pk != booking.client_id and not reason:
        raise DomainError("Tell the client why the session is cancelled.", code="reason_required")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, *ACTIVE_STATUSES, message="This booking is no longer active.")
        if booking.session.start <= now:
            raise DomainError("This session has already started.", code="invalid_transition", status=409)
        late = False
        if not manager:
            rules = rules_for(booking.session.coach.coach_profile, booking.session.session_type)
            late = _late_policy(booking, rules, now=now, verb="cancelled")
        _set_cancelled(booking, actor=actor, reason=reason, now=now, late=late)
        _free_seat(booking)
    return booking


def reschedule(*, booking: Booking, actor: User, start: dt.datetime, now: dt.datetime | None = None) -> Booking:
    """Move a one-on-one booking to ``start`` in one step: the new time is taken before the
    old one is released, so a refusal leaves the booking where it was."""
    now = _now(now)
    start = _aware(start)
    session = booking.session
    session_type = session.session_type
    manager = is_manager(actor, session.coach)
    if not manager:
        _require_client_side(actor, booking)
    if session_type.is_group:
        raise DomainError(
            "A seat in a group session can't be moved; cancel it and take a seat in another session.",
            code="invalid_transition",
            status=409,
        )
    _require_status(booking, *ACTIVE_STATUSES, message="This booking is no longer active.")
    if start == session.start:
        raise DomainError("That is the booking's current time.", code="invalid")
    coach = session.coach
    rules = rules_for(coach.coach_profile, session_type)
    if manager:
        if start <= now:
            raise BookingRefused("This time has already passed. Select another.", code="too_soon")
        # A booked session stays as it was booked; a request the coach moves is accepted.
        status = BookingStatus.CONFIRMED if booking.status == BookingStatus.REQUESTED else booking.status
    else:
        _late_policy(booking, rules, now=now, verb="moved")
        _check_timing(rules, coach=coach, start=start, now=now)
        _check_in_availability(coach, session_type, rules, start)
        connected = is_connected(booking.client, coach)
        status = (
            BookingStatus.FIRM_BOOKED
            if rules.is_firm(start=start, now=now, connected=connected)
            else BookingStatus.REQUESTED
        )
    return _move(booking, actor=actor, start=start, status=status, action="rescheduled", now=now)


def _move(booking: Booking, *, actor: User, start: dt.datetime, status: str, action: str, now: dt.datetime) -> Booking:
    old_session = booking.session
    session_type = old_session.session_type
    coach = old_session.coach
    rules = rules_for(coach.coach_profile, session_type)
    end = start + rules.duration
    try:
        with transaction.atomic():
            _lock_users(coach, booking.client)
            booking = _lock_booking(booking)
            _require_status(booking, *ACTIVE_STATUSES, message="This booking is no longer active.")
            old_session = booking.session
            own = list(Allocation.objects.filter(session=old_session, is_active=True).values_list("pk", flat=True))
            load = _check_coach_time(
                coach,
                rules,
                start=start,
                blocked_start=start - rules.buffer_before,
                blocked_end=end + rules.buffer_after,
                exclude=own,
            )
            _check_client_free(booking.client, start=start, end=end, exclude_booking=booking.pk)
            resource = (
                _free_resource(session_type.resource_kind, start=start, end=end, exclude=own)
                if session_type.resource_kind
                else None
            )
            new_session = Session.objects.create(
                session_type=session_type,
                coach=coach,
                start=start,
                end=end,
                capacity=1,
                seats_taken=1,
                resource=resource,
                meeting_link=old_session.meeting_link,
                location=session_type.location or (resource.location if resource else old_session.location),
            )
            kind = AllocationKind.REQUEST if status == BookingStatus.REQUESTED else AllocationKind.SESSION
            # The new time was checked free (under the locks) above; the old allocation is
            # let go in the same transaction just before the new one is written, so a new
            # time overlapping the old one doesn't trip PostgreSQL's exclusion constraint.
            # Nobody sees the booking without a time: a refusal rolls both back.
            _release(old_session)
            _allocate(new_session, rules=rules, kind=kind, resource=resource)
            Session.objects.filter(pk=old_session.pk).update(status=SessionStatus.CANCELLED, seats_taken=0)
            from_status = booking.status
            booking.session = new_session
            booking.rescheduled_from = old_session
            booking.status = status
            booking.suggested_alternatives = []
            booking.expires_at = _request_deadline(start, now) if status == BookingStatus.REQUESTED else None
            if status in BOOKED_STATUSES:
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


# ---------------------------------------------------------------------------------------
# Running and ending sessions
# ---------------------------------------------------------------------------------------


def mark_started(*, session: Session, actor: User, now: dt.datetime | None = None) -> Session:
    now = _now(now)
    _require_manager(actor, session)
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.status != SessionStatus.SCHEDULED:
            raise DomainError("Only a scheduled session can start.", code="invalid_transition", status=409)
        if now < locked.start - dt.timedelta(minutes=30):
            raise DomainError(
                "A session can be started from 30 minutes before its time.", code="invalid_transition", status=409
            )
        locked.status = SessionStatus.IN_PROGRESS
        locked.save(update_fields=["status", "updated_at"])
    return locked


def _finish_session(session: Session, *, actor: User | None, now: dt.datetime, action: str) -> None:
    for booking in (
        Booking.objects.select_for_update()
        .select_related("session__session_type")
        .filter(session=session, status__in=ACTIVE_STATUSES)
    ):
        if booking.status == BookingStatus.REQUESTED:
            _end_request(
                booking,
                actor=actor,
                status=BookingStatus.DECLINED,
                action="expired",
                reason="The session time passed without an answer.",
                now=now,
            )
            continue
        from_status = booking.status
        booking.status = BookingStatus.COMPLETED
        booking.save()
        _record(booking, actor=actor, action=action, from_status=from_status)
    if session.status != SessionStatus.CANCELLED:
        Session.objects.filter(pk=session.pk).update(status=SessionStatus.COMPLETED)


def mark_completed(*, session: Session, actor: User, now: dt.datetime | None = None) -> Session:
    """The coach closes a session: its attendees' bookings are completed (no-shows stay)."""
    now = _now(now)
    _require_manager(actor, session)
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.status not in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS):
            raise DomainError("This session is already over or cancelled.", code="invalid_transition", status=409)
        if now < locked.start:
            raise DomainError("A session can't be completed before it starts.", code="invalid_transition", status=409)
        _finish_session(locked, actor=actor, now=now, action="completed")
    locked.refresh_from_db()
    return locked


def mark_no_show(*, booking: Booking, actor: User, now: dt.datetime | None = None) -> Booking:
    now = _now(now)
    _require_manager(actor, booking)
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, *BOOKED_STATUSES, message="Only a booked session can be marked as a no-show.")
        if now < booking.session.start:
            raise DomainError("The session hasn't started yet.", code="invalid_transition", status=409)
        from_status = booking.status
        booking.status = BookingStatus.NO_SHOW
        booking.save()
        _record(booking, actor=actor, action="no_show", from_status=from_status)
    return booking


def complete_past_sessions(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Sessions past their end are completed, and their attendees' bookings with them.
    Safe with several workers (each session is claimed under a skipped row lock)."""
    now = _now(now)
    done = 0
    for _ in range(limit):
        with transaction.atomic():
            session = (
                Session.objects.select_for_update(skip_locked=True)
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
    _require_client_side(actor, booking)
    if booking.status != BookingStatus.COMPLETED:
        raise DomainError("You can rate a session once it has taken place.", code="invalid_transition", status=409)
    if not 1 <= rating <= 5:
        raise DomainError("Give a rating from 1 to 5.", code="invalid")
    Booking.objects.filter(pk=booking.pk).update(rating=rating, feedback=feedback.strip())
    booking.refresh_from_db()
    return booking
