"""The rules a booking is checked against, read under the caller's locks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q

from accounts.access import can_book_for
from accounts.models import CalendarVisibility, Connection, ConnectionStatus, Role, User
from availability import slots as engine
from availability.models import Allocation, AllocationKind
from availability.rules import BookingRules, CoachLoad
from availability.selectors import LONGEST_ALLOCATION, availability_inputs
from bookings.models import ACTIVE_STATUSES, Booking, PlannedSession, SessionType
from bookings.services.common import MSG_CLIENT_CONFLICT, MSG_SLOT_TAKEN, BookingRefused, _hours
from config.errors import DomainError, NotAllowed


def _check_group_sessions_enabled(session_type: SessionType) -> None:
    if session_type.is_group and not settings.ENABLE_GROUP_SESSIONS:
        raise BookingRefused("Group sessions and workshops are turned off.", code="policy_violation")


@dataclass(frozen=True)
class Standing:
    """The client's standing with the coach, read before a booking's transaction."""

    connected: bool
    planning: bool  # an open "schedule later" plan for the session type


def _standing(client: User, coach: User, session_type: SessionType | None) -> Standing:
    """One query: whether ``client`` is connected to ``coach`` and (given a type) has an
    open "schedule later" plan for it, which the booking then closes. A plan recorded at
    the very moment of the booking stays open, for the client to drop."""
    annotations = {
        "connected": Exists(
            Connection.objects.filter(client=OuterRef("pk"), coach=coach, status=ConnectionStatus.ACCEPTED)
        )
    }
    if session_type is not None:
        annotations["planning"] = Exists(
            PlannedSession.objects.filter(client=OuterRef("pk"), session_type=session_type, closed_at__isnull=True)
        )
    row = User.objects.filter(pk=client.pk).annotate(**annotations).values(*annotations).get()
    return Standing(connected=row["connected"], planning=row.get("planning", False))


def _check_may_book(*, actor: User, client: User, coach: User, session_type: SessionType | None = None) -> Standing:
    """Who may book whom; returns the client's standing with the coach (``session_type``:
    also whether they have an open plan for it)."""
    if not can_book_for(actor, client, coach=coach):
        raise NotAllowed(
            "You can book only for yourself, someone you are the guardian of, or (as their coach) a connected client."
        )
    if client.pk == coach.pk:
        raise DomainError("You can't book a session with yourself.", code="invalid")
    if not coach.is_active or coach.role != Role.COACH:
        raise BookingRefused("This coach is not taking bookings.", code="not_connected")
    standing = _standing(client, coach, session_type)
    visibility = coach.coach_profile.calendar_visibility
    if actor.is_staff_member or actor.pk == coach.pk:  # staff, or the coach booking their own client
        return standing
    if visibility == CalendarVisibility.PRIVATE or (
        visibility == CalendarVisibility.CONNECTED and not standing.connected
    ):
        raise BookingRefused(
            f"{coach.display_name} takes bookings from connected clients only. Ask to connect first.",
            code="not_connected",
        )
    return standing


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
    """One query, counted by the database, over the coach's active allocations around
    ``start`` (its local ISO week and anything near the blocked range): no overlap with the
    blocked range (``slot_taken``), and room under the day and week limits in the coach's
    zone (``limit_reached``). Returns the day's and week's load without the new session."""
    zone = ZoneInfo(coach.timezone)
    day = start.astimezone(zone).date()
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    monday = day - dt.timedelta(days=day.weekday())
    week_start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    week_end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    counted = Q(counts_toward_limits=True, start__gte=week_start, start__lt=week_end)
    load = (
        Allocation.objects.filter(staff=coach, is_active=True)
        .filter(Q(blocked_start__gte=blocked_start - LONGEST_ALLOCATION, blocked_start__lt=blocked_end) | counted)
        .exclude(pk__in=list(exclude))
        .aggregate(
            clashes=Count("pk", filter=Q(blocked_start__lt=blocked_end, blocked_end__gt=blocked_start)),
            in_week=Count("pk", filter=counted),
            in_day=Count("pk", filter=counted & Q(start__gte=day_start, start__lt=day_end)),
        )
    )
    if load["clashes"]:
        raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")
    in_week, in_day = load["in_week"], load["in_day"]
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
