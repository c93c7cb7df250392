"""The series API (issue 17, point 6): preview, book all-or-nothing or skipping, read,
cancel, move, retime, one decision, and every bad input a 4xx in the one error shape.

Time is frozen on Saturday 20 February 2027, 12:00 UTC. The coach works in New York from
08:00 to 18:00 every day; the series starts on Tuesday 23 February at 10:00 there.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory, make_token
from bookings import services
from bookings.models import Booking, BookingStatus, Series
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)


def tuesday_10(weeks: int = 0) -> dt.datetime:
    return dt.datetime(2027, 2, 23, 10, 0, tzinfo=NY) + dt.timedelta(weeks=weeks)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(db):
    return open_coach(timezone="America/New_York", hours=(8, 18), booking_window_days=21)


@pytest.fixture
def session_type(coach):
    return SessionTypeFactory(coach=coach, duration_minutes=60)


def connected_client(coach, **kwargs):
    client = ClientFactory(**kwargs)
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    return client


@pytest.fixture
def client_user(coach):
    return connected_client(coach, timezone="Europe/Paris")


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def post(http: Client, url: str, body: object = None, **headers):
    data = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
    return http.post(url, data, content_type="application/json", **headers)


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@functools.cache
def error_codes() -> frozenset[str]:
    """The codes the API's schema lists (``ErrorDetail.code``)."""
    schema = Client().get("/api/v1/openapi.json").json()
    return frozenset(schema["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"])


