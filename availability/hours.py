"""Whether a stretch of time lies within a coach's working hours: their weekly windows (or
the day's own hours when the day has an override) and outside their time off.

The booking services do not need it (a client can only book a listed slot); the pages do,
to warn a coach who publishes or suggests a time outside their hours, and to list what a
change of hours leaves outside them. Reads the same inputs as the slot engine
(``selectors.availability_inputs``), in three queries whatever the number of intervals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from accounts.models import User
from availability import slots as engine
from availability.models import Allocation, AllocationKind
from availability.selectors import Inputs, availability_inputs

ONE_DAY = dt.timedelta(days=1)
# How far ahead a change of hours is checked against what is already booked.
LOOKAHEAD = dt.timedelta(days=400)


@dataclass(frozen=True)
class Stretch:
    """A stretch of a coach's time: ``session_type_id`` picks the windows open to it."""

    start: dt.datetime
    end: dt.datetime
    session_type_id: int | None = None


def _walls(
    calendar: engine._Calendar, day: dt.date, session_type_id: int | None, *, every_window: bool = False
) -> Iterable[tuple[dt.time, dt.time]]:
    """The wall-clock hours open on ``day``: its own (an override), or its weekly windows'."""
    if day in calendar.overrides:
        return calendar.overrides[day]
    return {
        (window.start, window.end)
        for window, rule_days in calendar.weekly
        if (every_window or window.serves(session_type_id))
        and (day in rule_days if rule_days is not None else day.weekday() in window.weekdays)
        and _valid(window, day)
    }


def _valid(window: engine.WeeklyWindow, day: dt.date) -> bool:
    return (window.valid_from is None or window.valid_from <= day) and (
        window.valid_until is None or day <= window.valid_until
    )


def _open_ranges(
    calendar: engine._Calendar, day: dt.date, zone: ZoneInfo, session_type_id: int | None, *, every_window: bool = False
) -> list[tuple[dt.datetime, dt.datetime]]:
    return [
        (dt.datetime.combine(day, start, tzinfo=zone), dt.datetime.combine(day, end, tzinfo=zone))
        for start, end in _walls(calendar, day, session_type_id, every_window=every_window)
    ]


def outside_hours(coach: User, stretches: Sequence[Stretch]) -> list[bool]:
    """For each stretch, whether it is outside ``coach``'s hours: not inside one window of
    its local day (windows don't cross midnight), or overlapping time off."""
    if not stretches:
        return []
    zone = ZoneInfo(coach.timezone)
    first = min(s.start for s in stretches).astimezone(zone).date() - ONE_DAY
    last = max(s.end for s in stretches).astimezone(zone).date() + ONE_DAY
    windows, overrides, time_off = availability_inputs(coach, first_day=first, last_day=last)
    calendar = engine._Calendar(
        windows=windows, overrides=overrides, session_type_id=None, anchor=first, first=first, last=last
    )
    # _Calendar keeps only the windows open to every type when asked for none; keep them all
    # and choose per stretch instead.
    calendar.weekly = [
        (window, engine._rrule_days(window, anchor=first, first=first, last=last) if window.rrule else None)
        for window in windows
    ]
    answers = []
    for stretch in stretches:
        start, end = stretch.start.astimezone(dt.UTC), stretch.end.astimezone(dt.UTC)
        day = start.astimezone(zone).date()
        inside = any(
            opens <= start and end <= closes
            for opens, closes in _open_ranges(calendar, day, zone, stretch.session_type_id)
        )
        away = any(absence.start < end and start < absence.end for absence in time_off)
        answers.append(not inside or away)
    return answers


def is_outside_hours(coach: User, start: dt.datetime, end: dt.datetime, session_type_id: int | None = None) -> bool:
    return outside_hours(coach, [Stretch(start, end, session_type_id)])[0]


def sessions_outside_hours(coach: User, *, now: dt.datetime) -> list[int]:
    """The ids of the coach's sessions still to come (booked or requested) that lie outside
    their hours, soonest first."""
    rows = list(
        Allocation.objects.filter(
            staff=coach,
            is_active=True,
            session__isnull=False,
            kind__in=[AllocationKind.SESSION, AllocationKind.REQUEST],
            start__gt=now,
            start__lt=now + LOOKAHEAD,
        )
        .order_by("start")
        .values_list("session_id", "start", "end", "session__session_type_id")
    )
    seen: dict[int, Stretch] = {}
    for session_id, start, end, type_id in rows:
        seen.setdefault(session_id, Stretch(start, end, type_id))
    ids = list(seen)
    flags = outside_hours(coach, [seen[pk] for pk in ids])
    return [pk for pk, outside in zip(ids, flags, strict=True) if outside]


def working_time(
    coach: User, first_day: dt.date, last_day: dt.date, inputs: Inputs | None = None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The coach's hours on their local days ``first_day``..``last_day`` as merged UTC
    intervals: each day's weekly windows (every window, whatever types it serves) or that
    day's own hours, less their time off. Wall-clock times become instants with
    ``zoneinfo``, so a DST change moves nothing the coach wrote (a 09:00–17:00 window is
    eight hours on the day the clocks change too). The reports' utilisation divides by it,
    reading many coaches' ``inputs`` at once (``availability_inputs_for``, covering these days)."""
    zone = ZoneInfo(coach.timezone)
    if inputs is None:
        inputs = availability_inputs(coach, first_day=first_day, last_day=last_day)
    windows, overrides, time_off = inputs
    calendar = engine._Calendar(
        windows=windows, overrides=overrides, session_type_id=None, anchor=first_day, first=first_day, last=last_day
    )
    calendar.weekly = [
        (
            window,
            engine._rrule_days(window, anchor=first_day, first=first_day, last=last_day) if window.rrule else None,
        )
        for window in windows
    ]
    # Without a rule (the usual case) a day's weekly hours depend only on its weekday and on
    # which windows are valid that day: worked out once per such pair, not once per day.
    ruled = any(window.rrule for window in windows)
    bounded = [window for window in windows if window.valid_from or window.valid_until]
    known: dict[tuple, Iterable[tuple[dt.time, dt.time]]] = {}
    found: list[tuple[dt.datetime, dt.datetime]] = []
    day = first_day
    while day <= last_day:
        if ruled or day in calendar.overrides:
            walls = _walls(calendar, day, None, every_window=True)
        else:
            key = (day.weekday(), *[_valid(window, day) for window in bounded])
            if key not in known:
                known[key] = _walls(calendar, day, None, every_window=True)
            walls = known[key]
        for start, end in walls:
            opens = dt.datetime.combine(day, start, tzinfo=zone)
            closes = dt.datetime.combine(day, end, tzinfo=zone)
            if opens < closes:
                found.append((opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)))
        day += ONE_DAY
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    away = sorted((absence.start, absence.end) for absence in time_off)
    result = []
    for start, end in merged:
        pieces = [(start, end)]
        for away_start, away_end in away:
            pieces = [
                piece
                for piece_start, piece_end in pieces
                for piece in ((piece_start, min(piece_end, away_start)), (max(piece_start, away_end), piece_end))
                if piece[0] < piece[1]
            ]
        result.extend(pieces)
    return result
