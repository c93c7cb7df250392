"""free_slots against the database: a fixed number of queries whatever the range or the
history, the coach's rules applied, and days interpreted in the viewer's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import CoachFactory
from availability import selectors, services
from availability.models import Allocation, TimeOff

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Paris


@pytest.fixture
def coach(db):
    coach = CoachFactory(email="camille@example.com", timezone="Europe/Paris")
    profile = coach.coach_profile
    profile.minimum_notice_hours = 0
    profile.booking_window_days = 120
    profile.slot_step_minutes = 60
    profile.buffer_before_minutes = 0
    profile.buffer_after_minutes = 0
    profile.save()
    services.set_day_windows(coach=coach, actor=coach, weekday=0, windows=[(dt.time(9), dt.time(12))])
    services.set_day_windows(coach=coach, actor=coach, weekday=1, windows=[(dt.time(14), dt.time(16))])
    return coach


def slots(coach, start: dt.date, end: dt.date, *, viewer=PARIS, minutes: int = 60) -> list[dt.datetime]:
    with time_machine.travel(NOW, tick=False):
        found = selectors.free_slots(
            coach=coach, duration=dt.timedelta(minutes=minutes), start_date=start, end_date=end, viewer_tz=viewer
        )
    return [slot.start for slot in found]


def allocate(coach, start: dt.datetime, minutes: int = 60, **extra) -> Allocation:
    end = start + dt.timedelta(minutes=minutes)
    return Allocation.objects.create(staff=coach, start=start, end=end, blocked_start=start, blocked_end=end, **extra)


def test_weekly_windows_become_utc_slots(coach) -> None:
    assert slots(coach, dt.date(2026, 11, 23), dt.date(2026, 11, 24)) == [
        dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC),  # 09:00 Paris
        dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
    ]


def test_days_are_the_viewers_days(coach) -> None:
    """Tuesday in New York starts at 06:00 Paris time: Monday's Paris morning is not in it."""
    tuesday_new_york = slots(coach, dt.date(2026, 11, 24), dt.date(2026, 11, 24), viewer=NEW_YORK)
    assert [s.astimezone(NEW_YORK).strftime("%a %H:%M") for s in tuesday_new_york] == ["Tue 08:00", "Tue 09:00"]


def test_active_allocations_block_and_cancelled_ones_dont(coach) -> None:
    allocate(coach, dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    allocate(coach, dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC), is_active=False)
    assert slots(coach, dt.date(2026, 11, 23), dt.date(2026, 11, 23)) == [
        dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    ]


def test_buffers_from_the_coach_profile_apply(coach) -> None:
    coach.coach_profile.buffer_after_minutes = 15
    coach.coach_profile.save()
    start = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00–11:00 Paris, booked with the buffer
    Allocation.objects.create(
        staff=coach,
        start=start,
        end=start + dt.timedelta(hours=1),
        blocked_start=start,
        blocked_end=start + dt.timedelta(minutes=75),
    )
    # 09:00–10:00 would run into the session's 10:00 start plus its own 15-minute buffer,
    # 11:00–12:00 into the booked session's buffer: nothing is left that morning.
    assert slots(coach, dt.date(2026, 11, 23), dt.date(2026, 11, 23)) == []


def test_the_stored_blocked_range_is_what_blocks(coach) -> None:
    """A session booked before the coach added a buffer keeps the range it was booked with."""
    allocate(coach, dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # 10:00–11:00 Paris, no buffer
    coach.coach_profile.buffer_after_minutes = 15
    coach.coach_profile.save()
    # 09:00's own buffer runs into 10:00; 11:00 starts where the old session ends.
    assert slots(coach, dt.date(2026, 11, 23), dt.date(2026, 11, 23)) == [dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)]


