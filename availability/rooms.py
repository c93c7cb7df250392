"""Rooms and equipment (``Resource``) managed in the product: who may manage them, every
write (details, weekly opening hours, closures, deactivation), and the reads the room pages
show (a week's calendar, utilisation per week).

Writes run in one transaction each and refuse bad input with a ``DomainError`` naming the
field it is about. Staff and coaches manage every room (rooms are shared by the practice);
clients may not (``can_manage_rooms``, the one rule the pages and the services use).

Opening hours are wall-clock times in the resource's own zone (``Resource.timezone``), so a
DST change moves nothing; ``open_intervals`` turns them, minus the closures, into UTC
instants with ``zoneinfo``. A resource without opening hours is open around the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from availability.models import Allocation, AllocationKind, Resource, ResourceClosure, ResourceHours, ResourceKind
from config.dates import format_when
from config.errors import DomainError, NotAllowed
from config.inputs import EARLIEST_DAY, LATEST_DAY, canonical_zone, check_day, clean_text, out_of_range_message

MAX_CAPACITY = 500
NAME_LENGTH = 120
LOCATION_LENGTH = 200
DESCRIPTION_LENGTH = 200
REASON_LENGTH = 120
ONE_DAY = dt.timedelta(days=1)
ONE_WEEK = dt.timedelta(days=7)
# Allocations that count as the room being used (a blocked stretch does not).
BOOKED_KINDS = (AllocationKind.SESSION, AllocationKind.REQUEST)

Hours = tuple[int, dt.time, dt.time]  # (weekday 0=Monday, opens, closes), wall-clock in the room's zone
Interval = tuple[dt.datetime, dt.datetime]  # [start, end) as aware UTC instants


# --- who may manage -----------------------------------------------------------------------


def can_manage_rooms(user: Any) -> bool:
    """Back-office staff (and admins) and coaches manage rooms and equipment; clients and
    visitors don't."""
    return bool(getattr(user, "is_authenticated", False)) and (user.is_staff_member or user.role == Role.COACH)


def _require_manager(actor: User) -> None:
    if not can_manage_rooms(actor):
        raise NotAllowed(_("Only staff and coaches can manage rooms and equipment."))


# --- checks ---------------------------------------------------------------------------------


def _label(start: dt.time, end: dt.time) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def check_hours(hours: Iterable[Hours]) -> list[Hours]:
    """Opening hours in order, or a refusal naming the day: weekdays 0–6, each range closing
    after it opens, no two ranges of one day overlapping (touching is fine)."""
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, start, end in hours:
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise DomainError(
                _("Weekday %(day)s does not exist (0 is Monday, 6 is Sunday).") % {"day": weekday},
                code="bad_weekday",
                field="hours",
            )
        if end <= start:
            raise DomainError(
                _("%(day)s: %(range)s closes before it opens.")
                % {"day": WEEKDAYS[weekday], "range": _label(start, end)},
                code="hours_end_before_start",
                field=f"day{weekday}",
            )
        by_day.setdefault(weekday, []).append((start, end))
    for weekday, ranges in by_day.items():
        ranges.sort()
        for (a_start, a_end), (b_start, b_end) in pairwise(ranges):
            if b_start < a_end:
                raise DomainError(
                    _("%(day)s: %(first)s overlaps %(second)s.")
                    % {"day": WEEKDAYS[weekday], "first": _label(a_start, a_end), "second": _label(b_start, b_end)},
                    code="hours_overlap",
                    field=f"day{weekday}",
                )
    return sorted((weekday, start, end) for weekday, ranges in by_day.items() for start, end in ranges)


def _clean_details(
    *, name: str, kind: str, capacity: int, location: str, description: str, timezone_name: str
) -> dict[str, Any]:
    name = clean_text(name or "", NAME_LENGTH, field="name")
    if not name:
        raise DomainError(_("Give the room a name."), code="name_required", field="name")
    if kind not in ResourceKind.values:
        raise DomainError(_("Choose a room, equipment or an online room."), code="bad_kind", field="kind")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(
            _("Capacity is the number of people it holds, from 1 to %(max)d.") % {"max": MAX_CAPACITY},
            code="bad_capacity",
            field="capacity",
        )
    zone = canonical_zone(timezone_name or "")
    if zone is None:
        raise DomainError(
            _("“%(zone)s” is not a time zone we know. Use an IANA name such as Europe/Paris.")
            % {"zone": timezone_name},
            code="invalid_timezone",
            field="timezone",
        )
    return {
        "name": name,
        "kind": kind,
        "capacity": capacity,
        "location": clean_text(location or "", LOCATION_LENGTH, field="location"),
        "description": clean_text(description or "", DESCRIPTION_LENGTH, field="description"),
        "timezone": zone,
    }


