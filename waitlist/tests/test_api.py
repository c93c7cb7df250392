"""The waitlist over JSON, and a full session's 409 that says one may wait."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from accounts.tests.factories import ClientFactory, StaffFactory, make_token
from bookings import relay, services
from bookings.tests.factories import GroupTypeFactory, open_coach
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(user)[1]}"}


def send(method: str, path: str, user, body=None):
    data = "" if body is None else json.dumps(body)
    return getattr(Client(), method)(path, data, content_type="application/json", **bearer(user))


@pytest.fixture
def full():
    coach = open_coach()
    group = GroupTypeFactory(coach=coach, capacity=1)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    session = services.publish_session(actor=coach, session_type=group, start=start)
    holder = ClientFactory()
    booking = services.take_seat(client=holder, session=session)
    return session, booking


def test_a_full_session_answers_409_full_with_the_waitlist_flag(full):
    session, _ = full
    newcomer = ClientFactory()
    answer = send("post", f"/api/v1/sessions/{session.pk}/bookings", newcomer, {})
    assert answer.status_code == 409
    assert answer.json()["error"] == {"code": "full", "message": "This session is full.", "waitlist": True}

    send("post", "/api/v1/waitlist", newcomer, {"session": session.pk})
    again = send("post", f"/api/v1/sessions/{session.pk}/bookings", newcomer, {})
    assert again.json()["error"]["waitlist"] is False  # already waiting


def test_join_list_accept_over_json(full):
    session, booking = full
    person = ClientFactory()
    joined = send("post", "/api/v1/waitlist", person, {"session": session.pk})
    assert joined.status_code == 201, joined.content
    body = joined.json()
    assert (body["status"], body["position"], body["waiting"], body["offer"]) == ("waiting", 1, 1, None)

    twice = send("post", "/api/v1/waitlist", person, {"session": session.pk})
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_waiting")

    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    mine = send("get", "/api/v1/waitlist", person).json()
    assert [entry["status"] for entry in mine] == ["offered"]
    offer = mine[0]["offer"]
    assert offer["status"] == "pending" and offer["expires_at"]

    stranger = send("post", f"/api/v1/waitlist/offers/{offer['id']}/accept", ClientFactory())
    assert stranger.status_code == 404
    accepted = send("post", f"/api/v1/waitlist/offers/{offer['id']}/accept", person)
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["status"] == "firm_booked"
    twice = send("post", f"/api/v1/waitlist/offers/{offer['id']}/accept", person)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "invalid_transition")


def test_decline_and_leave_over_json(full):
    session, booking = full
    first, second = ClientFactory(), ClientFactory()
    for person in (first, second):
        assert send("post", "/api/v1/waitlist", person, {"session": session.pk}).status_code == 201
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get(status=OfferStatus.PENDING)
    taker = offer.entry.client
    other = second if taker == first else first
    declined = send("post", f"/api/v1/waitlist/offers/{offer.pk}/decline", taker)
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    entry = WaitlistEntry.objects.get(client=other)
    assert entry.status == EntryStatus.OFFERED
    assert send("delete", f"/api/v1/waitlist/{entry.pk}", ClientFactory()).status_code == 404
    assert send("delete", f"/api/v1/waitlist/{entry.pk}", other).status_code == 204
    session.refresh_from_db()
    assert (session.seats_taken, session.seats_held) == (0, 0)


def test_the_coach_and_staff_see_the_queue_with_factors_and_clients_do_not(full):
    session, _ = full
    people = [ClientFactory() for _ in range(3)]
    for person in people:
        send("post", "/api/v1/waitlist", person, {"session": session.pk})
    for viewer in (session.coach, StaffFactory()):
        queue = send("get", f"/api/v1/waitlist?session={session.pk}", viewer)
        assert queue.status_code == 200, queue.content
        rows = queue.json()
        assert [row["position"] for row in rows] == [1, 2, 3]
        assert set(rows[0]["factors"]) == {
            "connection",
            "booking_history",
            "cancellation_rate",
            "waiting_time",
            "account_age",
            "previous_offers",
        }
        assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    refused = send("get", f"/api/v1/waitlist?session={session.pk}", people[0])
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")


def test_joining_an_open_session_or_a_one_on_one_is_refused(full):
    session, _ = full
    open_one = services.publish_session(
        actor=session.coach, session_type=session.session_type, start=session.start + dt.timedelta(days=1)
    )
    person = ClientFactory()
    answer = send("post", "/api/v1/waitlist", person, {"session": open_one.pk})
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "not_full")
    assert send("post", "/api/v1/waitlist", person, {"session": 10**12}).status_code == 404
    assert send("post", "/api/v1/waitlist", person, {"session": "x"}).status_code == 400
