"""Reads about availability that pages and the API share.

``free_slots`` loads everything it needs with a fixed number of queries whatever the range,
and only the allocations near the range (through the active (staff, blocked_start) index),
then hands plain values to the pure slot engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

import recurrence
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import ClientTag, ClientTagging, CoachProfile, Role, User
from availability import slots as engine
from availability.models import (
    Allocation,
    AllocationKind,
    AvailabilityWindow,
    DateOverride,
    OverrideWindow,
    Resource,
    ResourceClosure,
    ResourceHours,
    TagRule,
    TimeOff,
)
from availability.rules import BookingRules, SessionTypeRules, TagRuleView
from availability.rules import rules_for as booking_rules_for
from config import sql

MAX_RANGE_DAYS = 93
# No allocation is longer than this; it bounds the index scan from below.
LONGEST_ALLOCATION = dt.timedelta(days=2)


class SlotSessionType(SessionTypeRules, Protocol):
    """A session type as the slot reads see it (``bookings.SessionType``): its rules, id,
    coach, hosts (``host_mode``: single, all, any; and its co-hosts), required subject and
    the resource it needs (``resource_kind``, and the rooms it allows)."""

    pk: int
    coach_id: int
    coach: User
    host_mode: str
    resource_kind: str
    required_subject_id: int | None


# ---------------------------------------------------------------------------------------
# Client tags, hosts, rooms
# ---------------------------------------------------------------------------------------


def tag_rules_for(client: User | None, coach: User) -> list[TagRuleView]:
    """The rules of the tags ``client`` wears that apply with ``coach`` (the coach's own tags
    and the practice-wide ones), for every session type; one query (none for a visitor)."""
    if client is None or client.pk is None:
        return []
    rows = (
        TagRule.objects.filter(
            Q(tag__coach=coach) | Q(tag__coach__isnull=True),
            tag__in=ClientTagging.objects.filter(client=client).values("tag_id"),
        )
        .order_by()
        .values_list(
            "tag__name",
            "tag__priority",
            "session_type_id",
            "approval",
            "minimum_notice_hours",
            "booking_window_days",
            "max_per_day",
            "max_per_week",
            "price_adjustment_percent",
            "waitlist_priority",
        )
    )
    return [
        TagRuleView(
            tag=name,
            priority=priority,
            session_type_id=type_id,
            approval=approval,
            minimum_notice_hours=notice,
            booking_window_days=window,
            max_per_day=per_day,
            max_per_week=per_week,
            price_adjustment_percent=price,
            waitlist_priority=waitlist,
        )
        for name, priority, type_id, approval, notice, window, per_day, per_week, price, waitlist in rows
    ]


def client_tags(client: User, coach: User) -> list[ClientTag]:
    """The tags ``client`` wears that ``coach`` sees (theirs and the practice's)."""
    return list(ClientTag.objects.filter(Q(coach=coach) | Q(coach__isnull=True), taggings__client=client))


def hosts_for(session_type: SlotSessionType) -> list[User]:
    """Who hosts sessions of ``session_type``: the coach alone; with ``host_mode`` "all" the
    coach and every co-host (none at all, when one of them no longer coaches: the session
    can't take place); with "any", the team (the coach and the co-hosts) who still coach
    and declare the required subject, each a candidate. Profiles come with the users."""
    mode = session_type.host_mode
    if mode == "single" and session_type.required_subject_id is None:
        return [session_type.coach]
    # The coach and the co-hosts in one read (the co-hosts by their link to the type).
    wanted = Q(pk=session_type.coach_id)
    if mode != "single":
        wanted |= Q(co_hosted_types=session_type.pk)
    linked = list(User.objects.filter(wanted).select_related("coach_profile").distinct().order_by("pk"))
    ids = [session_type.coach_id] + [user.pk for user in linked if user.pk != session_type.coach_id]
    # Who still coaches: for "all", one who doesn't calls every session off.
    people = {user.pk: user for user in linked if user.is_active and user.role == Role.COACH}
    subject = session_type.required_subject_id
    if subject is not None:
        qualified = set(
            CoachProfile.subjects.through.objects.filter(
                subject_id=subject, coachprofile__user_id__in=list(people)
            ).values_list("coachprofile__user_id", flat=True)
        )
    else:
        qualified = set(people)
    if mode == "all":
        if any(pk not in people or pk not in qualified for pk in ids):
            return []
        return [people[pk] for pk in ids]
    return [people[pk] for pk in ids if pk in people and pk in qualified]


def allowed_resources(session_type: SlotSessionType, *, seats: int = 1) -> list[Resource]:
    """The active resources a session of ``session_type`` may use, smallest first (the rule
    that picks one: the smallest that holds ``seats``, then by name): the type's chosen
    rooms, or every active resource of its kind when it chose none."""
    if not session_type.resource_kind:
        return []
    chosen = Resource.session_types.through.objects.filter(sessiontype_id=session_type.pk).values("resource_id")
    rows = Resource.objects.filter(kind=session_type.resource_kind, is_active=True, capacity__gte=seats)
    rows = rows.filter(Q(pk__in=chosen) | ~Exists(chosen))
    return list(rows.order_by("capacity", "name", "pk"))


def resource_calendars(
    resources: Iterable[Resource], *, start: dt.datetime, end: dt.datetime, ignore_session_id: int | None = None
) -> list[engine.ResourceCalendar]:
    """The opening hours, closures and busy time of ``resources`` around [start, end), for
    the slot engine: three queries whatever the number of resources."""
    resources = list(resources)
    if not resources:
        return []
    ids = [resource.pk for resource in resources]
    hours: dict[int, list[engine.WeeklyWindow]] = {pk: [] for pk in ids}
    for resource_id, weekday, opens, closes in ResourceHours.objects.filter(resource_id__in=ids).values_list(
        "resource_id", "weekday", "start", "end"
    ):
        hours[resource_id].append(engine.WeeklyWindow(weekdays=frozenset({weekday}), start=opens, end=closes))
    zones = {resource.pk: ZoneInfo(resource.timezone) for resource in resources}
    closures: dict[int, list[engine.TimeOff]] = {pk: [] for pk in ids}
    for resource_id, first, last in ResourceClosure.objects.filter(
        resource_id__in=ids,
        end_date__gte=(start - dt.timedelta(days=1)).date(),
        start_date__lte=(end + dt.timedelta(days=1)).date(),
    ).values_list("resource_id", "start_date", "end_date"):
        zone = zones[resource_id]
        closures[resource_id].append(
            engine.TimeOff(start=local_midnight(first, zone), end=local_midnight(last + dt.timedelta(days=1), zone))
        )
    busy: dict[int, list[engine.BusyInterval]] = {pk: [] for pk in ids}
    rows = Allocation.objects.filter(
        resource_id__in=ids,
        is_active=True,
        blocked_start__gte=start - LONGEST_ALLOCATION,
        blocked_start__lt=end,
        blocked_end__gt=start,
    )
    if ignore_session_id is not None:
        rows = rows.exclude(session_id=ignore_session_id)
    for resource_id, s, e, bs, be in rows.values_list("resource_id", "start", "end", "blocked_start", "blocked_end"):
        busy[resource_id].append(engine.BusyInterval(start=s, end=e, blocked_start=bs, blocked_end=be))
    return [
        engine.ResourceCalendar(
            resource_id=resource.pk,
            zone=zones[resource.pk],
            capacity=resource.capacity,
            hours=tuple(hours[resource.pk]),
            closures=tuple(closures[resource.pk]),
            busy=tuple(busy[resource.pk]),
        )
        for resource in resources
    ]


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def rules_for(
    profile: CoachProfile, *, duration: dt.timedelta | None = None, session_type: SlotSessionType | None = None
) -> engine.SlotRules:
    """The slot rules for a session type (its overrides on top of the coach's settings),
    or for a bare duration with the coach's own settings."""
    return booking_rules_for(profile, session_type, duration=duration).slot_rules()


def _weekly_window(
    *,
    weekday: int | None,
    rule_text: str | None,
    start: dt.time,
    end: dt.time,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    type_ids: frozenset[int],
    allow_firm: bool = True,
) -> engine.WeeklyWindow:
    rule = None
    if rule_text:
        parsed = recurrence.deserialize(rule_text)
        if parsed.rrules:
            rule = "\n".join(line for line in recurrence.serialize(parsed).splitlines() if line.startswith("RRULE:"))
    return engine.WeeklyWindow(
        session_type_ids=type_ids or None,
        weekdays=frozenset() if weekday is None else frozenset({weekday}),
        start=start,
        end=end,
        valid_from=valid_from,
        valid_until=valid_until,
        rrule=rule or None,
        allow_firm=allow_firm,
    )


Inputs = tuple[list[engine.WeeklyWindow], list[engine.DateOverride], list[engine.TimeOff]]


def availability_inputs(coach: User, *, first_day: dt.date, last_day: dt.date) -> Inputs:
    """The coach's windows, overrides and time off touching local days first_day..last_day.

    One read written by hand (``config.sql``: every booking and every slot listing makes
    it, and building it with the ORM cost more than running it) brings the windows, the
    overrides and the time off together; a second only when a window is limited to some
    session types, a third only when a day has its own hours."""
    return availability_inputs_for([coach], first_day=first_day, last_day=last_day)[coach.pk]


def availability_inputs_for(coaches: Sequence[User], *, first_day: dt.date, last_day: dt.date) -> dict[int, Inputs]:
    """``availability_inputs`` of each of ``coaches`` (by id), in the same reads as one."""
    if not coaches:
        return {}
    ids = [coach.pk for coach in coaches]
    Window, Links = AvailabilityWindow, AvailabilityWindow.session_types.through
    window = {name: sql.column(Window, name) for name in ("id", "coach", "weekday", "recurrence", "start", "end")}
    window |= {name: sql.column(Window, name) for name in ("valid_from", "valid_until", "allow_firm_booking")}
    link_window, link_type = sql.column(Links, "availabilitywindow"), sql.column(Links, "sessiontype")
    override = {name: sql.column(DateOverride, name) for name in ("id", "coach", "date")}
    away = {name: sql.column(TimeOff, name) for name in ("id", "coach", "start_date", "end_date")}
    among = sql.placeholders(len(ids))
    # Kind 0: a window (its weekday, rule, hours, validity, whether limited to some types,
    # whether it allows firm booking); 1: an override (its day twice); 2: time off (its
    # first and last day). The coach's id last.
    rows = sql.rows(
        f"SELECT 0, w.{window['id']}, w.{window['weekday']}, w.{window['recurrence']}, w.{window['start']}, "  # noqa: S608 (names from the models; values are parameters)
        f"w.{window['end']}, w.{window['valid_from']}, w.{window['valid_until']}, "
        f"EXISTS (SELECT 1 FROM {sql.table(Links)} l WHERE l.{link_window} = w.{window['id']}), "
        f"w.{window['allow_firm_booking']}, w.{window['coach']} FROM {sql.table(Window)} w "
        f"WHERE w.{window['coach']} IN ({among}) "
        f"AND (w.{window['valid_until']} IS NULL OR w.{window['valid_until']} >= %s) "
        f"AND (w.{window['valid_from']} IS NULL OR w.{window['valid_from']} <= %s) "
        f"UNION ALL SELECT 1, {override['id']}, NULL, NULL, NULL, NULL, {override['date']}, {override['date']}, "
        f"FALSE, TRUE, {override['coach']} FROM {sql.table(DateOverride)} "
        f"WHERE {override['coach']} IN ({among}) AND {override['date']} BETWEEN %s AND %s "
        f"UNION ALL SELECT 2, {away['id']}, NULL, NULL, NULL, NULL, {away['start_date']}, {away['end_date']}, "
        f"FALSE, TRUE, {away['coach']} FROM {sql.table(TimeOff)} WHERE {away['coach']} IN ({among}) "
        f"AND {away['end_date']} >= %s AND {away['start_date']} <= %s",
        [*ids, first_day, last_day, *ids, first_day, last_day, *ids, first_day, last_day],
    )
    window_rows = sorted(
        (row[1:] for row in rows if row[0] == 0),
        # weekday (a rule's windows, without one, last), start, id
        key=lambda row: (row[1] is None, row[1] or 0, _as_time(row[3]), row[0]),
    )
    # Which windows are limited to some session types (ids only; no query when none is).
    limited: dict[int, set[int]] = {}
    limited_ids = [row[0] for row in window_rows if row[7]]
    if limited_ids:
        for window_id, type_id in sql.rows(
            f"SELECT {link_window}, {link_type} FROM {sql.table(Links)} "  # noqa: S608 (names from the models; values are parameters)
            f"WHERE {link_window} IN ({sql.placeholders(len(limited_ids))})",
            limited_ids,
        ):
            limited.setdefault(window_id, set()).add(type_id)
    found: dict[int, Inputs] = {pk: ([], [], []) for pk in ids}
    for pk, weekday, rule_text, start, end, valid_from, valid_until, _limited, allow_firm, coach_id in window_rows:
        found[coach_id][0].append(
            _weekly_window(
                weekday=weekday,
                rule_text=rule_text,
                start=_as_time(start),
                end=_as_time(end),
                valid_from=_as_date(valid_from),
                valid_until=_as_date(valid_until),
                type_ids=frozenset(limited.get(pk, ())),
                allow_firm=bool(allow_firm),
            )
        )
    # The overrides' own hours in a second read, only when there is an override.
    zones = {coach.pk: ZoneInfo(coach.timezone) for coach in coaches}
    days_off = [
        (kind, pk, _as_date(first), _as_date(last), coach_id)
        for kind, pk, _w, _r, _s, _e, first, last, _l, _f, coach_id in rows
        if kind != 0
    ]
    override_days: dict[int, tuple[int, dt.date]] = {}
    for kind, pk, first, last, coach_id in sorted(days_off, key=lambda row: (row[2], row[1])):
        if kind == 1:
            override_days[pk] = (coach_id, first)
        else:
            zone = zones[coach_id]
            found[coach_id][2].append(
                engine.TimeOff(start=local_midnight(first, zone), end=local_midnight(last + dt.timedelta(days=1), zone))
            )
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {pk: [] for pk in override_days}
    if override_days:
        for override_id, start, end in OverrideWindow.objects.filter(override_id__in=list(override_days)).values_list(
            "override_id", "start", "end"
        ):
            hours[override_id].append((start, end))
    for pk, (coach_id, day) in override_days.items():
        found[coach_id][1].append(engine.DateOverride(day=day, windows=tuple(sorted(hours[pk]))))
    return found


def _as_date(value: dt.date | str | None) -> dt.date | None:
    """A date column's value (a date; text from an expression SQLite doesn't type)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _as_time(value: dt.time | str) -> dt.time:
    return dt.time.fromisoformat(value) if isinstance(value, str) else value


def busy_intervals(
    coach: User, *, start: dt.datetime, end: dt.datetime, ignore_session_id: int | None = None
) -> list[engine.BusyInterval]:
    """Active allocations of ``coach`` whose blocked range touches [start, end), except
    those of ``ignore_session_id`` (a booking being moved doesn't block its own way)."""
    rows = Allocation.objects.filter(
        staff=coach,
        is_active=True,
        blocked_start__gte=start - LONGEST_ALLOCATION,
        blocked_start__lt=end,
        blocked_end__gt=start,
    )
    if ignore_session_id is not None:
        rows = rows.exclude(session_id=ignore_session_id)
    rows = rows.values_list("start", "end", "blocked_start", "blocked_end", "counts_toward_limits")
    return [
        engine.BusyInterval(start=s, end=e, blocked_start=bs, blocked_end=be, counts_toward_limits=counts)
        for s, e, bs, be, counts in rows
    ]


def free_slots(
    *,
    coach: User,
    start_date: dt.date,
    end_date: dt.date,
    viewer_tz: ZoneInfo,
    duration: dt.timedelta | None = None,
    session_type: SlotSessionType | None = None,
    now: dt.datetime | None = None,
    ignore_session_id: int | None = None,
    client: User | None = None,
    tag_rules: list[TagRuleView] | None = None,
) -> list[engine.Slot]:
    """Free slots starting on viewer-local days start_date..end_date (inclusive), for a
    session type (its duration and rules, and the windows open to it) or a bare duration,
    as ``client`` would be offered them (the rules of the client's tags apply).

    A type with several hosts offers a time when every host is free ("all") or at least one
    of the team is ("any"), each host with their own windows, time off, bookings, buffers
    and limits; a type that needs a room offers it only when one of its rooms is open and
    free for the whole session."""
    now = now or timezone.now()
    range_start = local_midnight(start_date, viewer_tz)
    range_end = local_midnight(end_date + dt.timedelta(days=1), viewer_tz)
    if tag_rules is None:
        tag_rules = tag_rules_for(client, coach) if session_type is not None else []
    hosts = [coach] if session_type is None else hosts_for(session_type)
    per_host = [
        _host_slots(
            host,
            range_start=range_start,
            range_end=range_end,
            rules=booking_rules_for(host.coach_profile, session_type, duration=duration, tag_rules=tag_rules),
            now=now,
            session_type_id=session_type.pk if session_type is not None else None,
            ignore_session_id=ignore_session_id,
        )
        for host in hosts
    ]
    if not per_host:
        return []
    if session_type is not None and session_type.host_mode == "any":
        slots = sorted(set().union(*per_host))
    else:
        slots = per_host[0]
        for other in per_host[1:]:
            keep = set(other)
            slots = [slot for slot in slots if slot in keep]
    if session_type is not None and session_type.resource_kind and slots:
        calendars = resource_calendars(
            allowed_resources(session_type),
            start=slots[0].start,
            end=slots[-1].end,
            ignore_session_id=ignore_session_id,
        )
        slots = engine.with_resources(slots, calendars)
    return slots


def _host_slots(
    host: User,
    *,
    range_start: dt.datetime,
    range_end: dt.datetime,
    rules: BookingRules,
    now: dt.datetime,
    session_type_id: int | None,
    ignore_session_id: int | None,
) -> list[engine.Slot]:
    zone = ZoneInfo(host.timezone)
    # Coach-local days that can hold a slot in the range, padded by a day on both sides.
    first_day = range_start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = range_end.astimezone(zone).date() + dt.timedelta(days=1)
    windows, overrides, time_off = availability_inputs(host, first_day=first_day, last_day=last_day)
    # Whole ISO weeks, so the weekly limit counts sessions outside the range too.
    week_start = local_midnight(first_day - dt.timedelta(days=first_day.weekday()), zone)
    week_end = local_midnight(last_day + dt.timedelta(days=7 - last_day.weekday()), zone)
    busy = busy_intervals(host, start=week_start, end=week_end, ignore_session_id=ignore_session_id)
    return engine.free_slots(
        windows=windows,
        overrides=overrides,
        time_off=time_off,
        busy=busy,
        rules=rules.slot_rules(),
        zone=zone,
        range_start=range_start,
        range_end=range_end,
        now=now,
        session_type_id=session_type_id,
    )


def outside_busy(coach: User, *, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The coach's busy times read from their own calendars that touch [start, end),
    overlapping and touching ones merged (several calendars may hold the same event), in
    order. Only when: what the events were is never stored."""
    spans = (
        Allocation.objects.filter(
            staff=coach, kind=AllocationKind.EXTERNAL, is_active=True, start__lt=end, end__gt=start
        )
        .order_by("start", "end")
        .values_list("start", "end")
    )
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for begins, ends in spans:
        if merged and begins <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], ends))
        else:
            merged.append((begins, ends))
    return merged


def days_away(coach: User, *, first_day: dt.date, last_day: dt.date) -> list[tuple[dt.date, dt.date, str]]:
    """The coach's time off and days off (overrides without hours) touching local days
    first_day..last_day, as (first day, last day, reason) in date order: one query."""
    hours = OverrideWindow.objects.filter(override_id=OuterRef("pk"))
    rows = (
        DateOverride.objects.filter(coach=coach, date__range=(first_day, last_day))
        .exclude(Exists(hours))
        .order_by()
        .values_list("date", "date", "reason")
        .union(
            TimeOff.objects.filter(coach=coach, end_date__gte=first_day, start_date__lte=last_day)
            .order_by()
            .values_list("start_date", "end_date", "reason"),
            all=True,
        )
    )
    return sorted(rows)
