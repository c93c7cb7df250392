"""POST /payments/stripe/webhook/: verified, stored once, applied to the payment in any order."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from payments import events
from payments.gateways import get_gateway
from payments.models import GatewayEvent, PaymentStatus, Refund, RefundStatus
from payments.tests.conftest import WEBHOOK_SECRET
from payments.tests.fake_stripe import event, signed_webhook

pytestmark = pytest.mark.django_db

URL = "/payments/stripe/webhook/"
URLS = {"success_url": "https://example.com/paid", "cancel_url": "https://example.com/cancelled"}


def post(payload: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, http: Client | None = None):
    body, headers = signed_webhook(payload, secret, timestamp=timestamp)
    http = http or Client(enforce_csrf_checks=True)
    return http.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"])


@pytest.fixture
def checked_out(fake_stripe, make_payment):
    """``checked_out(**payment_fields)``: a payment with an open Stripe checkout."""

    def make(**fields):
        payment = make_payment(**fields)
        checkout_id, url, expires_at = get_gateway("stripe").create_checkout(payment, **URLS)
        payment.checkout_id, payment.checkout_url, payment.expires_at = checkout_id, url, expires_at
        payment.save()
        return payment

    return make


@pytest.fixture
def changes(monkeypatch):
    """The payments ``on_payment_changed`` was called with, as (pk, status)."""
    seen: list[tuple[int, str]] = []
    monkeypatch.setattr(events, "on_payment_changed", lambda payment: seen.append((payment.pk, payment.status)))
    return seen


def completed(fake_stripe, payment) -> dict:
    return event("checkout.session.completed", fake_stripe.complete_session(payment.checkout_id))


def refunded(fake_stripe, payment_intent_id: str, amount: int | None = None) -> dict:
    intent = fake_stripe.intents[payment_intent_id]
    intent["_refunded"] = intent["amount"] if amount is None else amount
    return event("charge.refunded", fake_stripe.charge_for(payment_intent_id))


def test_the_url_is_the_webhook():
    assert reverse("payments:stripe_webhook") == URL


def test_checkout_completed_marks_the_payment_paid(fake_stripe, checked_out, changes):
    payment = checked_out()
    payload = completed(fake_stripe, payment)

    response = post(payload)

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "processed"}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.payment_intent_id == payload["data"]["object"]["payment_intent"]
    assert payment.paid_at is not None
    assert int(payment.paid_at.timestamp()) == payload["created"]
    stored = GatewayEvent.objects.get()
    assert (stored.backend, stored.event_id, stored.type) == ("stripe", payload["id"], "checkout.session.completed")
    assert stored.payload == payload
    assert stored.processed_at is not None
    assert changes == [(payment.pk, PaymentStatus.PAID)]


def test_manual_capture_checkout_is_authorised_not_paid(fake_stripe, checked_out):
    payment = checked_out(capture_manually=True)
    assert post(completed(fake_stripe, payment)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.AUTHORISED
    assert payment.paid_at is None
    assert payment.payment_intent_id


def test_a_replay_is_answered_200_and_does_nothing(fake_stripe, checked_out, changes):
    payment = checked_out()
    payload = completed(fake_stripe, payment)
    assert post(payload).json()["outcome"] == "processed"
    payment.refresh_from_db()
    first_paid_at = payment.paid_at

    again = post(payload)

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert GatewayEvent.objects.count() == 1
    payment.refresh_from_db()
    assert payment.paid_at == first_paid_at
    assert changes == [(payment.pk, PaymentStatus.PAID)]


def test_a_forged_signature_is_400_and_nothing_is_stored(fake_stripe, checked_out):
    payment = checked_out()
    payload = completed(fake_stripe, payment)

    response = post(payload, secret="whsec_forger")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_webhook"
    assert GatewayEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_a_stale_signature_is_400(fake_stripe, checked_out):
    payment = checked_out()
    response = post(completed(fake_stripe, payment), timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 400
    assert GatewayEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_no_signature_and_garbage_are_400(fake_stripe):
    http = Client(enforce_csrf_checks=True)
    assert http.post(URL, data=b"{}", content_type="application/json").status_code == 400
    assert (
        http.post(URL, data=b"\xff\xfe", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00").status_code
        == 400
    )
    assert GatewayEvent.objects.count() == 0


def test_only_post(fake_stripe):
    assert Client().get(URL).status_code == 405


def test_an_unknown_event_type_is_stored_and_ignored(fake_stripe, checked_out, changes):
    payment = checked_out()
    payload = event("customer.created", {"id": "cus_test_1", "object": "customer"})
    response = post(payload)
    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    assert GatewayEvent.objects.get().processed_at is not None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert changes == []


def test_an_event_for_a_checkout_not_ours_is_ignored(fake_stripe):
    payload = event(
        "checkout.session.completed",
        {"id": "cs_test_elsewhere", "object": "checkout.session", "payment_status": "paid", "status": "complete"},
    )
    assert post(payload).status_code == 200
    assert GatewayEvent.objects.get().processed_at is not None


def test_expired_marks_a_pending_payment_expired(fake_stripe, checked_out, changes):
    payment = checked_out()
    get_gateway("stripe").expire_checkout(payment)
    session = fake_stripe.public(fake_stripe.sessions[payment.checkout_id])
    assert post(event("checkout.session.expired", session)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED
    assert changes == [(payment.pk, PaymentStatus.EXPIRED)]


def test_expired_after_paid_changes_nothing(fake_stripe, checked_out, changes):
    payment = checked_out()
    session = fake_stripe.public(fake_stripe.sessions[payment.checkout_id])  # as it was when open
    post(completed(fake_stripe, payment))

    assert post(event("checkout.session.expired", session)).status_code == 200

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert changes == [(payment.pk, PaymentStatus.PAID)]


def test_payment_failed_records_the_message_and_a_later_success_wins(fake_stripe, checked_out):
    payment = checked_out()
    intent = {
        "id": "pi_test_failed_try",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "metadata": {"payment_id": str(payment.pk)},
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    assert post(event("payment_intent.payment_failed", intent)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_message == "Your card was declined."

    # The payer tries another card in the same checkout.
    post(completed(fake_stripe, payment))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.failure_message == ""


def test_payment_failed_after_paid_changes_nothing(fake_stripe, checked_out):
    payment = checked_out()
    post(completed(fake_stripe, payment))
    payment.refresh_from_db()
    intent = {
        "id": payment.payment_intent_id,
        "object": "payment_intent",
        "metadata": {"payment_id": str(payment.pk)},
        "last_payment_error": {"message": "Your card was declined."},
    }
    post(event("payment_intent.payment_failed", intent))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.failure_message == ""


def test_charge_refunded_partly_then_fully(fake_stripe, checked_out, changes):
    payment = checked_out(amount_minor=4000)
    post(completed(fake_stripe, payment))
    payment.refresh_from_db()

    post(refunded(fake_stripe, payment.payment_intent_id, amount=1000))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED

    post(refunded(fake_stripe, payment.payment_intent_id))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert [status for _, status in changes] == ["paid", "partially_refunded", "refunded"]


def test_an_older_partial_refund_event_after_the_full_one_changes_nothing(fake_stripe, checked_out):
    payment = checked_out(amount_minor=4000)
    post(completed(fake_stripe, payment))
    payment.refresh_from_db()
    partial = refunded(fake_stripe, payment.payment_intent_id, amount=1000)
    post(refunded(fake_stripe, payment.payment_intent_id))
    post(partial)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


def test_refunded_before_completed_leaves_the_payment_refunded(fake_stripe, checked_out):
    payment = checked_out()
    completion = completed(fake_stripe, payment)  # happened at Stripe, its webhook is late
    intent_id = completion["data"]["object"]["payment_intent"]
    refund_event = refunded(fake_stripe, intent_id)

    first = post(refund_event)
    assert first.status_code == 200
    assert first.json()["outcome"] == "waiting"
    assert GatewayEvent.objects.get().processed_at is None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING

    assert post(completion).status_code == 200

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.payment_intent_id == intent_id
    assert payment.paid_at is not None
    assert GatewayEvent.objects.filter(processed_at__isnull=True).count() == 0
    # The refund's own retry now finds it processed.
    assert post(refund_event).json()["outcome"] == "duplicate"


def test_refunded_with_the_payment_id_in_the_metadata_then_completed_stays_refunded(fake_stripe, checked_out):
    payment = checked_out()
    completion = completed(fake_stripe, payment)
    intent_id = completion["data"]["object"]["payment_intent"]
    refund_event = refunded(fake_stripe, intent_id)
    refund_event["data"]["object"]["metadata"] = {"payment_id": str(payment.pk)}

    assert post(refund_event).json()["outcome"] == "processed"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED

    post(completion)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.payment_intent_id == intent_id


def test_charge_refunded_settles_our_refund_rows(fake_stripe, checked_out):
    payment = checked_out(amount_minor=4000)
    post(completed(fake_stripe, payment))
    payment.refresh_from_db()
    refund = Refund.objects.create(payment=payment, amount_minor=4000, reason="Coach cancelled")
    gateway_refund_id, _ = get_gateway("stripe").refund(refund)
    charge = fake_stripe.charge_for(payment.payment_intent_id)
    charge["refunds"] = {
        "object": "list",
        "data": [
            {
                "id": gateway_refund_id,
                "object": "refund",
                "status": "succeeded",
                "metadata": {"refund_id": str(refund.pk)},
            }
        ],
    }

    post(event("charge.refunded", charge))

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.gateway_refund_id == gateway_refund_id
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


def test_the_webhook_needs_no_login_and_no_csrf_token(fake_stripe, checked_out):
    payment = checked_out()
    response = post(completed(fake_stripe, payment), http=Client(enforce_csrf_checks=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_without_a_webhook_secret_every_delivery_is_refused(fake_stripe, checked_out, settings):
    payment = checked_out()
    payload = completed(fake_stripe, payment)
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = post(payload)
    assert response.status_code == 400
    assert GatewayEvent.objects.count() == 0


def test_a_handler_failure_keeps_nothing_so_stripes_retry_counts(fake_stripe, checked_out, monkeypatch):
    payment = checked_out()
    payload = completed(fake_stripe, payment)

    def broken(payment):
        raise RuntimeError("bookings side failed")

    monkeypatch.setattr(events, "on_payment_changed", broken)
    with pytest.raises(RuntimeError):
        post(payload)
    assert GatewayEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING

    monkeypatch.undo()
    assert post(payload).json()["outcome"] == "processed"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
