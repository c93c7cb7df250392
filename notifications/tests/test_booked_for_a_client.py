"""A booking made for a client by staff, or by a coach for a connected client: the client
gets the usual messages, and whoever booked is told once (a coach as the coach)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import ConnectionStatus
from accounts.tests.factories import ClientFactory, ConnectionFactory, StaffFactory
from bookings import relay, services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications.models import Kind, Notification

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.RELAY_WAKE = False
    with time_machine.travel(NOW, tick=False):
        yield


def kinds_for(user, booking) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user, booking=booking).values_list("kind", flat=True))


def test_a_coach_booking_a_connected_client_tells_the_client_and_the_coach_once() -> None:
    coach = open_coach()
    client = ClientFactory()
    ConnectionFactory(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    booking = services.book_slot(
        client=client, session_type=SessionTypeFactory(coach=coach), start=START, booked_by=coach
    )
    relay.relay_pending()
    assert kinds_for(client, booking) == [Kind.BOOKING_CREATED]
    assert kinds_for(coach, booking) == [Kind.BOOKING_CREATED]


def test_staff_booking_for_a_client_tells_the_client_the_coach_and_the_staff_member() -> None:
    coach = open_coach()
    client = ClientFactory()
    staff = StaffFactory()
    booking = services.book_slot(
        client=client, session_type=SessionTypeFactory(coach=coach), start=START, booked_by=staff
    )
    relay.relay_pending()
    assert kinds_for(client, booking) == [Kind.BOOKING_CREATED]
    assert kinds_for(coach, booking) == [Kind.BOOKING_CREATED]
    assert kinds_for(staff, booking) == [Kind.BOOKING_CREATED]
