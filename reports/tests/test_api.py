"""The reports over the API: the summary equals the figures, the CSV streams the bookings,
and every refusal is a 4xx with its code."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from accounts.tests.factories import StaffFactory, make_token
from reports import figures
from reports.tests.practice import FIRST, LAST, NEW_YORK, PARIS

pytestmark = pytest.mark.django_db

RANGE = {"start": FIRST.isoformat(), "end": LAST.isoformat()}


def get(path: str, user, **params):
    return Client().get(path, params, HTTP_AUTHORIZATION=f"Bearer {make_token(user)[1]}")


@pytest.fixture
def staff(practice):
    return StaffFactory(timezone="Europe/Paris")


def test_the_summary_is_the_reports_figures(practice, staff):
    response = get("/api/v1/reports/summary", staff, **RANGE, tz="America/New_York")
    assert response.status_code == 200
    body = response.json()
    expected = figures.summary(figures.Filters(FIRST, LAST, NEW_YORK))
    assert {key: body[key] for key in expected} == json.loads(json.dumps(expected))
    assert body["bookings"] == 8
    assert (body["start"], body["end"], body["timezone"], body["coach"]) == (
        "2026-03-23",
        "2026-04-05",
        "America/New_York",
        None,
    )
    assert body["cancellation_rate"] == pytest.approx(2 / 7)
    assert body["revenue"]["EUR"] > 0 and body["revenue"]["USD"] > 0


def test_staff_choose_a_coach_and_a_coach_gets_their_own(practice, staff):
    paris = practice["paris"]
    chosen = get("/api/v1/reports/summary", staff, **RANGE, coach=paris.pk).json()
    own = get("/api/v1/reports/summary", paris, **RANGE).json()
    assert chosen["bookings"] == own["bookings"] == 6
    assert own["coach"] == paris.pk
    assert own["timezone"] == "Europe/Paris"  # the coach's own zone by default
    assert own == get("/api/v1/reports/summary", paris, **RANGE, coach=paris.pk).json()
    assert own["bookings"] == figures.summary(figures.Filters(FIRST, LAST, PARIS, coach_id=paris.pk))["bookings"]


@pytest.mark.parametrize(
    ("who", "params", "status", "code"),
    [
        ("client", {}, 403, "forbidden"),
        ("paris", {"coach": "new_york"}, 403, "forbidden"),
        ("paris", {"room": 1}, 403, "forbidden"),
        ("staff", {"coach": 999_999}, 404, "not_found"),
        ("staff", {"coach": "client"}, 404, "not_found"),
        ("paris", {"session_type": "lesson"}, 404, "not_found"),
        ("staff", {"room": 999_999}, 404, "not_found"),
        ("staff", {"tz": "Mars/Olympus"}, 400, "invalid_timezone"),
        ("staff", {"start": "2026-04-05", "end": "2026-03-23"}, 400, "invalid_range"),
        ("staff", {"start": "2020-01-01", "end": "2026-03-23"}, 400, "range_too_long"),
        ("staff", {"start": "2026-02-30"}, 400, "invalid"),
        ("staff", {"end": "0"}, 400, "invalid"),  # not 1 January 1970
        ("staff", {"start": "20260323"}, 400, "invalid"),
        ("staff", {"coach": "one"}, 400, "invalid"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/reports/summary", "/api/v1/reports/bookings.csv"])
def test_refusals_are_4xx_with_their_code(practice, staff, path, who, params, status, code):
    people = {"client": practice["people"][0], "paris": practice["paris"], "staff": staff}
    ids = {"new_york": practice["new_york"].pk, "client": practice["people"][0].pk, "lesson": practice["lesson"].pk}
    query = RANGE | {key: ids.get(value, value) for key, value in params.items()}
    response = get(path, people[who], **query)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_visitors_are_refused(practice):
    assert Client().get("/api/v1/reports/summary", RANGE).status_code == 401


def test_the_bookings_csv_streams_the_range(practice, staff):
    response = get("/api/v1/reports/bookings.csv", staff, **RANGE, tz="UTC")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8
    assert {row["timezone"] for row in rows} == {"UTC"}
    assert [row["start_utc"] for row in rows] == sorted(row["start_utc"] for row in rows)
    own = get("/api/v1/reports/bookings.csv", practice["new_york"], **RANGE)
    text = b"".join(own.streaming_content).decode().removeprefix("\ufeff")
    assert {row["coach_name"] for row in csv.DictReader(io.StringIO(text))} == {practice["new_york"].name}
