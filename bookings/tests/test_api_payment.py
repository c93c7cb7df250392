"""Booking over the API with payments on: a priced booking answers 201 awaiting_payment
with where and what to pay; credits pay at once; a promotion code lowers the price; the
refusals (not_enrolled, no_credits, invalid_promo_code) are 409s with their codes; and
with payments off nothing changes but a ``payment`` of null. (Paying with credits that
exist: payments/tests/test_booking_payment_tags.py, credits live up there.)"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus, Programme, PromoCode
from bookings.services.enrollment import enroll
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = "2026-12-02T10:00:00+01:00"  # 09:00 UTC

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
def coach():
    return open_coach(timezone="UTC")


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, price=Decimal("60.00"), currency="EUR")


@pytest.fixture
def paris():
    return ClientFactory(timezone="Europe/Paris")


def http_for(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def book(user, st, **extra):
    body = {"coach": st.coach_id, "session_type": st.pk, "start": START, **extra}
    return http_for(user).post("/api/v1/bookings", json.dumps(body), content_type="application/json")


def error_code(response, status: int) -> str:
    assert response.status_code == status, response.content
    return response.json()["error"]["code"]


def test_a_priced_booking_answers_awaiting_payment_with_where_to_pay(consult, paris):
    response = book(paris, consult)
    assert response.status_code == 201, response.content
    body = response.json()
    booking = Booking.objects.get()
    assert body["status"] == "awaiting_payment" == booking.status
    assert body["payment"] == {
        "checkout_url": "http://testserver" + reverse("payments:pay", args=[booking.reference]),
        "amount": 6000,
        "currency": "EUR",
        "expires_at": "2026-12-01T07:15:00+01:00",  # the hold's end, in the caller's zone
    }
    assert Decimal(body["price"]) == Decimal("60.00") and body["currency"] == "EUR"
    # The booking read back says the same.
    again = http_for(paris).get(f"/api/v1/bookings/{booking.reference}").json()
    assert again["payment"]["amount"] == 6000


def test_a_promotion_code_lowers_what_is_due(consult, paris):
    PromoCode.objects.create(code="WELCOME10", percent_off=10)
    body = book(paris, consult, promo_code="welcome10").json()
    assert Decimal(body["price"]) == Decimal("54.00") and body["payment"]["amount"] == 5400
    assert "WELCOME10" in body["price_note"]


def test_a_refused_promotion_code_is_409_invalid_promo_code(consult, paris):
    assert error_code(book(paris, consult, promo_code="NOPE"), 409) == "invalid_promo_code"
    assert not Booking.objects.exists()


def test_credits_without_any_left_is_409_no_credits(consult, paris):
    assert error_code(book(paris, consult, pay_with="credits"), 409) == "no_credits"
    assert not Booking.objects.exists()


def test_an_unknown_way_to_pay_is_400(consult, paris):
    assert error_code(book(paris, consult, pay_with="cash"), 400) == "invalid"


def test_enrollment_refusals_are_409_with_their_codes(coach, paris):
    lesson = SessionTypeFactory(coach=coach, requires_enrollment=True, price=Decimal("50.00"))
    assert error_code(book(paris, lesson), 409) == "not_enrolled"
    programme = Programme.objects.create(coach=coach, title="Course", allowance=1, validity_days=30)
    programme.session_types.set([lesson])
    enroll(client=paris, programme=programme, actor=None, source="purchase")
    first = book(paris, lesson)
    assert first.status_code == 201 and first.json()["payment"] is None
    body = {"coach": coach.pk, "session_type": lesson.pk, "start": "2026-12-02T12:00:00+01:00"}
    again = http_for(paris).post("/api/v1/bookings", json.dumps(body), content_type="application/json")
    assert error_code(again, 409) == "no_credits"


def test_a_seat_with_a_deposit_waits_for_the_deposit(coach, paris):
    workshop = GroupTypeFactory(
        coach=coach, price=Decimal("100.00"), currency="EUR", deposit=Decimal("20.00"), balance_due_days=3
    )
    session = services.publish_session(
        actor=coach, session_type=workshop, start=NOW + dt.timedelta(days=10, hours=3), capacity=4
    )
    response = http_for(paris).post(f"/api/v1/sessions/{session.pk}/bookings", "{}", content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "awaiting_payment"
    assert body["payment"]["amount"] == 2000 and Decimal(body["deposit"]) == Decimal("20.00")
    assert body["balance_due_at"] == "2026-12-08T10:00:00+01:00"


def test_with_payments_off_a_booking_is_made_as_before(settings, consult, paris):
    settings.ENABLE_PAYMENT_GATEWAY = False
    # pay_with is not read with payments off (with no credits, it would be refused).
    response = book(paris, consult, pay_with="credits")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == BookingStatus.FIRM_BOOKED and body["payment"] is None


def test_session_types_carry_their_price_options_through_the_api(coach):
    http = http_for(coach)
    body = {
        "title": "Weekend workshop",
        "kind": "workshop",
        "duration_minutes": 180,
        "capacity": 8,
        "price": "120.00",
        "early_bird_price": "95.00",
        "early_bird_days": 14,
        "deposit": "40.00",
        "balance_due_days": 5,
    }
    made = http.post("/api/v1/session-types", json.dumps(body), content_type="application/json")
    assert made.status_code == 201, made.content
    out = made.json()
    assert (out["early_bird_price"], out["early_bird_days"], out["deposit"], out["balance_due_days"]) == (
        "95.00",
        14,
        "40.00",
        5,
    )
    assert out["requires_enrollment"] is False
    changed = http.patch(
        f"/api/v1/session-types/{out['id']}",
        json.dumps({"requires_enrollment": True, "deposit": None}),
        content_type="application/json",
    )
    assert changed.json()["requires_enrollment"] is True and changed.json()["deposit"] is None
    one_on_one = {"title": "Call", "price": "50.00", "deposit": "10.00"}
    refused = http.post("/api/v1/session-types", json.dumps(one_on_one), content_type="application/json")
    assert error_code(refused, 400) == "invalid"
    assert refused.json()["error"]["fields"][0]["field"] == "deposit"
