"""Notifications in Chromium: the bell counting a booking made elsewhere without a reload,
the list and marking read, opening a notification on its booking, the add-to-calendar
links and .ics download, the booking email as a mail app shows it, and all of it on a phone."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Browser, Locator, Page, expect

from accounts.tests.factories import ClientFactory
from availability.selectors import free_slots
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
# A meeting link as video services really hand them out: long, with no place to break.
MEETING_LINK = "https://us02web.zoom.us/j/85212345678?pwd=bWVldGluZy1saW5rLXRoYXQtaXMtbG9uZy1lbm91Z2g"
PHONE = {"width": 375, "height": 812}
BELL_POLL_WAIT_MS = 25_000  # the bell polls every 15 s


def shot(target: Page | Locator, name: str) -> None:
    """Screenshots for people to look at, when BROWSER_TEST_SHOTS names a folder."""
    folder = os.environ.get("BROWSER_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        path = str(Path(folder) / f"notif-{name}.png")
        if isinstance(target, Page):
            target.screenshot(path=path, full_page=True)
        else:
            target.screenshot(path=path)


def fits(page: Page) -> None:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"scrolls sideways: scrollWidth {width} > innerWidth {inner} on {page.url}"


def new_york_coach():
    coach = open_coach(timezone="America/New_York")
    coach.name = "Marcus Bennett"
    coach.save()
    tutoring = SessionTypeFactory(coach=coach, title="Tutoring session", meeting_link=MEETING_LINK)
    return coach, tutoring


def at_new_york(days_ahead: int, hour: int) -> dt.datetime:
    """``hour`` o'clock New York time, ``days_ahead`` days from today there (inside 09–17)."""
    day = timezone.now().astimezone(NEW_YORK).date() + dt.timedelta(days=days_ahead)
    return dt.datetime.combine(day, dt.time(hour), NEW_YORK).astimezone(UTC)


