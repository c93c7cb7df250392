"""Suggested times, without a database: the client's habits from seeded histories (across a
DST change too), the usual time ranked first, the nearest free times in order, and only
ever free slots (the slot engine's own output, run here over busy days and closed hours)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from availability.slots import BusyInterval, Slot, SlotRules, WeeklyWindow, free_slots
from availability.suggest import NEAREST, PATTERN, Habit, habits, rank

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)
# Monday 9 March 2026, 08:00 in Paris.
NOW = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def weekly(first: date, count: int, hour: int, minute: int = 0, zone: ZoneInfo = PARIS) -> list[datetime]:
    """``count`` weekly sessions at ``hour`` local, the last on ``first``, going back."""
    return [local(first - timedelta(weeks=n), hour, minute, zone) for n in range(count)]


def engine_slots(
    *,
    busy: list[tuple[datetime, datetime]] = (),
    days: int = 21,
    hours: tuple[int, int] = (9, 20),
    step: int = 60,
    weekdays: frozenset[int] = frozenset(range(7)),
    now: datetime = NOW,
    zone: ZoneInfo = PARIS,
) -> list[Slot]:
    """The slot engine's free 60-minute slots: every day ``hours`` local, ``busy`` taken,
    a ``days``-day booking window."""
    return free_slots(
        windows=[WeeklyWindow(weekdays=weekdays, start=time(hours[0]), end=time(hours[1]))],
        overrides=[],
        time_off=[],
        busy=[BusyInterval(start=start, end=end) for start, end in busy],
        rules=SlotRules(
            duration=HOUR,
            step=timedelta(minutes=step),
            minimum_notice=timedelta(0),
            booking_window=timedelta(days=days),
        ),
        zone=zone,
        range_start=now - timedelta(days=1),
        range_end=now + timedelta(days=days + 1),
        now=now,
    )


# ---------------------------------------------------------------------------------------
# Habits
# ---------------------------------------------------------------------------------------


def test_a_client_who_always_books_tuesday_evenings_has_that_habit() -> None:
    history = weekly(date(2026, 3, 3), 6, 18)
    assert habits(history, zone=PARIS, now=NOW) == [
        Habit(weekday=1, start=time(18), count=6, weight=habits(history, zone=PARIS, now=NOW)[0].weight)
    ]


def test_one_session_is_not_a_habit() -> None:
    assert habits([local(date(2026, 3, 3), 18)], zone=PARIS, now=NOW) == []


def test_times_within_the_tolerance_are_one_habit_at_the_most_frequent_time() -> None:
    history = [*weekly(date(2026, 3, 3), 4, 18), *weekly(date(2026, 2, 10), 2, 18, 30)]
    found = habits(history, zone=PARIS, now=NOW)
    assert [(h.weekday, h.start, h.count) for h in found] == [(1, time(18), 6)]


def test_two_weekdays_are_two_habits_strongest_first() -> None:
    history = [*weekly(date(2026, 3, 5), 2, 9), *weekly(date(2026, 3, 3), 5, 18)]
    found = habits(history, zone=PARIS, now=NOW)
    assert [(h.weekday, h.start, h.count) for h in found] == [(1, time(18), 5), (3, time(9), 2)]


def test_recent_sessions_weigh_more_than_old_ones() -> None:
    # Four Mondays at 09:00 more than a year ago; three Thursdays at 17:00 in the last month.
    old = weekly(date(2025, 1, 27), 4, 9)
    recent = weekly(date(2026, 3, 5), 3, 17)
    found = habits([*old, *recent], zone=PARIS, now=NOW)
    assert [(h.weekday, h.start) for h in found] == [(3, time(17)), (0, time(9))]
    assert found[0].weight > found[1].weight


def test_the_habit_keeps_its_local_hour_across_the_dst_change() -> None:
    # Tuesdays 18:00 in Paris: 17:00 UTC in winter, 16:00 UTC from 29 March.
    history = weekly(date(2026, 4, 14), 8, 18)
    assert {instant.hour for instant in history} == {16, 17}
    found = habits(history, zone=PARIS, now=datetime(2026, 4, 20, tzinfo=UTC))
    assert [(h.weekday, h.start, h.count) for h in found] == [(1, time(18), 8)]


# ---------------------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------------------


def test_the_usual_tuesday_evening_comes_first_when_free() -> None:
    history = weekly(date(2026, 3, 3), 6, 18)
    anchor = local(date(2026, 3, 12), 10)  # the client wanted Thursday 10:00
    found = rank(engine_slots(busy=[(anchor, anchor + HOUR)]), anchor=anchor, now=NOW, history=history, zone=PARIS)
    assert found[0].reason == PATTERN
    assert found[0].start == local(date(2026, 3, 10), 18)  # next Tuesday, 18:00
    assert found[0].habit.weekday == 1 and found[0].habit.start == time(18)
    # Then the nearest free times, taking turns with the following Tuesdays.
    assert [item.reason for item in found] == [PATTERN, NEAREST, PATTERN, NEAREST, PATTERN]
    assert found[1].start == local(date(2026, 3, 12), 9)  # an hour before the wanted time
    assert found[2].start == local(date(2026, 3, 17), 18)


def test_when_the_usual_time_is_taken_the_closest_time_that_evening_is_offered() -> None:
    history = weekly(date(2026, 3, 3), 6, 18)
    taken = local(date(2026, 3, 10), 18)
    anchor = local(date(2026, 3, 12), 10)
    found = rank(engine_slots(busy=[(taken, taken + HOUR)]), anchor=anchor, now=NOW, history=history, zone=PARIS)
    assert found[0].reason == PATTERN
    assert found[0].start == local(date(2026, 3, 10), 17)  # 19:00 is as close; earlier wins
    assert taken not in {item.start for item in found}


def test_the_pattern_keeps_the_local_hour_across_the_dst_change() -> None:
    # Winter history (17:00 UTC), suggestions after Paris moves to summer time.
    history = weekly(date(2026, 3, 24), 6, 18)
    now = datetime(2026, 3, 30, 7, tzinfo=UTC)
    anchor = local(date(2026, 4, 2), 10)
    found = rank(engine_slots(now=now), anchor=anchor, now=now, history=history, zone=PARIS)
    assert found[0].reason == PATTERN
    assert found[0].start == datetime(2026, 3, 31, 16, tzinfo=UTC)  # 18:00 in Paris, summer time
    assert found[0].start.astimezone(PARIS).hour == 18


def test_the_pattern_is_read_in_the_clients_zone() -> None:
    # A client in New York who books 12:00 their time: 18:00 in Paris in winter, but 17:00
    # in Paris between the American change (8 March) and the European one (29 March).
    history = weekly(date(2026, 3, 3), 4, 12, zone=NEW_YORK)
    anchor = local(date(2026, 3, 12), 10)
    found = rank(engine_slots(), anchor=anchor, now=NOW, history=history, zone=NEW_YORK)
    assert found[0].start == local(date(2026, 3, 10), 12, zone=NEW_YORK)
    assert found[0].start.astimezone(PARIS).hour == 17


def test_nearest_times_come_by_distance_from_the_anchor_earlier_first_on_a_tie() -> None:
    day = date(2026, 3, 10)
    slots = [Slot(local(day, hour), local(day, hour) + HOUR) for hour in (9, 10, 11, 13, 14, 16)]
    found = rank(slots, anchor=local(day, 12), now=NOW, zone=PARIS, limit=6)
    assert [item.start.astimezone(PARIS).hour for item in found] == [11, 13, 10, 14, 9, 16]
    assert {item.reason for item in found} == {NEAREST}


def test_the_anchor_itself_and_past_slots_are_never_suggested() -> None:
    day = date(2026, 3, 9)
    slots = [Slot(local(day, hour), local(day, hour) + HOUR) for hour in (6, 7, 9, 10)]
    found = rank(slots, anchor=local(day, 9), now=NOW, zone=PARIS)  # now is 08:00 in Paris
    assert [item.start.astimezone(PARIS).hour for item in found] == [10]


def test_suggestions_never_overlap_each_other() -> None:
    # A 15-minute step: 10:00, 10:15, 10:30 … all free; the list spreads out.
    anchor = local(date(2026, 3, 10), 12)
    found = rank(engine_slots(step=15, busy=[(anchor, anchor + HOUR)]), anchor=anchor, now=NOW, zone=PARIS)
    assert len(found) == 5
    for index, item in enumerate(found):
        for other in found[index + 1 :]:
            assert not (item.start < other.end and other.start < item.end)


def test_a_usual_time_that_is_also_the_nearest_is_listed_once() -> None:
    history = weekly(date(2026, 3, 3), 3, 18)
    anchor = local(date(2026, 3, 10), 17)
    found = rank(engine_slots(busy=[(anchor, anchor + HOUR)]), anchor=anchor, now=NOW, history=history, zone=PARIS)
    starts = [item.start for item in found]
    assert starts[0] == local(date(2026, 3, 10), 18) and found[0].reason == PATTERN
    assert len(starts) == len(set(starts))
    assert found[1].start == local(date(2026, 3, 10), 16)  # the nearest other than 18:00


def test_nothing_free_means_nothing_suggested_and_limits_hold() -> None:
    anchor = local(date(2026, 3, 10), 12)
    assert rank([], anchor=anchor, now=NOW, zone=PARIS) == []
    assert rank(engine_slots(), anchor=anchor, now=NOW, zone=PARIS, limit=0) == []
    assert len(rank(engine_slots(), anchor=anchor, now=NOW, zone=PARIS, limit=2)) == 2


def test_only_free_slots_are_suggested_busy_closed_past_and_beyond_the_window_are_not() -> None:
    history = weekly(date(2026, 3, 3), 6, 18)  # Tuesdays 18:00
    busy_tuesday = local(date(2026, 3, 10), 18)
    slots = engine_slots(
        busy=[(busy_tuesday, busy_tuesday + 2 * HOUR)],
        weekdays=frozenset({0, 1, 2, 3, 4}),  # closed at weekends
        days=10,  # the booking window ends Thursday 19 March
    )
    anchor = local(date(2026, 3, 14), 12)  # a Saturday: closed
    found = rank(slots, anchor=anchor, now=NOW, history=history, zone=PARIS, limit=8)
    free = set(slots)
    assert found and all(item.slot in free for item in found)
    for item in found:
        day = item.start.astimezone(PARIS)
        assert day.weekday() < 5 and item.start >= NOW and item.end <= NOW + timedelta(days=10)
        assert not (item.start < busy_tuesday + 2 * HOUR and busy_tuesday < item.end)
    # The busy Tuesday evening gives way to the next Tuesday's 18:00.
    assert local(date(2026, 3, 17), 18) in {item.start for item in found if item.reason == PATTERN}


SLOT_HOURS = st.lists(st.integers(min_value=0, max_value=24 * 20), min_size=0, max_size=60, unique=True)


@settings(max_examples=150, deadline=None)
@given(
    hours=SLOT_HOURS,
    history_hours=st.lists(st.integers(min_value=-24 * 400, max_value=24 * 20), max_size=30),
    anchor_hours=st.integers(min_value=-48, max_value=24 * 25),
    limit=st.integers(min_value=0, max_value=8),
)
def test_property_suggestions_are_free_future_distinct_and_at_most_limit(
    hours: list[int], history_hours: list[int], anchor_hours: int, limit: int
) -> None:
    slots = [Slot(NOW + h * HOUR, NOW + (h + 1) * HOUR) for h in hours]
    history = [NOW + h * HOUR for h in history_hours]
    anchor = NOW + anchor_hours * HOUR
    found = rank(slots, anchor=anchor, now=NOW, history=history, zone=PARIS, limit=limit)
    assert len(found) <= limit
    assert all(item.slot in set(slots) and item.start >= NOW and item.start != anchor for item in found)
    assert len({item.start for item in found}) == len(found)
    # As many as the limit whenever that many free slots (other than the anchor) exist.
    assert len(found) == min(limit, len([s for s in slots if s.start != anchor]))
    # Without a usual time, the list is the nearest slots in order.
    nearest = [item for item in found if item.reason == NEAREST]
    distances = [abs(item.start - anchor) for item in nearest]
    assert distances == sorted(distances)
