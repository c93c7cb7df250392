"""Paying in Chromium, with the local test gateway: a priced session paid by card from the
wizard (then its booking page, "Payments & credits" and the receipt), a declined card then
a good one, a package of credits bought and a session booked with one, and a late cancel
that says what comes back before confirming and shows the refund after."""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory
from availability.selectors import free_slots
from bookings import relay, services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach
from payments import services as payments
from payments.models import CreditEntry, Package, Payment, PaymentStatus, RefundStatus

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


@pytest.fixture(autouse=True)
def payments_on(settings):
    """The live server runs in this process: these settings are its settings."""
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15


def shot(page: Page, name: str) -> None:
    """Screenshots for people to look at, when BROWSER_TEST_SHOTS names a folder."""
    folder = os.environ.get("BROWSER_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def priced_coach(**type_fields):
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Léa Martin"
    coach.save()
    fields = {"title": "Tennis lesson", "price": Decimal("60.00"), "currency": "EUR", **type_fields}
    return coach, SessionTypeFactory(coach=coach, **fields)


def a_client():
    return ClientFactory(email="nora@example.com", name="Nora Blake", timezone="Europe/Paris")


def a_free_slot(coach, session_type, days_ahead: int = 2):
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=days_ahead)
    slots = free_slots(coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS)
    assert slots, "the coach is open every day 09–17 Paris time"
    return day, slots[0]


def to_confirm_step(page: Page, coach, session_type, day: dt.date) -> None:
    """The wizard from the day's times: the first time, then Continue."""
    page.goto(f"/book/{coach.pk}/{session_type.pk}/?date={day.isoformat()}")
    page.get_by_test_id("times").get_by_test_id("time-slot").first.click()
    page.locator("#continue").click()
    expect(page.get_by_test_id("confirm")).to_be_visible()


def pay_by_card(page: Page, card: str = GOOD_CARD) -> None:
    checkout = page.get_by_test_id("local-checkout")
    expect(checkout).to_be_visible()
    checkout.get_by_test_id("card-number").fill(card)
    checkout.get_by_test_id("card-pay").click()


