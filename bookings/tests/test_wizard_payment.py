"""The wizard's confirm step with payments on: the price quote (discounts struck through,
early bird, deposit), a promotion code applied or refused on its field, "Pay … and book",
an enrollment the type asks for; and with payments off, the page as before. (Credits as
another way to pay: payments/tests/test_booking_payment_tags.py, credits live up there.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import ConnectionStatus
from accounts.tests.factories import ClientFactory, ConnectionFactory
from bookings import services
from bookings.models import Booking, BookingStatus, Programme, PromoCode
from bookings.services.enrollment import enroll
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
START_PARAM = "2026-12-02T09:00:00Z"

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
    return SessionTypeFactory(coach=coach, title="Consultation", price=Decimal("60.00"), currency="EUR")


@pytest.fixture
def client_user():
    return ClientFactory(timezone="UTC")


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def text(response) -> str:
    return unescape(response.content.decode())


def confirm_url(st) -> str:
    return f"{reverse('book_confirm', args=[st.coach_id, st.pk])}?start={START_PARAM}"


def post(http, url, **data):
    return http.post(url, {"notes": "", "reminders": "on", **data})


def test_confirm_shows_the_connected_price_the_promo_field_and_the_pay_button(coach, consult, client_user):
    coach.coach_profile.connected_discount_percent = 10
    coach.coach_profile.save()
    ConnectionFactory(client=client_user, coach=coach, status=ConnectionStatus.ACCEPTED)
    page = text(signed_in(client_user).get(confirm_url(consult)))
    assert "<s>60.00 EUR</s> 54.00 EUR" in page
    assert "10% off for connected clients" in page
    assert 'name="promo_code"' in page and "Apply" in page
    assert "Pay 54.00 EUR and book" in page and "Booked as soon as you have paid." in page


def test_a_promotion_code_applied_requotes_and_a_refused_one_shows_on_its_field(coach, consult, client_user):
    PromoCode.objects.create(code="WELCOME10", percent_off=10)
    http = signed_in(client_user)
    applied = post(http, confirm_url(consult), promo_code="welcome10", apply_promo="1")
    assert applied.status_code == 200
    page = text(applied)
    assert "Code WELCOME10: 10% off" in page and "Pay 54.00 EUR and book" in page
    assert not Booking.objects.exists()

    refused = post(http, confirm_url(consult), promo_code="NOPE", apply_promo="1")
    assert 'data-testid="promo-error"' in text(refused) and "This code is not valid." in text(refused)
    assert "Pay 60.00 EUR and book" in text(refused)

    booked = post(http, confirm_url(consult), promo_code="NOPE")
    assert booked.status_code == 409
    assert "This code is not valid." in text(booked)
    assert not Booking.objects.exists()


def test_booking_a_priced_time_goes_on_to_pay(coach, consult, client_user):
    PromoCode.objects.create(code="WELCOME10", percent_off=10)
    response = post(signed_in(client_user), confirm_url(consult), promo_code="WELCOME10")
    booking = Booking.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("payments:pay", args=[booking.reference])
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert booking.price == Decimal("54.00") and booking.promo_code.code == "WELCOME10"
    # Not booked yet: the confirmation screen sends the client on to pay.
    done = signed_in(client_user).get(reverse("booking_done", args=[booking.reference]))
    assert done.status_code == 302 and done["Location"] == reverse("payments:pay", args=[booking.reference])


def test_not_enrolled_says_the_seeds_words_with_a_link_to_enroll(coach, client_user):
    lesson = SessionTypeFactory(coach=coach, requires_enrollment=True, price=Decimal("50.00"))
    http = signed_in(client_user)
    before = text(http.get(confirm_url(lesson)))
    assert "You must be enrolled to book." in before
    enroll = reverse("payments:programmes") + f"?type={lesson.pk}"
    assert f'href="{enroll}"' in before
    response = post(http, confirm_url(lesson))
    assert response.status_code == 409
    page = text(response)
    assert "You must be enrolled to book." in page and f'href="{enroll}"' in page and "Enroll now" in page
    assert not Booking.objects.exists()
    assert 'data-testid="book-submit"' not in before  # Enroll now is the way on


@pytest.mark.parametrize("payments", [True, False])
def test_a_free_enrolled_only_type_says_so_too_with_payments_on_or_off(settings, coach, client_user, payments):
    settings.ENABLE_PAYMENT_GATEWAY = payments
    lesson = SessionTypeFactory(coach=coach, requires_enrollment=True, price=Decimal("0.00"))
    page = text(signed_in(client_user).get(confirm_url(lesson)))
    assert "You must be enrolled to book." in page and "Enroll now" in page
    assert 'data-testid="book-submit"' not in page


def test_an_exhausted_allowance_says_insufficient_credits(coach, client_user):
    lesson = SessionTypeFactory(coach=coach, requires_enrollment=True, price=Decimal("50.00"))
    programme = Programme.objects.create(coach=coach, title="Course", allowance=1, validity_days=30)
    programme.session_types.set([lesson])
    enroll(client=client_user, programme=programme, actor=None, source="purchase")
    http = signed_in(client_user)
    assert "Included in your programme (1 session left)." in text(http.get(confirm_url(lesson)))
    first = post(http, confirm_url(lesson))
    assert first.status_code == 303
    assert Booking.objects.get().status == BookingStatus.FIRM_BOOKED
    later = START + dt.timedelta(hours=2)
    url = f"{reverse('book_confirm', args=[coach.pk, lesson.pk])}?start={later:%Y-%m-%dT%H:%M:%SZ}"
    response = post(http, url)
    assert response.status_code == 409
    assert "Insufficient credits." in text(response)


def test_a_group_seat_shows_early_bird_and_deposit_and_goes_on_to_pay(coach, client_user):
    workshop = GroupTypeFactory(
        coach=coach,
        price=Decimal("100.00"),
        currency="EUR",
        early_bird_price=Decimal("80.00"),
        early_bird_days=7,
        deposit=Decimal("20.00"),
        balance_due_days=3,
    )
    session = services.publish_session(
        actor=coach, session_type=workshop, start=START + dt.timedelta(days=14), capacity=5
    )
    http = signed_in(client_user)
    listed = text(http.get(reverse("book_type", args=[coach.pk, workshop.pk])))
    assert "<s>100.00 EUR</s> 80.00 EUR" in listed and "Early-bird price" in listed
    url = reverse("book_seat", args=[session.pk])
    page = text(http.get(url))
    assert "<s" in page and "100.00 EUR" in page and "80.00 EUR" in page
    assert "Early-bird price" in page
    assert "Deposit now: 20.00 EUR; the rest due by" in page
    assert "Pay 20.00 EUR and book" in page and "confirmed as soon as you have paid" in page
    response = post(http, url)
    booking = Booking.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("payments:pay", args=[booking.reference])
    assert booking.status == BookingStatus.AWAITING_PAYMENT and booking.deposit == Decimal("20.00")


def test_with_payments_off_the_confirm_step_is_as_before(settings, coach, consult, client_user):
    settings.ENABLE_PAYMENT_GATEWAY = False
    http = signed_in(client_user)
    page = text(http.get(confirm_url(consult)))
    assert 'name="promo_code"' not in page and "Pay " not in page
    assert "Book session" in page
    # A way to pay is not read with payments off (with none to spend, credits would refuse).
    response = post(http, confirm_url(consult), pay_with="credits")
    booking = Booking.objects.get()
    assert response["Location"] == reverse("booking_done", args=[booking.reference])
    assert booking.status == BookingStatus.FIRM_BOOKED


def test_a_free_type_is_booked_at_once_with_payments_on(coach, client_user):
    free = SessionTypeFactory(coach=coach, price=Decimal("0"))
    http = signed_in(client_user)
    assert 'name="promo_code"' not in text(http.get(confirm_url(free)))
    response = post(http, confirm_url(free))
    booking = Booking.objects.get()
    assert response["Location"] == reverse("booking_done", args=[booking.reference])
    assert booking.status == BookingStatus.FIRM_BOOKED
