"""Why a booking will be a request: the rule (``BookingRules.request_reasons``, of which
``is_firm`` is the empty case) and the wizard's confirm step, which says why in plain words
and what happens next (the coach answers within the request expiry, or before the start)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from accounts.tests.factories import ClientFactory, ConnectionFactory
from availability import rules as booking_rules
from availability.rules import rules_for
from bookings.services import REQUEST_EXPIRY
from bookings.tests.factories import SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)  # 07:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize(
    ("profile", "approval", "connected", "hours_ahead", "expected"),
    [
        ({"firm_booking_threshold_hours": 24}, "coach", True, 48, ()),
        ({"firm_booking_threshold_hours": 24}, "coach", True, 5, (booking_rules.TOO_SOON,)),
        ({"require_approval_unconnected": True}, "coach", False, 48, (booking_rules.NOT_CONNECTED,)),
        (
            {"require_approval_unconnected": True, "firm_booking_threshold_hours": 24},
            "coach",
            False,
            5,
            (booking_rules.NOT_CONNECTED, booking_rules.TOO_SOON),
        ),
        ({"allow_firm_booking": False}, "coach", True, 48, (booking_rules.COACH_APPROVES_ALL,)),
        ({}, "always", True, 48, (booking_rules.TYPE_NEEDS_APPROVAL,)),
        ({"allow_firm_booking": False, "require_approval_unconnected": True}, "never", False, 1, ()),
    ],
)
def test_the_reasons_for_a_request_are_exactly_what_makes_it_not_firm(
    profile, approval, connected, hours_ahead, expected
) -> None:
    coach = open_coach(timezone="Europe/Paris", **profile)
    st = SessionTypeFactory(coach=coach, approval=approval)
    found = rules_for(coach.coach_profile, st)
    start = NOW + dt.timedelta(hours=hours_ahead)

    assert found.request_reasons(start=start, now=NOW, connected=connected) == expected
    assert found.is_firm(start=start, now=NOW, connected=connected) is (expected == ())


def confirm_page(coach, st, client, start: dt.datetime) -> str:
    http = Client()
    http.force_login(client)
    url = reverse("book_confirm", args=[coach.pk, st.pk])
    response = http.get(f"{url}?{urlencode({'start': start.strftime('%Y-%m-%dT%H:%M:%SZ')})}")
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_new_client_is_told_they_are_not_connected_yet_and_when_the_coach_answers() -> None:
    coach = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
    coach.name = "Camille Laurent"
    coach.save()
    st = SessionTypeFactory(coach=coach)
    client = ClientFactory(timezone="Europe/Paris")
    start = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)  # 10:00 in Paris, 3 days ahead

    page = confirm_page(coach, st, client, start)

    assert "This will be a request:" in page
    assert "You&#x27;re not connected with Camille Laurent yet: bookings from new clients need approval." in page
    # 24 hours from now (07:00 Paris), well before the session: the expiry decides.
    assert dt.timedelta(hours=24) == REQUEST_EXPIRY
    assert "Camille Laurent answers within 24 hours, by Wed 2 Dec, 07:00." in page
    assert "Send request" in page


def test_a_session_too_close_to_its_start_says_so_and_the_answer_is_due_by_the_start() -> None:
    coach = open_coach(timezone="Europe/Paris", firm_booking_threshold_hours=24)
    st = SessionTypeFactory(coach=coach)
    client = ClientFactory(timezone="Europe/Paris")
    ConnectionFactory(client=client, coach=coach, status="accepted")
    start = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # 13:00 in Paris, 6 hours ahead

    page = confirm_page(coach, st, client, start)

    assert "It starts in less than 24 hours: bookings this close to the start need approval." in page
    assert "not connected" not in page
    assert f"{coach.display_name} answers before the session starts (Tue 1 Dec, 13:00)." in page


def test_a_type_that_always_needs_approval_says_so_and_a_firm_booking_gives_no_reasons() -> None:
    coach = open_coach(timezone="Europe/Paris")
    always = SessionTypeFactory(coach=coach, approval="always")
    plain = SessionTypeFactory(coach=coach)
    client = ClientFactory(timezone="Europe/Paris")
    start = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)

    page = confirm_page(coach, always, client, start)
    assert f"This session type always needs {coach.display_name}&#x27;s approval." in page

    firm = confirm_page(coach, plain, client, start)
    assert "Booking is confirmed at once." in firm
    assert 'data-testid="request-reasons"' not in firm
