"""Fixtures for the payment tests: a fake Stripe on 127.0.0.1 with the settings pointing the
real ``stripe`` library at it, and payments to work on."""

from __future__ import annotations

import pytest

from accounts.tests.factories import ClientFactory
from payments import gateways
from payments.models import Backend, Package, Payment
from payments.tests.fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_" + "5" * 32


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
