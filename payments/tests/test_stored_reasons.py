"""Why money went back, when the product gave the reason, is stored in English and told in
the client's language: in the refund's email and on the booking's page. A reason staff
typed is told as typed."""

from __future__ import annotations

import datetime as dt
import html
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
from payments import events, reasons
from payments import services as payments
from payments.models import Backend, Payment, Refund, RefundStatus

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)

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
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _paid_booking(client):
    session_type = SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR")
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    browser = logged_in(client)
    checkout = browser.get(reverse("payments:pay", args=[booking.reference]))["Location"]
    browser.post(checkout, {"step": "card", "card": "4242 4242 4242 4242"})
    relay.relay_pending()
    payments.send_pending()
    delivery.send_deliveries()  # the receipt
    mail.outbox.clear()
    booking.refresh_from_db()
    return booking


def _refund_email(person) -> str:
    delivery.send_deliveries()
    [email] = [m for m in mail.outbox if m.to == [person.email]]
    return email.body


def _confirm_refund(payment: Payment, reason: str) -> Refund:
    """A refund already sent, which the gateway's charge.refunded event confirms."""
    refund = Refund.objects.create(payment=payment, amount_minor=2000, reason=reason, gateway_refund_id="re_local_1")
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
    mail.outbox.clear()
    events.handle(event, Backend.LOCAL)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    return refund


def test_a_refund_the_product_gave_a_reason_for_is_told_in_french_to_a_french_client():
    french = ClientFactory(language="fr")
    booking = _paid_booking(french)
    with translation.override("fr"):  # whatever language writes it, English is stored
        reason = reasons.SERIES_SHARE.format(why=reasons.LATE_CANCELLATION, ref=booking.reference)
    refund = _confirm_refund(Payment.objects.get(booking=booking), reason)
    assert refund.reason == (
        f"Late cancellation (the session type's late-cancellation share): session {booking.reference} "
        "of a series paid up front"
    )
    french_words = (
        f"Annulation tardive (la part d'annulation tardive du type de séance) : séance {booking.reference} "
        "d'une série payée d'avance"
    )
    assert french_words in _refund_email(french)
    page = html.unescape(logged_in(french).get(f"/bookings/{booking.reference}/").content.decode())
    assert f"({french_words})" in page


def test_the_same_reason_is_told_in_english_to_an_english_client():
    english = ClientFactory(language="en")
    booking = _paid_booking(english)
    _confirm_refund(Payment.objects.get(booking=booking), reasons.AT_PROVIDER)
    body = _refund_email(english)
    assert "Refunded at the payment provider." in body
    assert "Remboursé chez le prestataire de paiement." not in body


def test_a_refund_reason_staff_typed_is_told_as_typed_in_french():
    french = ClientFactory(language="fr")
    booking = _paid_booking(french)
    _confirm_refund(Payment.objects.get(booking=booking), "Geste commercial, désolé du retard.")
    assert "Geste commercial, désolé du retard." in _refund_email(french)


def test_a_booking_the_coach_cancelled_is_refunded_with_an_english_reason_told_in_french():
    french = ClientFactory(language="fr")
    booking = _paid_booking(french)
    mail.outbox.clear()
    with translation.override("fr"):
        services.cancel(booking=booking, actor=booking.session.coach, reason="Je suis malade.")
        relay.relay_pending()
        payments.send_pending()
    refund = Refund.objects.get(payment__booking=booking)
    assert refund.reason == "Cancelled"
    with translation.override("fr"):
        cancelled = translation.gettext("Cancelled")
    assert cancelled != "Cancelled"
    delivery.send_deliveries()
    refund_mails = [m.body for m in mail.outbox if m.to == [french.email] and "rembours" in m.body]
    assert any(f"\n{cancelled}\n" in body for body in refund_mails), [m.body for m in mail.outbox]
