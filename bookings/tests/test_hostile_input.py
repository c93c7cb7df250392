"""Input a careless client or an attacker sends: every answer is a clear 4xx (the API's
error shape, or a message on the page), never a 500 and never a half-written booking.

Time is frozen on Tuesday 1 December 2026, 06:00 UTC; the coach works in Paris.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, SessionType
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
NUL = "a\u0000b"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(db):
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def consultation(coach):
    return SessionTypeFactory(coach=coach, title="Consultation")


@pytest.fixture
def client_user(db):
    return ClientFactory(email="nora@example.com", timezone="America/New_York")


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def send(http: Client, method: str, url: str, body: object):
    return getattr(http, method)(url, json.dumps(body), content_type="application/json")


def api_error(response, status: int | None = None) -> dict:
    """The response is the API's error shape with a 4xx status (``status`` when given)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert error["code"] and error["message"], error
    return error


# ---------------------------------------------------------------------------------------
# Dates at the edges of the calendar
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "0001-01-03"), ("9999-12-29", "9999-12-31"), ("0001-01-01", "9999-12-31")]
)
def test_slots_at_the_edges_of_the_calendar_are_a_400(client, coach, consultation, start, end) -> None:
    response = client.get(
        f"/api/v1/coaches/{coach.pk}/slots", {"start": start, "end": end, "duration": 60, "type": consultation.pk}
    )
    error = api_error(response, 400)
    assert "date" in error["message"].lower()


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:30:00+00:00", "0001-01-01T00:00:00+00:00", "0001-01-01T00:30:00+14:00"]
)
def test_booking_at_the_edges_of_the_calendar_is_a_400(coach, consultation, client_user, start) -> None:
    http = logged_in(client_user)
    body = {"coach": coach.pk, "session_type": consultation.pk, "start": start}
    api_error(send(http, "post", "/api/v1/bookings", body), 400)
    assert not Booking.objects.exists()


def test_publishing_a_session_in_year_9999_is_a_400(coach) -> None:
    group = GroupTypeFactory(coach=coach)
    http = logged_in(coach)
    body = {"session_type": group.pk, "start": "9999-12-31T23:30:00+00:00"}
    api_error(send(http, "post", "/api/v1/sessions", body), 400)


def test_a_unix_timestamp_is_not_a_start(coach, consultation, client_user) -> None:
    http = logged_in(client_user)
    body = {"coach": coach.pk, "session_type": consultation.pk, "start": 12345}
    error = api_error(send(http, "post", "/api/v1/bookings", body), 400)
    assert "ISO 8601" in error["message"]


def test_moving_a_booking_to_year_9999_is_a_400(coach, consultation, client_user) -> None:
    booking = services.book_slot(
        client=client_user, session_type=consultation, start=dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)
    )
    http = logged_in(client_user)
    body = {"start": "9999-12-31T23:30:00+00:00"}
    api_error(send(http, "post", f"/api/v1/bookings/{booking.reference}/reschedule", body), 400)


def answers_with_a_page(response) -> None:
    """A page, or a redirect back to the times that ends on a page (with its notice)."""
    assert response.status_code in (200, 400), response.status_code
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("start", ["9999-12-31T23:30:00+00:00", "0001-01-01T00:00:00+00:00", "not-a-date"])
def test_wizard_pages_at_the_edges_of_the_calendar_answer_with_a_page(coach, consultation, client_user, start) -> None:
    http = logged_in(client_user)
    page = reverse("book_type", args=[coach.pk, consultation.pk])
    answers_with_a_page(http.get(page, {"start": start}, follow=True))
    confirm = reverse("book_confirm", args=[coach.pk, consultation.pk]) + "?" + urlencode({"start": start})
    answers_with_a_page(http.get(confirm, follow=True))
    answers_with_a_page(http.post(confirm, {"notes": ""}, follow=True))
    assert not Booking.objects.exists()


@pytest.mark.parametrize("start", ["9999-12-31T23:30:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_reschedule_pages_at_the_edges_of_the_calendar_answer_with_a_page(
    coach, consultation, client_user, start
) -> None:
    booking = services.book_slot(
        client=client_user, session_type=consultation, start=dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)
    )
    http = logged_in(client_user)
    page = reverse("booking_reschedule", args=[booking.reference])
    answers_with_a_page(http.get(page, {"start": start}, follow=True))
    confirm = reverse("booking_reschedule_confirm", args=[booking.reference]) + "?" + urlencode({"start": start})
    answers_with_a_page(http.get(confirm, follow=True))
    answers_with_a_page(http.post(confirm, follow=True))
    booking.refresh_from_db()
    assert booking.session.start == dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------
# Paging far past the end
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/bookings?offset=100000000000000000000",
        "/api/v1/notifications?offset=1e20",
        "/api/v1/notifications?offset=100000000000000000000",
        "/api/v1/bookings?limit=1e300",
    ],
)
def test_offsets_beyond_any_page_are_a_400(client_user, url) -> None:
    api_error(logged_in(client_user).get(url), 400)


