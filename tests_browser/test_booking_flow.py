"""The booking core in Chromium: the whole wizard as a client in another zone (then the
client's dashboard and the coach's agenda), a request approved by the coach on the
dashboard (and a new request appearing there without a reload), a slot taken by someone
else between choosing and confirming, and the wizard on a phone."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory
from availability.selectors import free_slots
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach

pytestmark = pytest.mark.browser

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
UNAVAILABLE = "This time is no longer available. Select another."


def coach_in_new_york(**settings):
    coach = open_coach(timezone="America/New_York", minimum_notice_hours=2, **settings)
    coach.name = "Marcus Bennett"
    coach.save()
    consultation = SessionTypeFactory(coach=coach, title="Tutoring session", duration_minutes=60)
    return coach, consultation


def a_free_slot(coach, session_type, zone: ZoneInfo):
    """The first free slot on the viewer-local day after tomorrow (clear of the notice)."""
    day = timezone.now().astimezone(zone).date() + dt.timedelta(days=2)
    slots = free_slots(coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=zone)
    assert slots, "the coach is open every day 09–17 New York time"
    return day, slots[0]


def shot(page: Page, name: str) -> None:
    """Screenshots for people to look at, when BROWSER_TEST_SHOTS names a folder."""
    folder = os.environ.get("BROWSER_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def hm(instant: dt.datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


def open_day(page: Page, day: dt.date) -> None:
    """Click the day on the month calendar, moving to the next month if needed."""
    calendar = page.get_by_test_id("calendar")
    link = calendar.locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    if not link.count():
        page.get_by_role("link", name=re.compile(r"^Next month")).click()
        link = page.get_by_test_id("calendar").locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    link.click()
    expect(page.get_by_test_id("times")).to_contain_text(f"{day:%A} {day.day} {day:%B}")


@pytest.mark.django_db(transaction=True)
def test_a_client_in_kolkata_books_a_new_york_coach_through_the_wizard(sign_in) -> None:
    coach, consultation = coach_in_new_york()
    ClientFactory(email="kiran@example.com", name="Kiran Rao", timezone="Asia/Kolkata")
    day, slot = a_free_slot(coach, consultation, KOLKATA)

    page = sign_in("kiran@example.com", "Asia/Kolkata")
    page.goto("/book/")
    page.get_by_role("link", name="Book with Marcus Bennett").click()
    # One session type: straight to its calendar.
    expect(page.get_by_role("heading", name="Tutoring session", level=1)).to_be_visible()
    open_day(page, day)
    times = page.get_by_test_id("times")
    expect(times.get_by_test_id("times-timezone")).to_contain_text("Asia/Kolkata")
    first = times.get_by_test_id("time-slot").first
    expect(first).to_have_text(hm(slot.start, KOLKATA))
    shot(page, "1-times.png")
    first.click()
    page.locator("#continue").click()

    confirm = page.get_by_test_id("confirm-summary")
    expect(confirm).to_contain_text(f"{hm(slot.start, KOLKATA)}–{hm(slot.end, KOLKATA)}")
    expect(confirm).to_contain_text("Asia/Kolkata")
    page.locator("textarea[name=notes]").fill("Mechanics, chapter 3.")
    shot(page, "2-confirm.png")
    page.locator("#book-submit").click()

    done = page.get_by_test_id("booking-done")
    expect(done).to_contain_text("Session booked!")
    booking = Booking.objects.get(client__email="kiran@example.com")
    assert booking.status == BookingStatus.FIRM_BOOKED and booking.session.start == slot.start
    assert booking.client_notes == "Mechanics, chapter 3."
    expect(page.get_by_test_id("booking-reference")).to_have_text(booking.reference)
    shot(page, "3-done.png")

    page.locator("#back-to-dashboard").click()
    upcoming = page.get_by_test_id("upcoming-sessions")
    expect(upcoming).to_contain_text("Tutoring session")
    expect(upcoming).to_contain_text(hm(slot.start, KOLKATA))

    coach_page = sign_in(coach.email, "America/New_York")
    coach_page.goto("/dashboard/")
    week = coach_page.get_by_test_id("week-agenda")
    expect(week).to_contain_text("Kiran Rao")
    expect(week).to_contain_text(hm(slot.start, NEW_YORK))
    shot(coach_page, "4-coach-agenda.png")


@pytest.mark.django_db(transaction=True)
def test_a_request_approved_by_the_coach_and_a_new_one_appearing_live(sign_in) -> None:
    coach, consultation = coach_in_new_york(require_approval_unconnected=True)
    ClientFactory(email="kiran@example.com", name="Kiran Rao", timezone="Asia/Kolkata")
    day, slot = a_free_slot(coach, consultation, KOLKATA)

    page = sign_in("kiran@example.com", "Asia/Kolkata")
    page.goto(f"/book/{coach.pk}/{consultation.pk}/")
    open_day(page, day)
    page.get_by_test_id("times").get_by_test_id("time-slot").first.click()
    page.locator("#continue").click()
    expect(page.get_by_test_id("confirm")).to_contain_text("This will be a request")
    page.locator("#book-submit").click()
    expect(page.get_by_test_id("booking-done")).to_contain_text("Request sent")
    booking = Booking.objects.get(client__email="kiran@example.com")
    assert booking.status == BookingStatus.REQUESTED

    coach_page = sign_in(coach.email, "America/New_York")
    coach_page.goto("/dashboard/")
    queue = coach_page.get_by_test_id("requests-queue")
    row = queue.locator(f"#request-{booking.pk}")
    expect(row).to_contain_text("Kiran Rao")
    shot(coach_page, "5-requests.png")
    row.locator(f"#approve-{booking.pk}").click()
    expect(queue.locator(f"#request-{booking.pk}")).to_contain_text(re.compile("approved|Confirmed", re.I))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED

    page.goto(f"/bookings/{booking.reference}/")
    expect(page.get_by_test_id("booking-status")).to_contain_text("Confirmed")
    history = page.get_by_test_id("booking-history")
    expect(history).to_contain_text("Marcus Bennett")
    expect(history.get_by_test_id("history-row")).to_have_count(2)
    shot(page, "6-detail.png")

    # A request made elsewhere shows up on the open dashboard without a reload.
    other = ClientFactory(email="ana@example.com", name="Ana Lima", timezone="America/Sao_Paulo")
    later = services.book_slot(client=other, session_type=consultation, start=slot.start + dt.timedelta(hours=2))
    assert later.status == BookingStatus.REQUESTED
    expect(coach_page.get_by_test_id("requests-queue")).to_contain_text("Ana Lima", timeout=20_000)


@pytest.mark.django_db(transaction=True)
def test_a_slot_taken_between_choosing_and_confirming(sign_in) -> None:
    coach, consultation = coach_in_new_york()
    ClientFactory(email="kiran@example.com", name="Kiran Rao", timezone="Asia/Kolkata")
    day, slot = a_free_slot(coach, consultation, KOLKATA)

    page = sign_in("kiran@example.com", "Asia/Kolkata")
    page.goto(f"/book/{coach.pk}/{consultation.pk}/")
    open_day(page, day)
    page.get_by_test_id("times").get_by_test_id("time-slot").first.click()
    page.locator("#continue").click()
    expect(page.locator("#book-submit")).to_be_visible()

    services.book_slot(client=ClientFactory(), session_type=consultation, start=slot.start)
    page.locator("#book-submit").click()

    expect(page.get_by_text(UNAVAILABLE)).to_be_visible()
    taken = hm(slot.start, KOLKATA)
    expect(page.get_by_test_id("times").get_by_test_id("time-slot").first).not_to_have_text(taken)
    assert not Booking.objects.filter(client__email="kiran@example.com").exists()
    shot(page, "7-taken.png")


@pytest.mark.django_db(transaction=True)
def test_the_wizard_and_the_booking_page_fit_a_phone(sign_in) -> None:
    coach, consultation = coach_in_new_york()
    ClientFactory(email="kiran@example.com", name="Kiran Rao", timezone="Asia/Kolkata")
    day, _ = a_free_slot(coach, consultation, KOLKATA)
    page = sign_in("kiran@example.com", "Asia/Kolkata", viewport={"width": 375, "height": 812})

    def fits() -> None:
        width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"scrollWidth {width} > innerWidth {inner} on {page.url}"

    page.goto(f"/book/{coach.pk}/{consultation.pk}/?date={day.isoformat()}")
    fits()
    page.get_by_test_id("times").get_by_test_id("time-slot").first.click()
    page.locator("#continue").click()
    expect(page.locator("#book-submit")).to_be_in_viewport()
    fits()
    # Tabbing from the notes to the reminders box brings it into view above the sticky bar.
    page.locator("textarea[name=notes]").focus()
    page.keyboard.press("Tab")
    reminders = page.locator("input[name=reminders]")
    expect(reminders).to_be_focused()
    box, bar = reminders.bounding_box(), page.locator(".sticky-action").bounding_box()
    assert box["y"] + box["height"] <= bar["y"], (box, bar)
    shot(page, "8-phone-confirm.png")
    page.locator("#book-submit").click()
    expect(page.get_by_test_id("booking-done")).to_be_visible()
    fits()
    page.locator("#booking-detail-link").click()
    expect(page.get_by_test_id("booking-detail")).to_be_visible()
    fits()
    shot(page, "9-phone-detail.png")
