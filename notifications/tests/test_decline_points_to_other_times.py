"""The email telling a client their request was declined points to the booking's page,
where free times to book instead (their usual ones among them) are offered."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications.messages import booking_context, render
from notifications.models import Kind

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 30, 6, 0, tzinfo=dt.UTC)


def test_the_decline_email_links_to_the_page_with_other_times() -> None:
    with time_machine.travel(NOW, tick=False):
        coach = open_coach(timezone="Europe/Paris", allow_firm_booking=False)
        client = ClientFactory(timezone="Europe/Paris")
        request = services.book_slot(
            client=client, session_type=SessionTypeFactory(coach=coach), start=NOW + dt.timedelta(days=2, hours=4)
        )
        declined = services.decline(booking=request, actor=coach, reason="I'm away that week.")
        email = render(Kind.DECLINED, "email", booking_context(declined, client, reason=declined.decline_reason))
    assert "Other free times, your usual ones among them, are on the booking's page: " in email.text
    assert f"/bookings/{declined.reference}/" in email.text.split("booking's page: ", 1)[1]
