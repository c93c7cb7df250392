"""The Stripe gateway through the real ``stripe`` library against the fake Stripe."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from payments.gateways import (
    STRIPE_MIN_SESSION_MINUTES,
    InvalidWebhook,
    LocalGateway,
    PaymentGatewayError,
    StripeGateway,
    get_gateway,
)
from payments.models import Refund
from payments.tests.conftest import WEBHOOK_SECRET
from payments.tests.fake_stripe import event, sign, signed_webhook

pytestmark = pytest.mark.django_db

URLS = {"success_url": "https://example.com/paid", "cancel_url": "https://example.com/cancelled"}


def checkout(payment):
    checkout_id, url, expires_at = get_gateway("stripe").create_checkout(payment, **URLS)
    payment.checkout_id, payment.checkout_url, payment.expires_at = checkout_id, url, expires_at
    payment.save()
    return checkout_id, url, expires_at


def test_the_configured_gateway_is_stripe_with_the_fake_settings(fake_stripe):
    gateway = get_gateway()
    assert isinstance(gateway, StripeGateway)
    assert gateway.backend == "stripe"


def test_the_local_gateway_is_the_default(settings):
    settings.PAYMENT_BACKEND = "local"
    assert isinstance(get_gateway(), LocalGateway)


def test_checkout_sends_amount_currency_line_item_and_references(fake_stripe, make_payment):
    before = timezone.now()
    # A booking's payment carries its hold (15 minutes by default).
    payment = make_payment(amount_minor=4500, currency="EUR", expires_at=before + dt.timedelta(minutes=15))
    checkout_id, url, expires_at = checkout(payment)

    assert checkout_id.startswith("cs_test_")
    assert url == f"https://checkout.stripe.com/c/pay/{checkout_id}"
    (request,) = fake_stripe.requests_to("/v1/checkout/sessions")
    assert request.headers["Authorization"] == f"Bearer {fake_stripe.secret_key}"
    form = request.form
    assert form["mode"] == "payment"
    (item,) = form["line_items"]
    assert item["quantity"] == "1"
    assert item["price_data"] == {
        "currency": "eur",
        "unit_amount": "4500",
        "product_data": {"name": "Five sessions"},
    }
    assert form["client_reference_id"] == str(payment.pk)
    assert form["metadata"] == {"payment_id": str(payment.pk)}
    assert form["payment_intent_data"] == {"metadata": {"payment_id": str(payment.pk)}}
    assert "capture_method" not in form["payment_intent_data"]
    assert form["success_url"] == URLS["success_url"] and form["cancel_url"] == URLS["cancel_url"]
    # Our hold is 15 minutes; Stripe's session lives its minimum of 30 (plus a margin).
    assert expires_at == before + dt.timedelta(minutes=15)
    session_expires = int(form["expires_at"])
    assert session_expires >= int((before + dt.timedelta(minutes=30)).timestamp())
    assert session_expires <= int((timezone.now() + dt.timedelta(minutes=STRIPE_MIN_SESSION_MINUTES)).timestamp())
    assert request.idempotency_key == f"checkout-{payment.pk}"


def test_a_longer_hold_is_the_sessions_expiry_too(fake_stripe, make_payment, settings):
    settings.PAYMENT_HOLD_MINUTES = 60
    payment = make_payment()
    _, _, expires_at = checkout(payment)
    (request,) = fake_stripe.requests_to("/v1/checkout/sessions")
    assert int(request.form["expires_at"]) == int(expires_at.timestamp())


def test_manual_capture_is_asked_for(fake_stripe, make_payment):
    payment = make_payment(capture_manually=True)
    checkout(payment)
    (request,) = fake_stripe.requests_to("/v1/checkout/sessions")
    assert request.form["payment_intent_data"]["capture_method"] == "manual"


def test_the_same_checkout_twice_is_the_same_session(fake_stripe, make_payment):
    payment = make_payment()
    first = get_gateway("stripe").create_checkout(payment, **URLS)
    second = get_gateway("stripe").create_checkout(payment, **URLS)
    assert first[0] == second[0]
    assert len(fake_stripe.sessions) == 1
    assert len(fake_stripe.requests_to("/v1/checkout/sessions")) == 2


def test_expire_checkout_closes_an_open_session_and_tolerates_a_completed_one(fake_stripe, make_payment):
    payment = make_payment()
    checkout_id, _, _ = checkout(payment)
    get_gateway("stripe").expire_checkout(payment)
    assert fake_stripe.sessions[checkout_id]["status"] == "expired"
    (request,) = fake_stripe.requests_to(f"/v1/checkout/sessions/{checkout_id}/expire")
    assert request.idempotency_key == f"expire-{payment.pk}"

    other = make_payment()
    other_id, _, _ = checkout(other)
    fake_stripe.complete_session(other_id)
    get_gateway("stripe").expire_checkout(other)  # no error: the webhook reports the payment
    assert fake_stripe.sessions[other_id]["status"] == "complete"


def test_capture_and_cancel_an_authorisation(fake_stripe, make_payment):
    gateway = get_gateway("stripe")
    captured, cancelled = make_payment(capture_manually=True), make_payment(capture_manually=True)
    for payment in (captured, cancelled):
        checkout_id, _, _ = checkout(payment)
        payment.payment_intent_id = fake_stripe.complete_session(checkout_id)["payment_intent"]
        payment.save()
        assert fake_stripe.intents[payment.payment_intent_id]["status"] == "requires_capture"

    gateway.capture(captured)
    gateway.cancel_authorisation(cancelled)

    assert fake_stripe.intents[captured.payment_intent_id]["status"] == "succeeded"
    assert fake_stripe.intents[cancelled.payment_intent_id]["status"] == "canceled"
    (capture,) = fake_stripe.requests_to(f"/v1/payment_intents/{captured.payment_intent_id}/capture")
    assert capture.idempotency_key == f"capture-{captured.pk}"
    (cancel,) = fake_stripe.requests_to(f"/v1/payment_intents/{cancelled.payment_intent_id}/cancel")
    assert cancel.idempotency_key == f"cancel-{cancelled.pk}"
    assert cancel.form == {"cancellation_reason": "requested_by_customer"}


def test_capturing_twice_is_refused_clearly(fake_stripe, make_payment):
    payment = make_payment(capture_manually=False)
    checkout_id, _, _ = checkout(payment)
    payment.payment_intent_id = fake_stripe.complete_session(checkout_id)["payment_intent"]
    with pytest.raises(PaymentGatewayError) as caught:
        get_gateway("stripe").capture(payment)
    assert caught.value.code == "payment_gateway_refused"
    assert caught.value.status == 409
    assert "status of succeeded" in caught.value.message


def test_capture_before_completion_is_refused_without_calling_stripe(fake_stripe, make_payment):
    payment = make_payment(capture_manually=True)
    with pytest.raises(PaymentGatewayError) as caught:
        get_gateway("stripe").capture(payment)
    assert caught.value.code == "payment_not_completed"
    assert fake_stripe.requests == []


def test_refund_uses_the_refund_row_as_idempotency_key(fake_stripe, make_payment):
    payment = make_payment(amount_minor=4500)
    checkout_id, _, _ = checkout(payment)
    payment.payment_intent_id = fake_stripe.complete_session(checkout_id)["payment_intent"]
    payment.save()
    refund = Refund.objects.create(payment=payment, amount_minor=1500, reason="Coach cancelled")

    gateway_id, status = get_gateway("stripe").refund(refund)
    again_id, _ = get_gateway("stripe").refund(refund)  # a retry: Stripe answers the same refund

    assert gateway_id.startswith("re_test_") and status == "succeeded"
    assert again_id == gateway_id
    assert len(fake_stripe.refunds) == 1
    requests = fake_stripe.requests_to("/v1/refunds")
    assert [r.idempotency_key for r in requests] == [f"refund-{refund.pk}"] * 2
    assert requests[0].form == {
        "payment_intent": payment.payment_intent_id,
        "amount": "1500",
        "metadata": {"payment_id": str(payment.pk), "refund_id": str(refund.pk)},
    }
    assert fake_stripe.intents[payment.payment_intent_id]["_refunded"] == 1500


def test_a_refund_over_the_amount_is_refused_with_stripes_reason(fake_stripe, make_payment):
    payment = make_payment(amount_minor=1000)
    checkout_id, _, _ = checkout(payment)
    payment.payment_intent_id = fake_stripe.complete_session(checkout_id)["payment_intent"]
    payment.save()
    refund = Refund.objects.create(payment=payment, amount_minor=5000, reason="Too much")
    with pytest.raises(PaymentGatewayError) as caught:
        get_gateway("stripe").refund(refund)
    assert caught.value.status == 409
    assert "greater than unrefunded amount" in caught.value.message


def test_stripe_down_is_a_clear_error(fake_stripe, make_payment, settings):
    for _ in range(3):  # the library tries three times in all
        fake_stripe.fail_next(500, "Internal error")
    with pytest.raises(PaymentGatewayError) as caught:
        get_gateway("stripe").create_checkout(make_payment(), **URLS)
    assert caught.value.code == "payment_gateway_unavailable"
    assert caught.value.status == 503
    assert len(fake_stripe.requests) == 3


def test_a_wrong_key_is_not_a_crash(fake_stripe, make_payment, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    with pytest.raises(PaymentGatewayError) as caught:
        get_gateway("stripe").create_checkout(make_payment(), **URLS)
    assert caught.value.code == "payment_gateway_unavailable"
    assert fake_stripe.sessions == {}


def test_no_key_is_refused_before_any_call(fake_stripe, make_payment, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentGatewayError) as caught:
        get_gateway("stripe").create_checkout(make_payment(), **URLS)
    assert caught.value.code == "payment_gateway_unconfigured"
    assert fake_stripe.requests == []


def test_parse_webhook_returns_the_verified_event(fake_stripe):
    payload = event("checkout.session.completed", {"id": "cs_test_1", "object": "checkout.session"})
    body, headers = signed_webhook(payload, WEBHOOK_SECRET)
    assert get_gateway("stripe").parse_webhook(body, headers) == payload


@pytest.mark.parametrize(
    "case",
    ["forged", "other secret", "stale", "missing header", "tampered body", "not json"],
)
def test_parse_webhook_refuses_what_is_not_genuine(fake_stripe, case):
    payload = event("checkout.session.completed", {"id": "cs_test_1"})
    body, headers = signed_webhook(payload, WEBHOOK_SECRET)
    if case == "forged":
        headers["Stripe-Signature"] = headers["Stripe-Signature"].split(",v1=")[0] + ",v1=" + "0" * 64
    elif case == "other secret":
        body, headers = signed_webhook(payload, "whsec_someone_else")
    elif case == "stale":
        body, headers = signed_webhook(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    elif case == "missing header":
        headers = {}
    elif case == "tampered body":
        body = body.replace(b"cs_test_1", b"cs_test_2")
    elif case == "not json":
        body, headers = b"not json", {"Stripe-Signature": sign(b"not json", WEBHOOK_SECRET)}
    with pytest.raises(InvalidWebhook):
        get_gateway("stripe").parse_webhook(body, headers)


def test_a_signature_four_minutes_old_is_still_accepted(fake_stripe):
    payload = event("checkout.session.expired", {"id": "cs_test_1"})
    body, headers = signed_webhook(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 240)
    assert get_gateway("stripe").parse_webhook(body, headers)["id"] == payload["id"]


def test_a_purchase_without_a_hold_gets_stripes_longest_checkout(fake_stripe, make_payment):
    payment = make_payment(amount_minor=4500, currency="EUR")
    before = timezone.now()
    _checkout_id, _url, expires_at = checkout(payment)
    (request,) = fake_stripe.requests_to("/v1/checkout/sessions")
    assert before + dt.timedelta(hours=23) < expires_at <= timezone.now() + dt.timedelta(hours=24)
    assert int(request.form["expires_at"]) <= int((timezone.now() + dt.timedelta(hours=24)).timestamp())
