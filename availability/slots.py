"""The slot engine: from a coach's availability and what already holds their time, the
free slots a client may book, as UTC instants.

Pure on purpose: plain frozen dataclasses in, plain values out, no ORM and no Django, so
it is tested with hypothesis against a naive reference and benchmarked without a database.
``availability.selectors`` loads the rows and calls :func:`free_slots`.

The rules, in one place:

* **Wall clock.** Windows and overrides are wall-clock times in the coach's zone, so
  09:00–17:00 stays 09:00–17:00 local across DST changes. Candidate starts are
  ``window start + k * step`` in wall-clock time, on each local day the window applies to.
* **Local time → instant.** A wall time maps to the first instant at which the coach's
  clock shows that time or later: an ambiguous time (fall back) is its first occurrence
  (``fold=0``), and a time that does not exist (spring forward) is the instant the clock
  jumps past it. A *candidate* whose wall time does not exist yields no slot; an
  ambiguous one yields exactly one slot (its first occurrence), never two.
* **Inside the window.** A slot ``[s, s + duration)`` (duration is elapsed time) must lie
  inside its window ``[instant(day, start), instant(day, end))``.
* **Conflicts.** A slot's blocked range ``[s - buffer_before, s + duration + buffer_after)``
  must not overlap any busy interval's blocked range ``[b.start - buffer_before,
  b.end + buffer_after)`` (or its own stored ``blocked_start``/``blocked_end`` when given)
  — the ranges the database's exclusion constraint compares, so the engine and the
  database agree. The raw slot must not overlap any
  time off. Intervals are half-open: touching is not overlapping, and an empty range
  overlaps nothing (as with PostgreSQL's ``&&``).
* **Notice and window.** ``start >= now + minimum_notice`` and ``end <= now + booking_window``.
* **Elapsed time.** Duration, notice, booking window and buffers are elapsed time, added
  to UTC instants (a 60-minute session across a DST change lasts 60 minutes).
* **Limits.** Busy intervals with ``counts_toward_limits`` are counted by the coach-local
  day and ISO week (year, week) of their start; a day whose count has reached
  ``max_per_day`` or whose week has reached ``max_per_week`` offers no slot. For an exact
  weekly count the caller passes the busy intervals of the whole local weeks the range
  touches, not only those inside the range.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import rrule as rrules

__all__ = [
    "BusyInterval",
    "DateOverride",
    "ResourceCalendar",
    "Slot",
    "SlotRules",
    "TimeOff",
    "WeeklyWindow",
    "free_slots",
    "resource_free",
    "window_allows_firm",
    "with_resources",
]

ONE_DAY = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)
ZERO = timedelta(0)


# ---------------------------------------------------------------------------------------
# Inputs and output
# ---------------------------------------------------------------------------------------


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def _require_window(start: time, end: time) -> None:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("window times are wall-clock times in the coach's zone and must be naive")
    if end <= start:
        raise ValueError(f"a window must end after it starts ({start:%H:%M}–{end:%H:%M})")


@dataclass(frozen=True, kw_only=True)
class WeeklyWindow:
    """A recurring stretch of bookable wall-clock time in the coach's zone.

    It applies on the local days whose weekday (0 = Monday) is in ``weekdays`` or, when
    ``rrule`` is set (RFC 5545 RRULE text such as ``"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"``),
    on the days that rule produces instead, expanded with ``dtstart`` = ``valid_from`` or,
    when that is empty, the coach-local day of ``range_start`` (so give rules with an
    ``INTERVAL`` a ``valid_from`` to pin their phase). ``valid_from`` and ``valid_until``
    are inclusive local dates. ``session_type_ids=None`` serves every session type;
    otherwise only those ids. ``end`` must be after ``start`` (a window does not cross
    midnight; write two windows for that).
    """

    weekdays: frozenset[int] = frozenset()
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None
    rrule: str | None = None
    session_type_ids: frozenset[int] | None = None
    allow_firm: bool = True  # False: a booking in this window is a request

    def __post_init__(self) -> None:
        _require_window(self.start, self.end)
        if any(not 0 <= day <= 6 for day in self.weekdays):
            raise ValueError(f"weekdays run from 0 (Monday) to 6 (Sunday), got {sorted(self.weekdays)}")
        if self.valid_from is not None and self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        if self.rrule is not None:
            _parse_rrule(self.rrule, datetime(2000, 1, 3))  # fail now, with the rule's text, not mid-request

    def serves(self, session_type_id: int | None) -> bool:
        """Whether slots for ``session_type_id`` may use this window. A query for no
        particular type (``None``) only uses the windows open to every type."""
        if self.session_type_ids is None:
            return True
        return session_type_id is not None and session_type_id in self.session_type_ids


@dataclass(frozen=True, kw_only=True)
class DateOverride:
    """One local day that uses ``windows`` (wall-clock ``(start, end)`` pairs) instead of
    the weekly windows; an empty tuple is a day off. Override windows serve every
    session type. At most one override per day."""

    day: date
    windows: tuple[tuple[time, time], ...] = ()

    def __post_init__(self) -> None:
        for start, end in self.windows:
            _require_window(start, end)


@dataclass(frozen=True, kw_only=True)
class TimeOff:
    """An absence between two aware instants (a holiday across several days). No slot
    may overlap it."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware("TimeOff.start", self.start)
        _require_aware("TimeOff.end", self.end)
        if self.end.astimezone(UTC) < self.start.astimezone(UTC):  # same-zone comparison ignores fold
            raise ValueError("TimeOff ends before it starts")


