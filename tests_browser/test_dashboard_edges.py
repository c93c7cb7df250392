"""Rough edges of the coach's and client's pages in Chromium: an approval updates every part
of the coach's dashboard at once; a day off over a booking shows that booking to keep or
cancel; publishing at 03:00 asks first; the client's cancelled sessions are apart."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import BookingStatus, Session
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from tests_browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")


def in_days(days: int, hour: int) -> dt.datetime:
    """``hour``:00 in Paris, ``days`` days from today there."""
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


def test_approving_updates_the_next_days_at_once(sign_in) -> None:
    coach = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
    asked = services.book_slot(
        client=ClientFactory(name="Nina York"),
        session_type=SessionTypeFactory(coach=coach, title="Intro call"),
        start=in_days(2, 10),
    )
    page = sign_in(coach.email, "Europe/Paris")
    page.goto("/coach/")
    week = page.get_by_test_id("week-agenda")
    expect(week).to_contain_text("Requested")

    page.locator(f"#request-{asked.pk}").get_by_test_id("approve-button").click()

    expect(page.get_by_test_id("row-notice")).to_contain_text("Request approved")
    # Long before the 10-second refresh: the answer itself brought the other parts along.
    expect(week).not_to_contain_text("Requested", timeout=3000)
    expect(week.get_by_test_id("booking-status")).to_have_text(["Confirmed"], timeout=3000)
    expect(page.get_by_test_id("requests-count")).to_have_text("0")


def test_a_day_off_over_a_booking_shows_it_to_keep_or_cancel(sign_in) -> None:
    coach = open_coach(timezone="Europe/Paris")
    start = in_days(2, 10)
    booked = services.book_slot(
        client=ClientFactory(name="Nina York"),
        session_type=SessionTypeFactory(coach=coach, title="Consultation"),
        start=start,
    )
    page = sign_in(coach.email, "Europe/Paris")
    page.goto(f"/coach/availability/?day={start.date().isoformat()}")
    panel = page.get_by_test_id("day-panel")
    expect(panel.get_by_role("radio", name="Day off")).to_be_checked()
    panel.get_by_role("button", name="Save this day").click()

    page.wait_for_url(re.compile(r"/coach/availability/outside-hours/\?sessions="))
    row = page.get_by_test_id("outside-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Consultation")
    expect(row).to_contain_text("Nina York")
    expect(page.get_by_test_id("outside-hours-intro")).to_contain_text("Your change is saved")

    row.get_by_test_id("cancel-toggle").click()
    row.get_by_test_id("cancel-reason").fill("I'm away that day, sorry")
    row.get_by_test_id("cancel-button").click()
    expect(page.get_by_test_id("outside-hours-empty")).to_be_visible()
    booked.refresh_from_db()
    assert booked.status == BookingStatus.CANCELLED


@pytest.mark.parametrize("viewport", [PHONE])
def test_publishing_at_three_in_the_morning_asks_first_on_a_phone(sign_in, viewport) -> None:
    coach = open_coach(timezone="Europe/Paris")
    yoga = GroupTypeFactory(coach=coach, title="Night yoga")
    page = sign_in(coach.email, "Europe/Paris", viewport)
    page.goto("/coach/")
    card = page.get_by_test_id("publish-session")
    card.locator("select[name=session_type]").select_option(str(yoga.pk))
    when = in_days(3, 3)
    card.locator("input[name=start_date]").fill(when.date().isoformat())
    card.locator("input[name=start_time]").fill("03:00")
    card.get_by_test_id("publish-button").click()

    warning = page.get_by_test_id("publish-warning")
    expect(warning).to_contain_text("03:00 is outside your working hours")
    assert not Session.objects.filter(session_type=yoga).exists()
    page.get_by_role("button", name="Publish anyway").click()
    expect(page.get_by_test_id("publish-notice")).to_contain_text("Night yoga published")
    assert Session.objects.get(session_type=yoga).start == when


def test_the_client_sees_cancelled_sessions_apart_from_past_ones(sign_in) -> None:
    coach = open_coach(timezone="Europe/Paris")
    client = ClientFactory(timezone="Europe/Paris")
    gone = services.book_slot(client=client, session_type=SessionTypeFactory(coach=coach), start=in_days(3, 10))
    services.cancel(booking=gone, actor=client, reason="Travelling")
    page = sign_in(client.email, "Europe/Paris")
    page.goto("/client/")
    expect(page.get_by_test_id("past-sessions").get_by_test_id("past-row")).to_have_count(0)
    cancelled = page.get_by_test_id("cancelled-sessions")
    expect(cancelled.get_by_test_id("cancelled-row")).to_be_hidden()  # a quiet, folded list
    cancelled.get_by_role("heading", name=re.compile("Cancelled and declined")).click()
    row = cancelled.locator(f"[data-reference='{gone.reference}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Cancelled")
