"""Amounts on the booking pages in the reader's language: a French client reads
« 2 500,00 INR » on the confirm step (the quote, a code's amount off, the pay button) and
« 2 500 INR » among the type's facts, an English client "2500.00 INR" as always; what
machines read (the API's amounts) stays a plain number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings.models import Booking, PromoCode
from bookings.tests.factories import SessionTypeFactory, open_coach

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
START_PARAM = "2026-12-02T09:00:00Z"
NNBSP = "\u202f"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15


@pytest.fixture
def coaching():
    return SessionTypeFactory(
        coach=open_coach(timezone="UTC"), title="Coaching", price=Decimal("2500.00"), currency="INR"
    )


def page(user, url: str, **data) -> str:
    http = Client()
    http.force_login(user)
    response = http.post(url, {"notes": "", "reminders": "on", **data}) if data else http.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def confirm_url(st) -> str:
    return f"{reverse('book_confirm', args=[st.coach_id, st.pk])}?start={START_PARAM}"


def test_the_confirm_step_writes_the_price_the_french_way_for_a_french_client(coaching):
    french = page(ClientFactory(language="fr", timezone="UTC"), confirm_url(coaching))
    assert f'data-testid="confirm-price">2{NNBSP}500,00 INR</dd>' in french
    assert f"Payer 2{NNBSP}500,00 INR et réserver" in french
    assert "2500.00 INR" not in french

    english = page(ClientFactory(language="en", timezone="UTC"), confirm_url(coaching))
    assert 'data-testid="confirm-price">2500.00 INR</dd>' in english
    assert "Pay 2500.00 INR and book" in english


def test_a_codes_amount_off_and_the_new_price_in_french(coaching):
    PromoCode.objects.create(code="DIWALI", amount_off=Decimal("500.00"), currency="INR")
    french = page(
        ClientFactory(language="fr", timezone="UTC"), confirm_url(coaching), promo_code="diwali", apply_promo="1"
    )
    assert f"<s>2{NNBSP}500,00 INR</s> 2{NNBSP}000,00 INR" in french
    assert "Code DIWALI : 500,00 INR de remise" in french
    assert not Booking.objects.exists()


def test_with_payments_off_the_types_price_is_written_short_in_each_language(settings, coaching):
    settings.ENABLE_PAYMENT_GATEWAY = False
    french = page(ClientFactory(language="fr", timezone="UTC"), confirm_url(coaching))
    assert f'data-testid="confirm-price">2{NNBSP}500 INR</dd>' in french
    english = page(ClientFactory(language="en", timezone="UTC"), confirm_url(coaching))
    assert 'data-testid="confirm-price">2500 INR</dd>' in english
    facts = page(ClientFactory(language="fr"), reverse("book_type", args=[coaching.coach_id, coaching.pk]))
    assert f'data-testid="type-price">2{NNBSP}500 INR</li>' in facts
