"""GET /api/v1/coaches/{id}/slots for one of the coach's session types (bookings.slots_api):
the type's length and rules, and the times already booked. The slots API's other cases,
which need no session type, are in availability/tests/test_api.py, with the same coach."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from accounts.tests.factories import CoachFactory
from availability import services
from availability.tests.test_api import NOW, error_of
from bookings import services as booking_services
from bookings.tests.factories import SessionTypeFactory


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(db):
    coach = CoachFactory(email="camille@example.com", name="Camille Laurent", timezone="Europe/Paris")
    profile = coach.coach_profile
    profile.minimum_notice_hours = 0
    profile.slot_step_minutes = 60
    profile.bio = "Career coach."
    profile.save()
    services.set_day_windows(coach=coach, actor=coach, weekday=1, windows=[(dt.time(9), dt.time(11))])
    return coach


def test_slots_for_a_session_type_use_its_length_and_rules(coach) -> None:
    long_type = SessionTypeFactory(coach=coach, duration_minutes=90)
    params = {"start": "2026-11-24", "end": "2026-11-24", "tz": "Europe/Paris"}
    body = Client().get(f"/api/v1/coaches/{coach.pk}/slots", {**params, "session_type": long_type.pk}).json()
    # Tuesday 09:00–11:00: only 09:00 leaves room for 90 minutes.
    assert body["slots"] == [{"start": "2026-11-24T09:00:00+01:00", "end": "2026-11-24T10:30:00+01:00"}]
    # The type's own notice (three days) leaves nothing on Tuesday; the coach's own (none) does.
    careful = SessionTypeFactory(coach=coach, duration_minutes=60, minimum_notice_hours=72)
    assert (
        Client().get(f"/api/v1/coaches/{coach.pk}/slots", {**params, "session_type": careful.pk}).json()["slots"] == []
    )
    assert len(Client().get(f"/api/v1/coaches/{coach.pk}/slots", {**params, "duration": 60}).json()["slots"]) == 2


def test_slots_leave_out_times_already_booked(coach, client_user) -> None:
    # No buffer after this type, so the booking at 09:00 leaves 10:00 free.
    st = SessionTypeFactory(coach=coach, duration_minutes=60, buffer_after_minutes=0)
    booking_services.book_slot(
        client=client_user, session_type=st, start=dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
    )
    params = {"start": "2026-11-24", "end": "2026-11-24", "tz": "Europe/Paris", "session_type": st.pk}
    body = Client().get(f"/api/v1/coaches/{coach.pk}/slots", params).json()
    assert [s["start"] for s in body["slots"]] == ["2026-11-24T10:00:00+01:00"]


def test_an_unknown_inactive_or_foreign_session_type_is_400(coach) -> None:
    inactive = SessionTypeFactory(coach=coach, is_active=False)
    foreign = SessionTypeFactory(coach=CoachFactory(email="other@example.com"))
    params = {"start": "2026-11-24", "end": "2026-11-24"}
    for type_id in (inactive.pk, foreign.pk, 99999):
        response = Client().get(f"/api/v1/coaches/{coach.pk}/slots", {**params, "session_type": type_id})
        assert error_of(response, 400)["code"] == "unknown_session_type"
    mine = SessionTypeFactory(coach=coach)
    both = Client().get(f"/api/v1/coaches/{coach.pk}/slots", {**params, "session_type": mine.pk, "duration": 60})
    assert error_of(both, 400)["code"] == "invalid"
    assert (
        error_of(Client().get(f"/api/v1/coaches/{coach.pk}/slots", {**params, "session_type": "x"}), 400)["code"]
        == "invalid"
    )
