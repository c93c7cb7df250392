"""Session types are written by one service: the API and the back office refuse the same
bad input the same way (the same field, the same message) and accept the same good input."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services
from bookings.models import SessionType
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def staff():
    return StaffFactory()


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


# --- the two ways in -------------------------------------------------------------------------

GOOD = {
    "title": "Career review",
    "kind": "one_on_one",
    "duration_minutes": 60,
    "price": "45.00",
    "currency": "EUR",
    "modality": "online",
    "approval": "coach",
}


def through_api(coach, body: dict) -> tuple[int, dict]:
    """POST the type as its coach; (status, the error's {field: message} or the type)."""
    response = logged_in(coach).post("/api/v1/session-types", json.dumps(body), content_type="application/json")
    if response.status_code == 201:
        return 201, response.json()
    error = response.json()["error"]
    return response.status_code, {f["field"]: f["message"] for f in error.get("fields", [])} | {"code": error["code"]}


def through_admin(staff, coach, body: dict) -> tuple[int, dict]:
    """The same type in the back office's add form; (status, {field: message}) on a refusal."""
    data = {"coach": coach.pk, "is_active": "on", "reminder_minutes": "", **body}
    if isinstance(data["reminder_minutes"], list):
        data["reminder_minutes"] = json.dumps(data["reminder_minutes"])
    response = logged_in(staff).post(reverse("admin:bookings_sessiontype_add"), data)
    if response.status_code == 302:
        return 302, {}
    form = response.context["adminform"].form
    return response.status_code, {field: " ".join(messages) for field, messages in form.errors.items()}


REFUSED = [
    pytest.param(
        {"kind": "group", "capacity": 11},
        "capacity",
        "A group session has at most 10 seats.",
        400,
        id="group-above-the-maximum",
    ),
    pytest.param(
        {"capacity": 3}, "capacity", "A one-on-one session type has exactly 1 seat.", 400, id="one-on-one-with-3-seats"
    ),
    pytest.param(
        {"kind": "workshop", "capacity": 4, "__groups_off": True},
        "kind",
        "Group sessions and workshops are turned off.",
        409,
        id="group-while-group-sessions-are-off",
    ),
    pytest.param(
        {"kind": "group", "capacity": ""},
        "capacity",
        "Give the number of seats (capacity) of a group session.",
        400,
        id="group-without-seats",
    ),
    pytest.param(
        {"reminder_minutes": [1]},
        "reminder_minutes",
        "Each reminder must be between 5 minutes and 14 days before the session.",
        400,
        id="reminder-too-close",
    ),
]


@pytest.mark.parametrize(("change", "field", "message", "api_status"), REFUSED)
def test_the_api_and_the_admin_refuse_the_same_input_the_same_way(
    coach, staff, settings, change, field, message, api_status
) -> None:
    change = dict(change)
    if change.pop("__groups_off", False):
        settings.ENABLE_GROUP_SESSIONS = False
    body = {**GOOD, **change}
    api_body = {k: v for k, v in body.items() if v != ""}

    api_status_seen, api_errors = through_api(coach, api_body)
    admin_status, admin_errors = through_admin(staff, coach, body)

    assert api_status_seen == api_status
    assert api_errors[field] == message
    assert admin_status == 200
    assert admin_errors == {field: message}
    assert not SessionType.objects.exists()


def test_the_api_and_the_admin_accept_the_same_input(coach, staff) -> None:
    body = {**GOOD, "kind": "group", "capacity": 10, "currency": "usd", "reminder_minutes": [30, 1440, 30]}

    api_status, created = through_api(coach, body)
    admin_status, _ = through_admin(staff, coach, {**body, "title": "Career review (admin)"})

    assert (api_status, admin_status) == (201, 302)
    from_api = SessionType.objects.get(pk=created["id"])
    from_admin = SessionType.objects.get(title="Career review (admin)")
    for written in (from_api, from_admin):
        assert written.coach == coach
        assert (written.kind, written.capacity, written.currency) == ("group", 10, "USD")
        assert written.price == Decimal("45.00")
        assert written.reminder_minutes == [1440, 30]
    assert created["reminder_minutes"] == [1440, 30]


def test_the_admin_refuses_to_change_the_kind_of_a_type_with_sessions_like_the_api(coach, staff) -> None:
    group = GroupTypeFactory(coach=coach, title="Yoga", capacity=5)
    services.publish_session(actor=coach, session_type=group, start=NOW + dt.timedelta(days=1, hours=3))
    data = {**GOOD, "title": "Yoga", "kind": "one_on_one", "capacity": 1, "coach": coach.pk, "is_active": "on"}

    response = logged_in(staff).post(reverse("admin:bookings_sessiontype_change", args=[group.pk]), data)
    api = logged_in(coach).patch(
        f"/api/v1/session-types/{group.pk}",
        json.dumps({"kind": "one_on_one", "capacity": 1}),
        content_type="application/json",
    )

    message = "This type already has sessions, so its kind can't change. Create a new type instead."
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"kind": [message]}
    assert api.status_code == 400
    assert api.json()["error"]["fields"] == [{"field": "kind", "message": message}]
    group.refresh_from_db()
    assert (group.kind, group.capacity) == ("group", 5)


