"""The money on a booking's pages (``booking_payments`` tags): the payment a held booking
waits for, its payments, refunds and credits, a deposit's balance; and on the cancel step,
what cancelling now gives back by the refund policy. Also paying with credits from the
wizard's confirm step and the API (the bookings app's tests can't reach the credits)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.models import BookingStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from conftest import logged_in
from payments import credits
from payments import services as payments
from payments.models import Payment, PaymentStatus, Refund, RefundStatus

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 27 hours ahead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client_user():
    return ClientFactory(timezone="UTC")


def priced(*, notice_hours: int = 24, late_percent: int = 50, **fields):
    """A 60.00 EUR type; with the default notice, a session at START is cancelled in time."""
    return SessionTypeFactory(
        coach=open_coach(timezone="UTC"),
        price=Decimal("60.00"),
        currency="EUR",
        cancellation_notice_hours=notice_hours,
        allow_late_cancellation=True,
        late_cancellation_refund_percent=late_percent,
        **fields,
    )


def settle():
    relay.relay_pending()
    payments.send_pending()


def page(browser, name, booking) -> str:
    response = browser.get(reverse(name, args=[booking.reference]))
    assert response.status_code == 200, response.status_code
    return " ".join(unescape(response.content.decode()).split())


def plain(text: str) -> str:
    """The page's words without its tags."""
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def pay(browser, booking, name="payments:pay"):
    if name == "payments:pay":
        checkout = browser.get(reverse(name, args=[booking.reference]))["Location"]
    else:
        checkout = browser.post(reverse(name, args=[booking.reference]))["Location"]
    paid = browser.post(checkout, {"step": "card", "card": "4242 4242 4242 4242"})
    assert paid.status_code == 302
    settle()
    booking.refresh_from_db()


def test_a_held_booking_says_what_to_pay_by_when_with_pay_and_release(client_user):
    booking = services.book_slot(client=client_user, session_type=priced(), start=START)
    browser = logged_in(client_user)
    text = page(browser, "booking_detail", booking)
    assert "Pay 60.00 EUR by 06:15 (your time is held until then)." in text
    assert f'href="{reverse("payments:pay", args=[booking.reference])}"' in text
    assert f'action="{reverse("payments:abandon", args=[booking.reference])}"' in text
    assert "Cancel and release the time" in text


def test_the_booking_page_lists_payments_and_refunds_with_their_state(client_user):
    booking = services.book_slot(client=client_user, session_type=priced(notice_hours=48), start=START)
    browser = logged_in(client_user)
    pay(browser, booking)
    assert booking.status == BookingStatus.FIRM_BOOKED
    text = plain(page(browser, "booking_detail", booking))
    assert "60.00 EUR · Full price · Paid" in text and "Pay 60.00 EUR by" not in text

    services.cancel(booking=booking, actor=client_user, reason="")
    settle()
    refund = Refund.objects.get()
    assert refund.amount_minor == 3000  # late: half back
    words = {RefundStatus.PENDING: "requested", RefundStatus.SUCCEEDED: "refunded", RefundStatus.FAILED: "failed"}
    assert f"Refund of 30.00 EUR {words[refund.status]}" in page(browser, "booking_detail", booking)


def test_a_failed_refund_says_so(client_user):
    booking = services.book_slot(client=client_user, session_type=priced(), start=START)
    browser = logged_in(client_user)
    pay(browser, booking)
    Refund.objects.create(
        payment=Payment.objects.get(), amount_minor=1000, reason="Goodwill", status=RefundStatus.FAILED
    )
    assert "Refund of 10.00 EUR failed" in page(browser, "booking_detail", booking)


def test_a_deposit_leaves_the_balance_due_with_pay_the_balance(client_user):
    workshop = GroupTypeFactory(
        coach=open_coach(timezone="UTC"),
        price=Decimal("100.00"),
        currency="EUR",
        deposit=Decimal("20.00"),
        balance_due_days=3,
    )
    session = services.publish_session(
        actor=workshop.coach, session_type=workshop, start=START + dt.timedelta(days=10), capacity=5
    )
    booking = services.take_seat(client=client_user, session=session)
    browser = logged_in(client_user)
    assert "Pay 20.00 EUR by 06:15" in page(browser, "booking_detail", booking)
    pay(browser, booking)
    text = page(browser, "booking_detail", booking)
    assert "20.00 EUR · Deposit · Paid" in plain(text)
    assert "Balance due: 80.00 EUR by Wed 9 Dec 2026." in text
    assert f'action="{reverse("payments:pay_balance", args=[booking.reference])}"' in text
    pay(browser, booking, name="payments:pay_balance")
    text = plain(page(browser, "booking_detail", booking))
    assert "80.00 EUR · Balance · Paid" in text and "Balance due" not in text


