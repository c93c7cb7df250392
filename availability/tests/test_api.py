"""The availability API: coaches, free slots, a coach's availability and booking settings."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from accounts.models import CalendarVisibility, ConnectionStatus
from accounts.services import create_api_token
from accounts.tests.factories import ClientFactory, CoachFactory, ConnectionFactory
from availability import services
from availability.models import AvailabilityWindow, DateOverride

NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)  # Monday


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


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


def test_coach_list_respects_calendar_visibility(coach, client_user) -> None:
    hidden = CoachFactory(email="hidden@example.com")
    hidden.coach_profile.calendar_visibility = CalendarVisibility.PRIVATE
    hidden.coach_profile.save()
    connected_only = CoachFactory(email="connected@example.com")
    connected_only.coach_profile.calendar_visibility = CalendarVisibility.CONNECTED
    connected_only.coach_profile.save()

    visitor = Client().get("/api/v1/coaches").json()
    assert [c["id"] for c in visitor] == [coach.pk]
    assert visitor[0] == {
        "id": coach.pk,
        "name": "Camille Laurent",
        "timezone": "Europe/Paris",
        "bio": "Career coach.",
        "subjects": [],
    }

    ConnectionFactory(client=client_user, coach=connected_only, status=ConnectionStatus.ACCEPTED)
    ids = {c["id"] for c in logged_in(client_user).get("/api/v1/coaches").json()}
    assert ids == {coach.pk, connected_only.pk}


def test_slots_in_the_requested_zone(coach, client_user) -> None:
    response = logged_in(client_user).get(
        f"/api/v1/coaches/{coach.pk}/slots",
        {"start": "2026-11-24", "end": "2026-11-24", "duration": 60, "tz": "America/New_York"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "coach": coach.pk,
        "timezone": "America/New_York",
        "slots": [
            {"start": "2026-11-24T03:00:00-05:00", "end": "2026-11-24T04:00:00-05:00"},
            {"start": "2026-11-24T04:00:00-05:00", "end": "2026-11-24T05:00:00-05:00"},
        ],
    }


def test_slots_default_to_the_viewers_zone_and_accept_a_token(coach) -> None:
    viewer = ClientFactory(email="kolkata@example.com", timezone="Asia/Kolkata")
    _, token = create_api_token(user=viewer, name="script")
    response = Client().get(
        f"/api/v1/coaches/{coach.pk}/slots",
        {"start": "2026-11-24", "end": "2026-11-24", "duration": 60},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    body = response.json()
    assert body["timezone"] == "Asia/Kolkata"
    assert body["slots"][0]["start"] == "2026-11-24T13:30:00+05:30"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "2026-11-24", "end": "2026-11-23", "duration": 60}, "invalid_range"),
        ({"start": "2026-11-01", "end": "2027-02-02", "duration": 60}, "range_too_long"),
        ({"start": "2026-11-24", "end": "2026-11-24", "duration": 60, "tz": "Mars/Olympus"}, "invalid_timezone"),
        ({"start": "2026-02-30", "end": "2026-03-01", "duration": 60}, "invalid"),
        ({"start": "tomorrow", "end": "2026-03-01", "duration": 60}, "invalid"),
        ({"start": "2026-11-24", "end": "2026-11-24"}, "duration_required"),
        ({"start": "2026-11-24", "end": "2026-11-24", "duration": 0}, "invalid"),
        ({"end": "2026-11-24", "duration": 60}, "invalid"),
    ],
)
def test_bad_slot_queries_are_400_json(coach, params, code) -> None:
    assert error_of(Client().get(f"/api/v1/coaches/{coach.pk}/slots", params), 400)["code"] == code


def test_93_days_is_the_longest_range(coach) -> None:
    params = {"start": "2026-11-24", "end": "2027-02-24", "duration": 60}
    assert Client().get(f"/api/v1/coaches/{coach.pk}/slots", params).status_code == 200


def test_invisible_or_unknown_coach_is_404(coach, client_user) -> None:
    coach.coach_profile.calendar_visibility = CalendarVisibility.PRIVATE
    coach.coach_profile.save()
    params = {"start": "2026-11-24", "end": "2026-11-24", "duration": 60}
    assert error_of(logged_in(client_user).get(f"/api/v1/coaches/{coach.pk}/slots", params), 404)["code"] == "not_found"
    assert error_of(Client().get(f"/api/v1/coaches/{client_user.pk}/slots", params), 404)
    assert error_of(Client().get("/api/v1/coaches/99999/slots", params), 404)


def test_a_bad_token_is_401_even_on_open_endpoints(coach) -> None:
    response = Client().get("/api/v1/coaches", HTTP_AUTHORIZATION="Bearer bk_forged")
    assert error_of(response, 401)["code"] == "unauthenticated"


AVAILABILITY = {
    "timezone": "Europe/Paris",
    "weekly": [{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 0, "start": "13:00", "end": "17:00"}],
    "overrides": [
        {"date": "2026-12-24", "windows": []},
        {"date": "2026-12-27", "windows": [{"start": "10:00", "end": "14:00"}]},
    ],
}


def put(http: Client, body: dict):
    return http.put("/api/v1/availability", json.dumps(body), content_type="application/json")


def test_put_replaces_the_whole_set_and_get_returns_it(coach) -> None:
    http = logged_in(coach)
    response = put(http, AVAILABILITY)
    assert response.status_code == 200
    # A client that sends only weekday, start and end gets windows with the defaults: every
    # week, no dates, every session type, firm booking allowed.
    defaults = {"rrule": None, "valid_from": None, "valid_until": None, "session_types": [], "allow_firm_booking": True}
    ids = list(AvailabilityWindow.objects.filter(coach=coach).order_by("start").values_list("pk", flat=True))
    expected = {
        "timezone": "Europe/Paris",
        "weekly": [
            {"id": ids[0], "weekday": 0, "start": "09:00", "end": "12:00", **defaults},
            {"id": ids[1], "weekday": 0, "start": "13:00", "end": "17:00", **defaults},
        ],
        "overrides": [
            {"date": "2026-12-24", "windows": [], "reason": ""},
            {"date": "2026-12-27", "windows": [{"start": "10:00", "end": "14:00"}], "reason": ""},
        ],
    }
    assert response.json() == expected
    assert http.get("/api/v1/availability").json() == expected
    assert not AvailabilityWindow.objects.filter(coach=coach, weekday=1).exists()  # Tuesday replaced


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {
                "weekly": [
                    {"weekday": 0, "start": "09:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "13:00"},
                ]
            },
            "windows_overlap",
        ),
        ({"weekly": [{"weekday": 2, "start": "12:00", "end": "09:00"}]}, "window_end_before_start"),
        ({"weekly": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "invalid"),
        ({"weekly": [{"weekday": 1, "start": "9h", "end": "10:00"}]}, "invalid"),
        ({"overrides": [{"date": "2026-11-01", "windows": []}]}, "date_in_past"),
        (
            {"overrides": [{"date": "2026-12-24", "windows": []}, {"date": "2026-12-24", "windows": []}]},
            "duplicate_override",
        ),
        ({"timezone": "Europe/Atlantis"}, "invalid_timezone"),
    ],
)
def test_put_is_all_or_nothing(coach, change, code) -> None:
    http = logged_in(coach)
    before = http.get("/api/v1/availability").json()
    assert error_of(put(http, {**AVAILABILITY, **change}), 400)["code"] == code
    assert http.get("/api/v1/availability").json() == before
    assert not DateOverride.objects.filter(coach=coach).exists()


def test_put_can_move_the_coach_to_another_zone(coach) -> None:
    body = put(logged_in(coach), {**AVAILABILITY, "timezone": "America/New_York"}).json()
    assert body["timezone"] == "America/New_York"
    coach.refresh_from_db()
    assert coach.timezone == "America/New_York"


@pytest.mark.parametrize("role", ["client", "staff"])
def test_only_coaches_have_availability_endpoints(role, users_by_role) -> None:
    http = logged_in(users_by_role[role])
    assert error_of(http.get("/api/v1/availability"), 403)["code"] == "not_a_coach"
    assert error_of(put(http, AVAILABILITY), 403)["code"] == "not_a_coach"
    assert error_of(http.get("/api/v1/coach/settings"), 403)["code"] == "not_a_coach"


def test_availability_needs_authentication(db) -> None:
    assert error_of(Client().get("/api/v1/availability"), 401)["code"] == "unauthenticated"
    assert error_of(Client().get("/api/v1/coach/settings"), 401)["code"] == "unauthenticated"


def patch(http: Client, body: dict):
    return http.patch("/api/v1/coach/settings", json.dumps(body), content_type="application/json")


def test_coach_settings_get_and_patch(coach) -> None:
    http = logged_in(coach)
    settings = http.get("/api/v1/coach/settings").json()
    assert settings["slot_step_minutes"] == 60
    assert settings["booking_window_days"] == 7
    changed = patch(http, {"booking_window_days": 30, "calendar_visibility": "connected", "buffer_after_minutes": 10})
    assert changed.status_code == 200
    assert changed.json() == {
        **settings,
        "booking_window_days": 30,
        "calendar_visibility": "connected",
        "buffer_after_minutes": 10,
    }
    coach.coach_profile.refresh_from_db()
    assert coach.coach_profile.booking_window_days == 30
    assert patch(http, {"connected_discount_percent": 15}).json()["connected_discount_percent"] == 15


@pytest.mark.parametrize(
    "body",
    [
        {"calendar_visibility": "everyone"},
        {"max_sessions_per_day": 0},
        {"max_sessions_per_day": 10, "max_sessions_per_week": 5},
        {"slot_step_minutes": None},
        {"booking_window_days": "soon"},
        {"max_sessions_per_day": 100},
        {"connected_discount_percent": 101},
        {"connected_discount_percent": -5},
    ],
)
def test_bad_settings_are_400_and_change_nothing(coach, body) -> None:
    http = logged_in(coach)
    before = http.get("/api/v1/coach/settings").json()
    error = error_of(patch(http, body), 400)
    assert error["message"]
    assert http.get("/api/v1/coach/settings").json() == before