def _name_taken(name: str, location: str) -> DomainError:
    where = location or _("no location")
    return DomainError(
        _("There is already a room called “%(name)s” at %(where)s. Give this one another name.")
        % {"name": name, "where": where},
        code="name_taken",
        status=409,
        field="name",
    )


def _check_unique(values: dict[str, Any], *, exclude: int | None = None) -> None:
    """One name per location, whatever the letter case ("Room A" and "room a" would be
    confused on every page)."""
    same = Resource.objects.filter(name__iexact=values["name"], location__iexact=values["location"])
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise _name_taken(values["name"], values["location"])


def _save(resource: Resource, values: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError as exc:  # another request took the name in between
        raise _name_taken(values["name"], values["location"]) from exc


# --- writes ---------------------------------------------------------------------------------


def create_resource(
    *,
    actor: User,
    name: str,
    kind: str = ResourceKind.ROOM,
    capacity: int = 1,
    location: str = "",
    description: str = "",
    timezone_name: str = "UTC",
    hours: Sequence[Hours] | None = None,
) -> Resource:
    """A new active room or piece of equipment, with its weekly opening hours when given
    (none: open around the clock), in one transaction."""
    _require_manager(actor)
    values = _clean_details(
        name=name,
        kind=kind,
        capacity=capacity,
        location=location,
        description=description,
        timezone_name=timezone_name,
    )
    ordered = check_hours(hours or ())
    with transaction.atomic():
        _check_unique(values)
        resource = Resource(**values, is_active=True)
        _save(resource, values)
        ResourceHours.objects.bulk_create(
            ResourceHours(resource=resource, weekday=weekday, start=start, end=end) for weekday, start, end in ordered
        )
    return resource


def update_resource(
    *,
    resource: Resource,
    actor: User,
    name: str,
    kind: str,
    capacity: int,
    location: str = "",
    description: str = "",
    timezone_name: str = "UTC",
    now: dt.datetime | None = None,
) -> Resource:
    """Change a resource's details. Its capacity can't go below the seats offered by a
    session still to come in it (those people must fit): lower the sessions' seats first."""
    _require_manager(actor)
    values = _clean_details(
        name=name,
        kind=kind,
        capacity=capacity,
        location=location,
        description=description,
        timezone_name=timezone_name,
    )
    now = now or timezone.now()
    with transaction.atomic():
        locked = Resource.objects.select_for_update().get(pk=resource.pk)
        _check_unique(values, exclude=locked.pk)
        if values["capacity"] < locked.capacity:
            seats = list(
                Allocation.objects.filter(
                    resource=locked,
                    is_active=True,
                    end__gt=now,
                    session__isnull=False,
                    session__capacity__gt=values["capacity"],
                )
                .order_by()
                .values_list("session_id", "session__capacity")
                .distinct()
            )
            if seats:
                raise DomainError(
                    ngettext(
                        "A session still to come in %(room)s offers %(seats)d seats, more than %(capacity)d: "
                        "lower its seats first, or keep the capacity.",
                        "%(count)d sessions still to come in %(room)s offer up to %(seats)d seats, more than "
                        "%(capacity)d: lower their seats first, or keep the capacity.",
                        len(seats),
                    )
                    % {
                        "count": len(seats),
                        "room": locked.name,
                        "seats": max(capacity for _pk, capacity in seats),
                        "capacity": values["capacity"],
                    },
                    code="capacity_below_sessions",
                    status=409,
                    field="capacity",
                )
        for name_, value in values.items():
            setattr(locked, name_, value)
        _save(locked, values)
    for name_, value in values.items():
        setattr(resource, name_, value)
    return resource


def set_hours(*, resource: Resource, actor: User, hours: Sequence[Hours]) -> list[ResourceHours]:
    """Replace the resource's weekly opening hours all at once (empty: open around the
    clock). Sessions already booked keep their room."""
    _require_manager(actor)
    ordered = check_hours(hours)
    with transaction.atomic():
        # Lock the resource so two editors' replacements can't interleave.
        Resource.objects.select_for_update().filter(pk=resource.pk).first()
        ResourceHours.objects.filter(resource=resource).delete()
        return ResourceHours.objects.bulk_create(
            ResourceHours(resource=resource, weekday=weekday, start=start, end=end) for weekday, start, end in ordered
        )


def add_closure(
    *, resource: Resource, actor: User, start_date: dt.date, end_date: dt.date, reason: str = ""
) -> ResourceClosure:
    """Close the resource on whole local days ``start_date``..``end_date`` (inclusive).
    Sessions already booked on those days keep their room (the calendar shows them)."""
    _require_manager(actor)
    check_day(start_date, field="start_date")
    check_day(end_date, field="end_date")
    if end_date < start_date:
        raise DomainError(
            _("The closure ends before it starts: its last day is before its first."),
            code="closure_end_before_start",
            field="end_date",
        )
    reason = clean_text(reason or "", REASON_LENGTH, field="reason")
    with transaction.atomic():
        Resource.objects.select_for_update().filter(pk=resource.pk).first()
        clash = (
            ResourceClosure.objects.filter(resource=resource, start_date__lte=end_date, end_date__gte=start_date)
            .order_by("start_date")
            .first()
        )
        if clash is not None:
            raise DomainError(
                _("%(room)s is already closed from %(first)s to %(last)s; change that closure instead.")
                % {
                    "room": resource.name,
                    "first": format_when(clash.start_date, "date_short"),
                    "last": format_when(clash.end_date, "date_short"),
                },
                code="closure_overlap",
                status=409,
                field="start_date",
            )
        return ResourceClosure.objects.create(
            resource=resource, start_date=start_date, end_date=end_date, reason=reason
        )


def delete_closure(*, closure: ResourceClosure, actor: User) -> None:
    _require_manager(actor)
    closure.delete()


@dataclass(frozen=True)
class UpcomingUse:
    """A session still to come that holds the resource."""

    session_id: int | None
    title: str
    coach: str
    start: dt.datetime
    end: dt.datetime
    is_request: bool


def upcoming_uses(resource: Resource, *, now: dt.datetime | None = None) -> list[UpcomingUse]:
    """The sessions (and requests) holding the resource that haven't ended, soonest first."""
    now = now or timezone.now()
    rows = (
        Allocation.objects.filter(resource=resource, is_active=True, end__gt=now, kind__in=BOOKED_KINDS)
        .select_related("session__session_type", "session__coach")
        .order_by("start", "pk")
    )
    seen: dict[int | None, UpcomingUse] = {}
    for row in rows:
        key = row.session_id if row.session_id is not None else -row.pk
        if key not in seen:
            seen[key] = _use(row)
    return list(seen.values())


def _use(row: Allocation) -> UpcomingUse:
    session = row.session
    return UpcomingUse(
        session_id=row.session_id,
        title=session.session_type.title if session is not None else _("Blocked"),
        coach=session.coach.display_name if session is not None else "",
        start=row.start,
        end=row.end,
        is_request=row.kind == AllocationKind.REQUEST,
    )


class RoomInUse(DomainError):
    """Deactivating needs a confirmation: sessions still to come use the resource."""

    def __init__(self, resource: Resource, uses: list[UpcomingUse]) -> None:
        count = len(uses)
        super().__init__(
            ngettext(
                "%(count)d upcoming session uses %(room)s. It keeps the room; deactivating only stops "
                "new bookings from getting it. Deactivate anyway?",
                "%(count)d upcoming sessions use %(room)s. They keep the room; deactivating only stops "
                "new bookings from getting it. Deactivate anyway?",
                count,
            )
            % {"count": count, "room": resource.name},
            code="room_in_use",
            status=409,
        )
        self.uses = uses


def deactivate_resource(
    *, resource: Resource, actor: User, confirmed: bool = False, now: dt.datetime | None = None
) -> Resource:
    """Stop offering the resource to new bookings. When sessions still to come use it,
    refuse with ``RoomInUse`` (how many, which) unless ``confirmed``; they keep the room
    either way: deactivating never cancels or moves a booking."""
    _require_manager(actor)
    with transaction.atomic():
        locked = Resource.objects.select_for_update().get(pk=resource.pk)
        if locked.is_active:
            uses = upcoming_uses(locked, now=now)
            if uses and not confirmed:
                raise RoomInUse(locked, uses)
            locked.is_active = False
            locked.save(update_fields=["is_active"])
    resource.is_active = False
    return resource


def reactivate_resource(*, resource: Resource, actor: User) -> Resource:
    _require_manager(actor)
    with transaction.atomic():
        Resource.objects.filter(pk=resource.pk).update(is_active=True)
    resource.is_active = True
    return resource


# --- when a resource is open ----------------------------------------------------------------


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def open_intervals(
    hours: Iterable[Hours],
    closures: Iterable[tuple[dt.date, dt.date]],
    zone: ZoneInfo,
    first_day: dt.date,
    last_day: dt.date,
) -> list[Interval]:
    """When a resource is open on its local days ``first_day``..``last_day``, as merged UTC
    intervals: each day's opening hours (every hour of the day when it has no hours at
    all), except the days a closure covers. Pure: the same values the models hold.

    Wall-clock times become instants in ``zone`` with ``zoneinfo``, so a day's 00:00–12:00
    lasts 11 hours the day clocks go forward; a time the clocks skip is read with the
    offset before the change (as ``datetime.combine`` does, ``fold=0``)."""
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, start, end in hours:
        by_day.setdefault(weekday, []).append((start, end))
    around_the_clock = not by_day
    closed = sorted(closures)
    found: list[Interval] = []
    day = first_day
    while day <= last_day:
        if not any(first <= day <= last for first, last in closed):
            if around_the_clock:
                found.append((_instant(day, dt.time(), zone), _instant(day + ONE_DAY, dt.time(), zone)))
            else:
                found.extend(
                    (_instant(day, start, zone), _instant(day, end, zone))
                    for start, end in by_day.get(day.weekday(), ())
                )
        day += ONE_DAY
    return _merge(found)


def _overlap(a: Sequence[Interval], b: Sequence[Interval]) -> dt.timedelta:
    """Total time in both of two merged, sorted interval lists."""
    total, i, j = dt.timedelta(0), 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            total += end - start
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _length(intervals: Sequence[Interval]) -> dt.timedelta:
    return sum((end - start for start, end in intervals), dt.timedelta(0))


# --- utilisation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekUtilisation:
    """One ISO week of a resource (its local days ``first_day``..``last_day``)."""

    monday: dt.date
    first_day: dt.date
    last_day: dt.date
    booked: dt.timedelta
    open: dt.timedelta

    @property
    def fraction(self) -> float | None:
        """Booked ÷ open, from 0 to 1; None when the resource is never open that week."""
        if self.open <= dt.timedelta(0):
            return None
        return self.booked / self.open

    @property
    def percent(self) -> int | None:
        fraction = self.fraction
        return None if fraction is None else round(fraction * 100)

    @property
    def booked_hours(self) -> float:
        return self.booked / dt.timedelta(hours=1)

    @property
    def open_hours(self) -> float:
        return self.open / dt.timedelta(hours=1)

    @property
    def iso_week(self) -> int:
        return self.monday.isocalendar().week


def _check_range(first_day: dt.date, last_day: dt.date) -> None:
    if not (EARLIEST_DAY <= first_day <= LATEST_DAY and EARLIEST_DAY <= last_day <= LATEST_DAY):
        raise DomainError(out_of_range_message(), code="invalid", field="first_day")
    if last_day < first_day:
        raise DomainError(_("The last day is before the first."), code="invalid", field="last_day")


def _weeks(
    zone: ZoneInfo,
    hours: Sequence[Hours],
    closures: Sequence[tuple[dt.date, dt.date]],
    booked: Sequence[Interval],
    first_day: dt.date,
    last_day: dt.date,
) -> list[WeekUtilisation]:
    busy = _merge(booked)
    weeks = []
    monday = first_day - dt.timedelta(days=first_day.weekday())
    while monday <= last_day:
        first, last = max(monday, first_day), min(monday + dt.timedelta(days=6), last_day)
        opened = open_intervals(hours, closures, zone, first, last)
        weeks.append(
            WeekUtilisation(
                monday=monday, first_day=first, last_day=last, booked=_overlap(opened, busy), open=_length(opened)
            )
        )
        monday += ONE_WEEK
    return weeks


def _range_instants(zone: ZoneInfo, first_day: dt.date, last_day: dt.date) -> Interval:
    return _instant(first_day, dt.time(), zone), _instant(last_day + ONE_DAY, dt.time(), zone)


def utilisation(resource: Resource, first_day: dt.date, last_day: dt.date) -> list[WeekUtilisation]:
    """How much of its open time a resource is booked, per ISO week of its local days
    ``first_day``..``last_day`` (the first and last weeks cut to that range).

    Definition: **utilisation = booked hours ÷ open hours**, a plain fraction from 0 to 1.

    - *Open hours* are the resource's weekly opening hours — wall-clock times in its own
      zone — on each local day of the week, minus the days its closures cover; a resource
      without any opening hours is open 24 hours a day (closures still count). Each day's
      hours become real instants with ``zoneinfo``, so a week with a DST change counts the
      hour the clocks skip or repeat correctly (Europe/Paris: 00:00–12:00 is 11 hours on
      the last Sunday of March and 13 on the last Sunday of October; an always-open week
      is 167 or 169 hours).
    - *Booked hours* are the active allocations of the resource for sessions and requests
      (not blocked stretches, not cancelled ones) from their start to their end (not the
      coach's buffers), clipped to those open hours: time booked outside opening hours or
      on a closed day doesn't count, and overlapping allocations count once.
    - A week with no open hours has no utilisation (``fraction`` is None).
    """
    _check_range(first_day, last_day)
    zone = ZoneInfo(resource.timezone)
    hours = list(resource.hours.values_list("weekday", "start", "end"))
    closures = list(
        resource.closures.filter(end_date__gte=first_day, start_date__lte=last_day).values_list(
            "start_date", "end_date"
        )
    )
    start, end = _range_instants(zone, first_day, last_day)
    booked = list(
        Allocation.objects.filter(
            resource=resource, is_active=True, kind__in=BOOKED_KINDS, start__lt=end, end__gt=start
        ).values_list("start", "end")
    )
    return _weeks(zone, hours, closures, booked, first_day, last_day)


def this_week_utilisation(
    resources: Sequence[Resource], *, now: dt.datetime | None = None
) -> dict[int, WeekUtilisation]:
    """Each resource's utilisation in the ISO week holding today (in its own zone): three
    queries whatever the number of resources."""
    now = now or timezone.now()
    if not resources:
        return {}
    ranges: dict[int, tuple[dt.date, dt.date]] = {}
    for resource in resources:
        today = now.astimezone(ZoneInfo(resource.timezone)).date()
        monday = today - dt.timedelta(days=today.weekday())
        ranges[resource.pk] = (monday, monday + dt.timedelta(days=6))
    ids = list(ranges)
    hours: dict[int, list[Hours]] = {pk: [] for pk in ids}
    for pk, weekday, start, end in ResourceHours.objects.filter(resource_id__in=ids).values_list(
        "resource_id", "weekday", "start", "end"
    ):
        hours[pk].append((weekday, start, end))
    earliest = min(first for first, _last in ranges.values()) - ONE_DAY
    latest = max(last for _first, last in ranges.values()) + ONE_DAY
    closures: dict[int, list[tuple[dt.date, dt.date]]] = {pk: [] for pk in ids}
    for pk, first, last in ResourceClosure.objects.filter(
        resource_id__in=ids, end_date__gte=earliest, start_date__lte=latest
    ).values_list("resource_id", "start_date", "end_date"):
        closures[pk].append((first, last))
    window_start = dt.datetime.combine(earliest, dt.time(), tzinfo=dt.UTC)
    window_end = dt.datetime.combine(latest + ONE_DAY, dt.time(), tzinfo=dt.UTC)
    booked: dict[int, list[Interval]] = {pk: [] for pk in ids}
    for pk, start, end in Allocation.objects.filter(
        resource_id__in=ids, is_active=True, kind__in=BOOKED_KINDS, start__lt=window_end, end__gt=window_start
    ).values_list("resource_id", "start", "end"):
        booked[pk].append((start, end))
    result = {}
    for resource in resources:
        first, last = ranges[resource.pk]
        zone = ZoneInfo(resource.timezone)
        result[resource.pk] = _weeks(zone, hours[resource.pk], closures[resource.pk], booked[resource.pk], first, last)[
            0
        ]
    return result


# --- a week's calendar ----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenSpan:
    """Part of a day the resource is open, on the viewer's clock."""

    start: dt.datetime
    end: dt.datetime

    @property
    def label(self) -> str:
        # An opening that runs to the next midnight reads "…–24:00".
        until = "24:00" if self.end.date() > self.start.date() else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}–{until}"


