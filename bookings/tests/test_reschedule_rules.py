"""Moving a request: a client's move of a pending request to a time that would be firm if
booked anew makes it firm (as if cancelled and booked again at that time); a move to a
time that would still be a request stays a request. The confirm page promises what the
service then does, and no page shows an internal status name.

The clock is frozen at Tuesday 1 December 2026, 06:00 UTC; the coach is in Europe/Paris."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import ConnectionStatus
from accounts.tests.factories import ClientFactory, ConnectionFactory
from availability.models import Allocation, AllocationKind
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.services.common import _record
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SOON = dt.datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # today 15:00 Paris: under the 24 h threshold
NEXT_WEEK = dt.datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # Tuesday 8 December, 10:00 Paris
NEXT_WEEK_PARAM = "2026-12-08T09:00:00Z"
INTERNAL_NAMES = ("firm_booked", "requested to", "no_show")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    return open_coach(firm_booking_threshold_hours=24)


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, duration_minutes=60)


@pytest.fixture
def connected_client(coach):
    client = ClientFactory(timezone="Europe/Paris")
    ConnectionFactory(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    return client


@pytest.fixture
def soon_request(consult, connected_client):
    booking = services.book_slot(client=connected_client, session_type=consult, start=SOON)
    assert booking.status == BookingStatus.REQUESTED  # under 24 h ahead
    return booking


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def test_moving_a_request_to_a_time_that_would_be_firm_makes_it_firm(soon_request, connected_client) -> None:
    moved = services.reschedule(booking=soon_request, actor=connected_client, start=NEXT_WEEK)
    moved.refresh_from_db()
    assert moved.status == BookingStatus.FIRM_BOOKED
    assert moved.expires_at is None and moved.confirmed_at == NOW
    assert Allocation.objects.get(is_active=True).kind == AllocationKind.SESSION
    event = moved.events.last()
    assert (event.action, event.from_status, event.to_status) == (
        "rescheduled",
        BookingStatus.REQUESTED,
        BookingStatus.FIRM_BOOKED,
    )


def test_moving_a_request_to_a_time_that_would_still_be_a_request_keeps_it_a_request(
    soon_request, connected_client
) -> None:
    later_today = SOON + dt.timedelta(hours=1)
    moved = services.reschedule(booking=soon_request, actor=connected_client, start=later_today)
    moved.refresh_from_db()
    assert moved.status == BookingStatus.REQUESTED
    assert moved.expires_at == later_today  # answered by the start at the latest
    assert Allocation.objects.get(is_active=True).kind == AllocationKind.REQUEST


def test_the_reschedule_page_promises_what_the_service_does(soon_request, connected_client) -> None:
    http = signed_in(connected_client)
    confirm = f"{reverse('booking_reschedule_confirm', args=[soon_request.reference])}?start={NEXT_WEEK_PARAM}"
    page = unescape(http.get(confirm).content.decode())
    assert "The new time is confirmed at once." in page
    response = http.post(confirm, follow=True)
    body = unescape(response.content.decode())
    assert response.status_code == 200, body
    assert "Moved to Tuesday 8 December at 10:00 (Europe/Paris)." in body
    text = re.sub(r"<[^>]+>", " ", body)  # what a person reads, not class names
    assert [name for name in INTERNAL_NAMES if name in text] == []
    soon_request.refresh_from_db()
    assert soon_request.status == BookingStatus.FIRM_BOOKED


def test_a_refused_transition_names_no_internal_status() -> None:
    booking = Booking(status=BookingStatus.FIRM_BOOKED)
    with pytest.raises(DomainError) as refusal:
        _record(booking, actor=None, action="rescheduled", from_status=BookingStatus.COMPLETED)
    assert refusal.value.code == "invalid_transition"
    assert refusal.value.message == "This booking can't be changed that way any more."
