"""A paid series (issue 17) with payments on: paid occurrence by occurrence. Each occurrence
is booked as the rules say (not held for payment), owes its price by ``balance_due_at``
(the type's balance_due_days before it starts, or at booking when that has passed), is paid from its page
like a balance, and a cancelled paid occurrence is refunded by its policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory
from bookings import relay
from bookings.models import Booking, BookingStatus
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from payments import local
from payments import services as payments
from payments.models import Refund

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.RELAY_WAKE = False
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"


def _series(count=4):
    coach = open_coach(timezone="America/New_York", hours=(8, 18), booking_window_days=60, cancellation_notice_hours=0)
    session_type = SessionTypeFactory(coach=coach, price=Decimal("50.00"), currency="USD")
    client = ClientFactory(timezone="America/New_York")
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    now = dt.datetime.now(dt.UTC)
    first = dt.datetime.combine((now + dt.timedelta(days=3)).astimezone(NY).date(), dt.time(10), tzinfo=NY)
    series, outcomes = series_services.book_series(
        client=client, session_type=session_type, start=first, count=count, now=now
    )
    return client, series, [outcome.booking for outcome in outcomes], now


def test_each_occurrence_owes_its_price_before_it_starts_not_held():
    _client, _series_row, bookings, now = _series()
    for booking in bookings:
        assert booking.status == BookingStatus.FIRM_BOOKED
        assert booking.price == Decimal("50.00")
        assert booking.balance_due_at == max(now, booking.session.start - dt.timedelta(days=7))
        assert payments.balance_minor(booking) == 5000


def test_paying_one_occurrence_settles_it_alone_and_its_cancellation_refunds_it():
    client, _series_row, bookings, _now = _series()
    payment = payments.checkout_for_balance(bookings[1], actor=client, base_url="http://testserver")
    assert payment.amount_minor == 5000
    local.complete(payment)
    relay.relay_pending()
    assert payments.balance_minor(Booking.objects.get(pk=bookings[1].pk)) == 0
    assert payments.balance_minor(Booking.objects.get(pk=bookings[2].pk)) == 5000
    series_services.cancel_series(series=_series_row, actor=client, scope="one", start=bookings[1].session.start)
    relay.relay_pending()
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_minor == 5000
