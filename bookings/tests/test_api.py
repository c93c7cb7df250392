"""The bookings API: session types, group sessions, bookings and every answer to them.

Time is frozen on Tuesday 1 December 2026, 06:00 UTC. The coach works in Paris (UTC+1)
from 09:00 to 17:00 every day; the client reads times in New York (UTC−5).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from accounts.models import CalendarVisibility, ConnectionStatus
from accounts.tests.factories import (
    ClientFactory,
    ConnectionFactory,
    GuardianLinkFactory,
    StaffFactory,
    make_token,
)
from bookings.models import Booking, BookingStatus, Session, SessionType
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TOMORROW_10_PARIS = "2026-12-02T10:00:00+01:00"  # 09:00 UTC, 04:00 in New York
TOMORROW_10_UTC = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
REFUSAL_CODES = {
    "slot_taken",
    "outside_availability",
    "too_soon",
    "beyond_window",
    "limit_reached",
    "client_conflict",
    "full",
    "not_connected",
    "policy_violation",
    "invalid_transition",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(db):
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save(update_fields=["name"])
    return coach


@pytest.fixture
def consultation(coach):
    return SessionTypeFactory(coach=coach, title="Consultation", price=Decimal("45.00"), currency="EUR")


@pytest.fixture
def client_ny(db):
    return ClientFactory(email="nora@example.com", name="Nora Client", timezone="America/New_York")


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def post(http: Client, url: str, body: object = None):
    data = "" if body is None else json.dumps(body)
    return http.post(url, data, content_type="application/json")


def patch(http: Client, url: str, body: object):
    return http.patch(url, json.dumps(body), content_type="application/json")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    assert body["error"]["message"]
    return body["error"]


def refusal(response, code: str) -> dict:
    assert code in REFUSAL_CODES
    error = error_of(response, 409)
    assert error["code"] == code, error
    return error


def book(http: Client, coach, session_type, start: str = TOMORROW_10_PARIS, **extra):
    body = {"coach": coach.pk, "session_type": session_type.pk, "start": start, "notes": "", **extra}
    return post(http, "/api/v1/bookings", body)


# ---------------------------------------------------------------------------------------
# Session types
# ---------------------------------------------------------------------------------------


def test_session_types_of_a_visible_coach_are_listed_to_anyone(coach, consultation, client_ny) -> None:
    SessionTypeFactory(coach=coach, title="Retired", is_active=False)
    SessionTypeFactory(title="Someone else's")
    for http in (Client(), logged_in(client_ny)):
        response = http.get("/api/v1/session-types", {"coach": coach.pk})
        assert response.status_code == 200
        body = response.json()
        assert [t["title"] for t in body] == ["Consultation"]
        assert body[0]["price"] == "45.00"
        assert body[0]["coach"] == coach.pk
        assert body[0]["kind"] == "one_on_one"
        assert body[0]["capacity"] == 1


def test_session_types_of_an_invisible_or_unknown_coach_are_404(coach, consultation, client_ny) -> None:
    coach.coach_profile.calendar_visibility = CalendarVisibility.CONNECTED
    coach.coach_profile.save()
    http = logged_in(client_ny)
    assert error_of(http.get("/api/v1/session-types", {"coach": coach.pk}), 404)["code"] == "not_found"
    assert error_of(http.get("/api/v1/session-types", {"coach": client_ny.pk}), 404)
    assert error_of(http.get("/api/v1/session-types", {"coach": 99999}), 404)
    assert error_of(http.get("/api/v1/session-types"), 400)["code"] == "coach_required"
    ConnectionFactory(client=client_ny, coach=coach, status=ConnectionStatus.ACCEPTED)
    assert [t["id"] for t in http.get("/api/v1/session-types", {"coach": coach.pk}).json()] == [consultation.pk]


def test_a_private_coach_still_sees_their_own_types_and_sessions(coach, consultation) -> None:
    coach.coach_profile.calendar_visibility = CalendarVisibility.PRIVATE
    coach.coach_profile.save()
    yoga = GroupTypeFactory(coach=coach, title="Yoga", capacity=4)
    http = logged_in(coach)
    assert publish(http, yoga).status_code == 201
    assert {t["id"] for t in http.get("/api/v1/session-types", {"coach": coach.pk}).json()} == {
        consultation.pk,
        yoga.pk,
    }
    assert len(http.get("/api/v1/sessions", {"coach": coach.pk}).json()) == 1
    assert error_of(Client().get("/api/v1/session-types", {"coach": coach.pk}), 404)
    assert Client().get("/api/v1/sessions").json() == []


def test_a_coach_lists_all_their_own_types_without_coach_param(coach, consultation) -> None:
    retired = SessionTypeFactory(coach=coach, title="Retired", is_active=False)
    body = logged_in(coach).get("/api/v1/session-types").json()
    assert {t["id"] for t in body} == {consultation.pk, retired.pk}


NEW_TYPE = {
    "title": "Career review",
    "kind": "one_on_one",
    "duration_minutes": 90,
    "price": "80.00",
    "currency": "usd",
    "modality": "online",
    "meeting_link": "https://meet.example.com/camille",
    "minimum_notice_hours": 12,
}


def test_a_coach_creates_and_edits_their_own_type(coach) -> None:
    http = logged_in(coach)
    response = post(http, "/api/v1/session-types", NEW_TYPE)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["coach"] == coach.pk
    assert created["currency"] == "USD"
    assert created["capacity"] == 1
    assert created["price"] == "80.00"
    assert created["minimum_notice_hours"] == 12
    st = SessionType.objects.get(pk=created["id"], coach=coach)
    assert st.duration_minutes == 90

    changed = patch(
        http, f"/api/v1/session-types/{st.pk}", {"title": "Career review (long)", "minimum_notice_hours": None}
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == {**created, "title": "Career review (long)", "minimum_notice_hours": None}
    st.refresh_from_db()
    assert st.minimum_notice_hours is None

    group = post(http, "/api/v1/session-types", {"title": "Yoga", "kind": "group", "capacity": 10})
    assert group.status_code == 201, group.content
    assert group.json()["capacity"] == 10


@pytest.mark.parametrize(
    "body",
    [
        {**NEW_TYPE, "capacity": 2},  # one-on-one has one seat
        {"title": "Yoga", "kind": "group", "capacity": 11},  # above MAX_GROUP_CAPACITY (10)
        {"title": "Yoga", "kind": "group"},  # a group needs its seats
        {**NEW_TYPE, "price": "-1"},
        {**NEW_TYPE, "price": "12.345"},
        {**NEW_TYPE, "currency": "EURO"},
        {**NEW_TYPE, "currency": "€"},
        {**NEW_TYPE, "kind": "solo"},
        {**NEW_TYPE, "duration_minutes": 0},
        {**NEW_TYPE, "duration_minutes": "long"},
        {**NEW_TYPE, "meeting_link": "not a link"},
        {**NEW_TYPE, "title": ""},
        {"kind": "one_on_one"},
    ],
)
def test_bad_session_types_are_400_and_create_nothing(coach, body) -> None:
    error = error_of(post(logged_in(coach), "/api/v1/session-types", body), 400)
    assert error["code"] == "invalid"
    assert not SessionType.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"capacity": 3}, {"title": None}, {"kind": "group", "capacity": 11}, {"currency": "euros"}, {"price": "-5"}],
)
def test_bad_patches_are_400_and_change_nothing(coach, consultation, body) -> None:
    error_of(patch(logged_in(coach), f"/api/v1/session-types/{consultation.pk}", body), 400)
    consultation.refresh_from_db()
    assert (consultation.capacity, consultation.title, consultation.kind) == (1, "Consultation", "one_on_one")
    assert (consultation.currency, consultation.price) == ("EUR", Decimal("45.00"))


def test_the_kind_of_a_type_with_sessions_cannot_change(coach, consultation, client_ny) -> None:
    assert book(logged_in(client_ny), coach, consultation).status_code == 201
    response = patch(logged_in(coach), f"/api/v1/session-types/{consultation.pk}", {"kind": "group", "capacity": 5})
    assert error_of(response, 400)["code"] == "invalid"
    consultation.refresh_from_db()
    assert consultation.kind == "one_on_one"


def test_group_kinds_are_refused_when_group_sessions_are_off(coach, consultation, settings) -> None:
    settings.ENABLE_GROUP_SESSIONS = False
    http = logged_in(coach)
    refusal(
        post(http, "/api/v1/session-types", {"title": "Yoga", "kind": "workshop", "capacity": 5}), "policy_violation"
    )
    refusal(
        patch(http, f"/api/v1/session-types/{consultation.pk}", {"kind": "group", "capacity": 5}), "policy_violation"
    )
    assert SessionType.objects.count() == 1
    assert post(http, "/api/v1/session-types", NEW_TYPE).status_code == 201


def test_only_a_coach_writes_their_own_types(coach, consultation, client_ny) -> None:
    other_coach = open_coach()
    response = patch(logged_in(other_coach), f"/api/v1/session-types/{consultation.pk}", {"title": "Mine now"})
    assert error_of(response, 404)["code"] == "not_found"
    client = logged_in(client_ny)
    assert error_of(post(client, "/api/v1/session-types", NEW_TYPE), 403)["code"] == "not_a_coach"
    assert error_of(patch(client, f"/api/v1/session-types/{consultation.pk}", {"title": "x"}), 403)["code"] == (
        "not_a_coach"
    )
    assert error_of(post(Client(), "/api/v1/session-types", NEW_TYPE), 401)["code"] == "unauthenticated"
    consultation.refresh_from_db()
    assert consultation.title == "Consultation"


# ---------------------------------------------------------------------------------------
# Booking a one-on-one session
# ---------------------------------------------------------------------------------------


def test_book_returns_201_in_the_callers_zone(coach, consultation, client_ny) -> None:
    response = book(logged_in(client_ny), coach, consultation, notes="About my CV", reminders=False)
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"BK-2026-\d{6}", body["reference"])
    assert {k: body[k] for k in ("status", "start", "end", "coach", "session_type", "timezone")} == {
        "status": "firm_booked",
        "start": "2026-12-02T04:00:00-05:00",
        "end": "2026-12-02T05:00:00-05:00",
        "coach": coach.pk,
        "session_type": consultation.pk,
        "timezone": "America/New_York",
    }
    booking = Booking.objects.get(pk=body["id"])
    assert booking.reference == body["reference"]
    assert booking.session.start == TOMORROW_10_UTC
    assert booking.client == client_ny and booking.booked_by == client_ny
    assert booking.client_notes == "About my CV"
    assert booking.reminders_enabled is False
    assert booking.price == Decimal("45.00")


def test_a_bearer_token_books_too(coach, consultation, client_ny) -> None:
    _, token = make_token(client_ny)
    response = Client().post(
        "/api/v1/bookings",
        json.dumps({"coach": coach.pk, "session_type": consultation.pk, "start": "2026-12-02T09:00:00Z"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.content
    assert response.json()["start"] == "2026-12-02T04:00:00-05:00"


@pytest.mark.parametrize(
    ("start", "field_message"),
    [
        ("2026-12-02T10:00:00", "timezone"),  # naive: which 10:00?
        ("2026-12-02", "timezone"),
        ("2026-13-40T10:00:00+01:00", ""),
        ("tomorrow at ten", ""),
        (None, ""),
    ],
)
def test_bad_start_times_are_400_with_the_error_shape(coach, consultation, client_ny, start, field_message) -> None:
    error = error_of(book(logged_in(client_ny), coach, consultation, start=start), 400)
    assert error["code"] == "invalid"
    assert error["fields"][0]["field"] == "start"
    assert field_message in error["message"]
    assert not Booking.objects.exists()


def test_bad_json_and_missing_fields_are_400(coach, consultation, client_ny) -> None:
    http = logged_in(client_ny)
    assert error_of(http.post("/api/v1/bookings", "{oops", content_type="application/json"), 400)["code"] == (
        "bad_request"
    )
    error = error_of(post(http, "/api/v1/bookings", {"start": TOMORROW_10_PARIS}), 400)
    assert error["code"] == "invalid"
    assert {f["field"] for f in error["fields"]} == {"coach", "session_type"}
    assert error_of(post(http, "/api/v1/bookings", [1, 2]), 400)["code"] == "invalid"
    assert not Booking.objects.exists()


def test_a_type_of_another_coach_or_an_unknown_coach(coach, consultation, client_ny) -> None:
    other = open_coach()
    http = logged_in(client_ny)
    assert error_of(book(http, other, consultation), 400)["code"] == "unknown_session_type"
    assert error_of(book(http, client_ny, consultation), 404)["code"] == "not_found"
    response = post(
        http, "/api/v1/bookings", {"coach": 99999, "session_type": consultation.pk, "start": TOMORROW_10_PARIS}
    )
    assert error_of(response, 404)["code"] == "not_found"
    assert not Booking.objects.exists()


def test_a_guardian_books_for_their_dependent_but_not_for_a_stranger(coach, consultation) -> None:
    link = GuardianLinkFactory()
    http = logged_in(link.guardian)
    response = book(http, coach, consultation, client=link.dependent.pk)
    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    assert (booking.client, booking.booked_by) == (link.dependent, link.guardian)
    stranger = ClientFactory()
    assert error_of(book(http, coach, consultation, start="2026-12-02T12:00:00+01:00", client=stranger.pk), 404)
    assert Booking.objects.count() == 1


def test_staff_book_for_a_client(coach, consultation, client_ny) -> None:
    staff = StaffFactory()
    response = book(logged_in(staff), coach, consultation, client=client_ny.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["timezone"] == staff.timezone  # times in the caller's zone
    assert body["start"] == "2026-12-02T14:30:00+05:30"
    booking = Booking.objects.get(pk=body["id"])
    assert (booking.client, booking.booked_by) == (client_ny, staff)


def test_booking_needs_authentication(coach, consultation) -> None:
    assert error_of(book(Client(), coach, consultation), 401)["code"] == "unauthenticated"
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------------------
# Every refusal code, through the API
# ---------------------------------------------------------------------------------------


def test_slot_taken(coach, consultation, client_ny) -> None:
    assert book(logged_in(client_ny), coach, consultation).status_code == 201
    error = refusal(book(logged_in(ClientFactory()), coach, consultation), "slot_taken")
    assert error["message"] == "This time is no longer available. Select another."
    assert Booking.objects.count() == 1


def test_outside_availability(coach, consultation, client_ny) -> None:
    refusal(book(logged_in(client_ny), coach, consultation, start="2026-12-02T20:00:00+01:00"), "outside_availability")
    refusal(book(logged_in(client_ny), coach, consultation, start="2026-12-02T10:30:00+01:00"), "outside_availability")
    assert not Booking.objects.exists()


def test_too_soon(client_ny) -> None:
    coach = open_coach(minimum_notice_hours=48)
    st = SessionTypeFactory(coach=coach)
    http = logged_in(client_ny)
    refusal(book(http, coach, st), "too_soon")
    refusal(book(http, coach, st, start="2026-11-30T10:00:00+01:00"), "too_soon")
    assert book(http, coach, st, start="2026-12-04T10:00:00+01:00").status_code == 201


def test_beyond_window(client_ny) -> None:
    coach = open_coach(booking_window_days=7)
    st = SessionTypeFactory(coach=coach)
    refusal(book(logged_in(client_ny), coach, st, start="2026-12-20T10:00:00+01:00"), "beyond_window")
    assert not Booking.objects.exists()


def test_limit_reached(client_ny) -> None:
    coach = open_coach(max_sessions_per_day=1)
    st = SessionTypeFactory(coach=coach)
    assert book(logged_in(ClientFactory()), coach, st).status_code == 201
    refusal(book(logged_in(client_ny), coach, st, start="2026-12-02T14:00:00+01:00"), "limit_reached")
    assert book(logged_in(client_ny), coach, st, start="2026-12-03T14:00:00+01:00").status_code == 201


def test_client_conflict(coach, consultation, client_ny) -> None:
    other = open_coach(timezone="Europe/Paris")
    other_type = SessionTypeFactory(coach=other)
    http = logged_in(client_ny)
    assert book(http, coach, consultation).status_code == 201
    error = refusal(book(http, other, other_type, start="2026-12-02T10:00:00+01:00"), "client_conflict")
    assert error["message"] == "You have another session at this time."


def test_not_connected(coach, consultation, client_ny) -> None:
    coach.coach_profile.calendar_visibility = CalendarVisibility.CONNECTED
    coach.coach_profile.save()
    refusal(book(logged_in(client_ny), coach, consultation), "not_connected")
    ConnectionFactory(client=client_ny, coach=coach, status=ConnectionStatus.ACCEPTED)
    assert book(logged_in(client_ny), coach, consultation).status_code == 201


def test_policy_violation_on_a_late_cancel(coach, client_ny) -> None:
    st = SessionTypeFactory(coach=coach, cancellation_notice_hours=48)
    http = logged_in(client_ny)
    booking_id = book(http, coach, st).json()["id"]
    error = refusal(post(http, f"/api/v1/bookings/{booking_id}/cancel", {"reason": "Busy"}), "policy_violation")
    assert "48 hours" in error["message"]
    assert Booking.objects.get(pk=booking_id).status == BookingStatus.FIRM_BOOKED


def test_invalid_transition(coach, consultation, client_ny) -> None:
    http = logged_in(client_ny)
    booking_id = book(http, coach, consultation).json()["id"]
    refusal(post(logged_in(coach), f"/api/v1/bookings/{booking_id}/approve"), "invalid_transition")
    assert post(http, f"/api/v1/bookings/{booking_id}/cancel", {"reason": ""}).status_code == 200
    refusal(post(http, f"/api/v1/bookings/{booking_id}/cancel", {"reason": ""}), "invalid_transition")


# ---------------------------------------------------------------------------------------
# Group sessions and workshops
# ---------------------------------------------------------------------------------------


@pytest.fixture
def yoga(coach):
    return GroupTypeFactory(coach=coach, title="Yoga", capacity=2)


def publish(http: Client, session_type, start: str = "2026-12-03T18:00:00+01:00", **extra):
    return post(http, "/api/v1/sessions", {"session_type": session_type.pk, "start": start, **extra})


def test_publish_list_and_take_seats(coach, yoga, client_ny) -> None:
    response = publish(logged_in(coach), yoga)
    assert response.status_code == 201, response.content
    published = response.json()
    assert published["start"] == "2026-12-03T18:00:00+01:00"
    assert (published["capacity"], published["seats_left"], published["full"]) == (2, 2, False)
    workshop = GroupTypeFactory(coach=coach, title="Workshop", kind="workshop", capacity=5)
    assert publish(logged_in(coach), workshop, start="2026-12-04T18:00:00+01:00").status_code == 201

    listed = Client().get("/api/v1/sessions", {"coach": coach.pk, "kind": "group"}).json()
    assert [s["id"] for s in listed] == [published["id"]]
    assert listed[0]["start"] == "2026-12-03T17:00:00+00:00"  # a visitor reads UTC
    assert len(Client().get("/api/v1/sessions", {"coach": coach.pk}).json()) == 2

    seat = post(logged_in(client_ny), f"/api/v1/sessions/{published['id']}/bookings", {"notes": "Beginner"})
    assert seat.status_code == 201, seat.content
    assert seat.json()["status"] == "firm_booked"
    assert seat.json()["start"] == "2026-12-03T12:00:00-05:00"
    assert logged_in(client_ny).get("/api/v1/sessions", {"kind": "group"}).json()[0]["seats_left"] == 1

    assert post(logged_in(ClientFactory()), f"/api/v1/sessions/{published['id']}/bookings").status_code == 201
    refusal(post(logged_in(ClientFactory()), f"/api/v1/sessions/{published['id']}/bookings", {}), "full")
    listed = Client().get("/api/v1/sessions", {"kind": "group"}).json()
    assert (listed[0]["seats_left"], listed[0]["full"]) == (0, True)
    assert Session.objects.get(pk=published["id"]).seats_taken == 2


def test_a_second_seat_for_the_same_client_is_refused(coach, yoga, client_ny) -> None:
    session_id = publish(logged_in(coach), yoga).json()["id"]
    http = logged_in(client_ny)
    assert post(http, f"/api/v1/sessions/{session_id}/bookings").status_code == 201
    refusal(post(http, f"/api/v1/sessions/{session_id}/bookings"), "client_conflict")


def test_seats_are_refused_when_group_sessions_are_off(coach, yoga, client_ny, settings) -> None:
    session_id = publish(logged_in(coach), yoga).json()["id"]
    settings.ENABLE_GROUP_SESSIONS = False
    refusal(post(logged_in(client_ny), f"/api/v1/sessions/{session_id}/bookings"), "policy_violation")
    assert Client().get("/api/v1/sessions").json() == []
    refusal(publish(logged_in(coach), yoga, start="2026-12-05T18:00:00+01:00"), "policy_violation")


def test_publishing_refusals(coach, yoga, consultation, client_ny) -> None:
    http = logged_in(coach)
    assert error_of(publish(http, yoga, capacity=11), 400)["code"] == "invalid"
    assert error_of(publish(http, yoga, capacity=0), 400)["code"] == "invalid"
    assert error_of(publish(http, yoga, start="2026-12-03T18:00:00"), 400)["code"] == "invalid"
    assert error_of(publish(http, consultation), 400)["code"] == "invalid"
    refusal(publish(http, yoga, start="2026-11-30T18:00:00+01:00"), "too_soon")
    assert error_of(publish(logged_in(client_ny), yoga), 403)["code"] == "not_a_coach"
    assert error_of(publish(logged_in(open_coach()), yoga), 404)["code"] == "not_found"
    assert error_of(publish(Client(), yoga), 401)
    assert not Session.objects.exists()
    assert publish(logged_in(StaffFactory()), yoga).status_code == 201


def test_a_seat_in_an_unknown_or_one_on_one_session_is_404(coach, consultation, client_ny) -> None:
    booking_id = book(logged_in(client_ny), coach, consultation).json()["id"]
    session_id = Booking.objects.get(pk=booking_id).session_id
    http = logged_in(ClientFactory())
    assert error_of(post(http, f"/api/v1/sessions/{session_id}/bookings"), 404)["code"] == "not_found"
    assert error_of(post(http, "/api/v1/sessions/99999/bookings"), 404)


def test_bad_session_queries_are_400_or_404(coach) -> None:
    assert error_of(Client().get("/api/v1/sessions", {"kind": "one_on_one"}), 400)["code"] == "invalid"
    assert error_of(Client().get("/api/v1/sessions", {"coach": "x"}), 400)["code"] == "invalid"
    coach.coach_profile.calendar_visibility = CalendarVisibility.PRIVATE
    coach.coach_profile.save()
    assert error_of(Client().get("/api/v1/sessions", {"coach": coach.pk}), 404)["code"] == "not_found"


# ---------------------------------------------------------------------------------------
# Reading bookings
# ---------------------------------------------------------------------------------------


def test_each_caller_lists_their_own_and_staff_list_all(coach, consultation, client_ny) -> None:
    mine = book(logged_in(client_ny), coach, consultation).json()["id"]
    other_client = ClientFactory()
    theirs = book(logged_in(other_client), coach, consultation, start="2026-12-02T12:00:00+01:00").json()["id"]
    other_coach = open_coach()
    elsewhere = book(
        logged_in(other_client), other_coach, SessionTypeFactory(coach=other_coach), start=("2026-12-03T12:00:00+01:00")
    ).json()["id"]
    post(logged_in(client_ny), f"/api/v1/bookings/{mine}/cancel", {"reason": ""})

    def ids(user, **params) -> list[int]:
        response = logged_in(user).get("/api/v1/bookings", params)
        assert response.status_code == 200, response.content
        return [b["id"] for b in response.json()]

    assert ids(client_ny) == [mine]
    assert ids(other_client) == [theirs, elsewhere]
    assert ids(coach) == [mine, theirs]
    assert ids(coach, status="firm_booked") == [theirs]
    assert ids(coach, status="cancelled") == [mine]
    assert ids(StaffFactory()) == [mine, theirs, elsewhere]
    assert ids(StaffFactory(), limit=1, offset=1) == [theirs]
    assert error_of(logged_in(coach).get("/api/v1/bookings", {"status": "lost"}), 400)["code"] == "invalid"
    assert error_of(Client().get("/api/v1/bookings"), 401)["code"] == "unauthenticated"


def test_detail_with_history_by_id_or_reference(coach, consultation, client_ny) -> None:
    coach.coach_profile.require_approval_unconnected = True
    coach.coach_profile.save()
    created = book(logged_in(client_ny), coach, consultation).json()
    assert created["status"] == "requested"
    assert post(logged_in(coach), f"/api/v1/bookings/{created['id']}/approve", {"note": "See you"}).status_code == 200
    http = logged_in(client_ny)
    detail = http.get(f"/api/v1/bookings/{created['id']}").json()
    assert detail["status"] == "confirmed"
    assert detail["history"] == [
        {
            "action": "requested",
            "from": "",
            "to": "requested",
            "actor": "Nora Client",
            "at": "2026-12-01T01:00:00-05:00",
            "note": "",
        },
        {
            "action": "approved",
            "from": "requested",
            "to": "confirmed",
            "actor": "Camille Laurent",
            "at": "2026-12-01T01:00:00-05:00",
            "note": "See you",
        },
    ]
    assert http.get(f"/api/v1/bookings/{created['reference']}").json()["id"] == created["id"]


def test_access_other_client_404_client_approving_403_visitor_401(coach, consultation, client_ny) -> None:
    coach.coach_profile.require_approval_unconnected = True
    coach.coach_profile.save()
    booking_id = book(logged_in(client_ny), coach, consultation).json()["id"]
    stranger = logged_in(ClientFactory())
    assert error_of(stranger.get(f"/api/v1/bookings/{booking_id}"), 404)["code"] == "not_found"
    assert error_of(post(stranger, f"/api/v1/bookings/{booking_id}/cancel", {"reason": "x"}), 404)
    assert error_of(post(stranger, f"/api/v1/bookings/{booking_id}/approve"), 404)
    assert error_of(logged_in(open_coach()).get(f"/api/v1/bookings/{booking_id}"), 404)
    assert error_of(post(logged_in(client_ny), f"/api/v1/bookings/{booking_id}/approve"), 403)["code"] == "forbidden"
    decline = post(logged_in(client_ny), f"/api/v1/bookings/{booking_id}/decline", {"reason": "no"})
    assert error_of(decline, 403)["code"] == "forbidden"
    assert error_of(Client().get(f"/api/v1/bookings/{booking_id}"), 401)["code"] == "unauthenticated"
    assert error_of(post(Client(), f"/api/v1/bookings/{booking_id}/cancel", {"reason": ""}), 401)
    assert error_of(logged_in(client_ny).get("/api/v1/bookings/99999"), 404)
    assert error_of(logged_in(client_ny).get("/api/v1/bookings/BK-2026-999999"), 404)
    assert Booking.objects.get(pk=booking_id).status == BookingStatus.REQUESTED


# ---------------------------------------------------------------------------------------
# Changing bookings
# ---------------------------------------------------------------------------------------


@pytest.fixture
def request_id(coach, consultation, client_ny) -> int:
    coach.coach_profile.require_approval_unconnected = True
    coach.coach_profile.save()
    body = book(logged_in(client_ny), coach, consultation).json()
    assert body["status"] == "requested"
    return body["id"]


def test_decline_with_a_reason_frees_the_slot(coach, consultation, client_ny, request_id) -> None:
    http = logged_in(coach)
    assert error_of(post(http, f"/api/v1/bookings/{request_id}/decline", {"reason": " "}), 400)["code"] == (
        "reason_required"
    )
    assert error_of(post(http, f"/api/v1/bookings/{request_id}/decline", {}), 400)["code"] == "reason_required"
    response = post(http, f"/api/v1/bookings/{request_id}/decline", {"reason": "I'm away that day."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decline_reason"]) == ("declined", "I'm away that day.")
    assert body["history"][-1]["action"] == "declined"
    assert book(logged_in(ClientFactory()), coach, consultation).status_code == 201


def test_suggest_then_accept_an_alternative(coach, client_ny, request_id) -> None:
    times = ["2026-12-03T11:00:00+01:00", "2026-12-04T15:00:00+01:00"]
    response = post(logged_in(coach), f"/api/v1/bookings/{request_id}/suggest", {"alternatives": times, "note": "Or"})
    assert response.status_code == 200, response.content
    assert response.json()["suggested_alternatives"] == times  # the coach reads Paris times
    http = logged_in(client_ny)
    assert http.get(f"/api/v1/bookings/{request_id}").json()["suggested_alternatives"] == [
        "2026-12-03T05:00:00-05:00",
        "2026-12-04T09:00:00-05:00",
    ]
    not_offered = post(
        http, f"/api/v1/bookings/{request_id}/accept-alternative", {"start": "2026-12-03T12:00:00+01:00"}
    )
    assert error_of(not_offered, 400)["code"] == "invalid"
    response = post(http, f"/api/v1/bookings/{request_id}/accept-alternative", {"start": "2026-12-04T09:00:00-05:00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["start"]) == ("confirmed", "2026-12-04T09:00:00-05:00")
    assert body["rescheduled_from"] == "2026-12-02T04:00:00-05:00"
    assert [e["action"] for e in body["history"]] == ["requested", "alternatives_suggested", "alternative_accepted"]


def test_suggest_refusals(coach, client_ny, request_id) -> None:
    url = f"/api/v1/bookings/{request_id}/suggest"
    http = logged_in(coach)
    assert error_of(post(http, url, {"alternatives": []}), 400)["code"] == "invalid"
    assert error_of(post(http, url, {"alternatives": ["2026-12-03T11:00:00"]}), 400)["code"] == "invalid"
    assert error_of(post(http, url, {"alternatives": ["2026-11-30T11:00:00+01:00"]}), 400)["code"] == "invalid"
    assert error_of(post(logged_in(client_ny), url, {"alternatives": ["2026-12-03T11:00:00+01:00"]}), 403)


def test_decline_alternatives_withdraws_the_request(coach, client_ny, request_id) -> None:
    post(logged_in(coach), f"/api/v1/bookings/{request_id}/suggest", {"alternatives": ["2026-12-03T11:00:00+01:00"]})
    response = post(logged_in(client_ny), f"/api/v1/bookings/{request_id}/decline-alternatives")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_ask_and_answer_a_question(coach, client_ny, request_id) -> None:
    question = post(logged_in(coach), f"/api/v1/bookings/{request_id}/request-info", {"question": "Which role?"})
    assert question.status_code == 200, question.content
    assert question.json()["info_request"] == "Which role?"
    http = logged_in(client_ny)
    assert error_of(post(http, f"/api/v1/bookings/{request_id}/request-info", {"question": "?"}), 403)
    assert error_of(post(http, f"/api/v1/bookings/{request_id}/answer-info", {"answer": "  "}), 400)["code"] == (
        "invalid"
    )
    answer = post(http, f"/api/v1/bookings/{request_id}/answer-info", {"answer": "Product manager"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["info_response"]) == ("requested", "Product manager")
    assert [(e["action"], e["note"]) for e in body["history"][1:]] == [
        ("information_requested", "Which role?"),
        ("information_given", "Product manager"),
    ]
    assert post(logged_in(coach), f"/api/v1/bookings/{request_id}/approve").json()["status"] == "confirmed"


def test_answer_without_a_question_is_an_invalid_transition(client_ny, request_id) -> None:
    refusal(
        post(logged_in(client_ny), f"/api/v1/bookings/{request_id}/answer-info", {"answer": "Hi"}), "invalid_transition"
    )


def test_reschedule_moves_the_booking_and_frees_the_old_time(coach, consultation, client_ny) -> None:
    http = logged_in(client_ny)
    booking_id = book(http, coach, consultation).json()["id"]
    response = post(http, f"/api/v1/bookings/{booking_id}/reschedule", {"start": "2026-12-02T14:00:00+01:00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["start"], body["rescheduled_from"]) == (
        "firm_booked",
        "2026-12-02T08:00:00-05:00",
        "2026-12-02T04:00:00-05:00",
    )
    assert body["history"][-1]["action"] == "rescheduled"
    assert book(logged_in(ClientFactory()), coach, consultation).status_code == 201
    refusal(post(http, f"/api/v1/bookings/{booking_id}/reschedule", {"start": TOMORROW_10_PARIS}), "slot_taken")
    refusal(
        post(http, f"/api/v1/bookings/{booking_id}/reschedule", {"start": "2026-12-02T22:00:00+01:00"}),
        "outside_availability",
    )
    assert error_of(post(http, f"/api/v1/bookings/{booking_id}/reschedule", {"start": "2026-12-02T14:00"}), 400)
    assert Booking.objects.get(pk=booking_id).session.start == dt.datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


def test_the_coach_cancels_with_a_reason(coach, consultation, client_ny) -> None:
    booking_id = book(logged_in(client_ny), coach, consultation).json()["id"]
    http = logged_in(coach)
    assert error_of(post(http, f"/api/v1/bookings/{booking_id}/cancel"), 400)["code"] == "reason_required"
    response = post(http, f"/api/v1/bookings/{booking_id}/cancel", {"reason": "I'm ill."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancellation_reason"]) == ("cancelled", "I'm ill.")
    assert body["history"][-1] | {"at": None} == {
        "action": "cancelled",
        "from": "firm_booked",
        "to": "cancelled",
        "actor": "Camille Laurent",
        "at": None,
        "note": "I'm ill.",
    }


def test_a_client_cancels_a_request_and_it_is_gone_from_the_coach_queue(coach, client_ny, request_id) -> None:
    response = post(logged_in(client_ny), f"/api/v1/bookings/{request_id}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert logged_in(coach).get("/api/v1/bookings", {"status": "requested"}).json() == []


# ---------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------


def test_openapi_schema_renders_with_the_booking_paths(db) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/session-types",
        "/api/v1/session-types/{type_id}",
        "/api/v1/bookings",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/bookings/{booking_id}/cancel",
        "/api/v1/bookings/{booking_id}/reschedule",
        "/api/v1/bookings/{booking_id}/approve",
        "/api/v1/bookings/{booking_id}/decline",
        "/api/v1/bookings/{booking_id}/suggest",
        "/api/v1/bookings/{booking_id}/accept-alternative",
        "/api/v1/bookings/{booking_id}/request-info",
        "/api/v1/bookings/{booking_id}/answer-info",
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}/bookings",
    ):
        assert path in paths, path
    assert Client().get("/api/v1/docs").status_code == 200


def test_ids_beyond_any_database_integer_are_404_not_500(coach, consultation, client_ny) -> None:
    http = logged_in(client_ny)
    huge = 10**20
    for response in (
        http.get(f"/api/v1/bookings/{huge}"),
        post(http, f"/api/v1/bookings/{huge}/cancel", {"reason": ""}),
        http.get("/api/v1/session-types", {"coach": huge}),
        post(http, f"/api/v1/sessions/{huge}/bookings"),
        book(http, coach, consultation, client=huge),
        post(http, "/api/v1/bookings", {"coach": huge, "session_type": huge, "start": TOMORROW_10_PARIS}),
        patch(logged_in(coach), f"/api/v1/session-types/{huge}", {"title": "x"}),
    ):
        assert error_of(response, 404)["code"] == "not_found"
    unknown_type = post(http, "/api/v1/bookings", {"coach": coach.pk, "session_type": huge, "start": TOMORROW_10_PARIS})
    assert error_of(unknown_type, 400)["code"] == "unknown_session_type"


def test_a_session_cookie_needs_the_csrf_token_to_book(coach, consultation, client_ny) -> None:
    http = Client(enforce_csrf_checks=True)
    http.force_login(client_ny)
    assert error_of(book(http, coach, consultation), 403)["code"] == "forbidden"
    assert not Booking.objects.exists()
