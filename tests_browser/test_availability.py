"""The coach sets their hours in the availability editor; a client elsewhere in the world
sees those hours as free times in their own zone on the coach's booking page.

Nothing is frozen: dates are picked relative to today (in the zone that matters), and the
expected times come from ``availability.selectors.free_slots`` rather than being typed in.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect

from accounts.models import User
from accounts.tests.factories import ClientFactory, CoachFactory
from availability import services
from availability.models import AvailabilityWindow, DateOverride, Weekday
from availability.selectors import free_slots
from bookings.tests.factories import SessionTypeFactory
from tests_browser.conftest import PHONE

pytestmark = pytest.mark.browser

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
HOUR = dt.timedelta(hours=1)
SATURDAY = Weekday.SATURDAY


def make_coach(email: str = "carl@example.com", name: str = "Carl Coach", zone: str = "America/New_York") -> User:
    """A coach whose every free time can be booked: no notice needed, 30 days ahead."""
    coach = CoachFactory(email=email, name=name, timezone=zone)
    profile = coach.coach_profile
    profile.minimum_notice_hours = 0
    profile.booking_window_days = 30
    profile.save(update_fields=["minimum_notice_hours", "booking_window_days"])
    return coach


def open_coach() -> User:
    """The New York coach with the default pattern (Monday to Friday, 09–12 and 13–17) and
    one 60-minute session type (so the coach page goes straight to the calendar)."""
    coach = make_coach()
    services.apply_default_pattern(coach=coach, actor=coach)
    SessionTypeFactory(coach=coach, title="Consultation", duration_minutes=60)
    return coach


def long_date(day: dt.date) -> str:
    """Django's ``l j F Y``, e.g. "Monday 7 December 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def first_weekday_on_or_after(day: dt.date) -> dt.date:
    while day.weekday() >= SATURDAY:
        day += dt.timedelta(days=1)
    return day


