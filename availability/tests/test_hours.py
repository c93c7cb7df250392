"""Whether a stretch of time lies within a coach's hours (weekly windows, a day's own hours,
time off), and which sessions to come a change of hours leaves outside them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.tests.factories import CoachFactory
from availability import hours, services

pytestmark = pytest.mark.django_db

PARIS_WED = dt.date(2026, 12, 2)  # a Wednesday; Paris is UTC+1 in December


@pytest.fixture(autouse=True)
def before_that_wednesday():
    """The days the tests change are ahead: the clock stands on the Monday before."""
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC), tick=False):
        yield


def at(hour: int, minute: int = 0, day: dt.date = PARIS_WED) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC) - dt.timedelta(hours=1)


@pytest.fixture
def coach():
    coach = CoachFactory(timezone="Europe/Paris")
    services.set_day_windows(coach=coach, actor=coach, weekday=2, windows=[(dt.time(9), dt.time(12))])
    return coach


def test_inside_a_window_edges_included(coach):
    assert hours.outside_hours(
        coach,
        [
            hours.Stretch(at(9), at(10)),
            hours.Stretch(at(11), at(12)),
            hours.Stretch(at(3), at(4)),
            hours.Stretch(at(11, 30), at(12, 30)),
        ],
    ) == [False, False, True, True]


def test_a_day_off_an_own_hours_day_and_time_off(coach):
    assert not hours.is_outside_hours(coach, at(9), at(10))
    services.set_override(coach=coach, actor=coach, date=PARIS_WED, windows=[(dt.time(14), dt.time(16))], reason="")
    assert hours.is_outside_hours(coach, at(9), at(10))
    assert not hours.is_outside_hours(coach, at(14), at(15))
    services.set_override(coach=coach, actor=coach, date=PARIS_WED, windows=[], reason="Off")
    assert hours.is_outside_hours(coach, at(14), at(15))
    next_week = PARIS_WED + dt.timedelta(days=7)
    assert not hours.is_outside_hours(coach, at(9, day=next_week), at(10, day=next_week))
    services.add_time_off(coach=coach, actor=coach, start_date=next_week, end_date=next_week, reason="Away")
    assert hours.is_outside_hours(coach, at(9, day=next_week), at(10, day=next_week))


def test_nothing_asked_nothing_read(coach, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert hours.outside_hours(coach, []) == []
