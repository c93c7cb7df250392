"""The rules a booking is checked against, read under the caller's locks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext, ngettext

from accounts.access import can_book_for
from accounts.models import CalendarVisibility, ClientTagging, Connection, ConnectionStatus, Role, User
from availability import slots as engine
from availability.models import Allocation, AllocationKind
from availability.rules import BookingRules, CoachLoad
from availability.selectors import LONGEST_ALLOCATION, availability_inputs
from bookings.models import ACTIVE_STATUSES, Booking, PlannedSession, Session, SessionType
from bookings.services.common import MSG_CLIENT_CONFLICT, MSG_SLOT_TAKEN, BookingRefused, _hours
from config import sql
from config.errors import DomainError, NotAllowed


def _check_group_sessions_enabled(session_type: SessionType) -> None:
    if session_type.is_group and not settings.ENABLE_GROUP_SESSIONS:
        raise BookingRefused(gettext("Group sessions and workshops are turned off."), code="policy_violation")


@dataclass(frozen=True)
class Standing:
    """The client's standing with the coach, read before a booking's transaction."""

    connected: bool
    planning: bool  # an open "schedule later" plan for the session type
    tagged: bool = False  # the client wears a tag (then the tags' rules are read)


def _standing(client: User, coach: User, session_type: SessionType | None) -> Standing:
    """One read: whether ``client`` is connected to ``coach`` and (given a type) has an
    open "schedule later" plan for it, which the booking then closes. A plan recorded at
    the very moment of the booking stays open, for the client to drop."""
    link = {name: sql.column(Connection, name) for name in ("client", "coach", "status")}
    plan = {name: sql.column(PlannedSession, name) for name in ("client", "session_type", "closed_at")}
    connected, planning, tagged = sql.one(
        f"SELECT EXISTS (SELECT 1 FROM {sql.table(Connection)} WHERE {link['client']} = %s "  # noqa: S608 (names from the models; values are parameters)
        f"AND {link['coach']} = %s AND {link['status']} = %s), "
        f"EXISTS (SELECT 1 FROM {sql.table(PlannedSession)} WHERE {plan['client']} = %s "
        f"AND {plan['session_type']} = %s AND {plan['closed_at']} IS NULL), "
        f"EXISTS (SELECT 1 FROM {sql.table(ClientTagging)} WHERE {sql.column(ClientTagging, 'client')} = %s)",
        [
            client.pk,
            coach.pk,
            ConnectionStatus.ACCEPTED,
            client.pk,
            session_type.pk if session_type else None,
            client.pk,
        ],
    )
    return Standing(connected=bool(connected), planning=bool(planning), tagged=bool(tagged))


def _check_may_book(*, actor: User, client: User, coach: User, session_type: SessionType | None = None) -> Standing:
    """Who may book whom; returns the client's standing with the coach (``session_type``:
    also whether they have an open plan for it)."""
    if not can_book_for(actor, client, coach=coach):
        raise NotAllowed(
            gettext(
                "You can book only for yourself, someone you are the guardian of, "
                "or (as their coach) a connected client."
            )
        )
    if client.pk == coach.pk:
        raise DomainError(gettext("You can't book a session with yourself."), code="invalid")
    if not coach.is_active or coach.role != Role.COACH:
        raise BookingRefused(gettext("This coach is not taking bookings."), code="not_connected")
    standing = _standing(client, coach, session_type)
    visibility = coach.coach_profile.calendar_visibility
    if actor.is_staff_member or actor.pk == coach.pk:  # staff, or the coach booking their own client
        return standing
    if visibility == CalendarVisibility.PRIVATE or (
        visibility == CalendarVisibility.CONNECTED and not standing.connected
    ):
        raise BookingRefused(
            gettext("%(coach)s takes bookings from connected clients only. Ask to connect first.")
            % {"coach": coach.display_name},
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
    client: User | None = None,
    end: dt.datetime | None = None,
    exclude_booking: int | None = None,
) -> CoachLoad:
    """One read, counted by the database, over the coach's active allocations around
    ``start`` (its local ISO week and anything near the blocked range): no overlap with the
    blocked range (``slot_taken``), and room under the day and week limits in the coach's
    zone (``limit_reached``). Given ``client`` (and the session's ``end``), the same read
    also asks whether the client has another session then (``client_conflict``, as
    ``_check_client_free``). Returns the day's and week's load without the new session.

    Written by hand (``config.sql``): it runs on every booking, under its locks, and the
    ORM took longer to build it than the database to answer."""
    zone = ZoneInfo(coach.timezone)
    day = start.astimezone(zone).date()
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    monday = day - dt.timedelta(days=day.weekday())
    week_start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    week_end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    a = {
        name: "a." + sql.column(Allocation, name)
        for name in ("id", "staff", "is_active", "start", "blocked_start", "blocked_end", "counts_toward_limits")
    }
    counted = f"{a['counts_toward_limits']} AND {a['start']} >= %s AND {a['start']} < %s"
    query = (
        f"SELECT COALESCE(SUM(CASE WHEN {a['blocked_start']} < %s AND {a['blocked_end']} > %s THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN {counted} THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN {counted} AND {a['start']} >= %s AND {a['start']} < %s THEN 1 ELSE 0 END), 0)"
    )
    params: list = [blocked_end, blocked_start, week_start, week_end, week_start, week_end, day_start, day_end]
    if client is not None:
        clash, clash_params = _client_clash(client, start=start, end=end, exclude_booking=exclude_booking)
        query += f", {clash}"
        params += clash_params
    query += (
        f" FROM {sql.table(Allocation)} a WHERE {a['is_active']} AND {a['staff']} = %s "
        f"AND (({a['blocked_start']} >= %s AND {a['blocked_start']} < %s) OR ({counted}))"
    )
    params += [coach.pk, blocked_start - LONGEST_ALLOCATION, blocked_end, week_start, week_end]
    excluded = list(exclude)
    if excluded:
        query += f" AND {a['id']} NOT IN ({sql.placeholders(len(excluded))})"
        params += excluded
    clashes, in_week, in_day, *client_busy = sql.one(query, params)
    if clashes:
        raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")
    if rules.max_per_week is not None and in_week >= rules.max_per_week:
        raise BookingRefused(
            gettext("%(coach)s is fully booked that week.") % {"coach": coach.display_name}, code="limit_reached"
        )
    if rules.max_per_day is not None and in_day >= rules.max_per_day:
        raise BookingRefused(
            gettext("%(coach)s is fully booked that day.") % {"coach": coach.display_name}, code="limit_reached"
        )
    if client_busy and client_busy[0]:
        raise BookingRefused(MSG_CLIENT_CONFLICT, code="client_conflict")
    return CoachLoad(day, monday, in_day, in_week)


def _client_clash(
    client: User, *, start: dt.datetime, end: dt.datetime, exclude_booking: int | None = None
) -> tuple[str, list]:
    """An ``EXISTS (…)`` expression, and its parameters: the client holds an active booking
    of a session overlapping [start, end)."""
    b = {name: "b." + sql.column(Booking, name) for name in ("id", "session", "client", "status")}
    s = {name: "s." + sql.column(Session, name) for name in ("id", "start", "end")}
    expression = (
        f"EXISTS (SELECT 1 FROM {sql.table(Booking)} b JOIN {sql.table(Session)} s ON {b['session']} = {s['id']} "  # noqa: S608 (names from the models; values are parameters)
        f"WHERE {b['client']} = %s AND {b['status']} IN ({sql.placeholders(len(ACTIVE_STATUSES))}) "
        f"AND {s['start']} < %s AND {s['end']} > %s AND {s['start']} >= %s"
    )
    params = [client.pk, *ACTIVE_STATUSES, end, start, start - LONGEST_ALLOCATION]
    if exclude_booking is not None:
        expression += f" AND {b['id']} <> %s"
        params.append(exclude_booking)
    return expression + ")", params


def _check_client_free(
    client: User, *, start: dt.datetime, end: dt.datetime, exclude_booking: int | None = None
) -> None:
    clash, params = _client_clash(client, start=start, end=end, exclude_booking=exclude_booking)
    if sql.one(f"SELECT {clash}", params)[0]:
        raise BookingRefused(MSG_CLIENT_CONFLICT, code="client_conflict")


def _check_timing(rules: BookingRules, *, coach: User, start: dt.datetime, now: dt.datetime) -> None:
    if start < now + rules.minimum_notice:
        if start <= now:
            raise BookingRefused(gettext("This time has already passed. Select another."), code="too_soon")
        raise BookingRefused(
            gettext("%(coach)s needs at least %(notice)s' notice. Select a later time.")
            % {"coach": coach.display_name, "notice": _hours(rules.minimum_notice)},
            code="too_soon",
        )
    if start + rules.duration > now + rules.booking_window:
        days = rules.booking_window.days
        raise BookingRefused(
            ngettext(
                "Bookings open %(count)d day ahead. Select an earlier time.",
                "Bookings open %(count)d days ahead. Select an earlier time.",
                days,
            )
            % {"count": days},
            code="beyond_window",
        )


def _availability_at(
    coach: User, session_type: SessionType, rules: BookingRules, start: dt.datetime
) -> tuple[bool, bool]:
    """Whether the coach's windows offer ``start`` for this type (on the step grid), and
    whether the window it lies in allows firm booking: one read of the coach's windows."""
    zone = ZoneInfo(coach.timezone)
    local_day = start.astimezone(zone).date()
    windows, overrides, time_off = availability_inputs(
        coach, first_day=local_day - dt.timedelta(days=1), last_day=local_day + dt.timedelta(days=1)
    )
    return _offered_at(
        windows=windows,
        overrides=overrides,
        time_off=time_off,
        zone=zone,
        rules=rules,
        session_type_id=session_type.pk,
        start=start,
    )


def _offered_at(*, windows, overrides, time_off, zone: ZoneInfo, rules: BookingRules, session_type_id, start):
    """Given the coach's windows, overrides and time off (``availability_inputs``), whether
    they offer ``start`` for the type (on the step grid, busy time aside), and whether the
    window it lies in allows firm booking. Pure: no read."""
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
        session_type_id=session_type_id,
    )
    if not any(slot.start == start for slot in found):
        return False, False
    firm = engine.window_allows_firm(
        windows=windows,
        overrides=overrides,
        zone=zone,
        start=start,
        duration=rules.duration,
        step=rules.step,
        session_type_id=session_type_id,
    )
    return True, firm


def _check_in_availability(coach: User, session_type: SessionType, rules: BookingRules, start: dt.datetime) -> bool:
    """``start`` is a start the coach's windows offer for this type (on the step grid);
    returns whether its window allows firm booking."""
    offered, firm = _availability_at(coach, session_type, rules, start)
    if not offered:
        raise BookingRefused(
            gettext("%(coach)s doesn't offer %(title)s at this time. Select a listed time.")
            % {"coach": coach.display_name, "title": session_type.title},
            code="outside_availability",
        )
    return firm
