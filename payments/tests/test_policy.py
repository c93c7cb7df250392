"""The refund rule, and the booking keeping the policy of the day it was made."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from payments.policy import RefundCase, refund_due


@pytest.mark.parametrize(
    ("case", "due"),
    [
        (RefundCase(paid_minor=9000), 9000),  # a timely cancellation
        (RefundCase(paid_minor=9000, by_client=False, late=True), 9000),  # the coach cancels late: all of it
        (RefundCase(paid_minor=9000, late=True), 0),  # late, the type promises nothing
        (RefundCase(paid_minor=9000, late=True, late_percent=50), 4500),
        (RefundCase(paid_minor=999, late=True, late_percent=50), 499),  # rounded down, never above the policy
        (RefundCase(paid_minor=9000, refunded_minor=2000), 7000),  # what came back already is taken off
        (RefundCase(paid_minor=9000, refunded_minor=9500), 0),  # never negative
        (RefundCase(paid_minor=0), 0),
    ],
)
def test_refund_due(case, due):
    assert refund_due(case) == due


def test_nonsense_is_refused():
    with pytest.raises(ValueError):
        refund_due(RefundCase(paid_minor=100, late=True, late_percent=101))
    with pytest.raises(ValueError):
        refund_due(RefundCase(paid_minor=-1))


@pytest.mark.django_db
def test_a_booking_keeps_the_late_refund_its_type_promised_when_it_was_made():
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach, late_cancellation_refund_percent=40)
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=3)
    start = start.replace(hour=9)
    booking = services.book_slot(client=ClientFactory(), session_type=session_type, start=start)
    session_type.late_cancellation_refund_percent = 0
    session_type.save()
    booking.refresh_from_db()
    assert booking.late_refund_percent == 40
