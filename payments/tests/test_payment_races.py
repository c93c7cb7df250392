"""Money under real concurrency (threads, each with its own connection, released together;
see ``bookings/tests/test_concurrency.py``), on SQLite and PostgreSQL:

- a client with one credit booking several slots at once spends it once: one booking, a
  balance of zero, never below;
- Stripe's webhook completing a checkout while the hold's expiry runs: the booking is
  either booked and paid, or cancelled and the money refunded in full — never booked
  without the money, nor the money kept without the booking;
- one event delivered several times at once (Stripe's retries) is applied once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.tests.factories import ClientFactory
from bookings import payment_methods, services
from bookings.models import Booking, BookingStatus
from bookings.services.payment import expire_payment_holds
from bookings.tests.factories import SessionTypeFactory, open_coach
from bookings.tests.test_concurrency import _codes, _day, run_together
from payments import credits
from payments import services as payments
from payments.models import CreditEntry, GatewayEvent, Payment, PaymentStatus, RefundStatus
from payments.tests.conftest import deliver, settle
from payments.tests.fake_stripe import event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_HOLD_MINUTES = 15


def priced():
    return SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR")


def test_one_credit_booked_from_several_threads_pays_for_one_booking():
    session_type = priced()
    client = ClientFactory()
    credits.grant(client, credits=1)
    starts = [_day(hour=hour) for hour in (9, 11, 13, 15)]

    results = run_together(
        [
            lambda s=s: payment_methods.book_with(
                "credits", services.book_slot, client=client, session_type=session_type, start=s
            )
            for s in starts
        ]
    )

    assert _codes(results) == {"ok": 1, "no_credits": 3}
    (booking,) = Booking.objects.all()
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert credits.balance(client) == 0
    assert CreditEntry.objects.filter(client=client).aggregate(total=Sum("amount"))["total"] == 0
    assert CreditEntry.objects.filter(client=client, amount__lt=0).get().booking_id == booking.pk
    assert not Payment.objects.exists()


def test_the_webhook_racing_the_holds_expiry_never_leaves_money_and_booking_apart(fake_stripe):
    session_type = priced()
    outcomes: Counter = Counter()
    for hour in (9, 11, 13):
        booking = services.book_slot(client=ClientFactory(), session_type=session_type, start=_day(hour=hour))
        payment = payments.checkout_for(booking, actor=booking.client, base_url="https://coaching.example.com")
        completed = event("checkout.session.completed", fake_stripe.complete_session(payment.checkout_id))
        lapsed = booking.expires_at + dt.timedelta(minutes=1)

        webhook, _expired = run_together([lambda p=completed: deliver(p), lambda n=lapsed: expire_payment_holds(now=n)])
        settle()

        assert webhook.status_code == 200
        booking.refresh_from_db()
        payment.refresh_from_db()
        calls = [r for r in fake_stripe.posts("/v1/refunds") if r.form["payment_intent"] == payment.payment_intent_id]
        if booking.status == BookingStatus.FIRM_BOOKED:
            outcomes["booked"] += 1
            assert payment.status == PaymentStatus.PAID
            assert not payment.refunds.exists() and calls == []
        else:
            outcomes["refunded"] += 1
            assert booking.status == BookingStatus.CANCELLED
            assert payment.status == PaymentStatus.REFUNDED
            (refund,) = payment.refunds.all()
            assert (refund.status, refund.amount_minor) == (RefundStatus.SUCCEEDED, 6000)
            assert [(c.form["amount"], c.idempotency_key) for c in calls] == [("6000", f"refund-{refund.pk}")]
        assert payments.refunded_minor(payment) in (0, 6000)
    assert sum(outcomes.values()) == 3


def test_one_event_delivered_several_times_at_once_is_applied_once(fake_stripe):
    booking = services.book_slot(client=ClientFactory(), session_type=priced(), start=_day())
    payment = payments.checkout_for(booking, actor=booking.client, base_url="https://coaching.example.com")
    completed = event("checkout.session.completed", fake_stripe.complete_session(payment.checkout_id))

    responses = run_together([lambda: deliver(completed) for _ in range(3)])

    assert sorted(r.json()["outcome"] for r in responses) == ["duplicate", "duplicate", "processed"]
    assert GatewayEvent.objects.count() == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert list(booking.events.values_list("action", flat=True).order_by("pk")) == ["held_for_payment", "paid"]
    settle()
    assert Payment.objects.get().status == PaymentStatus.PAID and not fake_stripe.posts("/v1/refunds")
