"""A seat already held is not offered again (the list and the seat page say "You have a
seat" and link to the booking), and cancelling from the booking page goes through a
confirm step that states the policy and what a late cancellation means.

The clock is frozen at Tuesday 1 December 2026, 06:00 UTC; the coach is in Europe/Paris."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, GuardianLinkFactory
from bookings import services
from bookings.models import BookingStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def circle(coach):
    return GroupTypeFactory(coach=coach, title="Morning circle", capacity=3, price=0)


@pytest.fixture
def sofia():
    return ClientFactory(name="Sofia Marquez", timezone="Europe/Paris")


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def text_of(response) -> str:
    return unescape(response.content.decode())


# --- a seat already held ----------------------------------------------------------------


def test_a_seat_you_hold_is_not_offered_again(coach, circle, sofia) -> None:
    held = services.publish_session(actor=coach, session_type=circle, start=START, capacity=3)
    other = services.publish_session(actor=coach, session_type=circle, start=START + dt.timedelta(days=1), capacity=3)
    seat = services.take_seat(client=sofia, session=held)
    http = signed_in(sofia)

    page = text_of(http.get(reverse("book_type", args=[coach.pk, circle.pk])))
    rows = page.split('data-testid="group-session"')[1:]
    held_row = next(row for row in rows if f'data-session-id="{held.pk}"' in row)
    other_row = next(row for row in rows if f'data-session-id="{other.pk}"' in row)
    assert "You have a seat" in held_row
    assert f'href="{reverse("booking_detail", args=[seat.reference])}"' in held_row
    assert "Book a seat" not in held_row
    assert "Book a seat" in other_row and "You have a seat" not in other_row

    seat_page = http.get(reverse("book_seat", args=[held.pk]))
    body = text_of(seat_page)
    assert seat_page.status_code == 200
    assert "You have a seat in this session." in body
    assert f'href="{reverse("booking_detail", args=[seat.reference])}"' in body
    assert 'data-testid="seat-submit"' not in body
    assert "Your seat is confirmed at once" not in body


def test_a_guardian_who_holds_a_seat_may_still_book_one_for_a_dependent(coach, circle, sofia) -> None:
    session = services.publish_session(actor=coach, session_type=circle, start=START, capacity=3)
    child = ClientFactory(name="Leo Marquez")
    GuardianLinkFactory(guardian=sofia, dependent=child)
    services.take_seat(client=sofia, session=session)
    body = text_of(signed_in(sofia).get(reverse("book_seat", args=[session.pk])))
    assert "You have a seat in this session." in body
    assert 'data-testid="seat-submit"' in body
    assert "Leo Marquez" in body and ">Myself<" not in body


# --- cancelling from the booking page ---------------------------------------------------


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, title="Career consultation", duration_minutes=60)


def test_cancel_on_the_booking_page_asks_first_with_the_policy(coach, consult, sofia) -> None:
    profile = coach.coach_profile
    profile.cancellation_notice_hours = 24
    profile.save()
    booking = services.book_slot(client=sofia, session_type=consult, start=START)
    http = signed_in(sofia)
    detail = text_of(http.get(reverse("booking_detail", args=[booking.reference])))
    confirm_url = reverse("booking_cancel_confirm", args=[booking.reference])
    # The booking page links to the confirm step; it no longer cancels in one click.
    assert f'href="{confirm_url}"' in detail
    assert f'action="{reverse("booking_action", args=[booking.reference, "cancel"])}"' not in detail

    page = http.get(confirm_url)
    body = text_of(page)
    assert page.status_code == 200
    assert "Cancel this session?" in body
    assert "Free cancellation up to 24 hours before the session" in body
    assert "Thursday 3 December" in body
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED  # nothing happened on GET

    response = http.post(confirm_url, {"reason": "Ill"})
    assert response.status_code == 303
    assert response["Location"] == reverse("booking_detail", args=[booking.reference])
    shown = http.get(response["Location"])
    body = text_of(shown)
    assert "Cancelled. Career consultation on Thursday 3 December" in body
    # The message is shown once: the next page carries no stale copy of it.
    assert "Cancelled. Career consultation" not in text_of(http.get(response["Location"]))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_a_late_cancellation_says_so_before_and_is_marked_after(coach, consult, sofia) -> None:
    profile = coach.coach_profile
    profile.cancellation_notice_hours = 72
    profile.save()
    consult.allow_late_cancellation = True
    consult.save()
    booking = services.book_slot(client=sofia, session_type=consult, start=START)
    body = text_of(signed_in(sofia).get(reverse("booking_cancel_confirm", args=[booking.reference])))
    assert "This is a late cancellation" in body
    assert "Free cancellation ended" in body


def test_a_cancellation_the_policy_refuses_is_said_before_the_click(coach, consult, sofia) -> None:
    profile = coach.coach_profile
    profile.cancellation_notice_hours = 72
    profile.save()
    consult.allow_late_cancellation = False
    consult.save()
    booking = services.book_slot(client=sofia, session_type=consult, start=START)
    page = signed_in(sofia).get(reverse("booking_cancel_confirm", args=[booking.reference]))
    body = text_of(page)
    assert "can be cancelled up to 72 hours before they start" in body
    assert 'data-testid="cancel-confirm-submit"' not in body


def test_the_cancel_step_is_only_for_who_may_cancel(coach, consult, sofia) -> None:
    booking = services.book_slot(client=sofia, session_type=consult, start=START)
    url = reverse("booking_cancel_confirm", args=[booking.reference])
    assert signed_in(ClientFactory()).get(url).status_code == 404
    assert signed_in(coach).get(url).status_code == 200
    services.cancel(booking=booking, actor=sofia)
    page = signed_in(sofia).get(url)
    assert page.status_code == 409
    assert "This booking is cancelled" in text_of(page)
