"""free_slots for a session type (availability.selectors): windows kept for some types
serve only those. Uses the helpers of availability/tests/test_selectors.py, with the same coach."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.tests.factories import CoachFactory
from availability import selectors, services
from availability.tests.test_selectors import NOW, PARIS, UTC, queries_for, slots
from bookings.tests.factories import SessionTypeFactory


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


def test_windows_limited_to_a_session_type_serve_only_that_type(coach) -> None:
    """Monday's window is kept for one type: the other type and a bare duration get
    Tuesday only, and the links cost one query whatever the range."""
    kept = SessionTypeFactory(coach=coach, duration_minutes=60)
    other = SessionTypeFactory(coach=coach, duration_minutes=60)
    coach.availability_windows.get(weekday=0).session_types.add(kept)

    def starts(session_type) -> list[dt.datetime]:
        with time_machine.travel(NOW, tick=False):
            found = selectors.free_slots(
                coach=coach,
                session_type=session_type,
                start_date=dt.date(2026, 11, 23),
                end_date=dt.date(2026, 11, 24),
                viewer_tz=PARIS,
            )
        return [slot.start for slot in found]

    tuesday = [dt.datetime(2026, 11, 24, 13, 0, tzinfo=UTC), dt.datetime(2026, 11, 24, 14, 0, tzinfo=UTC)]
    assert starts(kept)[:3] == [
        dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    ]
    assert starts(other) == tuesday
    assert slots(coach, dt.date(2026, 11, 23), dt.date(2026, 11, 24)) == tuesday
    # windows, overrides and time off (one union; no override here), the windows' type links,
    # allocations
    assert queries_for(coach, 1) == queries_for(coach, 93) == 3
