"""The booking wizard and the booking page as people meet them: the keyboard through the
calendar (a time chosen with Enter leaves focus on Continue), the menu checkbox that is
no tab stop on a desktop, staff booking for a client who phoned in, a seat already held,
and cancelling from the booking page with a confirm step."""

from __future__ import annotations

import datetime as dt
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