@dataclass(frozen=True, kw_only=True)
class BusyInterval:
    """Time that already holds the coach (a session, or a request that holds its slot),
    between two aware instants. ``counts_toward_limits`` says whether it counts toward
    ``max_per_day`` and ``max_per_week``.

    ``blocked_start``/``blocked_end``, when given, are the range the interval really
    blocks (its own buffers, as stored in the allocation ledger) instead of the interval
    widened by the rules' buffers; a slot's own blocked range must then stay clear of it.
    """

    start: datetime
    end: datetime
    counts_toward_limits: bool = True
    blocked_start: datetime | None = None
    blocked_end: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("BusyInterval.start", self.start)
        _require_aware("BusyInterval.end", self.end)
        if self.end.astimezone(UTC) < self.start.astimezone(UTC):  # same-zone comparison ignores fold
            raise ValueError("BusyInterval ends before it starts")


@dataclass(frozen=True, kw_only=True)
class SlotRules:
    """The settings that shape slots: ``duration`` (elapsed time) and ``step`` (spacing of
    candidate starts in wall-clock time) are positive; notice, booking window and buffers
    are not negative; ``max_per_day`` / ``max_per_week`` of ``None`` mean no limit."""

    duration: timedelta
    step: timedelta
    minimum_notice: timedelta = ZERO
    booking_window: timedelta = timedelta(days=7)
    buffer_before: timedelta = ZERO
    buffer_after: timedelta = ZERO
    max_per_day: int | None = None
    max_per_week: int | None = None

    def __post_init__(self) -> None:
        if self.duration <= ZERO:
            raise ValueError("duration must be positive")
        if self.step <= ZERO:
            raise ValueError("step must be positive")
        for name in ("minimum_notice", "booking_window", "buffer_before", "buffer_after"):
            if getattr(self, name) < ZERO:
                raise ValueError(f"{name} must not be negative")
        for name in ("max_per_day", "max_per_week"):
            limit = getattr(self, name)
            if limit is not None and limit < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True, kw_only=True)
class ResourceCalendar:
    """A room or piece of equipment a slot needs: open during ``hours`` (weekly wall-clock
    windows in its own ``zone``; none: open around the clock) except during ``closures``,
    and taken during ``busy`` (its allocations, whose stored blocked range is what counts).
    ``capacity`` and ``resource_id`` let callers choose among several."""

    resource_id: int
    zone: ZoneInfo
    capacity: int = 1
    hours: tuple[WeeklyWindow, ...] = ()
    closures: tuple[TimeOff, ...] = ()
    busy: tuple[BusyInterval, ...] = ()


@dataclass(frozen=True, order=True)
class Slot:
    """A free slot ``[start, end)``, both UTC instants; slots order by start."""

    start: datetime
    end: datetime