def test_daily_limit_counts_sessions_outside_the_range(coach) -> None:
    coach.coach_profile.max_sessions_per_week = 1
    coach.coach_profile.save()
    allocate(coach, dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # Monday: the week is full
    assert slots(coach, dt.date(2026, 11, 24), dt.date(2026, 11, 24)) == []
    assert slots(coach, dt.date(2026, 11, 30), dt.date(2026, 11, 30)) != []


def test_time_off_and_overrides(coach) -> None:
    with time_machine.travel(NOW, tick=False):
        services.set_override(coach=coach, actor=coach, date=dt.date(2026, 11, 30), windows=[])
        services.set_override(coach=coach, actor=coach, date=dt.date(2026, 12, 5), windows=[(dt.time(10), dt.time(11))])
    TimeOff.objects.create(coach=coach, start_date=dt.date(2026, 12, 7), end_date=dt.date(2026, 12, 8))
    assert slots(coach, dt.date(2026, 11, 30), dt.date(2026, 11, 30)) == []
    assert slots(coach, dt.date(2026, 12, 5), dt.date(2026, 12, 5)) == [dt.datetime(2026, 12, 5, 9, 0, tzinfo=UTC)]
    assert slots(coach, dt.date(2026, 12, 7), dt.date(2026, 12, 8)) == []


def test_a_window_keeps_its_wall_clock_across_dst(db) -> None:
    coach = CoachFactory(email="marcus@example.com", timezone="America/New_York")
    coach.coach_profile.minimum_notice_hours = 0
    coach.coach_profile.booking_window_days = 200
    coach.coach_profile.slot_step_minutes = 60
    coach.coach_profile.save()
    services.set_day_windows(coach=coach, actor=coach, weekday=0, windows=[(dt.time(9), dt.time(10))])
    before = slots(coach, dt.date(2027, 3, 1), dt.date(2027, 3, 1), viewer=NEW_YORK)
    after = slots(coach, dt.date(2027, 3, 15), dt.date(2027, 3, 15), viewer=NEW_YORK)  # after 14 March
    assert before == [dt.datetime(2027, 3, 1, 14, 0, tzinfo=UTC)]
    assert after == [dt.datetime(2027, 3, 15, 13, 0, tzinfo=UTC)]


def queries_for(coach, days: int) -> int:
    fresh = User.objects.select_related("coach_profile").get(pk=coach.pk)
    with CaptureQueriesContext(connection) as captured:
        slots(fresh, dt.date(2026, 12, 1), dt.date(2026, 12, 1) + dt.timedelta(days=days - 1))
    return len(captured.captured_queries)


def test_query_count_is_fixed_whatever_the_range(coach, django_assert_num_queries) -> None:
    with time_machine.travel(NOW, tick=False):
        for day in (1, 15, 28):
            services.set_override(
                coach=coach, actor=coach, date=dt.date(2026, 12, day), windows=[(dt.time(9), dt.time(10))]
            )
    TimeOff.objects.create(coach=coach, start_date=dt.date(2026, 12, 20), end_date=dt.date(2026, 12, 24))
    for week in range(12):
        allocate(coach, dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC) + dt.timedelta(weeks=week))
    fresh = User.objects.select_related("coach_profile").get(pk=coach.pk)
    # windows, overrides and time off (one union), the overrides' hours, allocations; the
    # link to session types is read only when some window is limited to some types (one more)
    with django_assert_num_queries(3):
        slots(fresh, dt.date(2026, 12, 1), dt.date(2026, 12, 1))
    assert queries_for(coach, 1) == queries_for(coach, 31) == queries_for(coach, 93) == 3


def test_only_allocations_near_the_range_are_read(coach) -> None:
    """Years of history don't come back from the database: the query is bounded on both sides."""
    for week in range(1, 60):
        allocate(coach, dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC) - dt.timedelta(weeks=week))
    allocate(coach, dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    with CaptureQueriesContext(connection) as captured:
        found = slots(coach, dt.date(2026, 11, 23), dt.date(2026, 11, 23))
    assert dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC) not in found
    allocation_query = next(q["sql"] for q in captured.captured_queries if "bookings_allocation" in q["sql"])
    assert "blocked_start" in allocation_query
    week_start = dt.datetime(2026, 11, 16, tzinfo=PARIS)
    rows = selectors.busy_intervals(coach, start=week_start, end=week_start + dt.timedelta(days=21))
    assert len(rows) == 2  # last week's and this week's, not the 59 older ones