def test_credits_spent_are_shown(client_user):
    credits.grant(client_user, credits=2)
    from bookings.payment_methods import book_with

    booking = book_with("credits", services.book_slot, client=client_user, session_type=priced(), start=START)
    text = page(logged_in(client_user), "booking_detail", booking)
    assert "Paid with 1 credit." in text


def test_nothing_is_shown_for_a_free_booking(client_user):
    free = SessionTypeFactory(coach=open_coach(timezone="UTC"), price=Decimal("0"))
    booking = services.book_slot(client=client_user, session_type=free, start=START)
    assert 'data-testid="booking-payments"' not in page(logged_in(client_user), "booking_detail", booking)


def test_cancel_preview_in_time_refunds_everything(client_user):
    booking = services.book_slot(client=client_user, session_type=priced(notice_hours=24), start=START)
    browser = logged_in(client_user)
    pay(browser, booking)
    text = page(browser, "booking_cancel_confirm", booking)
    assert "You paid 60.00 EUR. Cancelling now refunds the full 60.00 EUR." in text


def test_cancel_preview_late_refunds_the_types_share(client_user):
    booking = services.book_slot(client=client_user, session_type=priced(notice_hours=48, late_percent=50), start=START)
    browser = logged_in(client_user)
    pay(browser, booking)
    text = page(browser, "booking_cancel_confirm", booking)
    assert "You paid 60.00 EUR. Cancelling now refunds 30.00 EUR (late cancellation: 50%)." in text
    # The refund made on cancelling is the one announced.
    browser.post(reverse("booking_cancel_confirm", args=[booking.reference]), {"reason": ""})
    settle()
    assert Refund.objects.get().amount_minor == 3000


def test_cancel_preview_late_with_no_share_refunds_nothing(client_user):
    booking = services.book_slot(client=client_user, session_type=priced(notice_hours=48, late_percent=0), start=START)
    browser = logged_in(client_user)
    pay(browser, booking)
    assert "Cancelling now refunds nothing (late cancellation: 0%)." in page(browser, "booking_cancel_confirm", booking)


def test_cancel_preview_for_the_coach_refunds_everything(client_user):
    session_type = priced(notice_hours=48)
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    pay(logged_in(client_user), booking)
    text = page(logged_in(session_type.coach), "booking_cancel_confirm", booking)
    assert "The client paid 60.00 EUR. Cancelling now refunds the full 60.00 EUR." in text


def test_cancel_preview_of_credits(client_user):
    from bookings.payment_methods import book_with

    credits.grant(client_user, credits=2)
    in_time = book_with("credits", services.book_slot, client=client_user, session_type=priced(), start=START)
    late = book_with(
        "credits",
        services.book_slot,
        client=client_user,
        session_type=priced(notice_hours=48),
        start=START + dt.timedelta(hours=3),
    )
    browser = logged_in(client_user)
    assert "Your credit comes back." in page(browser, "booking_cancel_confirm", in_time)
    assert "Late: the credit is not returned." in page(browser, "booking_cancel_confirm", late)


def test_an_authorised_request_releases_the_hold_on_cancelling(client_user):
    booking = services.book_slot(client=client_user, session_type=priced(), start=START)
    browser = logged_in(client_user)
    Payment.objects.create(
        client=client_user,
        booking=booking,
        backend="local",
        amount_minor=6000,
        currency="EUR",
        status=PaymentStatus.AUTHORISED,
    )
    booking.status = BookingStatus.REQUESTED
    booking.save(update_fields=["status"])
    text = page(browser, "booking_cancel_confirm", booking)
    assert "The 60.00 EUR held on the card is released; nothing is charged." in text


# Paying with credits from the wizard and the API ------------------------------------------


def test_the_wizard_offers_credits_and_books_firm_spending_one(client_user):
    session_type = priced()
    credits.grant(client_user, credits=3)
    browser = logged_in(client_user)
    url = f"{reverse('book_confirm', args=[session_type.coach_id, session_type.pk])}?start=2026-12-02T09:00:00Z"
    text = " ".join(unescape(browser.get(url).content.decode()).split())
    assert "Use 1 credit (3 left)" in text and 'name="pay_with" value="credits"' in text
    assert "Pay 60.00 EUR and book" in text
    response = browser.post(url, {"notes": "", "reminders": "on", "pay_with": "credits"})
    booking = session_type.sessions.get().bookings.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("booking_done", args=[booking.reference])
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert credits.balance(client_user) == 2


def test_the_api_books_with_a_credit_at_once(client_user):
    session_type = priced()
    credits.grant(client_user, credits=2)
    body = {
        "coach": session_type.coach_id,
        "session_type": session_type.pk,
        "start": "2026-12-02T09:00:00Z",
        "pay_with": "credits",
    }
    response = logged_in(client_user).post("/api/v1/bookings", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "firm_booked" and response.json()["payment"] is None
    assert credits.balance(client_user) == 1
