"""The OpenAPI schema says what the API answers: each operation's error statuses in the one
error shape (``ErrorOut``) with the list of codes, and the rules a schema can carry — text
that must say something, settings that may be left out but never null, ids, numbers and
truth values of the right JSON type — and the API behaves as the schema says."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from accounts.tests.factories import ClientFactory, make_token
from bookings import services
from bookings.models import BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
SOURCE_FOLDERS = ("accounts", "availability", "bookings", "notifications", "reports", "pages", "config")
# Payments, the waitlist and intake answer over the API in these modules alone (their other codes are the pages').
SOURCE_FILES = ("payments/series_api.py", "waitlist/services.py", "waitlist/api.py", "reports/api.py", "intake/api.py")
# Every way a code is written in the sources: a DomainError's code="…", a default code of an
# error class, the API's and the middleware's own error answers.
CODE_PATTERNS = (
    re.compile(r'\bcode="([a-z_]+)"'),
    re.compile(r'\bcode: str = "([a-z_]+)"'),
    re.compile(r'_json_error\(\s*\d+,\s*"([a-z_]+)"'),
    re.compile(r'error_response\(\s*request,\s*\d+,\s*"([a-z_]+)"'),
    re.compile(r'"code":\s*"([a-z_]+)"'),
    re.compile(r"codes = \{([^}]*)\}"),
    re.compile(r'codes\.get\([^,]+,\s*"([a-z_]+)"\)'),
)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def schema() -> dict:
    return Client().get("/api/v1/openapi.json").json()


def error_codes() -> list[str]:
    return schema()["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"]


def operations() -> dict[str, tuple[str, str, dict]]:
    return {
        op["operationId"]: (method, path, op)
        for path, methods in schema()["paths"].items()
        for method, op in methods.items()
    }


def codes_in_sources() -> set[str]:
    root = Path(settings.BASE_DIR)
    found: set[str] = set()
    paths = [path for folder in SOURCE_FOLDERS for path in (root / folder).rglob("*.py")]
    for path in [*paths, *(root / name for name in SOURCE_FILES)]:
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in CODE_PATTERNS:
            for match in pattern.findall(text):
                found.update(re.findall(r'"([a-z_]+)"', match) if "," in match or ":" in match else [match])
    return found


# --- error responses ------------------------------------------------------------------


def test_every_code_in_the_sources_is_listed_and_every_listed_code_is_used() -> None:
    used, listed = codes_in_sources(), error_codes()
    assert used - set(listed) == set(), "add these codes to config.api.ERROR_CODES"
    assert set(listed) - used == set(), "these codes are listed but nothing answers them"
    assert listed == sorted(listed)


def test_the_error_shape_lists_the_codes() -> None:
    components = schema()["components"]["schemas"]
    assert components["ErrorOut"]["required"] == ["error"]
    detail = components["ErrorDetail"]
    assert detail["required"] == ["code", "message"]
    assert "null" not in json.dumps(detail["properties"]["fields"])
    assert set(components["ErrorField"]["required"]) == {"field", "message"}


EXPECTED = {
    "accounts_api_me": {200, 401},
    "availability_api_list_coaches": {200, 400, 401},
    "availability_api_get_availability": {200, 401, 403},
    "availability_api_put_availability": {200, 400, 401, 403, 409, 413, 422},
    "bookings_slots_api_coach_slots": {200, 400, 401, 404},
    "bookings_api_list_session_types": {200, 400, 401, 404},
    "bookings_api_list_bookings": {200, 400, 401},
    "bookings_api_get_booking": {200, 401, 404},
    "bookings_api_create_booking": {201, 400, 401, 403, 404, 409, 413, 422, 429},
    "bookings_api_start_session": {200, 400, 401, 403, 404, 409, 422},
    "bookings_api_decline_booking": {200, 400, 401, 403, 404, 409, 413, 422},
    "notifications_inbox_api_read_notification": {200, 400, 401, 403, 404, 409, 422},
    "notifications_calendar_api_calendar_feed": {200, 401},
    "notifications_calendar_api_rotate_calendar_feed": {200, 400, 401, 403, 409, 422},
}


@pytest.mark.parametrize("operation_id", sorted(EXPECTED))
def test_operations_document_the_statuses_they_answer(operation_id) -> None:
    _, _, op = operations()[operation_id]
    assert set(map(int, op["responses"])) == EXPECTED[operation_id]


def test_every_error_response_is_the_one_shape() -> None:
    for method, path, op in operations().values():
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                }, (method, path, status)
                assert response["description"]


def test_only_the_booking_attempts_document_429() -> None:
    throttled = {op_id for op_id, (_, _, op) in operations().items() if "429" in map(str, op["responses"])}
    assert throttled == {
        "bookings_api_create_booking",
        "bookings_api_take_seat",
        "bookings_api_reschedule_booking",
        "bookings_series_api_create_series",
    }


@pytest.fixture
def coach(db):
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def client_user(db):
    return ClientFactory(timezone="Europe/Paris")


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(user)[1]}"}


def send(method: str, path: str, body=None, **headers):
    data = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
    return getattr(Client(), method)(path, data, content_type="application/json", **headers)


def error_of(response, status: int) -> dict:
    """The error of an answer, checked against the one shape."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "fields", "waitlist"}
    assert error["code"] in error_codes() and error["message"]
    for entry in error.get("fields", []):
        assert set(entry) == {"field", "message"}
    error.setdefault("fields", [])
    return error


def test_the_documented_403_of_a_read_is_real(client_user) -> None:
    auth = bearer(client_user)
    for path in ("/api/v1/availability", "/api/v1/coach/settings"):
        assert error_of(Client().get(path, **auth), 403)["code"] == "not_a_coach"


