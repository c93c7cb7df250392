"""Fixtures for the payment tests: a fake Stripe on 127.0.0.1 with the settings pointing the
real ``stripe`` library at it, and payments to work on; ``deliver`` posts a signed webhook
as Stripe does, ``settle`` does what the workers do after a change."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import ClientFactory
from payments import gateways
from payments.models import Backend, Package, Payment
from payments.tests.fake_stripe import FakeStripe, signed_webhook

WEBHOOK_SECRET = "whsec_test_" + "5" * 32
WEBHOOK_URL = "/payments/stripe/webhook/"


def deliver(payload: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """POST ``payload`` to our Stripe webhook as Stripe would (signed, no CSRF token)."""
    body, headers = signed_webhook(payload, secret, timestamp=timestamp)
    return Client(enforce_csrf_checks=True).post(
        WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"]
    )


def settle() -> None:
    """What the workers do after a change: the booking event stream's consumers, then the
    gateway calls they asked for (sent after the commit, or by the schedule)."""
    from bookings import relay
    from payments import services

    relay.relay_pending()
    services.send_pending()


@pytest.fixture
def fake_stripe(settings):
    """A running fake Stripe, with the Stripe settings pointing at it."""
    fake = FakeStripe().start()
    settings.PAYMENT_BACKEND = "stripe"
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = fake.secret_key
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PAYMENT_HOLD_MINUTES = 15
    gateways._stripe_gateway.cache_clear()
    try:
        yield fake
    finally:
        fake.stop()
        gateways._stripe_gateway.cache_clear()


@pytest.fixture
def make_payment(db):
    """``make_payment(amount_minor=4500, currency="EUR", capture_manually=False, **fields)``:
    a pending Stripe payment for a package of credits."""

    def make(amount_minor: int = 4500, currency: str = "EUR", **fields) -> Payment:
        client = fields.pop("client", None) or ClientFactory()
        package = fields.pop("package", None) or Package.objects.create(
            title="Five sessions", credits=5, price_minor=amount_minor, currency=currency
        )
        return Payment.objects.create(
            client=client,
            package=package,
            backend=fields.pop("backend", Backend.STRIPE),
            amount_minor=amount_minor,
            currency=currency,
            **fields,
        )

    return make
