"""The booking wizard and the booking page as people meet them: the keyboard through the
calendar (a time chosen with Enter leaves focus on Continue), the menu checkbox that is
no tab stop on a desktop, staff booking for a client who phoned in, a seat already held,
and cancelling from the booking page with a confirm step."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory
from availability.selectors import free_slots
from bookings.tests.factories import SessionTypeFactory, open_coach
from tests_browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")


def paris_coach(**settings):
    coach = open_coach(timezone="Europe/Paris", minimum_notice_hours=2, **settings)
    coach.name = "Camille Laurent"
    coach.save()
    consultation = SessionTypeFactory(coach=coach, title="Career consultation", duration_minutes=60)
    return coach, consultation


def day_after_tomorrow(coach, session_type) -> tuple[dt.date, list]:
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=2)
    slots = free_slots(coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS)
    assert slots
    return day, slots


def focus_id(page: Page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.tagName)")


@pytest.mark.django_db(transaction=True)
def test_choosing_a_day_and_a_time_with_the_keyboard_leaves_focus_where_the_person_goes_next(sign_in) -> None:
    coach, consultation = paris_coach()
    ClientFactory(email="sofia@example.com", name="Sofia Marquez", timezone="Europe/Paris")
    day, _ = day_after_tomorrow(coach, consultation)
    page = sign_in("sofia@example.com", "Europe/Paris")
    page.goto(f"/book/{coach.pk}/{consultation.pk}/?month={day:%Y-%m}")
    page.locator(f"a.cal-day.free[data-date='{day.isoformat()}']").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("times")).to_contain_text(f"{day:%A} {day.day} {day:%B}")
    expect(page.locator("#times-title")).to_be_focused()

    page.get_by_test_id("time-slot").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("booking-summary")).to_be_visible()
    expect(page.locator("#continue")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-summary")).to_be_visible()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_menu_checkbox_is_a_tab_stop_only_where_the_menu_button_shows(sign_in, viewport) -> None:
    ClientFactory(email="sofia@example.com", timezone="Europe/Paris")
    page = sign_in("sofia@example.com", "Europe/Paris", viewport)
    page.goto("/book/")
    reached = set()
    page.locator("body").focus()
    for _ in range(6):  # skip link, brand, then the menu (phone) or the first nav link
        page.keyboard.press("Tab")
        reached.add(focus_id(page))
    burger = page.locator("label[for=nav-toggle]")
    if viewport is DESKTOP:
        assert "nav-toggle" not in reached
        expect(page.locator("#nav-toggle")).to_be_hidden()
        expect(burger).to_be_hidden()
    else:
        assert "nav-toggle" in reached
        # The checkbox's label is shown, and names it.
        expect(burger).to_be_visible()
        expect(page.get_by_role("checkbox", name="Menu")).to_have_count(1)
        page.locator("#nav-toggle").focus()
        page.keyboard.press("Space")
        expect(page.locator("#main-nav")).to_be_visible()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_staff_find_a_client_who_phoned_in_and_book_for_them(sign_in, viewport) -> None:
    from accounts.tests.factories import StaffFactory
    from bookings.models import Booking

    coach, consultation = paris_coach()
    nia = ClientFactory(email="nia@example.com", name="Nia York", timezone="America/New_York")
    ClientFactory(email="noah@example.com", name="Noah Other")
    StaffFactory(email="sam@example.com", name="Sam Staff", timezone="Europe/Paris")
    day, slots = day_after_tomorrow(coach, consultation)

    page = sign_in("sam@example.com", "Europe/Paris", viewport)
    page.goto("/book/")
    page.get_by_test_id("book-for-client").click()
    page.get_by_label("Find a client by name or email").fill("nia")  # htmx narrows as one types
    expect(page.get_by_test_id("client-row")).to_have_count(1)
    expect(page.get_by_test_id("client-results")).to_contain_text("Nia York")
    page.get_by_role("button", name="Book for Nia York").click()

    bar = page.get_by_test_id("book-for")
    expect(bar).to_contain_text("Book for Nia York")
    expect(bar).to_contain_text("America/New_York")
    page.get_by_role("link", name="Book with Camille Laurent").click()
    expect(page.get_by_test_id("book-for")).to_contain_text("Book for Nia York")
    page.goto(f"/book/{coach.pk}/{consultation.pk}/?month={day:%Y-%m}")
    expect(page.get_by_test_id("book-for")).to_contain_text("Book for Nia York")
    page.locator(f"a.cal-day.free[data-date='{day.isoformat()}']").click()
    page.get_by_test_id("time-slot").first.click()
    page.locator("#continue").click()
    expect(page.get_by_test_id("book-for")).to_contain_text("Book for Nia York")
    expect(page.get_by_text("Send Nia York reminders before the session")).to_be_visible()
    page.locator("#book-submit").click()
    expect(page.get_by_test_id("booking-done")).to_be_visible()
    booking = Booking.objects.get()
    assert booking.client == nia and booking.booked_by.email == "sam@example.com"
    assert booking.session.start == slots[0].start


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_seat_already_held_and_cancelling_it_from_the_booking_page(sign_in, viewport) -> None:
    from bookings import services
    from bookings.models import BookingStatus
    from bookings.tests.factories import GroupTypeFactory

    coach, _ = paris_coach()
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=3, price=0)
    start = timezone.now().replace(microsecond=0, second=0, minute=0) + dt.timedelta(days=3)
    session = services.publish_session(actor=coach, session_type=circle, start=start, capacity=3)
    sofia = ClientFactory(email="sofia@example.com", name="Sofia Marquez", timezone="Europe/Paris")
    seat = services.take_seat(client=sofia, session=session)

    page = sign_in("sofia@example.com", "Europe/Paris", viewport)
    page.goto(f"/book/{coach.pk}/{circle.pk}/")
    row = page.get_by_test_id("group-session").first
    expect(row).to_contain_text("You have a seat")
    expect(row.get_by_test_id("take-seat")).to_have_count(0)
    row.get_by_role("link", name=re.compile("^View the booking")).click()
    expect(page.get_by_test_id("booking-reference")).to_have_text(seat.reference)

    page.get_by_test_id("cancel-button").click()
    confirm = page.get_by_test_id("cancel-confirm")
    expect(confirm).to_contain_text("Cancel this session?")
    expect(page.get_by_test_id("cancel-policy")).to_contain_text("Free cancellation up to")
    page.get_by_test_id("cancel-keep").click()  # changed their mind: nothing happens
    seat.refresh_from_db()
    assert seat.status == BookingStatus.FIRM_BOOKED
    page.get_by_test_id("cancel-button").click()
    page.get_by_label("Reason").fill("Travelling")
    page.get_by_test_id("cancel-confirm-submit").click()
    expect(page.locator(".flashes")).to_contain_text("Cancelled. Morning circle on")
    expect(page.get_by_test_id("booking-status")).to_have_text("Cancelled")
    seat.refresh_from_db()
    assert seat.status == BookingStatus.CANCELLED and seat.cancellation_reason == "Travelling"
    page.reload()
    expect(page.locator(".flashes")).to_have_count(0)  # shown once, not left behind