def test_the_open_reads_refuse_an_invalid_token_as_documented(coach) -> None:
    bad = {"HTTP_AUTHORIZATION": "Bearer bk_not-a-token"}
    for path in (
        "/api/v1/coaches",
        f"/api/v1/coaches/{coach.pk}/slots?start=2026-12-02&end=2026-12-02&duration=60",
        f"/api/v1/session-types?coach={coach.pk}",
        "/api/v1/sessions",
    ):
        assert error_of(Client().get(path, **bad), 401)["code"] == "unauthenticated"


# --- business rules in the schema -------------------------------------------------------


def properties(name: str) -> dict:
    return schema()["components"]["schemas"][name]["properties"]


def allows_null(prop: dict) -> bool:
    return "null" in json.dumps(prop)


def test_settings_and_type_changes_say_which_fields_may_be_null() -> None:
    settings_patch = properties("CoachSettingsPatch")
    assert {name for name, prop in settings_patch.items() if allows_null(prop)} == {
        "series_horizon_days"  # null: the site's default
    }
    assert not any("default" in prop for name, prop in settings_patch.items() if name != "series_horizon_days")
    nullable = {name for name, prop in properties("SessionTypePatch").items() if allows_null(prop)}
    assert nullable == {
        "capacity",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "booking_window_days",
        "cancellation_notice_hours",
        "reminder_minutes",
        "required_subject",  # null: no subject required
        "early_bird_price",  # null: no early-bird price
        "early_bird_days",
        "deposit",  # null: paid in full
        "max_waitlist_size",  # null: the site's MAX_WAITLIST_SIZE
        "min_participants",  # null: no minimum
    }


def test_null_is_refused_where_the_schema_says_so_and_taken_where_it_allows_it(coach) -> None:
    auth = bearer(coach)
    st = SessionTypeFactory(coach=coach, minimum_notice_hours=5)
    for body in ({"bio": None}, {"allow_firm_booking": None}, {"slot_step_minutes": None}):
        error = error_of(send("patch", "/api/v1/coach/settings", body, **auth), 400)
        assert error["code"] == "invalid" and error["fields"][0]["field"] == next(iter(body))
    for body in ({"title": None}, {"is_active": None}, {"price": None}, {"kind": None}):
        assert error_of(send("patch", f"/api/v1/session-types/{st.pk}", body, **auth), 400)["code"] == "invalid"
    changed = send("patch", f"/api/v1/session-types/{st.pk}", {"minimum_notice_hours": None}, **auth)
    assert changed.status_code == 200 and changed.json()["minimum_notice_hours"] is None


def test_text_that_must_say_something_is_marked_so() -> None:
    for schema_name, field in (
        ("DeclineIn", "reason"),
        ("QuestionIn", "question"),
        ("AnswerIn", "answer"),
        ("SessionTypeIn", "title"),
        ("SessionTypePatch", "title"),
    ):
        prop = properties(schema_name)[field]
        assert (prop["minLength"], prop["pattern"]) == (1, r"\S"), schema_name
    assert schema()["components"]["schemas"]["DeclineIn"]["required"] == ["reason"]
    # A client cancels without a reason; a coach cancelling must give one (the service says).
    assert "required" not in schema()["components"]["schemas"]["ReasonIn"]


def test_a_blank_reason_or_question_is_refused(coach, client_user) -> None:
    st = SessionTypeFactory(coach=coach, approval="always")
    booking = services.book_slot(
        client=client_user,
        session_type=st,
        start=dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC),
        booked_by=client_user,
        notes="",
        reminders=True,
    )
    assert booking.status == BookingStatus.REQUESTED
    auth = bearer(coach)
    for body in ({}, {"reason": ""}, {"reason": " \t"}):
        assert error_of(send("post", f"/api/v1/bookings/{booking.pk}/decline", body, **auth), 400)["code"] == (
            "reason_required"
        )
    for body in ({"question": ""}, {"question": "  "}):
        error_of(send("post", f"/api/v1/bookings/{booking.pk}/request-info", body, **auth), 400)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED and not booking.info_request


def test_numbers_and_truth_values_are_of_their_json_type(coach) -> None:
    auth = bearer(coach)
    st = SessionTypeFactory(coach=coach)
    for body in (
        {"title": "Intro", "cancellation_notice_hours": False},
        {"title": "Intro", "is_active": 0},
        {"title": "Intro", "reminder_minutes": [True]},
    ):
        error = error_of(send("post", "/api/v1/session-types", body, **auth), 400)
        assert error["fields"][0]["field"] == next(name for name in body if name != "title")
    error_of(send("patch", "/api/v1/coach/settings", {"allow_firm_booking": 1}, **auth), 400)
    error_of(send("patch", f"/api/v1/session-types/{st.pk}", {"duration_minutes": True}, **auth), 400)
    assert send("post", "/api/v1/session-types", {"title": "Intro", "is_active": False}, **auth).status_code == 201


@pytest.mark.parametrize("body", ['"ABC"', "[]", "5", "null", "true"])
def test_a_body_must_be_an_object(coach, body) -> None:
    # django-ninja reads attributes of whatever it gets: "ABC" once made a type titled "Abc".
    error = error_of(send("post", "/api/v1/session-types", body, **bearer(coach)), 400)
    assert error["code"] == "invalid"
    assert not coach.session_types.exists()


def test_a_session_type_filter_beyond_any_database_integer_matches_nothing(coach) -> None:
    for value in (10**20, -(10**20)):
        response = Client().get("/api/v1/sessions", {"session_type": value}, **bearer(coach))
        assert response.status_code == 200 and response.json() == []