def next_month_first(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def weekly_windows(coach: User) -> dict[int, list[tuple[str, str]]]:
    rows = AvailabilityWindow.objects.filter(coach=coach).order_by("weekday", "start")
    by_day: dict[int, list[tuple[str, str]]] = {}
    for window in rows:
        by_day.setdefault(window.weekday, []).append((f"{window.start:%H:%M}", f"{window.end:%H:%M}"))
    return by_day


# ---------------------------------------------------------------------------------------
# The coach's editor
# ---------------------------------------------------------------------------------------


def test_coach_builds_a_week_takes_a_day_off_and_previews_in_their_zone(page: Page, log_in) -> None:
    coach = make_coach()
    today = timezone.localdate(timezone=NEW_YORK)
    log_in("carl@example.com")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Availability", exact=True).click()
    expect(page).to_have_url(re.compile(r"/coach/availability/$"))
    expect(page.get_by_role("heading", name="Availability", level=1)).to_be_visible()
    expect(page.get_by_test_id("editor-timezone")).to_have_text("Times in America/New_York")
    week = page.get_by_test_id("week")
    status = page.locator("#editor-status")
    expect(week).to_contain_text("No weekly hours yet.")

    # The default pattern, behind a confirm dialog.
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    week.get_by_role("button", name="Use default pattern").click()
    monday = week.locator("#day-0")
    expect(monday.locator(".window-time")).to_have_text(["09:00–12:00", "13:00–17:00"])
    assert dialogs == ["Replace your weekly hours with Monday to Friday, 09:00–12:00 and 13:00–17:00?"]
    expect(status).to_contain_text("Applied the default pattern")
    expect(week).not_to_contain_text("No weekly hours yet.")

    # A Saturday window through the inline form (open: Saturday has no hours yet).
    saturday = week.locator("#day-5")
    expect(saturday.locator(".window-none")).to_have_text("Not available")
    add_saturday = saturday.get_by_role("form", name="Add a Saturday window")
    add_saturday.get_by_label("Start").fill("10:00")
    add_saturday.get_by_label("End").fill("12:00")
    add_saturday.get_by_role("button", name="Add").click()
    expect(saturday.locator(".window-time")).to_have_text(["10:00–12:00"])
    expect(status).to_contain_text("Added Saturday 10:00–12:00.")

    # An overlapping one is refused next to the form, naming both windows; nothing saved.
    saturday.get_by_text("Add a window").click()  # the <summary>: the form folds once the day has hours
    add_saturday.get_by_label("Start").fill("11:00")
    add_saturday.get_by_label("End").fill("13:00")
    add_saturday.get_by_role("button", name="Add").click()
    expect(add_saturday.get_by_role("alert")).to_have_text("Saturday: 10:00–12:00 overlaps 11:00–13:00.")
    expect(add_saturday.get_by_label("Start")).to_have_value("11:00")  # what was typed stays
    expect(add_saturday.get_by_label("End")).to_have_value("13:00")
    expect(saturday.locator(".window-time")).to_have_text(["10:00–12:00"])
    assert weekly_windows(coach)[SATURDAY] == [("10:00", "12:00")]

    # Removing it.
    saturday.get_by_role("button", name="Remove Saturday 10:00–12:00").click()
    expect(saturday.locator(".window-none")).to_have_text("Not available")
    expect(status).to_contain_text("Removed Saturday 10:00–12:00.")

    # A day off next month, through the month calendar.
    day_off = first_weekday_on_or_after(next_month_first(today))
    calendar = page.get_by_test_id("calendar")
    calendar.get_by_role("link", name=re.compile(r"^Next month, ")).click()
    expect(calendar.get_by_test_id("calendar-month")).to_have_text(f"{day_off:%B %Y}")
    calendar.locator(f"a.avail-day[data-date='{day_off.isoformat()}']").click()
    panel = page.get_by_test_id("day-panel")
    expect(panel.get_by_role("heading", name=long_date(day_off))).to_be_visible()
    expect(panel.get_by_role("radio", name="Day off")).to_be_checked()
    # The day's panel may still be swapped in once more (the calendar's request and the
    # day's): type only when no request is pending, or the text goes with the old panel.
    page.wait_for_load_state("networkidle")
    panel.get_by_label("Reason").fill("Conference")
    expect(panel.get_by_label("Reason")).to_have_value("Conference")
    panel.get_by_role("button", name="Save this day").click()
    expect(status).to_contain_text(f"{long_date(day_off)} is now a day off.")
    cell = calendar.locator(f"a.avail-day[data-date='{day_off.isoformat()}']")
    expect(cell).to_have_attribute("data-mark", "off")
    expect(cell).to_have_attribute("aria-label", re.compile(r", day off$"))
    upcoming = calendar.get_by_test_id("upcoming-override")
    expect(upcoming).to_have_count(1)
    expect(upcoming).to_contain_text("Day off")
    expect(upcoming).to_contain_text(f"{day_off:%a} {day_off.day} {day_off:%b %Y}")
    expect(upcoming).to_contain_text("Conference")

    # The preview: 14 days of times on the coach's New York clock (the browser is in Paris).
    preview = page.get_by_test_id("preview")
    expect(preview.get_by_test_id("preview-timezone")).to_contain_text("Times in America/New_York")
    expect(preview.locator("li.preview-day")).to_have_count(14)
    tomorrow = today + dt.timedelta(days=1)
    next_weekday = first_weekday_on_or_after(tomorrow)
    if next_weekday == day_off:  # today is the month's last weekday
        next_weekday = first_weekday_on_or_after(day_off + dt.timedelta(days=1))
    first_chip = preview.locator(f"li.preview-day[data-date='{next_weekday.isoformat()}'] li.chip").first
    expect(first_chip).to_have_text("09:00")
    next_saturday = tomorrow + dt.timedelta(days=(SATURDAY - tomorrow.weekday()) % 7)
    expect(preview.locator(f"li.preview-day[data-date='{next_saturday.isoformat()}']")).to_contain_text("No hours set")
    if day_off <= today + dt.timedelta(days=13):
        expect(preview.locator(f"li.preview-day[data-date='{day_off.isoformat()}']")).to_contain_text("Day off")
    chips = preview.locator("li.chip").evaluate_all("els => els.map(e => [e.dataset.start, e.textContent.trim()])")
    assert chips, "the preview shows no times"
    for start, label in chips:
        local = dt.datetime.fromisoformat(start).astimezone(NEW_YORK)
        assert label == f"{local:%H:%M}", (start, label)
        assert dt.time(9) <= local.time() < dt.time(17), (start, label)

    # What was saved.
    assert weekly_windows(coach) == {weekday: [("09:00", "12:00"), ("13:00", "17:00")] for weekday in range(5)}
    override = DateOverride.objects.get(coach=coach)
    assert (override.date, override.reason, override.windows.count()) == (day_off, "Conference", 0)


# ---------------------------------------------------------------------------------------
# The client's booking page
# ---------------------------------------------------------------------------------------


def bookable_day_in_kolkata(coach: User) -> tuple[dt.date, dt.datetime]:
    """A Kolkata day with free times, two or more days out (so the first time doesn't depend
    on the clock), and the coach's first free slot on it, found on the coach's New York clock."""
    now = timezone.now()
    today = now.astimezone(KOLKATA).date()
    session_type = coach.session_types.get()
    # The coach's free slots on their own days, then the first one falling on a Kolkata day
    # from the day after tomorrow on.
    ny_slots = free_slots(
        coach=coach,
        session_type=session_type,
        start_date=today,
        end_date=today + dt.timedelta(days=10),
        viewer_tz=NEW_YORK,
        now=now,
    )
    first = next(s for s in ny_slots if s.start.astimezone(KOLKATA).date() >= today + dt.timedelta(days=2))
    day = first.start.astimezone(KOLKATA).date()
    # The same day asked for in Kolkata terms starts with the same slot.
    kolkata_slots = free_slots(
        coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=KOLKATA, now=now
    )
    assert kolkata_slots and kolkata_slots[0].start == first.start
    return day, first.start.astimezone(KOLKATA)


@pytest.mark.parametrize("timezone_id", ["Asia/Kolkata"])
def test_client_in_kolkata_sees_a_new_york_coach_times_in_their_zone(page: Page, log_in) -> None:
    coach = open_coach()
    make_coach(email="lena@example.com", name="Lena London", zone="Europe/London")
    ClientFactory(email="kiran@example.com", name="Kiran Client", timezone="Asia/Kolkata")
    day, first_start = bookable_day_in_kolkata(coach)
    expected_time = f"{first_start:%H:%M}"
    today = timezone.now().astimezone(KOLKATA).date()

    log_in("kiran@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book a session").click()
    expect(page).to_have_url(re.compile(r"/book/$"))
    cards = page.get_by_test_id("coach-card")
    expect(cards).to_have_count(2)
    carl = cards.filter(has_text="Carl Coach")
    expect(carl).to_contain_text("America/New_York")
    carl.get_by_role("link", name="Book with Carl Coach").click()
    # One session type: the coach page goes straight to its calendar.
    consultation = coach.session_types.get()
    expect(page).to_have_url(re.compile(rf"/book/{coach.pk}/{consultation.pk}/$"))
    expect(page.get_by_role("heading", name="Consultation", level=1)).to_be_visible()
    expect(page.get_by_text("with Carl Coach")).to_be_visible()

    calendar = page.get_by_test_id("calendar")
    if day.month != today.month:
        page.get_by_role("link", name=re.compile(r"^Next month, ")).click()
    expect(page.get_by_test_id("calendar-month")).to_have_text(f"{day:%B %Y}")
    marked = calendar.locator("a.cal-day.free")
    expect(marked.first).to_be_visible()
    # Nothing is free on a Kolkata Sunday (the coach's Saturday evening to Sunday night).
    expect(calendar.locator("tbody td:nth-child(7) a.cal-day.free")).to_have_count(0)

    day_link = calendar.locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    expect(day_link).to_have_attribute("aria-label", re.compile(rf"^{day:%A} {day.day} {day:%B}, \d+ free times$"))
    day_link.click()
    times = page.get_by_test_id("times")
    expect(times.get_by_role("heading", name=f"{day:%A} {day.day} {day:%B}")).to_be_visible()
    expect(times.get_by_test_id("times-timezone")).to_contain_text("Times shown in Asia/Kolkata")
    first_time = times.locator("a.time-slot").first
    expect(first_time).to_have_text(expected_time)

    first_time.click()
    summary = page.get_by_test_id("booking-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Carl Coach")
    expect(summary).to_contain_text(long_date(day))
    end = first_start + HOUR
    expect(summary.get_by_test_id("summary-time")).to_have_text(f"{expected_time}–{end:%H:%M} Asia/Kolkata")
    expect(times.locator("a.time-slot.selected")).to_have_text(expected_time)


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])
@pytest.mark.parametrize("timezone_id", ["Asia/Kolkata"])
def test_coach_page_fits_a_phone_with_thumb_sized_times(page: Page, log_in) -> None:
    coach = open_coach()
    ClientFactory(email="kiran@example.com", name="Kiran Client", timezone="Asia/Kolkata")
    day, first_start = bookable_day_in_kolkata(coach)
    log_in("kiran@example.com")

    def fits_the_screen() -> None:
        overflow = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], f"scrollWidth {overflow[0]} > innerWidth {overflow[1]}"

    type_page = f"/book/{coach.pk}/{coach.session_types.get().pk}/"
    page.goto(type_page)
    expect(page.get_by_test_id("calendar")).to_be_visible()
    fits_the_screen()

    page.goto(f"{type_page}?date={day.isoformat()}")
    slots = page.get_by_test_id("times").locator("a.time-slot")
    expect(slots.first).to_have_text(f"{first_start:%H:%M}")
    fits_the_screen()
    heights = slots.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44, heights

    slots.first.click()
    expect(page.get_by_test_id("booking-summary")).to_be_visible()
    fits_the_screen()
