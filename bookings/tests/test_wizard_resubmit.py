"""The wizard's confirm forms are safe to send twice (bookings/idempotency.py, the views'
``submit_token``): a double click, back and submit again, or a retry after a lost answer
lands on the booking the first submit made — never a second booking, never "slot taken".

Time is frozen on Tuesday 1 December 2026, 06:00 UTC; the coach works in Paris.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from html import unescape

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import idempotency, services
from bookings.models import Booking, BookingEvent, IdempotencyRecord
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Paris
START_PARAM = "2026-12-02T09:00:00Z"
NEW_START_PARAM = "2026-12-03T13:00:00Z"
ALREADY_BOOKED = "This booking was already made."
TOKEN = re.compile(r'<input type="hidden" name="submit_token" value="([^"]+)">')


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(db):
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, title="Career consultation")


@pytest.fixture
def client_user(db):
    return ClientFactory(email="nia@example.com", timezone="America/New_York")


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def confirm_url(st, start: str = START_PARAM) -> str:
    return f"{reverse('book_confirm', args=[st.coach_id, st.pk])}?start={start}"


def token_on(response) -> str:
    found = TOKEN.findall(response.content.decode())
    assert len(found) == 1, "the confirm form carries one token"
    return found[0]


def page_text(response) -> str:
    return unescape(response.content.decode())


# ---------------------------------------------------------------------------------------
# Booking a one-on-one session
# ---------------------------------------------------------------------------------------


def test_each_confirm_page_carries_a_fresh_token(coach, consult, client_user) -> None:
    http = signed_in(client_user)

    first, second = token_on(http.get(confirm_url(consult))), token_on(http.get(confirm_url(consult)))

    assert first != second
    assert idempotency.FORM_TOKEN_SHAPE.fullmatch(first)


def test_the_confirm_form_sent_twice_books_once_and_lands_on_the_booking(coach, consult, client_user) -> None:
    http = signed_in(client_user)
    token = token_on(http.get(confirm_url(consult)))
    first = http.post(confirm_url(consult), {"notes": "Hello", "reminders": "on", "submit_token": token})
    booking = Booking.objects.get(client=client_user)
    done_url = reverse("booking_done", args=[booking.reference])
    assert first.status_code == 303 and first["Location"] == done_url

    second = http.post(confirm_url(consult), {"notes": "Hello", "reminders": "on", "submit_token": token})

    assert second.status_code == 303
    assert second["Location"] == done_url
    landed = http.get(second["Location"])
    assert landed.status_code == 200
    assert ALREADY_BOOKED in page_text(landed)
    assert "no longer available" not in page_text(landed)
    assert Booking.objects.filter(client=client_user).count() == 1
    assert BookingEvent.objects.filter(booking=booking).count() == 1


def test_back_and_submit_again_with_other_notes_still_shows_the_first_booking(coach, consult, client_user) -> None:
    http = signed_in(client_user)
    token = token_on(http.get(confirm_url(consult)))
    http.post(confirm_url(consult), {"notes": "First", "submit_token": token})

    again = http.post(confirm_url(consult), {"notes": "Changed my mind", "submit_token": token}, follow=True)

    booking = Booking.objects.get(client=client_user)
    assert again.redirect_chain[-1][0] == reverse("booking_done", args=[booking.reference])
    assert ALREADY_BOOKED in page_text(again)
    assert booking.client_notes == "First"


def test_a_refused_submit_frees_its_token_and_the_page_gets_a_new_one(coach, consult, client_user) -> None:
    services.book_slot(client=client_user, session_type=SessionTypeFactory(coach=open_coach()), start=START)
    http = signed_in(client_user)
    token = token_on(http.get(confirm_url(consult)))

    refused = http.post(confirm_url(consult), {"submit_token": token})

    assert refused.status_code == 409
    assert "You have another session at this time." in page_text(refused)
    assert token_on(refused) != token
    assert not IdempotencyRecord.objects.exists()
    assert Booking.objects.filter(client=client_user, session__session_type=consult).count() == 0


def test_a_form_without_a_token_still_books(coach, consult, client_user) -> None:
    """A page rendered before tokens existed (or a script) books as before, unguarded."""
    response = signed_in(client_user).post(confirm_url(consult), {"notes": "No token"})

    assert response.status_code == 303
    assert Booking.objects.filter(client=client_user).count() == 1
    assert not IdempotencyRecord.objects.exists()


def test_another_users_token_is_theirs_alone(coach, consult, client_user) -> None:
    token = token_on(signed_in(client_user).get(confirm_url(consult)))
    signed_in(client_user).post(confirm_url(consult), {"submit_token": token})
    someone_else = ClientFactory()

    theirs = signed_in(someone_else).post(confirm_url(consult, "2026-12-02T10:00:00Z"), {"submit_token": token})

    assert theirs.status_code == 303
    assert Booking.objects.filter(client=someone_else).count() == 1
    assert IdempotencyRecord.objects.count() == 2


def test_a_submit_while_the_first_is_still_running_waits_then_points_to_the_dashboard(
    coach, consult, client_user, monkeypatch
) -> None:
    monkeypatch.setattr(idempotency, "FORM_WAIT_SECONDS", 0.3)
    http = signed_in(client_user)
    token = token_on(http.get(confirm_url(consult)))
    path = reverse("book_confirm", args=[consult.coach_id, consult.pk])
    IdempotencyRecord.objects.create(  # the first submit's claim, its booking not made yet
        user=client_user,
        key=idempotency.FORM_KEY_PREFIX + token,
        request_hash=idempotency.request_hash(method="POST", path=f"{path}?start={START_PARAM}", query="", body=b""),
        method="POST",
        path=path,
        created_at=NOW,
    )

    response = http.post(confirm_url(consult), {"submit_token": token}, follow=True)

    assert response.redirect_chain[0] == (reverse("dashboard"), 303)
    assert "Your booking is still being made" in page_text(response)
    assert not Booking.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_sends_two_submits_at_once_and_both_land_on_one_booking() -> None:
    """Real threads with their own connections (SQLite in a WAL file, or PostgreSQL): the
    second submit waits for the first and shows its booking."""
    coach = open_coach(timezone="Europe/Paris")
    consult = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    for day, start in enumerate(("2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z")):
        http = signed_in(client)
        token = token_on(http.get(confirm_url(consult, start)))
        barrier = threading.Barrier(2)
        answers: list = []
        errors: list[BaseException] = []

        def submit(start: str = start, token: str = token, barrier=barrier, answers=answers, errors=errors) -> None:
            try:
                browser = signed_in(client)
                barrier.wait()
                answers.append(browser.post(confirm_url(consult, start), {"submit_token": token}))
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        booking = Booking.objects.get(client=client, session__start=dt.datetime.fromisoformat(start))
        done_url = reverse("booking_done", args=[booking.reference])
        assert [(a.status_code, a["Location"]) for a in answers] == [(303, done_url)] * 2
    assert Booking.objects.filter(client=client).count() == 3


# ---------------------------------------------------------------------------------------
# A seat in a group session; a reschedule
# ---------------------------------------------------------------------------------------


def test_taking_a_seat_sent_twice_takes_one_seat(coach, client_user) -> None:
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=3, price=0)
    session = services.publish_session(actor=coach, session_type=circle, start=START, capacity=3)
    http = signed_in(client_user)
    url = reverse("book_seat", args=[session.pk])
    token = token_on(http.get(url))
    first = http.post(url, {"reminders": "on", "submit_token": token})
    assert first.status_code == 303

    second = http.post(url, {"reminders": "on", "submit_token": token}, follow=True)

    booking = Booking.objects.get(client=client_user)
    assert second.redirect_chain[-1][0] == reverse("booking_done", args=[booking.reference])
    assert ALREADY_BOOKED in page_text(second)
    session.refresh_from_db()
    assert session.seats_taken == 1


def test_a_reschedule_sent_twice_moves_once_and_shows_the_booking(coach, consult, client_user) -> None:
    booking = services.book_slot(client=client_user, session_type=consult, start=START)
    http = signed_in(client_user)
    url = f"{reverse('booking_reschedule_confirm', args=[booking.reference])}?start={NEW_START_PARAM}"
    token = token_on(http.get(url))
    first = http.post(url, {"submit_token": token})
    detail_url = reverse("booking_detail", args=[booking.reference])
    assert first.status_code == 303 and first["Location"] == detail_url

    second = http.post(url, {"submit_token": token}, follow=True)

    assert second.redirect_chain[-1][0] == detail_url
    text = page_text(second)
    assert "This booking was already moved." in text
    assert "current time" not in text
    booking.refresh_from_db()
    assert booking.session.start == dt.datetime(2026, 12, 3, 13, tzinfo=UTC)
    assert BookingEvent.objects.filter(booking=booking, action="rescheduled").count() == 1
