"""What the client is told about their money, through the local test gateway's real path: a
receipt once the webhook says paid (or paid with a credit), a failed card with a link to try
again while the place is held, a refund once it went through, a package or a programme
bought — each once, however often the events come back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import payment_methods, relay, services
from bookings.models import Programme
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from notifications import delivery
from notifications.models import Kind, Notification
from payments import credits, events, local, notify
from payments import services as payments
from payments.models import Backend, Package, Payment, PaymentStatus, Refund, RefundStatus

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
DECLINED = "4000 0000 0000 0002"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.RELAY_WAKE = False  # the tests run the relay themselves
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15
    settings.NOTIFICATION_METHOD = "email"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def priced(**fields):
    return SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR", **fields)


def settle():
    relay.relay_pending()
    payments.send_pending()


def pay_with(browser, booking, card="4242 4242 4242 4242"):
    checkout = browser.get(reverse("payments:pay", args=[booking.reference]))["Location"]
    return checkout, browser.post(checkout, {"step": "card", "card": card})


def told(person, kind) -> list[Notification]:
    return list(Notification.objects.filter(recipient=person, kind=kind))


def email_to(person, subject_start: str):
    delivery.send_deliveries()
    [email] = [m for m in mail.outbox if m.to == [person.email] and m.subject.startswith(subject_start)]
    return email


def test_a_booking_paid_at_the_gateway_gets_one_receipt(frozen):
    session_type = priced()
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    pay_with(logged_in(client), booking)
    settle()
    payment = Payment.objects.get(booking=booking)
    [receipt] = told(client, Kind.PAYMENT_RECEIVED)
    assert receipt.booking_id == booking.pk and "60.00 EUR paid." in receipt.body
    # The gateway sends its event again: nothing new.
    local.complete(payment)
    settle()
    assert len(told(client, Kind.PAYMENT_RECEIVED)) == 1


def test_a_booking_paid_with_a_credit_gets_a_receipt_saying_so(frozen):
    session_type = priced()
    client = ClientFactory()
    credits.grant(client, credits=2)
    booking = payment_methods.book_with(
        "credits", services.book_slot, client=client, session_type=session_type, start=START
    )
    settle()
    [receipt] = told(client, Kind.PAYMENT_RECEIVED)
    assert receipt.booking_id == booking.pk and "Paid with 1 credit." in receipt.body
    assert not Payment.objects.filter(booking=booking).exists()


def test_a_declined_card_tells_the_client_once_with_a_retry_link_and_the_holds_end(frozen):
    client = ClientFactory(timezone="Europe/Paris")
    booking = services.book_slot(client=client, session_type=priced(), start=START)
    browser = logged_in(client)
    checkout, declined = pay_with(browser, booking, card=DECLINED)
    assert declined.status_code == 200
    [failed] = told(client, Kind.PAYMENT_FAILED)
    assert failed.booking_id == booking.pk
    assert failed.body.startswith("Your card was declined. Try another card. Your place is held until Tue 1 Dec")
    email = email_to(client, "Payment failed:")
    assert "Your payment of 60.00 EUR did not go through." in email.body
    assert reverse("payments:pay", args=[booking.reference]) in email.body
    assert "Your place is held until Tue 1 Dec 2026, 07:15 (Europe/Paris)." in email.body

    # A second refusal of the same payment tells nothing new; the retry that pays, a receipt.
    browser.post(checkout, {"step": "card", "card": DECLINED})
    assert len(told(client, Kind.PAYMENT_FAILED)) == 1
    browser.post(checkout, {"step": "card", "card": "4242424242424242"})
    settle()
    assert len(told(client, Kind.PAYMENT_RECEIVED)) == 1
    assert Payment.objects.get(booking=booking).status == PaymentStatus.PAID


def test_a_refund_that_went_through_is_told_once_with_its_amount(frozen):
    session_type = priced(cancellation_notice_hours=24)
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    pay_with(logged_in(client), booking)
    booking.refresh_from_db()
    services.cancel(booking=booking, actor=client)
    settle()
    refund = Refund.objects.get(payment__booking=booking)
    assert refund.status == RefundStatus.SUCCEEDED
    [note] = told(client, Kind.PAYMENT_REFUNDED)
    assert note.booking_id == booking.pk and note.body.startswith("60.00 EUR refunded for ")
    email = email_to(client, "Refunded: 60.00 EUR for ")
    assert "60.00 EUR was refunded to the card you paid with" in email.body and booking.reference in email.body
    settle()
    assert notify.refunded(refund) is None
    assert len(told(client, Kind.PAYMENT_REFUNDED)) == 1


def test_a_refund_the_gateways_event_confirms_is_told_once(frozen):
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=priced(), start=START)
    pay_with(logged_in(client), booking)
    payment = Payment.objects.get(booking=booking)
    # Sent, and the gateway said "pending"; its charge.refunded event says it succeeded.
    refund = Refund.objects.create(
        payment=payment, amount_minor=2000, reason="A goodwill gesture.", gateway_refund_id="re_local_1"
    )
    event = {
        "type": "charge.refunded",
        "data": {
            "object": {
                "payment_intent": payment.payment_intent_id,
                "amount": 6000,
                "amount_refunded": 2000,
                "refunds": {"data": [{"id": "re_local_1", "status": "succeeded"}]},
            }
        },
    }
    events.handle(event, Backend.LOCAL)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    [note] = told(client, Kind.PAYMENT_REFUNDED)
    assert note.body.startswith("20.00 EUR refunded")
    email = email_to(client, "Refunded: 20.00 EUR")
    assert "A goodwill gesture." in email.body
    events.handle(event, Backend.LOCAL)
    assert len(told(client, Kind.PAYMENT_REFUNDED)) == 1


def test_a_package_bought_gets_a_receipt_with_its_credits(frozen):
    client = ClientFactory()
    package = Package.objects.create(title="Five sessions", credits=5, price_minor=25000, currency="EUR")
    payment = payments.checkout_for_package(package, client=client, base_url="http://testserver")
    local.complete(payment)
    local.complete(payment)  # the event again
    [receipt] = told(client, Kind.PAYMENT_RECEIVED)
    assert receipt.booking is None and receipt.title == "Receipt: Five sessions"
    assert receipt.body == f"250.00 EUR: 5 credits added.\n#{payment.pk}"
    email = email_to(client, "Receipt: Five sessions")
    assert "Thank you for your payment of 250.00 EUR: 5 credits were added to your account." in email.body
    assert credits.balance(client) == 5


def test_a_programme_bought_gets_a_receipt_saying_you_are_enrolled(frozen):
    client = ClientFactory()
    programme = Programme.objects.create(
        title="Leadership course", allowance=4, validity_days=90, price=Decimal("300.00"), currency="EUR"
    )
    payment = payments.checkout_for_programme(programme, client=client, base_url="http://testserver")
    local.complete(payment)
    [receipt] = told(client, Kind.PAYMENT_RECEIVED)
    assert receipt.title == "Receipt: Leadership course"
    email = email_to(client, "Receipt: Leadership course")
    assert "Thank you for your payment of 300.00 EUR: you are enrolled in Leadership course." in email.body


def test_a_message_that_cannot_be_made_never_undoes_the_payment(frozen, monkeypatch):
    client = ClientFactory()
    package = Package.objects.create(title="Three sessions", credits=3, price_minor=15000, currency="EUR")
    payment = payments.checkout_for_package(package, client=client, base_url="http://testserver")

    def broken(*args, **kwargs):
        raise RuntimeError("the wording broke")

    monkeypatch.setattr(notify, "tell", broken)
    local.complete(payment)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID and credits.balance(client) == 3
    assert not told(client, Kind.PAYMENT_RECEIVED)
