"""The demo's money: the calendar's priced bookings are paid, one waits for its payment,
and there is a discount, a code, a package with credits and an enrolled-only course."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from bookings.models import Booking, BookingStatus, Enrollment, PromoCode, SessionType
from config.money import to_minor
from payments import credits
from payments import services as payments
from payments.models import Package, Payment, PaymentStatus

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def seeded(settings):
    # As ``make run`` seeds it: payments on, the local test gateway.
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        yield


def test_every_booked_priced_session_is_paid_and_one_waits_for_its_payment(seeded):
    held = Booking.objects.get(status=BookingStatus.AWAITING_PAYMENT)
    assert held.client.email == "aisha.khan@demo.booking.test" and held.expires_at > NOW
    assert not held.payments.exists()
    booked = Booking.objects.filter(price__gt=0, status__in=[BookingStatus.FIRM_BOOKED, BookingStatus.COMPLETED])
    coming_series = booked.filter(series__isnull=False, session__start__gt=NOW)
    assert booked.exists() and coming_series.exists()
    # A series' coming sessions are left to pay: each later, or all up front at a discount.
    for booking in coming_series:
        assert not booking.payments.exists() and payments.balance_minor(booking) > 0
    offer = payments.series_offer(coming_series[0].series, now=NOW)
    assert offer.percent == 10 and offer.amount_minor < offer.full_minor
    for booking in booked.exclude(pk__in=coming_series.values("pk")):
        (payment,) = booking.payments.all()
        assert payment.status == PaymentStatus.PAID
        assert payment.amount_minor == to_minor(booking.price, booking.currency)
        assert payment.created_at == payment.paid_at <= NOW  # paid when the booking was made


def test_prices_credits_and_the_course(seeded):
    assert PromoCode.objects.get(code="WELCOME10").percent_off == 10
    workshop = SessionType.objects.get(title="Managing your first team")
    assert workshop.early_bird_price < workshop.price and workshop.deposit
    sofia_package = Package.objects.get(title="Five career consultations")
    sofia = Booking.objects.filter(client__email="sofia.marquez@demo.booking.test").first().client
    assert credits.balance(sofia) == 3 and sofia_package.session_types.count() == 1
    enrollment = Enrollment.objects.get(client__email="noah.fischer@demo.booking.test")
    assert enrollment.programme.session_types.get().requires_enrollment


def test_a_second_run_adds_no_money(seeded):
    counts = (Payment.objects.count(), Package.objects.count(), Enrollment.objects.count())
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        call_command("seed_demo", stdout=StringIO())
    assert (Payment.objects.count(), Package.objects.count(), Enrollment.objects.count()) == counts
