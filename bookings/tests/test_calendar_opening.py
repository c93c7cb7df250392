"""The wizard's and the reschedule page's month calendar open on the month of the first
free day, not on an empty current month; a month asked for (or a day chosen) is kept."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory
from availability import selectors
from availability.services import add_time_off, apply_default_pattern
from bookings import services, views
from bookings.tests.factories import SessionTypeFactory

# Monday 2 March 2026, 09:00 UTC.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(db):
    """A Paris coach on the default pattern (weekdays), away for the rest of March."""
    coach = CoachFactory(email="away@example.com", timezone="Europe/Paris")
    profile = coach.coach_profile
    profile.booking_window_days = 90
    profile.minimum_notice_hours = 0
    profile.require_approval_unconnected = False
    profile.firm_booking_threshold_hours = 0
    profile.save()
    apply_default_pattern(coach=coach, actor=coach)
    return coach


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, title="Consultation", duration_minutes=60)


@pytest.fixture
def paris_client(db):
    http = Client()
    http.force_login(ClientFactory(email="paul@example.com", timezone="Europe/Paris"))
    return http


def shown_month(body: str) -> str:
    return re.search(r'data-testid="calendar-month">([^<]+)<', body).group(1)


def free_days(body: str) -> list[str]:
    return re.findall(r'data-date="([\d-]+)" data-free="\d+"', body)


def test_an_empty_current_month_opens_on_the_month_of_the_first_free_day(coach, consult, paris_client) -> None:
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 4, 7))
    url = reverse("book_type", args=[coach.pk, consult.pk])

    body = paris_client.get(url).content.decode()

    assert shown_month(body) == "April 2026"
    assert free_days(body)[0] == "2026-04-08"
    assert re.search(r'data-testid="next-free-day">First free day: Wednesday 8 April</a>', body)
    assert "nothing free in March" in body
    # March is still one click back.
    assert f'href="{url}?month=2026-03#calendar"' in body


def test_a_current_month_with_free_days_stays(coach, consult, paris_client) -> None:
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 3, 27))
    body = paris_client.get(reverse("book_type", args=[coach.pk, consult.pk])).content.decode()
    assert shown_month(body) == "March 2026"
    assert free_days(body) == ["2026-03-30", "2026-03-31"]
    assert "nothing free in" not in body


@pytest.mark.parametrize("query", ["month=2026-03", "date=2026-03-10"])
def test_a_month_or_a_day_asked_for_is_kept(coach, consult, paris_client, query) -> None:
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 4, 7))
    body = paris_client.get(f"{reverse('book_type', args=[coach.pk, consult.pk])}?{query}").content.decode()
    assert shown_month(body) == "March 2026"
    assert free_days(body) == []


def test_nothing_free_at_all_stays_on_the_current_month(coach, consult, paris_client) -> None:
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 6, 30))
    body = paris_client.get(reverse("book_type", args=[coach.pk, consult.pk])).content.decode()
    assert shown_month(body) == "March 2026"
    assert "No free times in March" in body


def test_opening_on_a_later_month_costs_a_bounded_number_of_slot_reads(coach, consult, paris_client) -> None:
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 4, 7))
    with mock.patch.object(views, "free_slots", wraps=selectors.free_slots) as spy:
        response = paris_client.get(reverse("book_type", args=[coach.pk, consult.pk]))
    assert response.status_code == 200
    # March (empty), the look ahead from April, then April's slots.
    assert spy.call_count == 3
    assert spy.call_args.kwargs["start_date"] == dt.date(2026, 4, 1)
    assert spy.call_args.kwargs["end_date"] == dt.date(2026, 4, 30)


def test_the_reschedule_calendar_opens_on_the_month_of_the_first_free_day(coach, consult) -> None:
    client = ClientFactory(email="rita@example.com", timezone="Europe/Paris")
    booking = services.book_slot(client=client, session_type=consult, start=dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC))
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 4), end_date=dt.date(2026, 4, 14))
    # Only today and tomorrow are left in March: take them so nothing else is free.
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 3, 3))
    http = Client()
    http.force_login(client)

    body = http.get(reverse("booking_reschedule", args=[booking.reference])).content.decode()

    assert shown_month(body) == "April 2026"
    assert free_days(body)[0] == "2026-04-15"