@dataclass(frozen=True)
class RoomBooking:
    """One active allocation of the resource, on the viewer's clock."""

    session_id: int | None
    title: str
    coach: str
    start: dt.datetime
    end: dt.datetime
    kind: str  # "session", "request" or "block"

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass
class RoomDay:
    date: dt.date
    is_today: bool
    open: list[OpenSpan] = field(default_factory=list)
    closures: list[str] = field(default_factory=list)  # reasons ("" for none) of closures that day
    bookings: list[RoomBooking] = field(default_factory=list)


@dataclass
class RoomWeek:
    resource: Resource
    monday: dt.date
    zone: ZoneInfo  # the viewer's, every time below is on its clock
    room_zone: ZoneInfo
    around_the_clock: bool
    days: list[RoomDay]

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def booking_count(self) -> int:
        return sum(len(day.bookings) for day in self.days)


def room_week(
    resource: Resource, monday: dt.date, viewer_zone: ZoneInfo, *, now: dt.datetime | None = None
) -> RoomWeek:
    """The week from ``monday`` (seven days on the viewer's clock): when the resource is
    open each day and its active allocations (session title, coach, times), all in
    ``viewer_zone``. Three queries."""
    check_day(monday, field="week")
    check_day(monday + ONE_WEEK, field="week")
    now = now or timezone.now()
    room_zone = ZoneInfo(resource.timezone)
    week_start = _instant(monday, dt.time(), viewer_zone)
    week_end = _instant(monday + ONE_WEEK, dt.time(), viewer_zone)
    # The room's local days this week touches (a day either side when the zones differ).
    first_local = max(week_start.astimezone(room_zone).date() - ONE_DAY, EARLIEST_DAY)
    last_local = min(week_end.astimezone(room_zone).date() + ONE_DAY, LATEST_DAY)
    hours = list(resource.hours.values_list("weekday", "start", "end"))
    closures = list(
        resource.closures.filter(end_date__gte=first_local, start_date__lte=last_local).values_list(
            "start_date", "end_date", "reason"
        )
    )
    opened = open_intervals(hours, [(a, b) for a, b, _r in closures], room_zone, first_local, last_local)
    today = now.astimezone(viewer_zone).date()
    days = []
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        day_start, day_end = _instant(day, dt.time(), viewer_zone), _instant(day + ONE_DAY, dt.time(), viewer_zone)
        spans = [
            OpenSpan(max(start, day_start).astimezone(viewer_zone), min(end, day_end).astimezone(viewer_zone))
            for start, end in opened
            if start < day_end and day_start < end
        ]
        days.append(
            RoomDay(
                date=day,
                is_today=day == today,
                open=spans,
                closures=[reason for first, last, reason in closures if first <= day <= last],
            )
        )
    rows = (
        Allocation.objects.filter(resource=resource, is_active=True, start__lt=week_end, end__gt=week_start)
        .select_related("session__session_type", "session__coach")
        .order_by("start", "pk")
    )
    for row in rows:
        session = row.session
        local_start = row.start.astimezone(viewer_zone)
        index = (local_start.date() - monday).days
        booking = RoomBooking(
            session_id=row.session_id,
            title=session.session_type.title if session is not None else _("Blocked"),
            coach=session.coach.display_name if session is not None else "",
            start=local_start,
            end=row.end.astimezone(viewer_zone),
            kind=row.kind,
        )
        days[min(max(index, 0), 6)].bookings.append(booking)
    return RoomWeek(
        resource=resource,
        monday=monday,
        zone=viewer_zone,
        room_zone=room_zone,
        around_the_clock=not hours,
        days=days,
    )


