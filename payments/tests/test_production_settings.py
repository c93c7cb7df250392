"""Production refuses to start with Stripe chosen and no keys (payments would fail later,
in front of a client)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def start_production(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "booking.example.com",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


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
