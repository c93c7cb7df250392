"""Suggested times: from the free slots over a few weeks, the short list offered when a
chosen time is gone, a day is full or a request is declined.

Pure, like the slot engine: slots, instants and a zone in, plain values out, no ORM.
``bookings.suggestions`` loads the free slots (the slot engine, once over the window) and
the client's history with the coach (one query), then calls :func:`rank`.

How the list is ranked, in one place:

* **Candidates** are the free slots only (the slot engine already left out what is busy,
  outside the coach's hours, too soon or beyond the booking window); a slot that starts
  before ``now`` or exactly at the anchor (the declined time itself) is dropped too.
* **Nearest**: the candidates by their distance from the anchor (the time the client
  chose, or the declined request's time), earlier first on a tie.
* **Habits**: the client's past sessions with the coach (and those booked ahead), each
  as its weekday and wall-clock start in the client's zone — so a 18:00 session stays a
  18:00 habit across a DST change. Each session weighs ``0.5 ** (age / HALF_LIFE)``:
  a session ``HALF_LIFE`` (90 days) ago counts half as much as one today. A habit is a
  weekday and start time with at least ``MIN_HABIT_COUNT`` (2) sessions within
  ``TOLERANCE`` (an hour) of it on that weekday; the habit's weight is their summed
  weights. Habits are taken strongest first, each claiming its sessions, so "Tuesdays
  18:00" and "Thursdays 09:00" are two habits but 18:00 and 18:30 on Tuesdays are one.
* **Usual times**: for each habit, on each date of its weekday, the free slot closest to
  its time (within ``TOLERANCE``); those dates nearest the anchor first. Several habits
  take turns, strongest first.
* **The list** alternates a usual time and a nearest time, starting with the usual time,
  skipping any slot already listed or overlapping one listed, until ``limit``; when one
  kind runs out the other fills the rest. Each item says why it is there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import zip_longest
from zoneinfo import ZoneInfo

from availability.slots import Slot

__all__ = ["HALF_LIFE", "MIN_HABIT_COUNT", "NEAREST", "PATTERN", "TOLERANCE", "Habit", "Suggestion", "habits", "rank"]

NEAREST = "nearest"
PATTERN = "pattern"

TOLERANCE = timedelta(hours=1)
HALF_LIFE = timedelta(days=90)
MIN_HABIT_COUNT = 2
DEFAULT_LIMIT = 5


@dataclass(frozen=True)
class Habit:
    """A client's usual time with a coach: a weekday (0 = Monday) and a wall-clock start in
    the client's zone, how many sessions back it up and their recency-weighted sum."""

    weekday: int
    start: time
    count: int
    weight: float


@dataclass(frozen=True)
class Suggestion:
    """One suggested free slot and why: ``NEAREST`` (close to the anchor) or ``PATTERN``
    (the client's ``habit``)."""

    slot: Slot
    reason: str
    habit: Habit | None = None

    @property
    def start(self) -> datetime:
        return self.slot.start

    @property
    def end(self) -> datetime:
        return self.slot.end


def _minute_of_day(local: datetime) -> int:
    return local.hour * 60 + local.minute


def _weight(instant: datetime, now: datetime, half_life: timedelta) -> float:
    age = max(now - instant, timedelta(0))
    return 0.5 ** (age / half_life)