# --- how the pages describe a resource ------------------------------------------------------


def hours_summary(hours: Iterable[Hours]) -> str:
    """Opening hours in a line: "Mon–Fri 08:00–18:00 · Sat 09:00–12:00"; consecutive days
    with the same ranges are joined. No hours: open around the clock."""
    collected: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, start, end in hours:
        collected.setdefault(weekday, []).append((start, end))
    by_day = {weekday: tuple(sorted(ranges)) for weekday, ranges in collected.items()}
    if not by_day:
        return _("Open around the clock")
    parts = []
    weekday = 0
    while weekday < 7:
        ranges = by_day.get(weekday)
        if not ranges:
            weekday += 1
            continue
        last = weekday
        while last + 1 < 7 and by_day.get(last + 1) == ranges:
            last += 1
        days = str(WEEKDAYS_ABBR[weekday]) if last == weekday else f"{WEEKDAYS_ABBR[weekday]}–{WEEKDAYS_ABBR[last]}"
        parts.append(f"{days} {', '.join(_label(start, end) for start, end in ranges)}")
        weekday = last + 1
    return " · ".join(parts)


def resources_for_list() -> list[Resource]:
    """Every resource with its opening hours (two queries), active ones first."""
    return list(
        Resource.objects.prefetch_related(
            Prefetch("hours", queryset=ResourceHours.objects.order_by("weekday", "start"))
        ).order_by("-is_active", "name", "location", "pk")
    )
