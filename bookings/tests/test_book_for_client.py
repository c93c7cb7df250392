"""Booking for a client: staff, and a coach for a client connected to them, pick the
client and go through the same wizard ("Book for …" on every step); the booking's
``booked_by`` is who booked, the client gets the usual messages. Who may NOT: a coach for
a client not connected to them (or only asking), a coach for a client with another coach,
a client for another client, staff for a coach, another staff member or a deactivated
account.

The clock is frozen at Tuesday 1 December 2026, 06:00 UTC; the coach is in Europe/Paris."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.access import can_book_for, clients_bookable_by
from accounts.models import ConnectionStatus
from accounts.tests.factories import ClientFactory, CoachFactory, ConnectionFactory, StaffFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import NotAllowed

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Paris
START_PARAM = "2026-12-03T09:00:00Z"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.RELAY_WAKE = False
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save()
    return coach


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, title="Career consultation", duration_minutes=60)


@pytest.fixture
def nia():
    return ClientFactory(name="Nia York", email="nia@example.com", timezone="America/New_York")


@pytest.fixture
def connected(coach, nia):
    ConnectionFactory(client=nia, coach=coach, status=ConnectionStatus.ACCEPTED)
    return nia


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def text_of(response) -> str:
    return unescape(response.content.decode())


# --- who may book for whom ----------------------------------------------------------------


def test_who_may_book_for_a_client(coach, consult, nia) -> None:
    staff = StaffFactory()
    other_coach = CoachFactory()
    asking = ClientFactory()
    ConnectionFactory(client=asking, coach=coach, status=ConnectionStatus.PENDING)
    ConnectionFactory(client=nia, coach=coach, status=ConnectionStatus.ACCEPTED)
    gone = ClientFactory()
    gone.is_active = False
    gone.save()

    assert can_book_for(staff, nia)
    assert can_book_for(coach, nia, coach=coach)
    # Who may not:
    assert not can_book_for(coach, nia)  # a coach, outside a booking with themself
    assert not can_book_for(coach, nia, coach=other_coach)  # with another coach
    assert not can_book_for(other_coach, nia, coach=other_coach)  # not connected to them
    assert not can_book_for(coach, asking, coach=coach)  # only asking to connect
    assert not can_book_for(ClientFactory(), nia)  # a client for another client
    assert not can_book_for(staff, other_coach)  # staff for a coach
    assert not can_book_for(staff, StaffFactory())  # or another staff member
    assert not can_book_for(staff, gone)  # or a deactivated account

    assert set(clients_bookable_by(coach)) == {nia}
    assert nia in clients_bookable_by(staff) and asking in clients_bookable_by(staff)
    assert other_coach not in clients_bookable_by(staff) and gone not in clients_bookable_by(staff)
    assert not clients_bookable_by(nia).exists()


def test_a_coach_books_a_connected_client(coach, consult, connected) -> None:
    booking = services.book_slot(client=connected, session_type=consult, start=START, booked_by=coach)
    assert (booking.client, booking.booked_by, booking.status) == (connected, coach, BookingStatus.FIRM_BOOKED)
    # The messages it makes: notifications/tests/test_booked_for_a_client.py.


def test_a_coach_may_not_book_a_client_who_is_not_theirs(coach, consult, nia) -> None:
    with pytest.raises(NotAllowed):
        services.book_slot(client=nia, session_type=consult, start=START, booked_by=coach)
    other = open_coach()
    ConnectionFactory(client=nia, coach=other, status=ConnectionStatus.ACCEPTED)
    with pytest.raises(NotAllowed):  # connected to another coach: not this one's to book
        services.book_slot(client=nia, session_type=consult, start=START, booked_by=other)
    ConnectionFactory(client=nia, coach=coach, status=ConnectionStatus.ACCEPTED)
    with pytest.raises(NotAllowed):  # nor with another coach's session type
        services.book_slot(client=nia, session_type=SessionTypeFactory(coach=other), start=START, booked_by=coach)
    assert not Booking.objects.exists()


def test_a_coach_who_booked_for_a_client_cannot_act_on_their_bookings_with_others(coach, consult, connected) -> None:
    other = open_coach()
    ConnectionFactory(client=connected, coach=other, status=ConnectionStatus.ACCEPTED)
    theirs = services.book_slot(client=connected, session_type=SessionTypeFactory(coach=other), start=START)
    with pytest.raises(NotAllowed):
        services.cancel(booking=theirs, actor=coach)
    assert not services.can_act_for_client(coach, theirs)


# --- the wizard -----------------------------------------------------------------------------


def test_staff_pick_a_client_with_the_search_and_book_through_the_wizard(coach, consult, nia) -> None:
    staff = StaffFactory(name="Sam Staff", timezone="Europe/London")
    ClientFactory(name="Noah Other")
    http = signed_in(staff)

    picker = text_of(http.get(reverse("book_for_client"), {"q": "nia"}))
    assert "Nia York" in picker and "nia@example.com" in picker
    assert "Noah Other" not in picker
    assert coach.email not in picker and staff.email not in picker

    chosen = http.post(reverse("book_for_client"), {"client": nia.pk})
    assert chosen.status_code == 303 and chosen["Location"] == reverse("book_coach_list")

    for url in (
        reverse("book_coach_list"),
        reverse("book_type", args=[coach.pk, consult.pk]),
        f"{reverse('book_confirm', args=[coach.pk, consult.pk])}?start={START_PARAM}",
    ):
        page = text_of(http.get(url, follow=True))
        assert "Book for Nia York" in page, url

    confirm = f"{reverse('book_confirm', args=[coach.pk, consult.pk])}?start={START_PARAM}"
    page = text_of(http.get(confirm))
    assert 'data-testid="book-submit"' in page
    assert "Sessions are booked from a client account" not in page
    response = http.post(confirm, {"for_client": nia.pk, "notes": "Phoned in", "reminders": "on"})
    assert response.status_code == 303, text_of(response)
    booking = Booking.objects.get()
    assert (booking.client, booking.booked_by, booking.client_notes) == (nia, staff, "Phoned in")
    done = text_of(http.get(response["Location"]))
    assert "Nia York" in done


def test_a_coach_books_for_a_connected_client_with_themself_only(coach, consult, connected) -> None:
    http = signed_in(coach)
    picker = text_of(http.get(reverse("book_for_client")))
    assert "Nia York" in picker
    chosen = http.post(reverse("book_for_client"), {"client": connected.pk})
    # Straight to the coach's own session types.
    assert chosen["Location"] == reverse("book_coach", args=[coach.pk])
    confirm = f"{reverse('book_confirm', args=[coach.pk, consult.pk])}?start={START_PARAM}"
    assert "Book for Nia York" in text_of(http.get(confirm))
    assert http.post(confirm, {"for_client": connected.pk}).status_code == 303
    assert Booking.objects.get().booked_by == coach

    other = open_coach()
    other_type = SessionTypeFactory(coach=other)
    page = text_of(http.get(f"{reverse('book_confirm', args=[other.pk, other_type.pk])}?start={START_PARAM}"))
    assert 'data-testid="book-submit"' not in page


def test_who_may_not_pick_a_client(coach, nia) -> None:
    assert signed_in(nia).get(reverse("book_for_client")).status_code == 404
    # A coach can't pick a client who isn't connected to them.
    response = signed_in(coach).post(reverse("book_for_client"), {"client": nia.pk})
    assert response.status_code == 404
    assert signed_in(StaffFactory()).post(reverse("book_for_client"), {"client": coach.pk}).status_code == 404
    assert signed_in(StaffFactory()).post(reverse("book_for_client"), {"client": "x"}).status_code == 404


def test_the_confirm_refuses_a_client_changed_in_another_tab(coach, consult, nia) -> None:
    staff = StaffFactory()
    other = ClientFactory(name="Other Person")
    http = signed_in(staff)
    http.post(reverse("book_for_client"), {"client": nia.pk})
    confirm = f"{reverse('book_confirm', args=[coach.pk, consult.pk])}?start={START_PARAM}"
    response = http.post(confirm, {"for_client": other.pk})
    assert response.status_code == 409
    assert "You are now booking for Nia York" in text_of(response)
    assert not Booking.objects.exists()


def test_staff_book_a_seat_for_a_client(coach, nia) -> None:
    staff = StaffFactory()
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=3, price=0)
    session = services.publish_session(actor=coach, session_type=circle, start=START, capacity=3)
    http = signed_in(staff)
    http.post(reverse("book_for_client"), {"client": nia.pk})
    url = reverse("book_seat", args=[session.pk])
    assert "Book for Nia York" in text_of(http.get(url))
    assert http.post(url, {"for_client": nia.pk}).status_code == 303
    seat = Booking.objects.get()
    assert (seat.client, seat.booked_by) == (nia, staff)


def test_stop_booking_for_a_client(coach, nia) -> None:
    staff = StaffFactory()
    http = signed_in(staff)
    http.post(reverse("book_for_client"), {"client": nia.pk})
    response = http.post(reverse("book_for_client"), {"stop": "1"})
    assert response.status_code == 303
    assert "Book for Nia York" not in text_of(http.get(reverse("book_coach_list")))


def test_staff_see_the_seat_the_picked_client_already_holds(coach, nia) -> None:
    staff = StaffFactory()
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=3, price=0)
    session = services.publish_session(actor=coach, session_type=circle, start=START, capacity=3)
    seat = services.take_seat(client=nia, session=session)
    http = signed_in(staff)
    page = text_of(http.get(reverse("book_type", args=[coach.pk, circle.pk])))
    assert "Has a seat" not in page and "Book a seat" in page  # staff hold no seat themselves
    http.post(reverse("book_for_client"), {"client": nia.pk})
    page = text_of(http.get(reverse("book_type", args=[coach.pk, circle.pk])))
    assert "Has a seat" in page and reverse("booking_detail", args=[seat.reference]) in page
    assert "Book a seat" not in page.split('data-testid="group-session"')[1]


def test_the_staff_and_coach_dashboards_lead_to_book_for_a_client(coach) -> None:
    for user, url in ((StaffFactory(), "/staff/"), (coach, "/coach/")):
        page = text_of(signed_in(user).get(url))
        assert f'href="{reverse("book_for_client")}" data-testid="dashboard-book-for-client"' in page, url
