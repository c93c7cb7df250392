"""Production refuses to start with Stripe chosen and no keys (payments would fail later,
in front of a client)."""

from __future__ import annotations

from config.tests.test_crypto import start

# A key for the production settings' own check (they refuse to start without one).
KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="


def start_production(extra_env: dict[str, str]):
    return start("config.settings.production", {"FIELD_ENCRYPTION_KEYS": KEY, **extra_env})


def test_stripe_without_keys_is_refused_and_with_keys_starts() -> None:
    stripe = {"ENABLE_PAYMENT_GATEWAY": "true", "PAYMENT_BACKEND": "stripe"}
    refused = start_production(stripe)
    assert refused.returncode != 0 and "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET" in refused.stderr
    keys = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    assert start_production({**stripe, **keys}).returncode == 0
    assert start_production({"PAYMENT_BACKEND": "stripe"}).returncode == 0  # payments off: nothing to check


def test_the_test_gateway_is_refused_in_production_unless_allowed_for_a_demo() -> None:
    local = {"ENABLE_PAYMENT_GATEWAY": "true", "PAYMENT_BACKEND": "local"}
    refused = start_production(local)
    assert refused.returncode != 0 and "test gateway" in refused.stderr
    assert start_production({**local, "ALLOW_TEST_GATEWAY": "true"}).returncode == 0
