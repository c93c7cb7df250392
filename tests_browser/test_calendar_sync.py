"""A coach connects their own calendar in Chromium: the calendar's address (served on
127.0.0.1 as Google serves a secret address) on the connected calendars page, which then
shows when it was read; the client's booking wizard then shows the event's hour as taken
and the hours around it as free."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import SessionTypeFactory, open_coach
from calendar_sync.tests.fake_calendar import FakeCalendars, calendar, event
from tests_browser.conftest import DESKTOP, PHONE
from tests_browser.test_booking_flow import open_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")


def shot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("BROWSER_TEST_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


@pytest.fixture
def calendars(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True  # the calendar is served on 127.0.0.1
    fake = FakeCalendars()
    yield fake
    fake.stop()


def test_a_coach_connects_a_calendar_and_its_event_is_taken_in_the_wizard(sign_in, calendars, tmp_path) -> None:
    coach = open_coach(timezone="Europe/Paris", hours=(9, 17))
    coach.name = "Camille Laurent"
    coach.save()
    SessionTypeFactory(coach=coach, title="Consultation", duration_minutes=60)
    ClientFactory(email="ana@example.com", name="Ana Silva", timezone="Europe/Paris")
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=3)
    url = calendars.put(
        "/calendar/secret-2f9a7c/basic.ics",
        calendar(event("dentist@example.com", f"DTSTART;TZID=Europe/Paris:{day:%Y%m%d}T110000", "DURATION:PT1H")),
    )

    page = sign_in(coach.email, "Europe/Paris", DESKTOP)
    page.goto("/coach/availability/")
    page.get_by_test_id("connected-calendars-link").click()
    expect(page.get_by_role("heading", name="Connected calendars", level=1)).to_be_visible()
    expect(page.get_by_test_id("no-calendars")).to_be_visible()
    form = page.get_by_test_id("calendar-connect")
    form.get_by_label("Name").fill("Personal")
    form.get_by_label("Calendar address").fill(url)
    form.get_by_role("button", name="Connect").click()
    expect(page.locator(".flash-success")).to_contain_text("“Personal” is connected")
    connection = page.get_by_test_id("calendar-connection")
    expect(connection).to_contain_text("Personal")
    expect(connection.get_by_test_id("calendar-status")).to_have_text("Read just now: 1 busy time in the coming year.")
    expect(connection).not_to_contain_text("secret-2f9a7c")
    shot(page, tmp_path, "calendar-connected.png")

    client = sign_in("ana@example.com", "Europe/Paris", PHONE)
    client.goto("/book/")
    client.get_by_role("link", name="Book with Camille Laurent").click()
    open_day(client, day)
    times = client.get_by_test_id("times").get_by_test_id("time-slot")
    shown = times.all_inner_texts()
    assert "11:00" not in shown, shown
    assert {"10:00", "12:00"} <= set(shown), shown
    shot(client, tmp_path, "calendar-busy-in-wizard.png")

    # "Read now" says so and keeps the busy time.
    page.get_by_test_id("calendar-sync-now").click()
    expect(page.locator(".flash-success")).to_contain_text("“Personal” read: 1 busy time.")