def habits(
    history: Iterable[datetime],
    *,
    zone: ZoneInfo,
    now: datetime,
    tolerance: timedelta = TOLERANCE,
    half_life: timedelta = HALF_LIFE,
    min_count: int = MIN_HABIT_COUNT,
) -> list[Habit]:
    """The client's habits from the starts of their sessions (UTC or any aware instants),
    strongest first. Times around midnight are not joined across days."""
    reach = tolerance / timedelta(minutes=1)
    remaining = []
    for instant in history:
        local = instant.astimezone(zone)
        remaining.append((local.weekday(), _minute_of_day(local), _weight(instant, now, half_life)))
    found: list[Habit] = []
    while remaining:
        best = None
        # Every remaining start is a possible centre; its support is the remaining starts on
        # its weekday within the tolerance. Strongest support first, then the most sessions
        # exactly at that time, then the earliest weekday and time (a stable answer).
        for weekday, minute, _ in remaining:
            support = [entry for entry in remaining if entry[0] == weekday and abs(entry[1] - minute) <= reach]
            exact = sum(entry[2] for entry in support if entry[1] == minute)
            key = (-sum(entry[2] for entry in support), -exact, weekday, minute)
            if best is None or key < best[0]:
                best = (key, weekday, minute, support)
        key, weekday, minute, support = best
        if len(support) < min_count:
            break
        found.append(Habit(weekday=weekday, start=time(minute // 60, minute % 60), count=len(support), weight=-key[0]))
        remaining = [entry for entry in remaining if entry not in support]
    return found


def _usual_times(
    candidates: Sequence[tuple[Slot, datetime]], habit: Habit, *, anchor: datetime, reach: float
) -> list[Slot]:
    """The free slot closest to ``habit``'s time on each date of its weekday, dates nearest
    ``anchor`` first; ``candidates`` are (slot, its start in the client's zone)."""
    target = habit.start.hour * 60 + habit.start.minute
    per_date: dict = {}
    for slot, local in candidates:
        if local.weekday() != habit.weekday:
            continue
        off = abs(_minute_of_day(local) - target)
        if off > reach:
            continue
        best = per_date.get(local.date())
        if best is None or (off, slot.start) < best[0]:
            per_date[local.date()] = ((off, slot.start), slot)
    chosen = [slot for _, slot in per_date.values()]
    return sorted(chosen, key=lambda slot: (abs(slot.start - anchor), slot.start))


def rank(
    slots: Iterable[Slot],
    *,
    anchor: datetime,
    now: datetime,
    history: Iterable[datetime] = (),
    zone: ZoneInfo,
    limit: int = DEFAULT_LIMIT,
    tolerance: timedelta = TOLERANCE,
    half_life: timedelta = HALF_LIFE,
    exclude: Iterable[datetime] = (),
) -> list[Suggestion]:
    """At most ``limit`` of ``slots`` (free slots, as the slot engine gives them) to offer
    instead of ``anchor``, best first: the client's usual times (their ``history`` of
    session starts read in ``zone``, the client's) and the times nearest ``anchor``, taking
    turns; a slot starting at one of ``exclude`` (the time a booking being moved holds) is
    left out like the anchor. See the module's docstring for the whole rule."""
    if limit <= 0:
        return []
    left_out = {anchor, *exclude}
    candidates = sorted({slot for slot in slots if slot.start >= now and slot.start not in left_out})
    if not candidates:
        return []
    reach = tolerance / timedelta(minutes=1)
    found = habits(history, zone=zone, now=now, tolerance=tolerance, half_life=half_life)
    in_zone = [(slot, slot.start.astimezone(zone)) for slot in candidates] if found else []
    per_habit = [
        [
            Suggestion(slot=slot, reason=PATTERN, habit=habit)
            for slot in _usual_times(in_zone, habit, anchor=anchor, reach=reach)
        ]
        for habit in found
    ]
    # The habits take turns: each one's nearest date, then each one's next, and so on.
    usual = [item for turn in zip_longest(*per_habit) for item in turn if item is not None]
    nearest = (
        Suggestion(slot=slot, reason=NEAREST)
        for slot in sorted(candidates, key=lambda slot: (abs(slot.start - anchor), slot.start))
    )
    chosen: list[Suggestion] = []

    def next_fit(source: Iterator[Suggestion]) -> Suggestion | None:
        # The source's next item that is neither listed nor overlapping a listed one.
        for item in source:
            if not any(item.start < other.end and other.start < item.end for other in chosen):
                return item
        return None

    # A usual time, then a nearest time, in turn; when one kind runs out the other fills.
    sources = [iter(usual), nearest]
    while sources and len(chosen) < limit:
        for source in list(sources):
            if len(chosen) >= limit:
                break
            item = next_fit(source)
            if item is None:
                sources.remove(source)
            else:
                chosen.append(item)
    return chosen