@pytest.mark.django_db(transaction=True)
def test_a_priced_session_paid_by_card_from_the_wizard(sign_in) -> None:
    coach, lesson = priced_coach()
    a_client()
    day, slot = a_free_slot(coach, lesson)
    page = sign_in("nora@example.com", "Europe/Paris")

    to_confirm_step(page, coach, lesson, day)
    expect(page.get_by_test_id("confirm-price")).to_have_text("60.00 EUR")
    expect(page.get_by_test_id("pay-price")).to_contain_text("60.00 EUR")
    submit = page.locator("#book-submit")
    expect(submit).to_have_text("Pay 60.00 EUR and book")
    shot(page, "pay-1-confirm.png")
    submit.click()

    # Held while the client pays: on the gateway's card page.
    page.wait_for_url(re.compile(r"/payments/local/"))
    booking = Booking.objects.get(client__email="nora@example.com")
    assert booking.status == BookingStatus.AWAITING_PAYMENT and booking.session.start == slot.start
    expect(page.get_by_test_id("checkout-amount")).to_have_text("60.00 EUR")
    shot(page, "pay-2-card.png")
    pay_by_card(page)

    back = page.get_by_test_id("payment-return")
    expect(back).to_have_attribute("data-payment-status", "paid")
    expect(back).to_have_attribute("data-booking-status", "firm_booked")
    expect(back.get_by_role("heading", level=1)).to_have_text("Payment received")
    expect(page.get_by_test_id("payment-outcome")).to_contain_text("Your session is booked.")
    expect(page.get_by_test_id("payment-reference")).to_have_text(booking.reference)
    shot(page, "pay-3-returned.png")

    page.get_by_test_id("booking-detail-link").click()
    expect(page.get_by_test_id("booking-detail")).to_be_visible()
    expect(page.get_by_test_id("booking-status")).to_have_text("Booked")
    paid_row = page.get_by_test_id("booking-payments").get_by_test_id("payment-row")
    expect(paid_row).to_have_count(1)
    expect(paid_row).to_have_attribute("data-status", "paid")
    expect(paid_row).to_contain_text("60.00 EUR")
    shot(page, "pay-4-booking.png")

    page.get_by_test_id("nav-payments").click()
    row = page.get_by_test_id("payments").get_by_test_id("payment-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("60.00 EUR")
    expect(row).to_contain_text("Paid")
    row.get_by_test_id("receipt-link").click()
    receipt = page.get_by_test_id("receipt")
    expect(receipt.get_by_role("heading", level=1)).to_have_text("Receipt")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("60.00 EUR")
    payment = Payment.objects.get(booking=booking)
    expect(page.get_by_test_id("receipt-reference")).to_contain_text(f"{booking.reference} · #{payment.pk}")
    expect(page.get_by_test_id("refund-policy")).to_contain_text("for a full refund")
    shot(page, "pay-5-receipt.png")


@pytest.mark.django_db(transaction=True)
def test_a_declined_card_then_a_good_one(sign_in) -> None:
    coach, lesson = priced_coach()
    a_client()
    day, _ = a_free_slot(coach, lesson)
    page = sign_in("nora@example.com", "Europe/Paris")

    to_confirm_step(page, coach, lesson, day)
    page.locator("#book-submit").click()
    pay_by_card(page, DECLINED_CARD)

    # Still on the card page, told why; the time is still held.
    error = page.get_by_test_id("checkout-error")
    expect(error).to_contain_text("declined")
    expect(page.get_by_test_id("card-number")).to_have_attribute("aria-invalid", "true")
    booking = Booking.objects.get(client__email="nora@example.com")
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert Payment.objects.get(booking=booking).status == PaymentStatus.FAILED
    shot(page, "pay-6-declined.png")

    pay_by_card(page, GOOD_CARD)
    back = page.get_by_test_id("payment-return")
    expect(back).to_have_attribute("data-booking-status", "firm_booked")
    expect(back.get_by_role("heading", level=1)).to_have_text("Payment received")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED
    # The same checkout, tried again: one payment, now paid.
    assert list(Payment.objects.filter(booking=booking).values_list("status", flat=True)) == [PaymentStatus.PAID]


@pytest.mark.django_db(transaction=True)
def test_a_package_bought_then_a_session_booked_with_a_credit(sign_in) -> None:
    coach, lesson = priced_coach()
    a_client()
    Package.objects.create(title="Five lessons", credits=5, price_minor=25000, currency="EUR", coach=coach)
    day, slot = a_free_slot(coach, lesson)
    page = sign_in("nora@example.com", "Europe/Paris")

    page.goto("/payments/packages/")
    row = page.get_by_test_id("package-row")
    expect(row).to_contain_text("Five lessons")
    expect(row).to_contain_text("250.00 EUR")
    shot(page, "pay-7-packages.png")
    row.get_by_test_id("buy-package").click()
    expect(page.get_by_test_id("checkout-amount")).to_have_text("250.00 EUR")
    pay_by_card(page)
    expect(page.get_by_test_id("payment-return")).to_have_attribute("data-payment-status", "paid")
    expect(page.get_by_test_id("payment-outcome")).to_have_text("5 credits have been added to your account.")

    to_confirm_step(page, coach, lesson, day)
    use_credit = page.get_by_test_id("pay-with-credits")
    expect(use_credit).to_have_text("Use 1 credit (5 left)")
    shot(page, "pay-8-confirm-credits.png")
    use_credit.click()

    # Booked at once, with no card page.
    expect(page.get_by_test_id("booking-done")).to_contain_text("Session booked!")
    booking = Booking.objects.get(client__email="nora@example.com")
    assert booking.status == BookingStatus.FIRM_BOOKED and booking.session.start == slot.start
    assert not Payment.objects.filter(booking=booking).exists()
    assert CreditEntry.objects.filter(booking=booking, amount=-1).count() == 1

    page.get_by_test_id("nav-payments").click()
    expect(page.get_by_test_id("balance")).to_have_text("4")
    spent = page.get_by_test_id("ledger").locator("[data-testid=ledger-row][data-kind=spend]")
    expect(spent).to_have_count(1)
    expect(spent).to_contain_text(booking.reference)
    shot(page, "pay-9-credits.png")


@pytest.mark.django_db(transaction=True)
def test_a_late_cancel_says_what_comes_back_then_refunds_it(sign_in) -> None:
    coach, lesson = priced_coach(
        cancellation_notice_hours=48, allow_late_cancellation=True, late_cancellation_refund_percent=50
    )
    client = a_client()
    # Tomorrow: inside the 48 hours' notice.
    _, slot = a_free_slot(coach, lesson, days_ahead=1)
    booking = services.book_slot(client=client, session_type=lesson, start=slot.start)
    assert booking.status == BookingStatus.AWAITING_PAYMENT

    page = sign_in("nora@example.com", "Europe/Paris")
    page.goto(f"/bookings/{booking.reference}/")
    page.get_by_test_id("pay-now").click()
    pay_by_card(page)
    expect(page.get_by_test_id("payment-return")).to_have_attribute("data-booking-status", "firm_booked")

    page.get_by_test_id("booking-detail-link").click()
    page.get_by_test_id("cancel-button").click()
    cancel = page.get_by_test_id("cancel-confirm")
    expect(cancel.get_by_test_id("cancel-policy")).to_be_visible()
    preview = cancel.get_by_test_id("refund-preview")
    expect(preview).to_have_text("You paid 60.00 EUR. Cancelling now refunds 30.00 EUR (late cancellation: 50%).")
    submit = cancel.get_by_test_id("cancel-confirm-submit")
    expect(submit).to_have_text("Cancel late")
    shot(page, "pay-10-late-cancel.png")
    submit.click()
    page.wait_for_url(lambda url: "/cancel/" not in url)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.is_late_cancellation
    # What the workers do next: the event stream's consumers, then the gateway calls.
    relay.relay_pending()
    payments.send_pending()
    payment = Payment.objects.get(booking=booking)
    refund = payment.refunds.get()
    assert (refund.amount_minor, refund.status) == (3000, RefundStatus.SUCCEEDED)

    page.goto(f"/bookings/{booking.reference}/")
    refund_row = page.get_by_test_id("booking-payments").get_by_test_id("refund-row")
    expect(refund_row).to_have_count(1)
    expect(refund_row).to_have_attribute("data-status", "succeeded")
    expect(refund_row).to_contain_text("Refund of 30.00 EUR refunded")
    expect(page.get_by_test_id("cancellation")).to_contain_text("Late")
    shot(page, "pay-11-refunded.png")
