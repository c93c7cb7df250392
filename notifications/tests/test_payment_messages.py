"""Payment messages made from the booking event stream: a hold tells nobody; its payment tells
what a booking tells, with the client's receipt (amount, what, when, reference, refund
policy, or one credit); the time to pay running out is told to the client; each once,
however often the events are replayed. And ``tell``: a payment message once per key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from accounts.tests.factories import ClientFactory, StaffFactory
from availability.rules import ApprovalPolicy
from bookings import relay, services
from bookings.models import BookingEvent, BookingStatus
from bookings.services.payment import expire_payment_holds, payment_lapsed, payment_received
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from notifications import delivery, messages
from notifications.models import Channel, Kind, Notification
from notifications.services import on_booking_events, tell

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PAYMENT_KINDS = (
    Kind.PAYMENT_RECEIVED,
    Kind.PAYMENT_FAILED,
    Kind.PAYMENT_EXPIRED,
    Kind.PAYMENT_REFUNDED,
    Kind.PAYMENT_DUE,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.RELAY_WAKE = False  # the tests run the relay themselves
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15
    settings.NOTIFICATION_METHOD = "email"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def priced(**fields):
    fields.setdefault("coach", open_coach())
    return SessionTypeFactory(price=Decimal("60.00"), currency="EUR", **fields)


def kinds_of(person) -> list[str]:
    return sorted(Notification.objects.filter(recipient=person).values_list("kind", flat=True))


def receipt_of(person) -> Notification:
    return Notification.objects.get(recipient=person, kind=Kind.PAYMENT_RECEIVED)


def emails_to(person, subject_start: str) -> list:
    delivery.send_deliveries()
    return [m for m in mail.outbox if m.to == [person.email] and m.subject.startswith(subject_start)]


def test_a_hold_tells_nobody_then_its_payment_tells_the_booking_with_the_clients_receipt(frozen):
    session_type = priced()
    coach, staff, client = session_type.coach, StaffFactory(), ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    relay.relay_pending()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert Notification.objects.count() == 0  # held_for_payment: not booked yet

    assert payment_received(booking=booking, method="gateway")
    relay.relay_pending()
    assert kinds_of(client) == [Kind.BOOKING_CREATED, Kind.PAYMENT_RECEIVED]
    assert kinds_of(coach) == [Kind.BOOKING_CREATED]
    assert kinds_of(staff) == [Kind.BOOKING_CREATED]
    receipt = receipt_of(client)
    assert receipt.title == f"Receipt: {session_type.title} with {coach.display_name}"
    assert "60.00 EUR paid." in receipt.body and booking.reference in receipt.body

    # Replayed events make nothing twice.
    made = Notification.objects.count()
    on_booking_events(list(BookingEvent.objects.filter(booking=booking)))
    assert Notification.objects.count() == made


def test_the_receipt_email_has_the_amount_what_when_reference_and_refund_policy(frozen):
    session_type = priced(cancellation_notice_hours=24, late_cancellation_refund_percent=50)
    client = ClientFactory(timezone="America/New_York")
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    payment_received(booking=booking, method="gateway")
    relay.relay_pending()

    [email] = emails_to(client, "Receipt:")
    assert "Thank you for your payment of 60.00 EUR." in email.body
    assert session_type.title in email.body
    assert "Thu 3 Dec 2026, 04:00 (America/New_York)" in email.body  # the client's zone
    assert f"Reference: {booking.reference}" in email.body
    assert "Cancel at least 24 hours before the session for a full refund; later, 50% is refunded." in email.body
    assert "60.00 EUR" in email.alternatives[0][0]


def test_without_a_late_share_the_policy_says_nothing_comes_back_late(frozen):
    session_type = priced(cancellation_notice_hours=48, late_cancellation_refund_percent=0)
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    payment_received(booking=booking, method="gateway")
    relay.relay_pending()
    [email] = emails_to(client, "Receipt:")
    assert "Cancel at least 48 hours before the session for a full refund; later, nothing is refunded." in email.body


def test_a_paid_request_reaches_the_coach_as_a_request_and_the_receipt_says_authorised(frozen):
    session_type = priced(approval=ApprovalPolicy.ALWAYS)
    coach, client = session_type.coach, ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    assert booking.status_after_payment == BookingStatus.REQUESTED
    payment_received(booking=booking, method="gateway")
    relay.relay_pending()
    assert kinds_of(coach) == [Kind.REQUEST_RECEIVED]
    assert kinds_of(client) == [Kind.BOOKING_CREATED, Kind.PAYMENT_RECEIVED]
    receipt = receipt_of(client)
    assert receipt.title.startswith("Card authorised:")
    assert "60.00 EUR authorised, taken on approval." in receipt.body
    [email] = emails_to(client, "Card authorised:")
    assert f"60.00 EUR is reserved on your card and taken when {coach.display_name} confirms" in email.body


def test_a_booking_paid_with_a_credit_gets_a_receipt_saying_so(frozen):
    session_type = priced(cancellation_notice_hours=24)
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START, hold_for_payment=True)
    payment_received(booking=booking, method="credits")
    relay.relay_pending()
    receipt = receipt_of(client)
    assert receipt.title == f"Booked with 1 credit: {session_type.title}"
    assert "Paid with 1 credit." in receipt.body and "EUR" not in receipt.body
    [email] = emails_to(client, "Booked with 1 credit")
    assert "This session is paid with 1 credit." in email.body
    assert "Cancel at least 24 hours before the session and the credit comes back." in email.body


def test_a_deposit_receipt_tells_the_balance_and_when_it_is_due(frozen):
    coach = open_coach()
    workshop = GroupTypeFactory(
        coach=coach, price=Decimal("100.00"), currency="EUR", deposit=Decimal("20.00"), balance_due_days=3
    )
    session = services.publish_session(actor=coach, session_type=workshop, start=START + dt.timedelta(days=14))
    client = ClientFactory(timezone="Europe/Paris")
    seat = services.take_seat(client=client, session=session)
    assert seat.status == BookingStatus.AWAITING_PAYMENT and seat.deposit == Decimal("20.00")
    payment_received(booking=seat, method="gateway")
    relay.relay_pending()
    seat.refresh_from_db()
    due = messages.local_when(seat.balance_due_at, "Europe/Paris")
    receipt = receipt_of(client)
    assert "20.00 EUR paid." in receipt.body and f"80.00 EUR due by {due}." in receipt.body
    [email] = emails_to(client, "Receipt:")
    assert f"The balance of 80.00 EUR is due by {due}." in email.body


def test_the_time_to_pay_running_out_is_told_to_the_client_once_and_giving_up_to_nobody(frozen):
    session_type = priced()
    coach, client = session_type.coach, ClientFactory()
    lapsing = services.book_slot(client=client, session_type=session_type, start=START)
    abandoned = services.book_slot(client=client, session_type=session_type, start=START + dt.timedelta(hours=2))
    assert payment_lapsed(booking=abandoned, actor=client)
    frozen.shift(dt.timedelta(minutes=16))
    assert expire_payment_holds() == 1
    relay.relay_pending()
    assert kinds_of(client) == [Kind.PAYMENT_EXPIRED]
    assert Notification.objects.get(recipient=client).booking_id == lapsing.pk
    assert kinds_of(coach) == []
    [email] = emails_to(client, "Time to pay ran out")
    assert "The time to pay ran out; the slot was released." in email.body and lapsing.reference in email.body

    on_booking_events(list(BookingEvent.objects.all()))
    assert Notification.objects.filter(kind=Kind.PAYMENT_EXPIRED).count() == 1


def test_tell_makes_a_message_once_per_key_even_without_a_booking():
    client = ClientFactory(name="Cleo Martin")
    extra = {"purchase": "package", "item": "Five sessions", "amount": "45.00 EUR", "credits_added": "5"}
    note = tell(client, Kind.PAYMENT_RECEIVED, key="payment:1", extra={**extra, "reference": "#1"})
    assert note is not None and note.booking is None
    assert note.title == "Receipt: Five sessions"
    assert note.body == "45.00 EUR: 5 credits added.\n#1"
    assert tell(client, Kind.PAYMENT_RECEIVED, key="payment:1", extra=extra) is None
    assert Notification.objects.filter(recipient=client).count() == 1

    [email] = emails_to(client, "Receipt: Five sessions")
    assert "Thank you for your payment of 45.00 EUR: 5 credits were added to your account." in email.body
    assert "Reference: #1" in email.body


def test_the_database_refuses_a_second_message_with_the_same_key():
    client = ClientFactory()
    Notification.objects.create(recipient=client, kind=Kind.PAYMENT_REFUNDED, title="Refunded", key="refund:7")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=client, kind=Kind.PAYMENT_REFUNDED, title="Refunded", key="refund:7")
    # Another kind, or no key at all, is another message.
    Notification.objects.create(recipient=client, kind=Kind.PAYMENT_FAILED, title="Failed", key="refund:7")
    Notification.objects.create(recipient=client, kind=Kind.PAYMENT_REFUNDED, title="Refunded")
    Notification.objects.create(recipient=client, kind=Kind.PAYMENT_REFUNDED, title="Refunded")


@pytest.mark.parametrize("kind", PAYMENT_KINDS)
@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS, Channel.IN_APP])
def test_every_payment_kind_has_built_in_wording_on_every_channel(kind, channel):
    words = messages.render(kind, channel, messages.sample_context())
    assert words.subject and words.text
    assert "{{" not in words.text and "{%" not in words.text
    if channel == Channel.SMS:
        assert len(words.text) <= 320  # short: two SMS at most