def test_the_bell_counts_a_booking_made_elsewhere_and_mark_all_read_clears_it(sign_in) -> None:
    coach, tutoring = new_york_coach()
    kiran = ClientFactory(name="Kiran Rao", timezone="Asia/Kolkata")
    ana = ClientFactory(name="Ana Lima", timezone="America/Sao_Paulo")
    services.book_slot(client=kiran, session_type=tutoring, start=at_new_york(2, 10))

    page = sign_in(coach.email, "America/New_York")
    page.goto("/dashboard/")
    bell = page.get_by_test_id("bell")
    expect(bell.get_by_test_id("bell-count")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")

    # Booked elsewhere: the open dashboard's bell counts it at its next poll, no reload.
    page.evaluate("window.__notReloaded = true")
    services.book_slot(client=ana, session_type=tutoring, start=at_new_york(2, 12))
    expect(bell.get_by_test_id("bell-count")).to_have_text("2", timeout=BELL_POLL_WAIT_MS)
    assert page.evaluate("window.__notReloaded === true")
    shot(page.locator("header.topbar"), "bell-header")

    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    items = page.get_by_test_id("notification")
    expect(items).to_have_count(2)
    # Newest first, with its title, unread.
    expect(items.first).to_contain_text("New booking: Tutoring session with Ana Lima")
    expect(items.first).to_have_class(re.compile(r"\bunread\b"))
    expect(items.nth(1)).to_contain_text("New booking: Tutoring session with Kiran Rao")
    expect(page.get_by_text("2 unread")).to_be_visible()
    shot(page, "list")

    page.get_by_test_id("read-all").click()
    expect(page.get_by_text("You're all caught up.")).to_be_visible()
    expect(page.get_by_test_id("notification").and_(page.locator(".unread"))).to_have_count(0)
    expect(page.get_by_test_id("bell")).to_be_visible()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    expect(page.get_by_test_id("read-all")).to_have_count(0)
    assert not Notification.objects.filter(recipient=coach, read_at__isnull=True).exists()
    shot(page, "list-all-read")


def test_opening_a_notification_marks_it_read_and_shows_the_booking(sign_in) -> None:
    _, tutoring = new_york_coach()
    kiran = ClientFactory(name="Kiran Rao", timezone="Asia/Kolkata")
    first = services.book_slot(client=kiran, session_type=tutoring, start=at_new_york(2, 10))
    second = services.book_slot(client=kiran, session_type=tutoring, start=at_new_york(3, 10))
    note = Notification.objects.get(recipient=kiran, booking=first)

    page = sign_in(kiran.email, "Asia/Kolkata")
    page.goto("/notifications/")
    expect(page.get_by_test_id("bell-count")).to_have_text("2")
    item = page.get_by_test_id("notification").filter(has_text=first.reference)
    expect(item).to_contain_text("Booked: Tutoring session with Marcus Bennett")
    item.get_by_role("button", name="Open booking").click()

    expect(page).to_have_url(re.compile(rf"/bookings/{first.reference}/$"))
    expect(page.get_by_test_id("booking-reference")).to_have_text(first.reference)
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    note.refresh_from_db()
    assert note.read_at is not None
    assert Notification.objects.get(recipient=kiran, booking=second).read_at is None

    page.goto("/notifications/")
    expect(page.get_by_test_id("notification").filter(has_text=first.reference)).not_to_have_class(
        re.compile(r"\bunread\b")
    )
    expect(page.get_by_test_id("notification").filter(has_text=second.reference)).to_have_class(
        re.compile(r"\bunread\b")
    )


def test_add_to_calendar_links_carry_utc_times_and_the_ics_download_parses(sign_in) -> None:
    coach, tutoring = new_york_coach()
    ClientFactory(email="kiran@example.com", name="Kiran Rao", timezone="Asia/Kolkata")
    day = timezone.now().astimezone(KOLKATA).date() + dt.timedelta(days=2)
    [slot, *_] = free_slots(coach=coach, session_type=tutoring, start_date=day, end_date=day, viewer_tz=KOLKATA)
    start = slot.start
    page = sign_in("kiran@example.com", "Asia/Kolkata")

    # Through the wizard: the confirmation screen offers the calendars.
    page.goto(f"/book/{coach.pk}/{tutoring.pk}/?date={day.isoformat()}")
    first = page.get_by_test_id("times").get_by_test_id("time-slot").first
    expect(first).to_have_text(f"{start.astimezone(KOLKATA):%H:%M}")
    first.click()
    page.locator("#continue").click()
    page.locator("#book-submit").click()
    expect(page.get_by_test_id("booking-done")).to_contain_text("Session booked!")
    booking = Booking.objects.select_related("session").get(client__email="kiran@example.com")
    assert booking.status == BookingStatus.FIRM_BOOKED and booking.session.start == start
    end = booking.session.end

    block = page.get_by_test_id("booking-done").get_by_test_id("add-to-calendar")
    expect(block).to_contain_text("Add to your calendar")
    shot(block, "add-to-calendar")

    google = urlsplit(block.get_by_test_id("add-to-google").get_attribute("href"))
    assert (google.scheme, google.netloc, google.path) == ("https", "calendar.google.com", "/calendar/render")
    query = parse_qs(google.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == [f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"]
    assert "Tutoring session" in query["text"][0] and "Marcus Bennett" in query["text"][0]
    assert booking.reference in query["details"][0]

    outlook = urlsplit(block.get_by_test_id("add-to-outlook").get_attribute("href"))
    assert outlook.netloc == "outlook.live.com"
    query = parse_qs(outlook.query)
    assert query["startdt"] == [f"{start:%Y-%m-%dT%H:%M:%SZ}"]
    assert query["enddt"] == [f"{end:%Y-%m-%dT%H:%M:%SZ}"]
    assert "Tutoring session" in query["subject"][0]

    download = block.get_by_test_id("download-ics")
    expect(download).to_have_attribute("download", f"{booking.reference}.ics")
    response = page.request.get(download.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(response.body()).walk("VEVENT")
    assert event.decoded("DTSTART") == start and event.decoded("DTEND") == end
    assert "Tutoring session" in str(event["SUMMARY"])
    assert booking.reference in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"

    # The booking's own page has the same block.
    page.locator("#booking-detail-link").click()
    detail = page.get_by_test_id("booking-detail").get_by_test_id("add-to-calendar")
    expect(detail.get_by_test_id("add-to-google")).to_have_attribute("href", re.compile(f"{start:%Y%m%dT%H%M%SZ}"))
    expect(detail.get_by_test_id("download-ics")).to_be_visible()


@pytest.mark.parametrize("width", [600, 375])
def test_the_booking_email_reads_well_in_a_mail_app(browser: Browser, width: int) -> None:
    _, tutoring = new_york_coach()
    kiran = ClientFactory(name="Kiran Rao", timezone="Asia/Kolkata")
    booking = services.book_slot(client=kiran, session_type=tutoring, start=at_new_york(2, 10))
    [message] = [m for m in mail.outbox if m.to == [kiran.email]]
    [(html, kind)] = message.alternatives
    assert kind == "text/html"

    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_content(html)
        heading = page.get_by_role("heading", name=message.subject, level=1)
        expect(heading).to_be_visible()
        assert message.subject == "Booked: Tutoring session with Marcus Bennett"
        button = page.get_by_role("link", name="View the booking")
        expect(button).to_be_visible()
        expect(button).to_have_attribute("href", re.compile(rf"/bookings/{booking.reference}/$"))
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        expect(page.locator("body")).to_contain_text(booking.reference)
        shot(page, f"email-{width}")
        fits(page)
    finally:
        context.close()


DOT = "getComputedStyle(document.querySelector('label.nav-burger'), '::after').content !== 'none'"


def unread_dot(page: Page) -> bool:
    return page.evaluate(DOT)


def test_the_bell_and_the_list_fit_a_phone(sign_in) -> None:
    _, tutoring = new_york_coach()
    kiran = ClientFactory(name="Kiran Rao", timezone="Asia/Kolkata")
    for days in (2, 3, 4):
        services.book_slot(client=kiran, session_type=tutoring, start=at_new_york(days, 10))

    page = sign_in(kiran.email, "Asia/Kolkata", viewport=PHONE)
    page.goto("/dashboard/")
    fits(page)
    # The bell is in the folded menu: a dot on the menu button says something is unread
    # (once the bell has its count: it fetches it after the page).
    page.wait_for_function(f"() => {DOT}", timeout=5_000)
    shot(page.locator("header.topbar"), "phone-menu-dot")
    page.locator("label.nav-burger").click()
    assert not unread_dot(page)  # the menu is open: the bell shows the count itself
    bell = page.get_by_test_id("bell")
    expect(bell).to_be_in_viewport()
    expect(bell.get_by_test_id("bell-count")).to_have_text("3")
    fits(page)
    shot(page.locator("header.topbar"), "phone-bell")

    bell.click()
    items = page.get_by_test_id("notification")
    expect(items).to_have_count(3)
    expect(items.first.get_by_role("button", name="Open booking")).to_be_in_viewport()
    shot(page, "phone-list")
    fits(page)
    # The words get the width: the buttons go below them, not over them or beside a sliver.
    item = items.first.bounding_box()
    text = items.first.locator(".notification-title").bounding_box()
    actions = items.first.locator(".notification-actions").bounding_box()
    assert text["width"] >= 0.6 * item["width"], (text, item)
    assert actions["y"] >= text["y"] + text["height"], (text, actions)

    page.get_by_test_id("read-all").click()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    page.goto("/dashboard/")
    expect(page.locator("#bell-wrap[hx-get$='?n=0']")).to_have_count(1)  # the bell has its count: none
    assert not unread_dot(page)
