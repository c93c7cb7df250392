"""A priced booking with payments on, through the local test gateway's pages: held while
the client pays, booked (or a request) once the gateway's event says so, freed when the
hold runs out; money follows the booking's changes through the event stream."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from availability.models import Allocation, AllocationKind
from availability.rules import ApprovalPolicy
from bookings import relay, services, tasks
from bookings.models import BookingStatus, SessionKind
from bookings.services import workshops
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from conftest import logged_in
from payments import local
from payments import services as payments
from payments.models import Payment, PaymentStatus, RefundStatus

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def priced(**fields):
    return SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR", **fields)


def settle():
    """What the workers do after a change: the relay's consumers, then the gateway calls
    they asked for (sent after the commit, or by the schedule)."""
    relay.relay_pending()
    payments.send_pending()


def pay_with(browser, booking, card="4242 4242 4242 4242"):
    response = browser.get(reverse("payments:pay", args=[booking.reference]))
    assert response.status_code == 302, response.content[:500]
    checkout = response["Location"]
    return checkout, browser.post(checkout, {"step": "card", "card": card})


def test_a_priced_booking_is_held_until_paid_then_booked(frozen):
    session_type = priced()
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert booking.status_after_payment == BookingStatus.FIRM_BOOKED
    assert booking.expires_at == NOW + dt.timedelta(minutes=15)
    # The slot is held tentatively: nobody else can take it.
    assert Allocation.objects.get(session=booking.session).kind == AllocationKind.REQUEST
    with pytest.raises(services.BookingRefused):
        services.book_slot(client=ClientFactory(), session_type=session_type, start=START)

    browser = logged_in(client)
    checkout, paid = pay_with(browser, booking)
    assert "/payments/local/" in checkout
    assert paid.status_code == 302 and "outcome=success" in paid["Location"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert Allocation.objects.get(session=booking.session).kind == AllocationKind.SESSION
    payment = Payment.objects.get(booking=booking)
    assert (payment.status, payment.amount_minor, payment.currency) == (PaymentStatus.PAID, 6000, "EUR")
    page = browser.get(paid["Location"])
    assert b"Payment received" in page.content and booking.reference.encode() in page.content
    assert [e.action for e in booking.events.order_by("pk")] == ["held_for_payment", "paid"]


def test_a_declined_card_keeps_the_hold_and_a_retry_pays(frozen):
    booking = services.book_slot(client=(client := ClientFactory()), session_type=priced(), start=START)
    browser = logged_in(client)
    checkout, declined = pay_with(browser, booking, card="4000 0000 0000 0002")
    assert declined.status_code == 200 and b"declined" in declined.content
    payment = Payment.objects.get(booking=booking)
    assert payment.status == PaymentStatus.FAILED
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    ok = browser.post(checkout, {"step": "card", "card": "4242424242424242"})
    assert ok.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED


def test_the_extra_authentication_step(frozen):
    booking = services.book_slot(client=(client := ClientFactory()), session_type=priced(), start=START)
    browser = logged_in(client)
    checkout, step = pay_with(browser, booking, card="4000 0027 6000 3184")
    assert b"authenticate-complete" in step.content
    failed = browser.post(checkout, {"step": "authenticate", "result": "fail"})
    assert b"authentication failed" in failed.content
    browser.post(checkout, {"step": "authenticate", "result": "complete"})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED


def test_an_unpaid_hold_expires_and_frees_the_slot(frozen):
    session_type = priced()
    booking = services.book_slot(client=ClientFactory(), session_type=session_type, start=START)
    frozen.shift(dt.timedelta(minutes=16))
    assert tasks.expire_requests() == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.events.order_by("-pk").first().action == "payment_expired"
    other = services.book_slot(client=ClientFactory(), session_type=session_type, start=START)
    assert other.status == BookingStatus.AWAITING_PAYMENT


def test_money_arriving_after_the_hold_ended_is_given_back(frozen):
    booking = services.book_slot(client=(client := ClientFactory()), session_type=priced(), start=START)
    browser = logged_in(client)
    checkout = browser.get(reverse("payments:pay", args=[booking.reference]))["Location"]
    payment = Payment.objects.get(booking=booking)
    from bookings.services.payment import expire_payment_holds

    frozen.shift(dt.timedelta(minutes=16))
    expire_payment_holds()
    settle()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED
    # The checkout is closed; had the gateway completed it anyway, the money goes back.
    assert browser.post(checkout, {"step": "card", "card": "4242424242424242"}).status_code == 410
    from payments import local

    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PENDING)
    payment.refresh_from_db()
    local.complete(payment)
    settle()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunds.get().status == RefundStatus.SUCCEEDED


def test_a_request_is_authorised_then_captured_on_approval(frozen):
    session_type = priced(approval=ApprovalPolicy.ALWAYS)
    booking = services.book_slot(client=(client := ClientFactory()), session_type=session_type, start=START)
    assert booking.status_after_payment == BookingStatus.REQUESTED
    pay_with(logged_in(client), booking)
    booking.refresh_from_db()
    payment = Payment.objects.get(booking=booking)
    assert booking.status == BookingStatus.REQUESTED and payment.capture_manually
    assert payment.status == PaymentStatus.AUTHORISED
    services.approve(booking=booking, actor=session_type.coach)
    settle()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID and payment.pending_action == ""


def test_a_declined_request_voids_the_authorisation(frozen):
    session_type = priced(approval=ApprovalPolicy.ALWAYS)
    booking = services.book_slot(client=(client := ClientFactory()), session_type=session_type, start=START)
    pay_with(logged_in(client), booking)
    services.decline(booking=booking, actor=session_type.coach, reason="Fully booked that week.")
    settle()
    payment = Payment.objects.get(booking=booking)
    assert payment.status == PaymentStatus.CANCELLED
    assert not payment.refunds.exists()


@pytest.mark.parametrize(("late", "percent", "refund"), [(False, 0, 6000), (True, 0, 0), (True, 50, 3000)])
def test_a_clients_cancellation_refunds_by_policy(frozen, late, percent, refund):
    session_type = priced(
        cancellation_notice_hours=24, allow_late_cancellation=True, late_cancellation_refund_percent=percent
    )
    client = ClientFactory()
    start = NOW + dt.timedelta(hours=12 if late else 48)
    start = start.replace(hour=9) if not late else dt.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    booking = services.book_slot(client=client, session_type=session_type, start=start)
    pay_with(logged_in(client), booking)
    booking.refresh_from_db()
    services.cancel(booking=booking, actor=client)
    settle()
    settle()  # a replay asks nothing twice
    payment = Payment.objects.get(booking=booking)
    assert payments.refunded_minor(payment) == refund
    assert payment.refunds.count() == (1 if refund else 0)


def test_the_coachs_cancellation_refunds_in_full_even_late(frozen):
    session_type = priced(cancellation_notice_hours=24)
    client = ClientFactory()
    booking = services.book_slot(
        client=client, session_type=session_type, start=dt.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    )
    pay_with(logged_in(client), booking)
    services.cancel(booking=booking, actor=session_type.coach, reason="I am ill.")
    settle()
    payment = Payment.objects.get(booking=booking)
    assert payment.status == PaymentStatus.REFUNDED and payments.refunded_minor(payment) == 6000


def test_payments_off_books_as_before(frozen, settings):
    settings.ENABLE_PAYMENT_GATEWAY = False
    booking = services.book_slot(client=ClientFactory(), session_type=priced(), start=START)
    assert booking.status == BookingStatus.FIRM_BOOKED and booking.price == Decimal("60.00")


def test_a_credit_pays_for_a_booking_and_comes_back_on_a_timely_cancellation(frozen):
    from bookings import payment_methods
    from payments import credits

    session_type = priced(cancellation_notice_hours=24)
    client = ClientFactory()
    credits.grant(client, credits=1)
    (offer,) = payment_methods.offers(client, session_type)
    assert offer.label == "Use 1 credit (1 left)"
    booking = payment_methods.book_with(
        "credits", services.book_slot, client=client, session_type=session_type, start=START
    )
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert credits.balance(client) == 0 and not Payment.objects.exists()
    assert payment_methods.offers(client, session_type) == []
    with pytest.raises(services.BookingRefused.__mro__[1]) as refused:
        payment_methods.book_with(
            "credits", services.book_slot, client=client, session_type=session_type, start=START + dt.timedelta(hours=2)
        )
    assert refused.value.code == "no_credits"
    assert client.bookings.count() == 1  # nothing half-written
    services.cancel(booking=booking, actor=client)
    settle()
    assert credits.balance(client) == 1


def test_the_clients_dashboard_says_the_booking_waits_for_its_payment(frozen):
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=priced(), start=START)
    page = logged_in(client).get(reverse("client_dashboard")).content.decode()
    from zoneinfo import ZoneInfo

    until = booking.expires_at.astimezone(ZoneInfo(client.timezone)).strftime("%H:%M")
    assert "Not booked until paid." in page and f"held for you until {until}" in page
    assert reverse("payments:pay", args=[booking.reference]) in page
    assert "Awaiting payment" in page
    assert f'href="{reverse("payments:mine")}"' in page  # "Payments & credits" in the menu


def test_the_menu_shows_payments_only_when_they_are_on(settings):
    coach = open_coach()
    assert f'href="{reverse("payments:list")}"' in logged_in(coach).get(reverse("session_types")).content.decode()
    settings.ENABLE_PAYMENT_GATEWAY = False
    assert 'data-testid="nav-payments"' not in logged_in(coach).get(reverse("session_types")).content.decode()


def test_a_booking_awaiting_payment_is_cancelled_not_moved_and_never_completed(frozen):
    session_type = priced()
    client = ClientFactory()
    held = services.book_slot(client=client, session_type=session_type, start=START)
    with pytest.raises(services.BookingRefused.__mro__[1]) as refused:
        services.reschedule(booking=held, actor=client, start=START + dt.timedelta(hours=2))
    assert refused.value.code == "invalid_transition" and "Pay for this booking first" in refused.value.message
    services.cancel(booking=held, actor=client)
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED
    assert held.events.order_by("-pk").first().action == "payment_abandoned"
    # One whose hold outlived its session (the expiry didn't run) is let go, not completed.
    other = services.book_slot(client=client, session_type=session_type, start=START)
    frozen.move_to(START + dt.timedelta(hours=2))
    services.complete_past_sessions()
    other.refresh_from_db()
    assert other.status == BookingStatus.CANCELLED


def test_a_held_booking_is_tentative_in_the_clients_calendar_feed(frozen):
    import icalendar

    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=priced(), start=START)
    browser = logged_in(client)
    ics = browser.get(reverse("booking_ics", args=[booking.reference]))
    assert ics.status_code == 200
    (event,) = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert event["STATUS"] == "TENTATIVE" and str(event["SUMMARY"]).startswith("Awaiting payment: ")


def test_a_workshop_called_off_below_its_minimum_refunds_everyone_in_full(frozen):
    coach = open_coach()
    kind = GroupTypeFactory(
        coach=coach, kind=SessionKind.WORKSHOP, price=Decimal("80.00"), currency="EUR", capacity=8, min_participants=3
    )
    session = services.publish_session(actor=coach, session_type=kind, start=NOW + dt.timedelta(days=6))
    seat = services.take_seat(client=ClientFactory(), session=session)
    payment = payments.checkout_for(seat, actor=seat.client, base_url="http://testserver")
    local.complete(payment)
    settle()
    seat.refresh_from_db()
    assert seat.status == BookingStatus.FIRM_BOOKED

    frozen.move_to(session.confirm_by + dt.timedelta(minutes=1))
    assert workshops.settle_due() == (0, 1)
    settle()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED and payments.refunded_minor(payment) == 8000