def test_staff_edit_a_type_in_the_admin_through_the_service(coach, staff) -> None:
    st = SessionTypeFactory(coach=coach, title="Consultation", currency="EUR")
    data = {**GOOD, "title": "Long consultation", "currency": "gbp", "coach": coach.pk, "is_active": "on"}

    response = logged_in(staff).post(
        reverse("admin:bookings_sessiontype_change", args=[st.pk]), {**data, "capacity": ""}
    )

    assert response.status_code == 302
    st.refresh_from_db()
    assert (st.title, st.currency, st.capacity) == ("Long consultation", "GBP", 1)


# --- the service itself ----------------------------------------------------------------------


def test_the_coach_or_staff_write_a_coachs_types_and_no_one_else(coach, staff) -> None:
    other_coach = open_coach()
    client = ClientFactory()
    mine = services.create_session_type(actor=coach, coach=coach, title="Mine")
    assert mine.capacity == 1
    assert services.create_session_type(actor=staff, coach=coach, title="By staff").coach == coach

    with pytest.raises(NotAllowed):
        services.create_session_type(actor=other_coach, coach=coach, title="Not mine")
    with pytest.raises(NotAllowed):
        services.update_session_type(session_type=mine, actor=other_coach, title="Taken")
    with pytest.raises(NotAllowed) as not_a_coach:
        services.create_session_type(actor=client, coach=client, title="Clients have none")
    assert not_a_coach.value.code == "not_a_coach"

    assert services.update_session_type(session_type=mine, actor=staff, title="Renamed").title == "Renamed"
    mine.refresh_from_db()
    assert mine.title == "Renamed"
    assert SessionType.objects.count() == 2


def test_a_group_type_kept_from_before_group_sessions_were_turned_off_can_still_be_retired(coach, settings) -> None:
    yoga = GroupTypeFactory(coach=coach, capacity=10)
    one_on_one = SessionTypeFactory(coach=coach)
    settings.ENABLE_GROUP_SESSIONS = False
    settings.MAX_GROUP_CAPACITY = 6

    retired = services.update_session_type(session_type=yoga, actor=coach, is_active=False, title="Old yoga")
    assert (retired.is_active, retired.title, retired.capacity) == (False, "Old yoga", 10)

    with pytest.raises(DomainError) as turned_off:
        services.update_session_type(session_type=one_on_one, actor=coach, kind="group", capacity=4)
    assert (turned_off.value.code, turned_off.value.status, turned_off.value.field) == ("policy_violation", 409, "kind")
    settings.ENABLE_GROUP_SESSIONS = True
    with pytest.raises(DomainError) as too_many:
        services.update_session_type(session_type=yoga, actor=coach, capacity=8)
    assert too_many.value.field == "capacity"
    assert services.update_session_type(session_type=yoga, actor=coach, capacity=6).capacity == 6


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"buffer_before_minutes": 24 * 60 + 1}, "buffer_before_minutes"),
        ({"booking_window_days": 0}, "booking_window_days"),
        ({"price": Decimal("-1")}, "price"),
        ({"price": Decimal("1.005")}, "price"),
        ({"currency": "€"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"title": "  "}, "title"),
        ({"title": None}, "title"),
        ({"modality": "by post"}, "modality"),
        ({"meeting_link": "not a link"}, "meeting_link"),
        ({"reminder_minutes": [60] * 7}, "reminder_minutes"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_each_refusal_names_its_field_and_writes_nothing(coach, fields, field) -> None:
    st = SessionTypeFactory(coach=coach, title="Consultation")
    with pytest.raises(DomainError) as refused:
        services.update_session_type(session_type=st, actor=coach, **fields)
    assert refused.value.field == field
    assert refused.value.status == 400
    with pytest.raises(DomainError):
        services.create_session_type(actor=coach, coach=coach, **{"title": "New", **fields})
    st.refresh_from_db()
    assert st.title == "Consultation"
    assert SessionType.objects.count() == 1


def test_staff_give_a_type_without_sessions_to_another_coach_but_not_one_with_sessions(coach, staff) -> None:
    other_coach = open_coach()
    empty = SessionTypeFactory(coach=coach)
    used = GroupTypeFactory(coach=coach, capacity=5)
    services.publish_session(actor=coach, session_type=used, start=NOW + dt.timedelta(days=1, hours=3))

    assert services.update_session_type(session_type=empty, actor=staff, coach=other_coach).coach == other_coach
    with pytest.raises(DomainError) as refused:
        services.update_session_type(session_type=used, actor=staff, coach=other_coach)
    assert refused.value.field == "coach"
    used.refresh_from_db()
    assert used.coach == coach