def error_of(response, status: int) -> dict:
    """The error of an answer, checked against the API's one error shape."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] in error_codes() and error["message"]
    return error


def body_for(coach, session_type, **extra) -> dict:
    return {"coach": coach.pk, "session_type": session_type.pk, "start": tuesday_10().isoformat(), **extra}


def take(coach, session_type, start: dt.datetime) -> None:
    """Another client books ``start``."""
    services.book_slot(client=connected_client(coach), session_type=session_type, start=start)


def book(http, coach, session_type, **extra):
    return post(http, "/api/v1/series", body_for(coach, session_type, **extra))


# --- booking ----------------------------------------------------------------------------


def test_a_series_is_created_with_its_occurrences(coach, session_type, client_user) -> None:
    response = book(logged_in(client_user), coach, session_type, count=4, notes="Knee")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "rrule", "description", "timezone", "occurrences"}
    assert body["rrule"].startswith("FREQ=WEEKLY") and "COUNT=4" in body["rrule"]
    assert "4 of 4 left" in body["description"]
    assert body["timezone"] == "Europe/Paris"
    starts = [instant(o["start"]) for o in body["occurrences"]]
    assert starts == [tuesday_10(week) for week in range(4)]
    assert {o["status"] for o in body["occurrences"]} == {BookingStatus.FIRM_BOOKED}
    references = [o["reference"] for o in body["occurrences"]]
    series = Series.objects.get(pk=body["id"])
    stored = Booking.objects.filter(series=series).order_by("session__start")
    assert references == [b.reference for b in stored]
    assert {b.client_notes for b in stored} == {"Knee"}
    assert all(o["code"] is None for o in body["occurrences"])


def test_all_or_nothing_refuses_with_the_single_booking_code_and_writes_nothing(
    coach, session_type, client_user
) -> None:
    take(coach, session_type, tuesday_10(2))
    error = error_of(book(logged_in(client_user), coach, session_type, count=4), 409)
    assert error["code"] == "slot_taken"
    assert "9 Mar 2027" in error["message"]
    assert not Series.objects.exists()
    assert not Booking.objects.filter(client=client_user).exists()


def test_skip_books_the_free_ones_and_lists_the_skipped_one(coach, session_type, client_user) -> None:
    take(coach, session_type, tuesday_10(2))
    response = book(logged_in(client_user), coach, session_type, count=4, on_conflict="skip")
    assert response.status_code == 201, response.content
    occurrences = response.json()["occurrences"]
    skipped = [o for o in occurrences if o["status"] == "skipped"]
    assert len(skipped) == 1
    assert instant(skipped[0]["start"]) == tuesday_10(2)
    assert skipped[0]["code"] == "slot_taken" and skipped[0]["reference"] is None and skipped[0]["message"]
    assert Booking.objects.filter(client=client_user, series_id=response.json()["id"]).count() == 3


def test_a_move_books_a_refused_date_at_the_suggested_time(coach, session_type, client_user) -> None:
    take(coach, session_type, tuesday_10(2))
    moved = dt.datetime(2027, 3, 9, 11, 0, tzinfo=NY)
    moves = [{"from": tuesday_10(2).isoformat(), "to": moved.isoformat()}]
    response = book(logged_in(client_user), coach, session_type, count=4, moves=moves)
    assert response.status_code == 201, response.content
    starts = [instant(o["start"]) for o in response.json()["occurrences"]]
    assert moved in starts and tuesday_10(2) not in starts and len(starts) == 4


def test_a_repeated_idempotency_key_answers_the_first_series_again(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    body = body_for(coach, session_type, count=3)
    first = post(http, "/api/v1/series", body, HTTP_IDEMPOTENCY_KEY="series-1")
    again = post(http, "/api/v1/series", body, HTTP_IDEMPOTENCY_KEY="series-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Series.objects.count() == 1


def test_a_series_for_someone_the_caller_may_not_book_for_is_404(coach, session_type, client_user) -> None:
    stranger = connected_client(coach)
    error = error_of(book(logged_in(client_user), coach, session_type, count=2, client=stranger.pk), 404)
    assert error["code"] == "not_found"
    assert not Series.objects.exists()


def test_a_coach_books_a_series_for_a_connected_client(coach, session_type, client_user) -> None:
    response = book(logged_in(coach), coach, session_type, count=2, client=client_user.pk)
    assert response.status_code == 201, response.content
    series = Series.objects.get(pk=response.json()["id"])
    assert (series.client_id, series.booked_by_id) == (client_user.pk, coach.pk)


# --- preview ----------------------------------------------------------------------------


def test_the_preview_gives_each_verdict_with_a_suggestion_and_books_nothing(coach, session_type, client_user) -> None:
    take(coach, session_type, tuesday_10(2))
    response = post(logged_in(client_user), "/api/v1/series/preview", body_for(coach, session_type, count=4))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["needs_approval"] is False and body["request_reasons"] == []
    assert [o["status"] for o in body["occurrences"]] == ["free", "free", "refused", "free"]
    refused = body["occurrences"][2]
    assert refused["code"] == "slot_taken" and refused["message"]
    suggestion = instant(refused["suggestion"]).astimezone(NY)
    assert suggestion.date() == dt.date(2027, 3, 9) and suggestion.hour in (9, 11)
    assert all(o["code"] is None and o["suggestion"] is None for o in body["occurrences"] if o["status"] == "free")
    assert not Series.objects.exists() and not Booking.objects.filter(client=client_user).exists()


def test_the_preview_says_when_the_coach_approves_series(coach, session_type, client_user) -> None:
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    body = post(logged_in(client_user), "/api/v1/series/preview", body_for(coach, session_type, count=2)).json()
    assert body["needs_approval"] is True and "series_needs_approval" in body["request_reasons"]


def test_an_rrule_a_nested_repeat_and_the_flat_fields_give_the_same_dates(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    bodies = [
        body_for(coach, session_type, frequency="weekly", count=3),
        body_for(coach, session_type, rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3"),
        body_for(coach, session_type, repeat={"frequency": "weekly", "count": 3}),
        body_for(coach, session_type, repeat={"rrule": "RRULE:FREQ=WEEKLY;COUNT=3"}),
    ]
    dates = []
    for body in bodies:
        response = post(http, "/api/v1/series/preview", body)
        assert response.status_code == 200, (body, response.content)
        dates.append([instant(o["start"]) for o in response.json()["occurrences"]])
    assert dates == [[tuesday_10(week) for week in range(3)]] * 4
    biweekly = post(http, "/api/v1/series/preview", body_for(coach, session_type, frequency="biweekly", count=2))
    assert [instant(o["start"]) for o in biweekly.json()["occurrences"]] == [tuesday_10(0), tuesday_10(2)]


# --- reading ----------------------------------------------------------------------------


def test_a_series_is_seen_by_its_client_and_coach_only(coach, session_type, client_user) -> None:
    series_id = book(logged_in(client_user), coach, session_type, count=3).json()["id"]
    body = logged_in(client_user).get(f"/api/v1/series/{series_id}").json()
    assert body["id"] == series_id and body["client"] == client_user.pk and body["coach"] == coach.pk
    assert (body["frequency"], body["timezone"], body["local_time"]) == ("weekly", "America/New_York", "10:00")
    assert "COUNT=3" in body["rrule"] and body["description"] and body["exceptions"] == []
    assert [instant(o["start"]) for o in body["occurrences"]] == [tuesday_10(week) for week in range(3)]
    assert all(o["reference"].startswith("BK-") for o in body["occurrences"])
    coach_view = Client().get(f"/api/v1/series/{series_id}", HTTP_AUTHORIZATION=f"Bearer {make_token(coach)[1]}")
    assert coach_view.status_code == 200
    other = connected_client(coach)
    assert error_of(logged_in(other).get(f"/api/v1/series/{series_id}"), 404)["code"] == "not_found"
    assert error_of(logged_in(client_user).get(f"/api/v1/series/{series_id + 1000}"), 404)["code"] == "not_found"
    assert error_of(Client().get(f"/api/v1/series/{series_id}"), 401)["code"] == "unauthenticated"
    # Another client can't change it either: it is not theirs to see.
    cancel = post(logged_in(other), f"/api/v1/series/{series_id}/cancel", {"scope": "all"})
    assert error_of(cancel, 404)["code"] == "not_found"
    assert not Booking.objects.filter(series_id=series_id, status=BookingStatus.CANCELLED).exists()


# --- changes ----------------------------------------------------------------------------


def test_cancel_this_and_the_following(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    series_id = book(http, coach, session_type, count=5).json()["id"]
    response = post(
        http, f"/api/v1/series/{series_id}/cancel", {"scope": "following", "start": tuesday_10(3).isoformat()}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [o["status"] for o in body["occurrences"]] == [BookingStatus.FIRM_BOOKED] * 3 + [BookingStatus.CANCELLED] * 2
    assert body["exceptions"][-1]["kind"] == "cancelled_following"
    assert "3 of 5 left" in body["description"]


def test_cancel_needs_a_start_that_is_an_occurrence(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    series_id = book(http, coach, session_type, count=2).json()["id"]
    assert error_of(post(http, f"/api/v1/series/{series_id}/cancel", {"scope": "one"}), 400)["code"] == "invalid"
    missing = {"scope": "one", "start": (tuesday_10() + dt.timedelta(hours=1)).isoformat()}
    assert error_of(post(http, f"/api/v1/series/{series_id}/cancel", missing), 404)["code"] == "not_found"
    assert error_of(post(http, f"/api/v1/series/{series_id}/cancel", {"scope": "some"}), 400)["code"] == "invalid"
    assert not Booking.objects.filter(series_id=series_id, status=BookingStatus.CANCELLED).exists()


def test_move_one_occurrence(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    series_id = book(http, coach, session_type, count=3).json()["id"]
    new_start = tuesday_10(1) + dt.timedelta(hours=3)
    response = post(
        http,
        f"/api/v1/series/{series_id}/move",
        {"start": tuesday_10(1).isoformat(), "new_start": new_start.isoformat()},
    )
    assert response.status_code == 200, response.content
    moved = response.json()
    assert instant(moved["start"]) == new_start and moved["reference"].startswith("BK-")
    starts = [
        instant(o["start"]) for o in logged_in(client_user).get(f"/api/v1/series/{series_id}").json()["occurrences"]
    ]
    assert new_start in starts and tuesday_10(1) not in starts
    assert Series.objects.get(pk=series_id).exceptions[-1]["kind"] == "moved"


def test_move_onto_a_taken_time_is_refused_with_its_code(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    series_id = book(http, coach, session_type, count=2).json()["id"]
    take(coach, session_type, tuesday_10(1) + dt.timedelta(hours=2))
    response = post(
        http,
        f"/api/v1/series/{series_id}/move",
        {"start": tuesday_10(1).isoformat(), "new_start": (tuesday_10(1) + dt.timedelta(hours=2)).isoformat()},
    )
    assert error_of(response, 409)["code"] == "slot_taken"
    assert Booking.objects.get(series_id=series_id, session__start=tuesday_10(1)).status == BookingStatus.FIRM_BOOKED


def test_retime_the_following(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    series_id = book(http, coach, session_type, count=4).json()["id"]
    new_start = dt.datetime.combine(tuesday_10(2).date(), dt.time(14), tzinfo=NY)
    response = post(
        http,
        f"/api/v1/series/{series_id}/retime",
        {"start": tuesday_10(2).isoformat(), "new_start": new_start.isoformat()},
    )
    assert response.status_code == 200, response.content
    hours = [instant(o["start"]).astimezone(NY).hour for o in response.json()["occurrences"]]
    assert hours == [10, 10, 14, 14]


def test_the_coach_approves_the_series_once(coach, session_type, client_user) -> None:
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    series_id = book(logged_in(client_user), coach, session_type, count=3).json()["id"]
    assert set(Booking.objects.filter(series_id=series_id).values_list("status", flat=True)) == {
        BookingStatus.REQUESTED
    }
    assert error_of(post(logged_in(client_user), f"/api/v1/series/{series_id}/approve"), 403)["code"] == "forbidden"
    response = post(logged_in(coach), f"/api/v1/series/{series_id}/approve", {"note": "See you"})
    assert response.status_code == 200, response.content
    assert {o["status"] for o in response.json()["occurrences"]} == {BookingStatus.CONFIRMED}
    again = post(logged_in(coach), f"/api/v1/series/{series_id}/approve")
    assert error_of(again, 409)["code"] == "invalid_transition"


def test_the_coach_declines_the_series_with_a_reason(coach, session_type, client_user) -> None:
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    series_id = book(logged_in(client_user), coach, session_type, count=2).json()["id"]
    http = logged_in(coach)
    for body in ({}, {"reason": "  "}):
        assert error_of(post(http, f"/api/v1/series/{series_id}/decline", body), 400)["code"] == "reason_required"
    response = post(http, f"/api/v1/series/{series_id}/decline", {"reason": "I'm away in March"})
    assert response.status_code == 200, response.content
    assert {o["status"] for o in response.json()["occurrences"]} == {BookingStatus.DECLINED}


def thursday_14(weeks: int = 0) -> dt.datetime:
    return dt.datetime(2027, 2, 25, 14, 0, tzinfo=NY) + dt.timedelta(weeks=weeks)


def requested_series(coach, session_type, client_user, count: int = 3) -> int:
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    response = book(logged_in(client_user), coach, session_type, count=count)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def nothing_suggested(series_id: int) -> bool:
    return not any(Booking.objects.filter(series_id=series_id).values_list("suggested_alternatives", flat=True))


def test_the_coach_suggests_another_time_and_the_client_accepts_it_for_all(coach, session_type, client_user) -> None:
    series_id = requested_series(coach, session_type, client_user)
    url = f"/api/v1/series/{series_id}"
    assert {o["suggested_start"] for o in logged_in(client_user).get(url).json()["occurrences"]} == {None}
    response = post(logged_in(coach), f"{url}/suggest", {"new_start": thursday_14().isoformat(), "note": "Thursdays?"})
    assert response.status_code == 200, response.content
    suggested = [instant(o["suggested_start"]) for o in response.json()["occurrences"]]
    assert suggested == [thursday_14(weeks) for weeks in range(3)]
    assert {o["status"] for o in response.json()["occurrences"]} == {BookingStatus.REQUESTED}
    seen = logged_in(client_user).get(url).json()["occurrences"]
    assert [o["suggested_start"] for o in seen] == [
        thursday_14(weeks).astimezone(ZoneInfo("Europe/Paris")).isoformat() for weeks in range(3)
    ]
    response = post(logged_in(client_user), f"{url}/accept-time")
    assert response.status_code == 200, response.content
    occurrences = response.json()["occurrences"]
    assert [(instant(o["start"]), o["status"], o["suggested_start"]) for o in occurrences] == [
        (thursday_14(weeks), BookingStatus.CONFIRMED, None) for weeks in range(3)
    ]
    assert error_of(post(logged_in(client_user), f"{url}/accept-time"), 409)["code"] == "invalid_transition"


def test_the_client_declines_the_suggested_time_and_the_series_request_is_withdrawn(
    coach, session_type, client_user
) -> None:
    series_id = requested_series(coach, session_type, client_user, count=2)
    url = f"/api/v1/series/{series_id}"
    nothing_yet = post(logged_in(client_user), f"{url}/decline-time", {"note": "No"})
    assert error_of(nothing_yet, 409)["code"] == "invalid_transition"
    assert post(logged_in(coach), f"{url}/suggest", {"new_start": thursday_14().isoformat()}).status_code == 200
    response = post(logged_in(client_user), f"{url}/decline-time", {"note": "Thursdays don't work for me."})
    assert response.status_code == 200, response.content
    assert {o["status"] for o in response.json()["occurrences"]} == {BookingStatus.CANCELLED}
    assert set(Booking.objects.filter(series_id=series_id).values_list("status", flat=True)) == {
        BookingStatus.CANCELLED
    }
    assert (
        error_of(post(logged_in(coach), f"{url}/suggest", {"new_start": thursday_14().isoformat()}), 409)["code"]
        == "invalid_transition"
    )


def test_only_the_coach_suggests_and_a_stranger_sees_no_series(coach, session_type, client_user) -> None:
    series_id = requested_series(coach, session_type, client_user, count=2)
    url = f"/api/v1/series/{series_id}"
    body = {"new_start": thursday_14().isoformat()}
    assert error_of(post(logged_in(client_user), f"{url}/suggest", body), 403)["code"] == "forbidden"
    stranger = logged_in(connected_client(coach))
    for action, payload in (("suggest", body), ("accept-time", None), ("decline-time", {})):
        assert error_of(post(stranger, f"{url}/{action}", payload), 404)["code"] == "not_found"
    assert error_of(post(logged_in(coach), "/api/v1/series/999999/suggest", body), 404)["code"] == "not_found"
    assert nothing_suggested(series_id)


@pytest.mark.parametrize(
    ("new_start", "status", "code"),
    [
        ("2027-02-25T14:00:00", 400, "invalid"),  # no UTC offset
        ("Thursday", 400, "invalid"),
        ("2027-02-19T14:00:00-05:00", 400, "invalid"),  # in the past
        ("taken", 409, "slot_taken"),  # another client holds Thursday 25 February 14:00
    ],
)
def test_a_suggestion_that_cannot_be_made_is_refused_and_changes_nothing(
    coach, session_type, client_user, new_start, status, code
) -> None:
    series_id = requested_series(coach, session_type, client_user, count=2)
    if new_start == "taken":
        take(coach, session_type, thursday_14())
        new_start = thursday_14().isoformat()
    response = post(logged_in(coach), f"/api/v1/series/{series_id}/suggest", {"new_start": new_start})
    assert error_of(response, status)["code"] == code
    assert nothing_suggested(series_id)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "2027-02-23T10:00:00"}, "start"),  # no UTC offset
        ({"start": "soon"}, "start"),
        ({"rrule": "FREQ=SOMETIMES;COUNT=3"}, "rrule"),
        ({"rrule": "FREQ=HOURLY;COUNT=3"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;COUNT=500"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;COUNT=x"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=WE;COUNT=3"}, "rrule"),  # the start is a Tuesday
        ({"rrule": "FREQ=WEEKLY", "frequency": "weekly"}, "frequency"),
        ({"rrule": "FREQ=WEEKLY", "count": 3}, "rrule"),
        ({"count": 500}, "count"),
        ({"count": 0}, "count"),
        ({"count": 3, "until": "2027-04-01"}, "count"),
        ({"until": "2027-01-01"}, "until"),
        ({"interval": 40}, "interval"),
        ({"frequency": "daily"}, "frequency"),
        ({"count": 3, "repeat": {"count": 3}}, "repeat"),
        ({"repeat": {"count": "many"}}, "repeat.count"),
        ({"count": True}, "count"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/series/preview", "/api/v1/series"])
def test_bad_input_is_a_400_naming_the_field(coach, session_type, client_user, path, change, field) -> None:
    response = post(logged_in(client_user), path, body_for(coach, session_type, **change))
    error = error_of(response, 400)
    assert error["code"] == "invalid"
    assert field in [entry["field"] for entry in error["fields"]], error
    assert not Series.objects.exists() and not Booking.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"on_conflict": "maybe"}, "on_conflict"),
        ({"moves": [{"from": "2027-02-23T10:00:00", "to": "2027-02-23T11:00:00-05:00"}]}, "moves.0.from"),
        ({"moves": [{"from": "2027-02-24T10:00:00-05:00", "to": "2027-02-24T11:00:00-05:00"}]}, "moves"),
        ({"moves": [{"to": "2027-02-23T11:00:00-05:00"}]}, "moves.0.from"),
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_bad_booking_input_is_a_400_naming_the_field(coach, session_type, client_user, change, field) -> None:
    response = book(logged_in(client_user), coach, session_type, count=3, **change)
    error = error_of(response, 400)
    assert error["code"] == "invalid"
    assert field in [entry["field"] for entry in error["fields"]], error
    assert not Series.objects.exists() and not Booking.objects.exists()


def test_unknown_and_group_types_and_coaches_are_refused(coach, session_type, client_user) -> None:
    http = logged_in(client_user)
    for path in ("/api/v1/series/preview", "/api/v1/series"):
        unknown = {**body_for(coach, session_type, count=2), "session_type": session_type.pk + 1000}
        assert error_of(post(http, path, unknown), 400)["code"] == "unknown_session_type"
        group = {**body_for(coach, session_type, count=2), "session_type": GroupTypeFactory(coach=coach).pk}
        assert "one-on-one" in error_of(post(http, path, group), 400)["message"]
        nobody = {**body_for(coach, session_type, count=2), "coach": client_user.pk}
        assert error_of(post(http, path, nobody), 404)["code"] == "not_found"
        assert error_of(post(http, path, "[]"), 400)["code"] == "invalid"
    assert not Series.objects.exists()


def test_a_coach_without_series_refuses_them(coach, session_type, client_user) -> None:
    coach.coach_profile.allow_series = False
    coach.coach_profile.save()
    error = error_of(book(logged_in(client_user), coach, session_type, count=2), 409)
    assert error["code"] == "policy_violation"


def test_booking_a_series_counts_as_one_booking_attempt(coach, session_type, client_user, settings) -> None:
    cache.clear()
    settings.BOOKING_ATTEMPTS_PER_CLIENT, settings.BOOKING_ATTEMPTS_PER_ADDRESS = "2/10m", ""
    http = logged_in(client_user)
    preview = body_for(coach, session_type, count=2)
    for _ in range(3):  # a preview books nothing: not an attempt
        assert post(http, "/api/v1/series/preview", preview).status_code == 200
    assert book(http, coach, session_type, count=2).status_code == 201
    assert error_of(book(http, coach, session_type, count=2), 409)["code"] == "slot_taken"
    refused = book(http, coach, session_type, count=2, start=tuesday_10(4).isoformat())
    assert error_of(refused, 429)["code"] == "rate_limited" and refused["Retry-After"]
    assert Series.objects.count() == 1
    cache.clear()