# ---------------------------------------------------------------------------------------
# Wall clock ↔ instants
# ---------------------------------------------------------------------------------------


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _instant(naive: datetime, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The first UTC instant at which the clock in ``zone`` shows ``naive`` or later, and
    whether ``naive`` exists there (False inside a spring-forward gap)."""
    first = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first occurrence
    if _wall(first, zone) == naive:
        return first, True
    # In a gap fold=0 reads the time with the offset from before the jump, which lands
    # after the jump, and fold=1 with the offset from after it, which lands before. The
    # jump itself is the first instant whose wall time is at or past ``naive``; tzdata
    # transitions fall on whole seconds, so a binary search over seconds finds it.
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = 0, int((first - before) / ONE_SECOND)  # wall(before) < naive <= wall(first)
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(before + middle * ONE_SECOND, zone) >= naive:
            high = middle
        else:
            low = middle
    return before + high * ONE_SECOND, False


# ---------------------------------------------------------------------------------------
# Which windows apply on which day
# ---------------------------------------------------------------------------------------

_UNTIL_UTC = re.compile(r"(UNTIL=\d{8}(?:T\d{6})?)Z", re.IGNORECASE)


@lru_cache(maxsize=512)
def _parse_rrule(text: str, dtstart: datetime) -> rrules.rrule | rrules.rruleset:
    # Days are local dates, so an UNTIL written in UTC ("...Z") is read as a local date;
    # dateutil would otherwise refuse a UTC UNTIL with a naive DTSTART.
    try:
        return rrules.rrulestr(_UNTIL_UTC.sub(r"\1", text), dtstart=dtstart)
    except (ValueError, TypeError) as error:
        raise ValueError(f"invalid RRULE {text!r}: {error}") from error


def _rrule_days(window: WeeklyWindow, *, anchor: date, first: date, last: date) -> frozenset[date]:
    assert window.rrule is not None
    dtstart = datetime.combine(window.valid_from or anchor, time())
    rule = _parse_rrule(window.rrule, dtstart)
    return frozenset(
        occurrence.date()
        for occurrence in rule.between(datetime.combine(first, time()), datetime.combine(last, time.max), inc=True)
    )


class _Calendar:
    """The wall-clock windows of each local day, for one query."""

    def __init__(
        self,
        *,
        windows: Iterable[WeeklyWindow],
        overrides: Iterable[DateOverride],
        session_type_id: int | None,
        anchor: date,
        first: date,
        last: date,
    ) -> None:
        self.overrides: dict[date, tuple[tuple[time, time], ...]] = {}
        for override in overrides:
            if override.day in self.overrides:
                raise ValueError(f"two overrides for {override.day.isoformat()}")
            self.overrides[override.day] = tuple(sorted(set(override.windows)))
        self.weekly: list[tuple[WeeklyWindow, frozenset[date] | None]] = [
            (window, _rrule_days(window, anchor=anchor, first=first, last=last) if window.rrule else None)
            for window in windows
            if window.serves(session_type_id)
        ]

    def windows_on(self, day: date) -> tuple[tuple[time, time], ...]:
        if day in self.overrides:
            return self.overrides[day]
        weekday = day.weekday()
        found = {
            (window.start, window.end)
            for window, rule_days in self.weekly
            if (day in rule_days if rule_days is not None else weekday in window.weekdays)
            and (window.valid_from is None or window.valid_from <= day)
            and (window.valid_until is None or day <= window.valid_until)
        }
        return tuple(sorted(found))


# ---------------------------------------------------------------------------------------
# Conflicts
# ---------------------------------------------------------------------------------------


def _forbidden_ranges(
    *, busy: Iterable[BusyInterval], time_off: Iterable[TimeOff], rules: SlotRules
) -> tuple[list[datetime], list[datetime]]:
    """Where a raw slot ``[s, e)`` may not overlap, as sorted, disjoint ``[start, end)``
    ranges (their starts and their ends in two lists, for bisect).

    ``[s - before, e + after)`` overlaps ``[b.start - before, b.end + after)`` exactly when
    ``[s, e)`` overlaps ``[b.start - (before + after), b.end + (before + after))``, so one
    widening per busy interval, done once, replaces the per-candidate arithmetic.
    """
    widen = rules.buffer_before + rules.buffer_after
    ranges: list[tuple[datetime, datetime]] = []
    for interval in busy:
        if interval.blocked_start is not None and interval.blocked_end is not None:
            # [s - before, e + after) clear of [bs, be)  <=>  [s, e) clear of [bs - after, be + before)
            start = interval.blocked_start.astimezone(UTC) - rules.buffer_after
            end = interval.blocked_end.astimezone(UTC) + rules.buffer_before
        else:
            start, end = interval.start.astimezone(UTC) - widen, interval.end.astimezone(UTC) + widen
        if start < end:  # an empty blocked range blocks nothing
            ranges.append((start, end))
    for absence in time_off:
        start, end = absence.start.astimezone(UTC), absence.end.astimezone(UTC)
        if start < end:
            ranges.append((start, end))
    ranges.sort()
    starts: list[datetime] = []
    ends: list[datetime] = []
    for start, end in ranges:
        if ends and start <= ends[-1]:  # overlapping or touching: one range, the same set
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _limit_counts(*, busy: Iterable[BusyInterval], zone: ZoneInfo) -> tuple[Counter[date], Counter[tuple[int, int]]]:
    per_day: Counter[date] = Counter()
    per_week: Counter[tuple[int, int]] = Counter()
    for interval in busy:
        if interval.counts_toward_limits:
            day = interval.start.astimezone(zone).date()
            per_day[day] += 1
            year, week, _ = day.isocalendar()
            per_week[year, week] += 1
    return per_day, per_week


# ---------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------


def free_slots(
    *,
    windows: Iterable[WeeklyWindow],
    overrides: Iterable[DateOverride],
    time_off: Iterable[TimeOff],
    busy: Iterable[BusyInterval],
    rules: SlotRules,
    zone: ZoneInfo,
    range_start: datetime,
    range_end: datetime,
    now: datetime,
    session_type_id: int | None = None,
    resources: Iterable[ResourceCalendar] | None = None,
) -> list[Slot]:
    """The free slots whose start lies in ``[range_start, range_end)``, sorted by start,
    without duplicates, as UTC instants; the rules are in this module's docstring.

    ``zone`` is the coach's zone (windows, overrides, limits); ``range_start``,
    ``range_end`` and ``now`` are aware instants in any zone. Only windows that serve
    ``session_type_id`` are used (``None``: only windows open to every type). Given
    ``resources`` (the rooms a session of this kind may use), a slot is offered only when
    at least one of them is open and free for the whole slot; an empty list offers nothing.
    """
    for name, value in (("range_start", range_start), ("range_end", range_end), ("now", now)):
        _require_aware(name, value)
    busy = tuple(busy)
    duration, step = rules.duration, rules.step

    # Bounds on a slot's start: inside the range, after the notice, and early enough that
    # the slot ends inside the booking window. Arithmetic on UTC instants: adding a
    # timedelta to a datetime in a ZoneInfo zone moves its wall clock, not elapsed time.
    now = now.astimezone(UTC)
    lowest = max(range_start.astimezone(UTC), now + rules.minimum_notice)
    range_stop = range_end.astimezone(UTC)  # exclusive
    latest_end = now + rules.booking_window
    if lowest >= range_stop or lowest + duration > latest_end:
        return []

    # A slot lies in its window's local day, so these days are enough; one day of margin
    # on each side costs nothing and keeps odd zones (a fall back across midnight) exact.
    first_day = lowest.astimezone(zone).date() - ONE_DAY
    last_day = min(range_stop, latest_end - duration).astimezone(zone).date() + ONE_DAY
    calendar = _Calendar(
        windows=windows,
        overrides=overrides,
        session_type_id=session_type_id,
        anchor=range_start.astimezone(zone).date(),
        first=first_day,
        last=last_day,
    )
    blocked_starts, blocked_ends = _forbidden_ranges(busy=busy, time_off=time_off, rules=rules)
    blocked_count = len(blocked_starts)
    max_per_day, max_per_week = rules.max_per_day, rules.max_per_week
    if max_per_day is None and max_per_week is None:
        per_day, per_week = Counter[date](), Counter[tuple[int, int]]()
    else:
        per_day, per_week = _limit_counts(busy=busy, zone=zone)

    starts: list[datetime] = []
    day = first_day
    offset_at_midnight = zone.utcoffset(datetime.combine(day, time()))
    while day <= last_day:
        next_day = day + ONE_DAY
        offset_at_next_midnight = zone.utcoffset(datetime.combine(next_day, time()))
        day_windows = calendar.windows_on(day)
        if (
            day_windows
            and (max_per_day is None or per_day[day] < max_per_day)
            and (max_per_week is None or per_week[day.isocalendar()[:2]] < max_per_week)
        ):
            # Same offset at both midnights: no transition today (zones do not change their
            # offset twice within a day), so wall time and UTC differ by one constant and
            # candidates are plain arithmetic. Otherwise convert each candidate on its own.
            steady = offset_at_midnight == offset_at_next_midnight
            for window_start, window_end in day_windows:
                if steady:
                    opens = datetime.combine(day, window_start, tzinfo=UTC) - offset_at_midnight
                    closes = datetime.combine(day, window_end, tzinfo=UTC) - offset_at_midnight
                    last_start = min(closes, latest_end) - duration  # inclusive
                    first_grid = max(0, -((opens - lowest) // step))  # ceil((lowest - opens) / step)
                    candidate = opens + first_grid * step
                    while candidate <= last_start and candidate < range_stop:
                        # The first blocked range that ends after the candidate starts is
                        # the only one it can overlap; on a conflict, jump past that range.
                        index = bisect_right(blocked_ends, candidate)
                        if index < blocked_count and blocked_starts[index] < candidate + duration:
                            candidate = opens - ((opens - blocked_ends[index]) // step) * step
                            continue
                        starts.append(candidate)
                        candidate += step
                else:
                    starts.extend(
                        _transition_day_starts(
                            day=day,
                            window=(window_start, window_end),
                            zone=zone,
                            rules=rules,
                            lowest=lowest,
                            range_stop=range_stop,
                            latest_end=latest_end,
                            blocked_starts=blocked_starts,
                            blocked_ends=blocked_ends,
                        )
                    )
        day, offset_at_midnight = next_day, offset_at_next_midnight

    # Overlapping windows can offer the same start twice, and windows are walked in
    # wall-clock order, so sort and deduplicate once at the end (cheap: nearly sorted).
    slots = [Slot(start, start + duration) for start in sorted(set(starts))]
    return slots if resources is None else with_resources(slots, resources)


def with_resources(slots: list[Slot], resources: Iterable[ResourceCalendar]) -> list[Slot]:
    """The ``slots`` (sorted, of one duration) for which at least one of ``resources`` is
    open and free for the whole slot."""
    if not slots:
        return []
    duration = slots[0].end - slots[0].start
    lows, highs = _resource_starts(resources, duration=duration, first=slots[0].start, last=slots[-1].end)
    return [slot for slot in slots if _within(lows, highs, slot.start)]


# ---------------------------------------------------------------------------------------
# Rooms and equipment
# ---------------------------------------------------------------------------------------


def _open_ranges(resource: ResourceCalendar, *, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """The UTC ranges, sorted and disjoint, in which ``resource`` is open (hours minus
    closures) between ``first`` and ``last``; busy time is not removed here."""
    zone = resource.zone
    if not resource.hours:
        ranges = [(first, last)]
    else:
        day, last_day = first.astimezone(zone).date() - ONE_DAY, last.astimezone(zone).date() + ONE_DAY
        calendar = _Calendar(
            windows=resource.hours, overrides=(), session_type_id=None, anchor=day, first=day, last=last_day
        )
        hours = []
        while day <= last_day:
            for opens, closes in calendar.windows_on(day):
                hours.append(
                    (_instant(datetime.combine(day, opens), zone)[0], _instant(datetime.combine(day, closes), zone)[0])
                )
            day += ONE_DAY
        ranges = []
        for start, end in sorted(hours):
            if ranges and start <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
            elif start < end:
                ranges.append((start, end))
    taken = sorted(
        [(c.start.astimezone(UTC), c.end.astimezone(UTC)) for c in resource.closures]
        + [
            (
                (b.blocked_start or b.start).astimezone(UTC),
                (b.blocked_end or b.end).astimezone(UTC),
            )
            for b in resource.busy
        ]
    )
    return _subtract(ranges, taken)


def _subtract(
    ranges: list[tuple[datetime, datetime]], taken: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """``ranges`` (sorted, disjoint) without the sorted ``taken`` ranges (half-open)."""
    result: list[tuple[datetime, datetime]] = []
    index = 0
    for start, end in ranges:
        while index < len(taken) and taken[index][1] <= start:
            index += 1
        cursor, scan = start, index
        while scan < len(taken) and taken[scan][0] < end:
            gap_end = taken[scan][0]
            if gap_end > cursor:
                result.append((cursor, gap_end))
            cursor = max(cursor, taken[scan][1])
            scan += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def _resource_starts(
    resources: Iterable[ResourceCalendar], *, duration: timedelta, first: datetime, last: datetime
) -> tuple[list[datetime], list[datetime]]:
    """The starts ``s`` for which some resource is open and free over ``[s, s + duration)``,
    as sorted, disjoint closed ranges ``[low, high]`` (their lows and highs, for bisect)."""
    allowed: list[tuple[datetime, datetime]] = []
    for resource in resources:
        for start, end in _open_ranges(resource, first=first, last=last):
            if end - start >= duration:
                allowed.append((start, end - duration))
    allowed.sort()
    lows: list[datetime] = []
    highs: list[datetime] = []
    for low, high in allowed:
        if highs and low <= highs[-1]:
            highs[-1] = max(highs[-1], high)
        else:
            lows.append(low)
            highs.append(high)
    return lows, highs


def _within(lows: list[datetime], highs: list[datetime], instant: datetime) -> bool:
    index = bisect_right(lows, instant) - 1
    return index >= 0 and instant <= highs[index]


def resource_free(resource: ResourceCalendar, *, start: datetime, end: datetime) -> bool:
    """Whether ``resource`` is open and free over the whole of ``[start, end)``."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return any(low <= start and end <= high for low, high in _open_ranges(resource, first=start, last=end))


def window_allows_firm(
    *,
    windows: Iterable[WeeklyWindow],
    overrides: Iterable[DateOverride],
    zone: ZoneInfo,
    start: datetime,
    duration: timedelta,
    step: timedelta,
    session_type_id: int | None,
) -> bool:
    """Whether a slot at ``start`` lies in a window that allows firm booking: some window
    open to firm booking offers it (a day's own hours, an override, always do)."""
    windows = tuple(windows)
    if all(window.allow_firm for window in windows):
        return True
    found = free_slots(
        windows=[window for window in windows if window.allow_firm],
        overrides=overrides,
        time_off=(),
        busy=(),
        rules=SlotRules(duration=duration, step=step, booking_window=duration + ONE_DAY),
        zone=zone,
        range_start=start,
        range_end=start + ONE_SECOND,
        now=start,
        session_type_id=session_type_id,
    )
    return any(slot.start == start.astimezone(UTC) for slot in found)


def _transition_day_starts(
    *,
    day: date,
    window: tuple[time, time],
    zone: ZoneInfo,
    rules: SlotRules,
    lowest: datetime,
    range_stop: datetime,
    latest_end: datetime,
    blocked_starts: list[datetime],
    blocked_ends: list[datetime],
) -> list[datetime]:
    """Starts in one window on a day with a DST transition: each wall-clock candidate is
    converted on its own; a nonexistent one is skipped, an ambiguous one is its first
    occurrence."""
    window_start, window_end = window
    wall_start, wall_end = datetime.combine(day, window_start), datetime.combine(day, window_end)
    closes, _ = _instant(wall_end, zone)
    last_start = min(closes, latest_end) - rules.duration
    found: list[datetime] = []
    wall = wall_start
    while wall < wall_end:  # a later wall time maps to an instant at or after ``closes``
        candidate, exists = _instant(wall, zone)
        wall += rules.step
        if not exists or candidate < lowest or candidate > last_start or candidate >= range_stop:
            continue
        index = bisect_right(blocked_ends, candidate)
        if index < len(blocked_starts) and blocked_starts[index] < candidate + rules.duration:
            continue
        found.append(candidate)
    return found
