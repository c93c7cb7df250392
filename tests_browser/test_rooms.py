"""Rooms in Chromium: a staff member adds a room with its opening hours through the pages;
a coach offers a one-on-one that needs that room, with working hours wider than the room's,
while another coach's booking already holds the room at one time. A client then sees only
the times when the room is open and free, books one, and the booking names the room. And
the room pages pass axe-core at desktop and phone size without widening the phone's page."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory, StaffFactory
from availability import rooms
from availability.models import Resource
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from tests_browser import test_accessibility as a11y
from tests_browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

# The accessibility check's fixtures: a browser in American English with axe-core loaded.
american, axe_script = a11y.american, a11y.axe_script

PARIS = ZoneInfo("Europe/Paris")


def open_day(page: Page, day: dt.date) -> None:
    """Click the day on the month calendar, moving to the next month if needed."""
    link = page.get_by_test_id("calendar").locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    if not link.count():
        page.get_by_role("link", name=re.compile(r"^Next month")).click()
        link = page.get_by_test_id("calendar").locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    link.click()
    expect(page.get_by_test_id("times")).to_contain_text(f"{day:%A} {day.day} {day:%B}")


def paris(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


@pytest.mark.django_db(transaction=True)
def test_a_client_is_offered_only_times_when_the_room_is_open_and_free_and_books_one(sign_in) -> None:
    StaffFactory(email="stella@example.com", name="Stella Staff", timezone="Europe/Paris")

    # A staff member adds the room: open 10:00–14:00 every day, Paris time.
    staff = sign_in("stella@example.com", "Europe/Paris")
    staff.goto("/rooms/")
    staff.get_by_test_id("add-room").click()
    expect(staff.get_by_role("heading", name="Add a room", level=1)).to_be_visible()
    staff.get_by_label("Name", exact=True).fill("Studio Rivoli")
    staff.get_by_label("Kind").select_option("room")
    staff.get_by_label("Capacity").fill("4")
    staff.get_by_label("Location").fill("12 rue de Rivoli")
    expect(staff.locator("select[name=timezone]")).to_have_value("Europe/Paris")
    for weekday in range(7):
        staff.locator(f"input[name='hours-d{weekday}_opens_1']").fill("10")  # the page makes it 10:00
        staff.locator(f"input[name='hours-d{weekday}_closes_1']").fill("14:00")
    staff.locator("input[name='hours-d6_closes_1']").press("Tab")
    expect(staff.locator("input[name='hours-d0_opens_1']")).to_have_value("10:00")
    staff.get_by_test_id("save-room").click()
    expect(staff.get_by_test_id("room-title")).to_have_text("Studio Rivoli")
    expect(staff.get_by_test_id("room-hours-summary")).to_contain_text("Mon–Sun 10:00–14:00 (Europe/Paris)")
    staff.get_by_role("link", name="← Rooms and equipment").click()
    row = staff.get_by_test_id("room-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("room-hours")).to_contain_text("Mon–Sun 10:00–14:00")
    expect(row.get_by_test_id("room-capacity")).to_have_text("4")
    room = Resource.objects.get(name="Studio Rivoli")
    assert (room.capacity, room.location, room.timezone, room.hours.count()) == (
        4,
        "12 rue de Rivoli",
        "Europe/Paris",
        7,
    )

    # A coach working 09:00–17:00 offers, from their session types page, a session that
    # needs that room; another coach's booking holds the room from 11:00 to 12:00 on the
    # day the client will look at.
    coach = open_coach(timezone="Europe/Paris", hours=(9, 17))
    coach.name = "Camille Laurent"
    coach.save()
    coach_page = sign_in(coach.email, "Europe/Paris")
    coach_page.goto("/coach/session-types/")
    coach_page.get_by_test_id("new-type").click()
    coach_page.get_by_label("Title").fill("Studio session")
    coach_page.get_by_label("Length (minutes)").fill("60")
    coach_page.get_by_label("Online or in person").select_option("in_person")
    coach_page.get_by_label("Room or equipment").select_option("room")
    coach_page.get_by_test_id("rooms-allowed").get_by_label(re.compile("Studio Rivoli")).check()
    coach_page.get_by_test_id("save-type").click()
    expect(coach_page.get_by_test_id("offered")).to_contain_text("Studio session")
    studio = coach.session_types.get(title="Studio session")
    assert (studio.resource_kind, list(studio.resources.all())) == ("room", [room])
    other = open_coach(timezone="Europe/Paris", hours=(9, 17))
    other_type = SessionTypeFactory(coach=other, title="Pilates", duration_minutes=60, resource_kind="room")
    other_type.resources.add(room)
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=2)
    held = services.book_slot(
        client=ClientFactory(email="noor@example.com", timezone="Europe/Paris"),
        session_type=other_type,
        start=paris(day, 11),
    )
    assert held.session.resource == room

    ClientFactory(email="sofia@example.com", name="Sofia Marquez", timezone="Europe/Paris")
    client = sign_in("sofia@example.com", "Europe/Paris")
    client.goto(f"/book/{coach.pk}/{studio.pk}/")
    expect(client.get_by_role("heading", name="Studio session", level=1)).to_be_visible()
    open_day(client, day)
    times = client.get_by_test_id("times")
    expect(times.get_by_test_id("times-timezone")).to_contain_text("Europe/Paris")
    slots = times.get_by_test_id("time-slot")
    # The coach works 09:00–17:00; the room opens 10:00–14:00 and is held 11:00–12:00.
    expect(slots).to_have_text(["10:00", "12:00", "13:00"])
    for refused in ("09:00", "11:00", "14:00", "15:00", "16:00"):
        expect(times.get_by_test_id("time-slot").filter(has_text=re.compile(f"^{refused}$"))).to_have_count(0)

    slots.filter(has_text="12:00").click()
    client.locator("#continue").click()
    expect(client.get_by_test_id("confirm-summary")).to_contain_text("12:00–13:00")
    client.locator("#book-submit").click()
    expect(client.get_by_test_id("booking-done")).to_be_visible()

    booking = Booking.objects.get(client__email="sofia@example.com")
    assert booking.session.start == paris(day, 12) and booking.session.resource == room
    client.goto(f"/bookings/{booking.reference}/")
    expect(client.get_by_test_id("booking-room")).to_contain_text("Studio Rivoli")

    # The room's calendar shows both sessions that day to the staff member.
    staff.goto(f"/rooms/{room.pk}/calendar/{day.isoformat()}/")
    column = staff.get_by_test_id("calendar-grid").locator(f"[data-testid=cal-day][data-date='{day.isoformat()}']")
    expect(column.get_by_test_id("room-open")).to_contain_text("10:00–14:00")
    expect(column.get_by_test_id("room-booking")).to_have_count(2)
    expect(column.get_by_test_id("room-booking").nth(0)).to_contain_text("11:00–12:00")
    expect(column.get_by_test_id("room-booking").nth(1)).to_contain_text("Studio session")
    expect(column.get_by_test_id("room-booking").nth(1)).to_contain_text("Camille Laurent")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_room_pages_are_accessible_and_fit_a_phone(american, size) -> None:
    staff = StaffFactory(email="stella@example.com", name="Stella Staff", timezone="Europe/London")
    room = rooms.create_resource(
        actor=staff,
        name="Studio Rivoli",
        capacity=4,
        location="Paris",
        timezone_name="Europe/Paris",
        hours=[(day, dt.time(10), dt.time(14)) for day in range(5)] + [(0, dt.time(15), dt.time(18))],
    )
    today = timezone.now().astimezone(PARIS).date()
    rooms.add_closure(resource=room, actor=staff, start_date=today, end_date=today, reason="Painting")
    coach = open_coach(timezone="Europe/Paris", hours=(9, 17))
    studio = SessionTypeFactory(coach=coach, title="Studio session", resource_kind="room")
    studio.resources.add(room)
    day = today + dt.timedelta(days=1)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    services.book_slot(client=ClientFactory(), session_type=studio, start=paris(day, 11))
    page = american("stella@example.com", size)

    problems = []
    for path in ("/rooms/", "/rooms/new/", f"/rooms/{room.pk}/", f"/rooms/{room.pk}/calendar/{day.isoformat()}/"):
        page.goto(path)
        problems += a11y.serious_violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], path
    # The add form with its errors, and the question before deactivating a room in use.
    page.goto("/rooms/new/")
    page.get_by_test_id("save-room").click()
    expect(page.get_by_test_id("error-summary").first).to_be_visible()
    problems += a11y.serious_violations(page)
    page.goto(f"/rooms/{room.pk}/")
    page.get_by_test_id("deactivate").click()
    expect(page.get_by_test_id("deactivate-confirm")).to_contain_text("1 upcoming session uses Studio Rivoli.")
    problems += a11y.serious_violations(page)
    assert problems == []
