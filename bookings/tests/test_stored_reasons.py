"""A reason the booking services write themselves (a request nobody answered, a payment
that did not come) is stored in English and shown in the reader's language on the
booking's page; a reason a person typed is shown as typed, in every language."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.services.payment import expire_payment_holds
from bookings.tests.factories import SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
TOMORROW_9 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris", require_approval_unconnected=True)


def _request(coach, client, *, hours_later: int = 0) -> Booking:
    session_type = SessionTypeFactory(coach=coach, title="Intro call")
    start = TOMORROW_9 + dt.timedelta(hours=hours_later)
    return services.book_slot(client=client, session_type=session_type, start=start)


def _page(person, booking: Booking) -> str:
    http = Client()
    http.force_login(person)
    response = http.get(f"/bookings/{booking.reference}/")
    assert response.status_code == 200
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def _decline_reason(body: str) -> str:
    found = re.search(r'data-testid="decline-reason"><div class="quote">(.*?)</div>', body)
    assert found is not None
    return found.group(1)


def test_a_request_nobody_answered_reads_in_each_clients_language(coach):
    french = ClientFactory(language="fr", timezone="Europe/Paris")
    english = ClientFactory(language="en", timezone="Europe/Paris")
    requests = [_request(coach, french), _request(coach, english, hours_later=2)]
    with translation.override("fr"):  # the task's language does not matter
        assert services.expire_requests(now=TOMORROW_9 + dt.timedelta(hours=2)) == 2
    for booking in requests:
        booking.refresh_from_db()
        assert booking.status == BookingStatus.DECLINED
        assert booking.decline_reason == "The request was not answered in time."

    french_page = _page(french, requests[0])
    assert _decline_reason(french_page) == "La demande n’a pas reçu de réponse à temps."
    history = re.findall(r'data-testid="history-row">(.*?)</li>', french_page)
    assert "La demande n’a pas reçu de réponse à temps." in history[-1]
    assert _decline_reason(_page(english, requests[1])) == "The request was not answered in time."


def test_a_reason_the_coach_typed_is_shown_as_typed_in_both_languages(coach):
    french = ClientFactory(language="fr", timezone="Europe/Paris")
    english = ClientFactory(language="en", timezone="Europe/Paris")
    for hours_later, person in enumerate((french, english)):
        booking = _request(coach, person, hours_later=2 * hours_later)
        services.decline(booking=booking, actor=coach, reason="Left the waitlist? No: I'm away that week.")
        assert _decline_reason(_page(person, booking)) == "Left the waitlist? No: I'm away that week."


def test_a_payment_that_did_not_come_reads_in_the_clients_language(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_HOLD_MINUTES = 15
    coach = open_coach(timezone="Europe/Paris")
    french = ClientFactory(language="fr", timezone="Europe/Paris")
    session_type = SessionTypeFactory(coach=coach, title="Paid call", price=Decimal("60.00"), currency="EUR")
    booking = services.book_slot(client=french, session_type=session_type, start=TOMORROW_9)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    with translation.override("fr"):
        assert expire_payment_holds(now=booking.expires_at) == 1
    booking.refresh_from_db()
    assert booking.cancellation_reason == "The payment was not completed in time."
    assert '<div class="quote">Le paiement n’a pas été effectué à temps.</div>' in _page(french, booking)
