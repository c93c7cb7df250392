"""The coach's calendar in Chromium: found from the menu, moved through by week and month
with bookmarkable URLs, each item opening its booking (by mouse and by keyboard); on a
phone an agenda list without sideways scrolling; staff switch coaches. And the wizard's
calendar opens on the month of the first free day."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import ClientFactory, StaffFactory
from availability.services import add_time_off
from bookings import services
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from tests_browser.conftest import PHONE

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")


def next_week_at(hour: int) -> dt.datetime:
    """Ten o'clock (or ``hour``) in Paris, a week from today: always bookable, never today."""
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=7)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


@pytest.fixture
def practice():
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save()
    consult = SessionTypeFactory(coach=coach, title="Career consultation")
    circle = GroupTypeFactory(coach=coach, title="Leadership circle", capacity=6)
    sofia = ClientFactory(name="Sofia Marquez", timezone="Europe/Madrid")
    start = next_week_at(10)
    booking = services.book_slot(client=sofia, session_type=consult, start=start)
    session = services.publish_session(actor=coach, session_type=circle, start=next_week_at(14))
    services.take_seat(client=ClientFactory(name="Noah Fischer"), session=session)
    return {"coach": coach, "booking": booking, "start": start}


@pytest.mark.django_db(transaction=True)
def test_the_coach_moves_through_weeks_and_months_and_opens_a_booking(sign_in, practice) -> None:
    start, booking = practice["start"], practice["booking"]
    page = sign_in(practice["coach"].email, "Europe/Paris")
    page.get_by_test_id("nav-calendar").click()
    expect(page).to_have_url(re.compile(r"/coach/calendar/$"))
    expect(page.get_by_test_id("calendar-agenda")).to_be_hidden()

    # Next week holds the booking, at its Paris time, with a link to its page.
    page.get_by_test_id("cal-next").click()
    monday = start.date() - dt.timedelta(days=start.weekday())
    expect(page).to_have_url(re.compile(rf"/coach/calendar/week/{monday.isoformat()}/$"))
    day = page.locator(f"[data-testid=calendar-grid] [data-testid=cal-day][data-date='{start.date().isoformat()}']")
    entry = day.locator("[data-testid=cal-entry][data-kind=booking]")
    expect(entry).to_contain_text("10:00–11:00")
    expect(entry).to_contain_text("Sofia Marquez")
    expect(entry).to_contain_text("Booked")
    expect(day.locator("[data-kind=group]")).to_contain_text("1 of 6 seats taken")

    # The month view and back to today; each page is its own URL.
    page.get_by_test_id("view-month").click()
    expect(page).to_have_url(re.compile(rf"/coach/calendar/month/{monday:%Y-%m}/$"))
    expect(page.get_by_test_id("calendar-title")).to_have_text(f"{monday:%B %Y}")
    page.get_by_test_id("cal-next").click()
    expect(page.get_by_test_id("calendar-title")).not_to_have_text(f"{monday:%B %Y}")
    page.get_by_test_id("cal-today").click()
    today = timezone.now().astimezone(PARIS).date()
    expect(page).to_have_url(re.compile(rf"/coach/calendar/month/{today:%Y-%m}/$"))

    # A bookmarked week opens as it was; the keyboard reaches an item and opens it.
    page.goto(f"/coach/calendar/week/{start.date().isoformat()}/")
    link = page.locator(f"[data-testid=calendar-grid] a[href='/bookings/{booking.reference}/']")
    link.focus()
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/bookings/{booking.reference}/$"))


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_calendar_is_an_agenda_list(sign_in, practice) -> None:
    start, booking = practice["start"], practice["booking"]
    page = sign_in(practice["coach"].email, "Europe/Paris", PHONE)
    page.goto(f"/coach/calendar/week/{start.date().isoformat()}/")

    expect(page.get_by_test_id("calendar-grid")).to_be_hidden()
    agenda = page.get_by_test_id("calendar-agenda")
    expect(agenda).to_be_visible()
    expect(agenda.locator("h2").first).to_have_text(re.compile(rf"^{start:%A} {start.day} {start:%B}"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Items are comfortable to tap, and open their booking.
    entry = agenda.locator(f"a[href='/bookings/{booking.reference}/']")
    assert entry.bounding_box()["height"] >= 44
    entry.click()
    expect(page).to_have_url(re.compile(rf"/bookings/{booking.reference}/$"))

    page.goto("/coach/calendar/month/2026-02/")  # a month with nothing in it
    expect(page.get_by_test_id("calendar-empty")).to_contain_text("Nothing this month.")


@pytest.mark.django_db(transaction=True)
def test_staff_switch_between_coaches_and_read_the_coachs_zone(sign_in, practice) -> None:
    marcus = open_coach(timezone="America/New_York")
    marcus.name = "Marcus Bennett"
    marcus.save()
    staff = StaffFactory(timezone="Europe/London")
    page = sign_in(staff.email, "Europe/London")
    page.get_by_test_id("nav-calendar").click()

    page.locator("#cal-coach").select_option(str(practice["coach"].pk))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("calendar-zone")).to_contain_text("Times in Europe/Paris")
    expect(page.get_by_test_id("calendar-zone")).to_contain_text("yours is Europe/London (1 h behind)")
    page.get_by_test_id("cal-next").click()
    entry = page.locator("[data-testid=calendar-grid] [data-kind=booking]")
    expect(entry).to_contain_text("10:00–11:00")
    expect(entry).to_contain_text("09:00 for you")

    page.locator("#cal-coach").select_option(str(marcus.pk))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("calendar-zone")).to_contain_text("Marcus's time zone")


@pytest.mark.django_db(transaction=True)
def test_the_wizard_opens_on_the_month_of_the_first_free_day(sign_in) -> None:
    coach = open_coach(timezone="Europe/Paris", booking_window_days=90)
    consult = SessionTypeFactory(coach=coach, title="Career consultation")
    today = timezone.now().astimezone(PARIS).date()
    next_month = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    add_time_off(coach=coach, actor=coach, start_date=today, end_date=next_month + dt.timedelta(days=2))
    page = sign_in(ClientFactory(timezone="Europe/Paris").email, "Europe/Paris")

    page.goto(f"/book/{coach.pk}/{consult.pk}/")

    expect(page.get_by_test_id("calendar-month")).to_have_text(f"{next_month:%B %Y}")
    first_free = page.locator(".cal-day.free").first
    expect(first_free).to_have_attribute("data-date", (next_month + dt.timedelta(days=3)).isoformat())
    expect(page.get_by_test_id("skipped-month")).to_contain_text(f"nothing free in {today:%B}")