def test_a_large_but_valid_offset_is_an_empty_page(client_user) -> None:
    response = logged_in(client_user).get("/api/v1/bookings?offset=1000000")
    assert response.status_code == 200
    assert response.json() == []


# ---------------------------------------------------------------------------------------
# NUL characters in free text
# ---------------------------------------------------------------------------------------


def test_nul_in_a_session_type_title_is_a_400(coach) -> None:
    http = logged_in(coach)
    error = api_error(send(http, "post", "/api/v1/session-types", {"title": NUL}), 400)
    assert error["fields"][0]["field"] == "title"
    assert not SessionType.objects.filter(title__startswith="a").exists()


def test_nul_in_a_coach_headline_or_bio_is_a_400(coach) -> None:
    http = logged_in(coach)
    api_error(send(http, "patch", "/api/v1/coach/settings", {"headline": NUL}), 400)
    api_error(send(http, "patch", "/api/v1/coach/settings", {"bio": NUL}), 400)


def test_nul_in_an_override_reason_is_a_400(coach) -> None:
    http = logged_in(coach)
    body = {"weekly": [], "overrides": [{"date": "2026-12-24", "windows": [], "reason": NUL}]}
    api_error(send(http, "put", "/api/v1/availability", body), 400)


def test_nul_in_a_cancellation_reason_or_notes_is_a_400(coach, consultation, client_user) -> None:
    http = logged_in(client_user)
    body = {"coach": coach.pk, "session_type": consultation.pk, "start": "2026-12-02T10:00:00+01:00", "notes": NUL}
    api_error(send(http, "post", "/api/v1/bookings", body), 400)
    booking = services.book_slot(
        client=client_user, session_type=consultation, start=dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)
    )
    api_error(send(http, "post", f"/api/v1/bookings/{booking.reference}/cancel", {"reason": NUL}), 400)


def test_nul_in_a_page_form_is_a_message_not_a_500(coach, consultation, client_user) -> None:
    http = logged_in(client_user)
    confirm = reverse("book_confirm", args=[coach.pk, consultation.pk]) + "?start=2026-12-03T09:00:00Z"
    response = http.post(confirm, {"notes": NUL})
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------------------
# Times with an offset in the weekly availability
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["10:00+05:00", "10:00Z", "10:00:00-03:00"])
def test_availability_times_with_an_offset_are_a_400(coach, end) -> None:
    http = logged_in(coach)
    body = {"weekly": [{"weekday": 0, "start": "09:00", "end": end}], "overrides": []}
    error = api_error(send(http, "put", "/api/v1/availability", body), 400)
    assert "local" in error["message"].lower() or "offset" in error["message"].lower()


# ---------------------------------------------------------------------------------------
# Loose inputs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["localtime", "Africa/Asmera", "US/Eastern", "posixrules", "Factory", "UTC+5"])
def test_only_canonical_zone_names_are_accepted(client_user, zone) -> None:
    from accounts.validators import validate_timezone

    with pytest.raises(Exception) as caught:
        validate_timezone(zone)
    assert "zone" in str(caught.value).lower()


def test_canonical_zone_names_are_accepted() -> None:
    from accounts.validators import validate_timezone

    for zone in ("Europe/Paris", "Asia/Kathmandu", "America/Argentina/Buenos_Aires", "UTC", "Africa/Asmara"):
        validate_timezone(zone)


def test_a_negative_zero_price_is_stored_as_zero(coach) -> None:
    http = logged_in(coach)
    response = send(http, "post", "/api/v1/session-types", {"title": "Free call", "price": "-0.00"})
    assert response.status_code == 201, response.content
    assert response.json()["price"] == "0.00"
    assert str(SessionType.objects.get(title="Free call").price) == "0.00"
    assert SessionType.objects.get(title="Free call").price == Decimal("0")


def test_a_huge_bio_is_refused_by_the_service_not_only_the_schema(coach) -> None:
    http = logged_in(coach)
    api_error(send(http, "patch", "/api/v1/coach/settings", {"bio": "x" * 100_000}), 400)


def test_a_huge_description_is_refused(coach) -> None:
    http = logged_in(coach)
    body = {"title": "Talk", "description": "x" * 100_000}
    error = api_error(send(http, "post", "/api/v1/session-types", body), 400)
    assert error["fields"][0]["field"] == "description"


def test_a_3_mb_body_under_the_api_gets_the_json_error_shape(coach, consultation, client_user) -> None:
    http = logged_in(client_user)
    body = {"coach": coach.pk, "session_type": consultation.pk, "start": "2026-12-02T10:00:00+01:00"}
    body["notes"] = "x" * 3_000_000
    error = api_error(send(http, "post", "/api/v1/bookings", body), 413)
    assert error["code"] == "too_large"
    assert not Booking.objects.exists()


def test_an_unknown_api_address_gets_the_json_error_shape(client) -> None:
    assert api_error(client.get("/api/v1/no-such-thing"), 404)["code"] == "not_found"
