import datetime as dt

import pytest
import time_machine

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Allocation, BookingStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import DomainError

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_book_approve_cancel_reschedule():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    start = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 Paris
    booking = services.book_slot(client=client, session_type=st, start=start)
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert booking.reference.startswith("BK-2026-")
    other = ClientFactory()
    with pytest.raises(DomainError) as exc:
        services.book_slot(client=other, session_type=st, start=start)
    assert exc.value.code == "slot_taken"
    moved = services.reschedule(booking=booking, actor=client, start=start + dt.timedelta(hours=2))
    assert moved.rescheduled_from.start == start
    again = services.book_slot(client=other, session_type=st, start=start)
    assert again.status == BookingStatus.FIRM_BOOKED
    services.cancel(booking=moved, actor=client)
    assert Allocation.objects.filter(is_active=True).count() == 1
    assert [e.action for e in moved.events.all()] == ["booked", "rescheduled", "cancelled"]


@pytest.mark.django_db
def test_request_and_group():
    coach = open_coach(require_approval_unconnected=True)
    st = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    start = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    booking = services.book_slot(client=client, session_type=st, start=start)
    assert booking.status == BookingStatus.REQUESTED
    services.approve(booking=booking, actor=coach)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    group = GroupTypeFactory(coach=coach, capacity=2)
    session = services.publish_session(actor=coach, session_type=group, start=start + dt.timedelta(hours=3))
    services.take_seat(client=client, session=session)
    services.take_seat(client=ClientFactory(), session=session)
    with pytest.raises(DomainError) as exc:
        services.take_seat(client=ClientFactory(), session=session)
    assert exc.value.code == "full"
