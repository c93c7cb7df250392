"""A booking held ``awaiting_payment`` holds its place like any booking: under real
concurrency exactly one hold is written for a slot; the held slot is not offered by the
slot engine nor bookable by another; its expiry frees it for the next client. A held seat
in a group counts against the capacity until its hold lapses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from accounts.tests.factories import ClientFactory
from availability.models import Allocation, AllocationKind
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.services.payment import expire_payment_holds
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from bookings.tests.test_concurrency import _codes, _day, run_together
from config.errors import DomainError

UTC = dt.UTC


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_HOLD_MINUTES = 15


def offered(session_type, day: dt.datetime) -> list[dt.datetime]:
    """The starts the public slots API offers for ``session_type`` on ``day`` (UTC)."""
    params = {"start": day.date().isoformat(), "end": day.date().isoformat(), "tz": "UTC"}
    response = Client().get(
        f"/api/v1/coaches/{session_type.coach_id}/slots", {**params, "session_type": session_type.pk}
    )
    assert response.status_code == 200, response.content[:300]
    return [dt.datetime.fromisoformat(slot["start"]).astimezone(UTC) for slot in response.json()["slots"]]


@pytest.mark.django_db(transaction=True)
def test_clients_racing_for_a_priced_slot_get_one_hold_which_frees_the_slot_when_it_lapses():
    session_type = SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR")
    start = _day()
    clients = [ClientFactory() for _ in range(4)]
    assert start in offered(session_type, start)

    results = run_together(
        [lambda c=c: services.book_slot(client=c, session_type=session_type, start=start) for c in clients]
    )

    assert _codes(results) == {"ok": 1, "slot_taken": 3}
    (hold,) = Booking.objects.all()
    assert hold.status == BookingStatus.AWAITING_PAYMENT and hold.expires_at is not None
    (allocation,) = Allocation.objects.filter(is_active=True)
    assert (allocation.session_id, allocation.kind) == (hold.session_id, AllocationKind.REQUEST)
    # Held: not offered, and nobody else can book it.
    assert start not in offered(session_type, start)
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=ClientFactory(), session_type=session_type, start=start)
    assert refused.value.code == "slot_taken"

    # Not yet lapsed: the expiry leaves it.
    assert expire_payment_holds(now=hold.expires_at - dt.timedelta(seconds=1)) == 0
    assert expire_payment_holds(now=hold.expires_at) == 1

    hold.refresh_from_db()
    assert hold.status == BookingStatus.CANCELLED
    assert not Allocation.objects.filter(is_active=True).exists()
    assert start in offered(session_type, start)
    again = services.book_slot(client=ClientFactory(), session_type=session_type, start=start)
    assert again.status == BookingStatus.AWAITING_PAYMENT


@pytest.mark.django_db
def test_a_held_seat_counts_against_the_capacity_until_its_hold_lapses():
    coach = open_coach()
    group = GroupTypeFactory(coach=coach, capacity=1, price=Decimal("20.00"), currency="EUR")
    session = services.publish_session(actor=coach, session_type=group, start=_day())

    held = services.take_seat(client=ClientFactory(), session=session)

    assert held.status == BookingStatus.AWAITING_PAYMENT
    session.refresh_from_db()
    assert session.seats_taken == 1
    with pytest.raises(DomainError) as refused:
        services.take_seat(client=ClientFactory(), session=session)
    assert refused.value.code == "full"
    assert expire_payment_holds(now=held.expires_at) == 1
    session.refresh_from_db()
    assert session.seats_taken == 0
    assert services.take_seat(client=ClientFactory(), session=session).status == BookingStatus.AWAITING_PAYMENT


@pytest.mark.django_db
def test_a_paid_hold_is_not_lapsed_by_the_expiry():
    from bookings.services.payment import payment_received

    session_type = SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR")
    hold = services.book_slot(client=ClientFactory(), session_type=session_type, start=_day())
    deadline = hold.expires_at
    assert payment_received(booking=hold) is True

    assert expire_payment_holds(now=deadline + dt.timedelta(hours=1)) == 0
    hold.refresh_from_db()
    assert hold.status == BookingStatus.FIRM_BOOKED and hold.expires_at is None
    assert Allocation.objects.get(session=hold.session).kind == AllocationKind.SESSION
    # Paid twice (a second checkout): the second changes nothing; the caller refunds it.
    assert payment_received(booking=hold) is False
