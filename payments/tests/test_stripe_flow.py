"""A priced booking paid through Stripe Checkout, end to end: the real ``stripe`` library
talking HTTP to the fake Stripe, and the fake's events coming back signed to our webhook.

Held while the client pays, booked once the webhook says so (never the browser), the hold
kept through a declined card, freed when it runs out (the checkout closed at Stripe); a
request's money authorised, captured on approval, released on decline; refunds by policy,
each asked once; forged, stale, replayed and out-of-order webhooks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from accounts.tests.factories import ClientFactory
from availability.rules import ApprovalPolicy
from bookings import services
from bookings.models import BookingEvent, BookingStatus
from bookings.services.payment import expire_payment_holds
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from payments import consumer
from payments import services as payments
from payments.models import GatewayEvent, Payment, PaymentStatus, RefundStatus
from payments.tests.conftest import deliver, settle
from payments.tests.fake_stripe import event

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SOON = dt.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # inside a 24-hour notice
BASE_URL = "https://coaching.example.com"
SESSIONS = "/v1/checkout/sessions"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stripe_on(fake_stripe, settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    return fake_stripe


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def priced(**fields):
    return SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR", **fields)


def held(session_type=None, *, start=START, client=None):
    client = client or ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type or priced(), start=start)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    return booking


def checkout(booking) -> Payment:
    return payments.checkout_for(booking, actor=booking.client, base_url=BASE_URL)


def paid(fake_stripe, payment: Payment) -> dict:
    """The payer pays at Stripe: the ``checkout.session.completed`` event Stripe sends."""
    return event("checkout.session.completed", fake_stripe.complete_session(payment.checkout_id))


def status_of(obj) -> str:
    obj.refresh_from_db()
    return obj.status


def test_a_held_booking_is_booked_once_stripes_webhook_says_it_is_paid(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)

    (created,) = stripe_on.posts(SESSIONS)
    session = stripe_on.sessions[payment.checkout_id]
    assert payment.checkout_id.startswith("cs_test_") and payment.checkout_url == session["url"]
    assert (session["amount_total"], session["currency"], session["status"]) == (6000, "eur", "open")
    assert session["_capture_method"] == "automatic_async"
    assert created.form["metadata"] == {"payment_id": str(payment.pk)}
    assert created.form["success_url"] == f"{BASE_URL}/payments/{payment.pk}/return/?outcome=success"
    # Stripe's shortest session is 30 minutes; our hold (15) is the payment's own end.
    assert session["expires_at"] == int((NOW + dt.timedelta(minutes=31)).timestamp())
    assert payment.expires_at == booking.expires_at == NOW + dt.timedelta(minutes=15)
    # Asking again (the pay page reloaded) is the same checkout, not a second one.
    assert checkout(booking) == payment and len(stripe_on.posts(SESSIONS)) == 1
    assert status_of(booking) == BookingStatus.AWAITING_PAYMENT

    completed = paid(stripe_on, payment)
    response = deliver(completed)

    assert response.status_code == 200 and response.json()["outcome"] == "processed"
    assert status_of(booking) == BookingStatus.FIRM_BOOKED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.payment_intent_id == stripe_on.sessions[payment.checkout_id]["payment_intent"]
    settle()
    assert [r.path for r in stripe_on.requests] == [SESSIONS]  # nothing to capture, expire or refund
    assert booking.events.filter(action="paid").count() == 1


def test_a_declined_card_keeps_the_hold_and_a_retry_pays(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)

    failed = deliver(event("payment_intent.payment_failed", stripe_on.decline_card(payment.checkout_id)))

    assert failed.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.failure_message) == (PaymentStatus.FAILED, "Your card was declined.")
    assert status_of(booking) == BookingStatus.AWAITING_PAYMENT
    # The payer tries another card on the same Stripe page.
    assert deliver(paid(stripe_on, payment)).status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.failure_message) == (PaymentStatus.PAID, "")
    assert status_of(booking) == BookingStatus.FIRM_BOOKED


def test_a_new_checkout_after_a_failed_one_pays_too(stripe_on, frozen):
    booking = held()
    first = checkout(booking)
    deliver(event("payment_intent.payment_failed", stripe_on.decline_card(first.checkout_id)))

    second = checkout(booking)

    assert second.pk != first.pk and second.checkout_id != first.checkout_id
    deliver(paid(stripe_on, second))
    assert status_of(booking) == BookingStatus.FIRM_BOOKED
    assert status_of(second) == PaymentStatus.PAID


def test_an_unpaid_hold_expires_frees_the_slot_and_closes_the_checkout(stripe_on, frozen):
    session_type = priced()
    booking = held(session_type)
    payment = checkout(booking)

    frozen.shift(dt.timedelta(minutes=16))
    assert expire_payment_holds() == 1
    settle()

    assert status_of(booking) == BookingStatus.CANCELLED
    (expire,) = stripe_on.posts(f"{SESSIONS}/{payment.checkout_id}/expire")
    assert expire.idempotency_key == f"expire-{payment.pk}"
    assert stripe_on.sessions[payment.checkout_id]["status"] == "expired"
    assert status_of(payment) == PaymentStatus.EXPIRED
    # Stripe's own word that the session expired changes nothing more.
    expired = event("checkout.session.expired", stripe_on.public(stripe_on.sessions[payment.checkout_id]))
    assert deliver(expired).status_code == 200 and status_of(payment) == PaymentStatus.EXPIRED
    # The slot is free for someone else, and nobody can pay for the lapsed hold.
    other = held(session_type)
    assert other.session.start == START
    with pytest.raises(services.BookingRefused.__mro__[1]) as refused:
        checkout(booking)
    assert refused.value.code == "not_awaiting_payment"


def test_a_hold_that_lapses_after_a_declined_card_closes_its_checkout_too(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)
    deliver(event("payment_intent.payment_failed", stripe_on.decline_card(payment.checkout_id)))
    assert status_of(payment) == PaymentStatus.FAILED

    frozen.shift(dt.timedelta(minutes=16))
    expire_payment_holds()
    settle()

    # The session was still open for a retry: it is closed, so nobody pays for a lapsed hold.
    assert len(stripe_on.posts(f"{SESSIONS}/{payment.checkout_id}/expire")) == 1
    assert stripe_on.sessions[payment.checkout_id]["status"] == "expired"
    assert status_of(payment) == PaymentStatus.EXPIRED


def test_money_arriving_after_the_hold_lapsed_is_refunded_in_full(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)
    completed = paid(stripe_on, payment)  # paid at Stripe, but the webhook is late
    frozen.shift(dt.timedelta(minutes=16))
    expire_payment_holds()
    settle()  # the session is complete: Stripe refuses to expire it, which is fine
    assert len(stripe_on.posts(f"{SESSIONS}/{payment.checkout_id}/expire")) == 1
    assert status_of(booking) == BookingStatus.CANCELLED and not payment.refunds.exists()

    assert deliver(completed).status_code == 200
    settle()

    assert status_of(booking) == BookingStatus.CANCELLED
    (refund_call,) = stripe_on.posts("/v1/refunds")
    refund = payment.refunds.get()
    assert refund_call.form["amount"] == "6000" and refund_call.idempotency_key == f"refund-{refund.pk}"
    assert refund_call.form["payment_intent"] == completed["data"]["object"]["payment_intent"]
    assert (status_of(refund), status_of(payment)) == (RefundStatus.SUCCEEDED, PaymentStatus.REFUNDED)


def test_a_request_is_authorised_then_captured_on_approval(stripe_on, frozen):
    session_type = priced(approval=ApprovalPolicy.ALWAYS)
    booking = held(session_type)
    payment = checkout(booking)
    assert payment.capture_manually
    (created,) = stripe_on.posts(SESSIONS)
    assert created.form["payment_intent_data"]["capture_method"] == "manual"

    deliver(paid(stripe_on, payment))

    assert status_of(booking) == BookingStatus.REQUESTED
    assert status_of(payment) == PaymentStatus.AUTHORISED
    settle()
    assert not stripe_on.posts(f"/v1/payment_intents/{payment.payment_intent_id}/capture")
    services.approve(booking=booking, actor=session_type.coach)
    settle()
    (capture,) = stripe_on.posts(f"/v1/payment_intents/{payment.payment_intent_id}/capture")
    assert capture.idempotency_key == f"capture-{payment.pk}"
    assert stripe_on.intents[payment.payment_intent_id]["status"] == "succeeded"
    payment.refresh_from_db()
    assert (payment.status, payment.pending_action) == (PaymentStatus.PAID, "")


def test_a_declined_request_releases_the_authorisation(stripe_on, frozen):
    session_type = priced(approval=ApprovalPolicy.ALWAYS)
    booking = held(session_type)
    payment = checkout(booking)
    deliver(paid(stripe_on, payment))
    payment.refresh_from_db()

    services.decline(booking=booking, actor=session_type.coach, reason="Fully booked that week.")
    settle()

    (cancel,) = stripe_on.posts(f"/v1/payment_intents/{payment.payment_intent_id}/cancel")
    assert cancel.idempotency_key == f"cancel-{payment.pk}"
    assert stripe_on.intents[payment.payment_intent_id]["status"] == "canceled"
    assert status_of(payment) == PaymentStatus.CANCELLED
    assert not stripe_on.posts("/v1/refunds") and not stripe_on.posts(
        f"/v1/payment_intents/{payment.payment_intent_id}/capture"
    )


def test_a_paid_request_nobody_answers_releases_the_authorisation(stripe_on, frozen):
    booking = held(priced(approval=ApprovalPolicy.ALWAYS))
    payment = checkout(booking)
    deliver(paid(stripe_on, payment))
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED

    assert services.expire_requests(now=booking.expires_at) == 1
    settle()

    assert status_of(booking) == BookingStatus.DECLINED
    (cancel,) = stripe_on.posts(f"/v1/payment_intents/{payment.payment_intent_id}/cancel")
    assert cancel.idempotency_key == f"cancel-{payment.pk}"
    assert status_of(payment) == PaymentStatus.CANCELLED and not stripe_on.posts("/v1/refunds")


def test_a_client_giving_up_the_hold_closes_the_checkout(stripe_on, frozen):
    session_type = priced()
    booking = held(session_type)
    payment = checkout(booking)

    services.cancel(booking=booking, actor=booking.client)
    settle()

    assert status_of(booking) == BookingStatus.CANCELLED
    assert booking.events.order_by("-pk").first().action == "payment_abandoned"
    assert len(stripe_on.posts(f"{SESSIONS}/{payment.checkout_id}/expire")) == 1
    assert stripe_on.sessions[payment.checkout_id]["status"] == "expired"
    assert status_of(payment) == PaymentStatus.EXPIRED and not stripe_on.posts("/v1/refunds")
    assert held(session_type).session.start == START


@pytest.mark.parametrize(
    ("who", "start", "percent", "refunded"),
    [
        ("client", START, 0, 6000),  # in good time: all of it
        ("client", SOON, 50, 3000),  # late: the type's share
        ("client", SOON, 0, 0),  # late, the type gives nothing back
        ("coach", SOON, 0, 6000),  # the coach cancels: all of it, however late
    ],
)
def test_a_cancellation_refunds_by_the_policy_once(stripe_on, frozen, who, start, percent, refunded):
    session_type = priced(
        cancellation_notice_hours=24, allow_late_cancellation=True, late_cancellation_refund_percent=percent
    )
    booking = held(session_type, start=start)
    payment = checkout(booking)
    deliver(paid(stripe_on, payment))
    booking.refresh_from_db()
    payment.refresh_from_db()

    actor = booking.client if who == "client" else session_type.coach
    services.cancel(booking=booking, actor=actor, reason="Plans changed.")
    settle()

    calls = stripe_on.posts("/v1/refunds")
    if not refunded:
        assert calls == [] and not payment.refunds.exists()
        assert status_of(payment) == PaymentStatus.PAID
        return
    (call,) = calls
    refund = payment.refunds.get()
    assert (call.idempotency_key, call.form["amount"]) == (f"refund-{refund.pk}", str(refunded))
    assert call.form["payment_intent"] == payment.payment_intent_id
    assert status_of(refund) == RefundStatus.SUCCEEDED
    assert status_of(payment) == (PaymentStatus.REFUNDED if refunded == 6000 else PaymentStatus.PARTIALLY_REFUNDED)
    # The booking event handed over again (a relay retry) asks nothing twice.
    cancelled = BookingEvent.objects.get(booking=booking, to_status=BookingStatus.CANCELLED)
    with transaction.atomic():
        consumer.on_booking_events([cancelled])
    settle()
    assert len(stripe_on.posts("/v1/refunds")) == 1 and payment.refunds.count() == 1
    # Stripe's charge.refunded for our own refund agrees with what we have.
    assert deliver(event("charge.refunded", stripe_on.charge_for(payment.payment_intent_id))).status_code == 200
    assert payments.refunded_minor(payment) == refunded and status_of(refund) == RefundStatus.SUCCEEDED


# Webhooks that are not what they seem ------------------------------------------------------


def test_a_forged_or_stale_webhook_is_refused_and_changes_nothing(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)
    completed = paid(stripe_on, payment)

    forged = deliver(completed, secret="whsec_someone_else_" + "0" * 20)
    stale = deliver(completed, timestamp=int(NOW.timestamp()) - 301)

    for response in (forged, stale):
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_webhook"
    assert not GatewayEvent.objects.exists()
    assert status_of(booking) == BookingStatus.AWAITING_PAYMENT and status_of(payment) == PaymentStatus.PENDING
    # The genuine delivery still works afterwards.
    assert deliver(completed).json()["outcome"] == "processed"
    assert status_of(booking) == BookingStatus.FIRM_BOOKED


def test_a_replayed_webhook_does_nothing_the_second_time(stripe_on, frozen):
    booking = held(priced(cancellation_notice_hours=24))
    payment = checkout(booking)
    completed = paid(stripe_on, payment)
    assert deliver(completed).json()["outcome"] == "processed"
    services.cancel(booking=booking, actor=booking.client)
    settle()
    assert status_of(payment) == PaymentStatus.REFUNDED

    again = deliver(completed)

    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert GatewayEvent.objects.count() == 1
    settle()
    assert status_of(booking) == BookingStatus.CANCELLED and status_of(payment) == PaymentStatus.REFUNDED
    assert len(stripe_on.posts("/v1/refunds")) == 1


def test_a_refund_reported_before_the_completion_does_not_book_the_hold(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)
    completed = paid(stripe_on, payment)
    intent_id = completed["data"]["object"]["payment_intent"]
    refunded = event("charge.refunded", stripe_on.refund_from_dashboard(intent_id))

    assert deliver(refunded).json()["outcome"] == "waiting"
    assert deliver(completed).json()["outcome"] == "processed"

    payment.refresh_from_db()
    assert (payment.status, payment.payment_intent_id) == (PaymentStatus.REFUNDED, intent_id)
    assert GatewayEvent.objects.filter(processed_at__isnull=True).count() == 0
    # The money went back, so the place is not booked; the hold lapses as any unpaid one.
    assert status_of(booking) == BookingStatus.AWAITING_PAYMENT
    frozen.shift(dt.timedelta(minutes=16))
    expire_payment_holds()
    settle()
    assert status_of(booking) == BookingStatus.CANCELLED
    assert not stripe_on.posts("/v1/refunds")


def test_a_partial_refund_reported_before_the_completion_gives_the_rest_back(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)
    completed = paid(stripe_on, payment)
    intent_id = completed["data"]["object"]["payment_intent"]
    deliver(event("charge.refunded", stripe_on.refund_from_dashboard(intent_id, 1000)))
    deliver(completed)
    assert status_of(payment) == PaymentStatus.PARTIALLY_REFUNDED
    assert status_of(booking) == BookingStatus.AWAITING_PAYMENT

    frozen.shift(dt.timedelta(minutes=16))
    expire_payment_holds()
    settle()

    assert status_of(booking) == BookingStatus.CANCELLED
    (call,) = stripe_on.posts("/v1/refunds")
    assert call.form["amount"] == "5000"
    assert status_of(payment) == PaymentStatus.REFUNDED


def test_a_completion_after_the_refund_changes_nothing(stripe_on, frozen):
    booking = held(priced(cancellation_notice_hours=24))
    payment = checkout(booking)
    completed = paid(stripe_on, payment)
    deliver(completed)
    services.cancel(booking=booking, actor=booking.client)
    settle()
    payment.refresh_from_db()
    refunded = event("charge.refunded", stripe_on.charge_for(payment.payment_intent_id))
    assert deliver(refunded).status_code == 200
    # The same completion again, under a new event id (Stripe resends as a new event).
    again = event("checkout.session.completed", stripe_on.public(stripe_on.sessions[payment.checkout_id]))

    assert deliver(again).json()["outcome"] == "processed"

    assert status_of(payment) == PaymentStatus.REFUNDED and status_of(booking) == BookingStatus.CANCELLED
    settle()
    assert len(stripe_on.posts("/v1/refunds")) == 1


def test_a_late_failure_report_does_not_undo_a_payment(stripe_on, frozen):
    booking = held()
    payment = checkout(booking)
    declined = event("payment_intent.payment_failed", stripe_on.decline_card(payment.checkout_id))
    completed = paid(stripe_on, payment)  # the second card worked

    deliver(completed)
    assert deliver(declined).json()["outcome"] == "processed"

    payment.refresh_from_db()
    assert (payment.status, payment.failure_message) == (PaymentStatus.PAID, "")
    assert status_of(booking) == BookingStatus.FIRM_BOOKED


def test_an_authorisation_arriving_after_the_hold_lapsed_is_released(stripe_on, frozen):
    booking = held(priced(approval=ApprovalPolicy.ALWAYS))
    payment = checkout(booking)
    completed = paid(stripe_on, payment)
    frozen.shift(dt.timedelta(minutes=16))
    expire_payment_holds()
    settle()

    deliver(completed)
    settle()

    assert status_of(booking) == BookingStatus.CANCELLED
    intent_id = completed["data"]["object"]["payment_intent"]
    assert len(stripe_on.posts(f"/v1/payment_intents/{intent_id}/cancel")) == 1
    assert stripe_on.intents[intent_id]["status"] == "canceled"
    assert status_of(payment) == PaymentStatus.CANCELLED and not stripe_on.posts("/v1/refunds")


def test_a_deposit_then_the_balance_and_a_timely_cancellation_gives_both_back(stripe_on, frozen):
    coach = open_coach()
    workshop = GroupTypeFactory(
        coach=coach, price=Decimal("60.00"), currency="EUR", deposit=Decimal("20.00"), balance_due_days=7
    )
    session = services.publish_session(actor=coach, session_type=workshop, start=NOW + dt.timedelta(days=20))
    booking = services.take_seat(client=ClientFactory(), session=session)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    deposit = checkout(booking)
    assert (deposit.kind, deposit.amount_minor) == ("deposit", 2000)
    assert stripe_on.sessions[deposit.checkout_id]["amount_total"] == 2000
    deliver(paid(stripe_on, deposit))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED and payments.balance_minor(booking) == 4000

    balance = payments.checkout_for_balance(booking, actor=booking.client, base_url=BASE_URL)
    assert (balance.kind, stripe_on.sessions[balance.checkout_id]["amount_total"]) == ("balance", 4000)
    deliver(paid(stripe_on, balance))
    assert status_of(balance) == PaymentStatus.PAID and payments.balance_minor(booking) == 0
    assert status_of(booking) == BookingStatus.FIRM_BOOKED

    services.cancel(booking=booking, actor=booking.client)
    settle()

    amounts = sorted(int(call.form["amount"]) for call in stripe_on.posts("/v1/refunds"))
    assert amounts == [2000, 4000]
    assert status_of(deposit) == status_of(balance) == PaymentStatus.REFUNDED
