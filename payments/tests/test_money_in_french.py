"""Amounts in the messages and pages about money, in the reader's language: a French client's
receipt, refund and payment pages say « 2 500,00 INR », an English client's "2500.00 INR" —
whatever language the change was made in (a French member of staff refunding an English
client writes the English client's way)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from notifications import delivery
from notifications.models import Kind, Notification
from payments import events, local
from payments import services as payments
from payments.models import Backend, Package, Payment, Refund, RefundStatus

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
NNBSP = "\u202f"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.RELAY_WAKE = False
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15
    settings.NOTIFICATION_METHOD = "email"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def settle():
    relay.relay_pending()
    payments.send_pending()


def emails_to(person) -> list:
    delivery.send_deliveries()
    return [m for m in mail.outbox if m.to == [person.email]]


def paid_booking(client, *, price="2500.00", currency="INR"):
    session_type = SessionTypeFactory(coach=open_coach(), price=Decimal(price), currency=currency)
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    browser = logged_in(client)
    checkout = browser.get(reverse("payments:pay", args=[booking.reference]))["Location"]
    browser.post(checkout, {"step": "card", "card": "4242 4242 4242 4242"})
    settle()
    return booking


def test_a_french_clients_booking_receipt_email_and_pages_write_amounts_the_french_way():
    client = ClientFactory(language="fr")
    booking = paid_booking(client)
    [receipt] = Notification.objects.filter(recipient=client, kind=Kind.PAYMENT_RECEIVED)
    assert f"2{NNBSP}500,00 INR" in receipt.body and "2500.00" not in receipt.body
    [email] = [m for m in emails_to(client) if f"2{NNBSP}500,00 INR" in m.body]
    assert "2500.00 INR" not in email.body

    browser = logged_in(client)
    mine = browser.get(reverse("payments:mine")).content.decode()
    assert f"2{NNBSP}500,00 INR" in mine
    detail = browser.get(reverse("booking_detail", args=[booking.reference])).content.decode()
    assert f"2{NNBSP}500,00 INR" in detail


def test_an_english_clients_receipt_is_as_before():
    client = ClientFactory(language="en")
    paid_booking(client)
    [receipt] = Notification.objects.filter(recipient=client, kind=Kind.PAYMENT_RECEIVED)
    assert "2500.00 INR paid." in receipt.body


def test_a_package_receipt_in_french():
    client = ClientFactory(language="fr")
    package = Package.objects.create(title="Dix séances", credits=10, price_minor=1500000, currency="JPY")
    payment = payments.checkout_for_package(package, client=client, base_url="http://testserver")
    local.complete(payment)
    [receipt] = Notification.objects.filter(recipient=client, kind=Kind.PAYMENT_RECEIVED)
    assert f"1{NNBSP}500{NNBSP}000 JPY" in receipt.body
    assert any(f"1{NNBSP}500{NNBSP}000 JPY" in m.body for m in emails_to(client))


def test_a_refund_made_in_french_is_told_to_an_english_client_the_english_way():
    client = ClientFactory(language="en")
    booking = paid_booking(client, price="2500.00", currency="INR")
    payment = Payment.objects.get(booking=booking)
    refund = Refund.objects.create(payment=payment, amount_minor=120050, reason="", gateway_refund_id="re_local_1")
    event = {
        "type": "charge.refunded",
        "data": {
            "object": {
                "payment_intent": payment.payment_intent_id,
                "amount": 250000,
                "amount_refunded": 120050,
                "refunds": {"data": [{"id": "re_local_1", "status": "succeeded"}]},
            }
        },
    }
    with translation.override("fr"):  # a French member of staff's request
        events.handle(event, Backend.LOCAL)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    [note] = Notification.objects.filter(recipient=client, kind=Kind.PAYMENT_REFUNDED)
    assert note.body.startswith("1200.50 INR refunded")
