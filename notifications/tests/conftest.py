"""Fixtures for the notification tests: a fake Twilio on 127.0.0.1 and the in-memory SMS outbox."""

from __future__ import annotations

import pytest

from notifications.sms import locmem
from notifications.tests.fake_twilio import FakeTwilio

TWILIO_FROM_NUMBER = "+15005550006"


@pytest.fixture
def fake_twilio(settings):
    """A running fake Twilio, with the settings pointing the Twilio SMS backend at it."""
    fake = FakeTwilio().start()
    settings.SMS_BACKEND = "notifications.sms.twilio.SmsBackend"
    settings.TWILIO_API_BASE = fake.base_url
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_FROM_NUMBER = TWILIO_FROM_NUMBER
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sms_outbox(settings):
    """The locmem SMS backend in use, its outbox empty: the list of ``SmsMessage`` sent."""
    settings.SMS_BACKEND = "notifications.sms.locmem.SmsBackend"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()
