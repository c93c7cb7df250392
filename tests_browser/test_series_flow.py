"""A recurring series end to end in Chromium (issue 17): a client in New York walks the
wizard to a Tuesday 10:00, repeats it weekly eight times across the March clock change,
sees one date taken and books the seven free ones; every session stays at 10:00 local
(its UTC hour moves on the second Sunday of March), the dashboard shows the series once;
the coach approves the whole series with one click; the client then cancels the fourth
session and the following."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import ConnectionStatus
from accounts.tests.factories import ClientFactory, ConnectionFactory
from bookings import services
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, Series
from bookings.tests.factories import SessionTypeFactory, open_coach

pytestmark = pytest.mark.browser

NEW_YORK = ZoneInfo("America/New_York")
TEN = dt.time(10)
COUNT = 8
TAKEN_INDEX = 2  # the third Tuesday is held by someone else


@pytest.fixture
def timezone_id() -> str:
    return "America/New_York"


def shot(page: Page, name: str) -> None:
    """Screenshots for people to look at, when BROWSER_TEST_SHOTS names a folder."""
    folder = os.environ.get("BROWSER_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def spring_forward_after(today: dt.date) -> dt.date:
    """The next second Sunday of March (New York's clock change) at least six weeks away,
    so the series' first Tuesday, four weeks before it, is still to come."""
    year = today.year
    while True:
        march = dt.date(year, 3, 1)
        change = march + dt.timedelta(days=(6 - march.weekday()) % 7 + 7)
        if (change - today).days >= 42:
            return change
        year += 1


def ten_new_york(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, TEN, tzinfo=NEW_YORK)


def open_day(page: Page, day: dt.date) -> None:
    """Go forward month by month on the wizard's calendar until the day can be clicked."""
    for _month in range(15):
        link = page.get_by_test_id("calendar").locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
        if link.count():
            link.click()
            expect(page.get_by_test_id("times")).to_contain_text(f"{day:%A} {day.day} {day:%B}")
            return
        forward = page.get_by_role("link", name=re.compile(r"^Next month"))
        label = forward.get_attribute("aria-label")
        forward.click()
        expect(page.get_by_role("link", name=re.compile(r"^Next month"))).not_to_have_attribute("aria-label", label)
    raise AssertionError(f"{day} never became bookable on the calendar")


@pytest.mark.django_db(transaction=True)
def test_a_weekly_series_across_the_clock_change_skip_approve_and_cancel_the_following(page: Page, log_in, sign_in):
    today = timezone.now().astimezone(NEW_YORK).date()
    change = spring_forward_after(today)
    first_day = change - dt.timedelta(days=26)  # a Tuesday; four before the change, four after
    days = [first_day + dt.timedelta(weeks=week) for week in range(COUNT)]
    assert all(day.weekday() == 1 for day in days)
    assert days[3] < change < days[4]

    coach = open_coach(
        timezone="America/New_York",
        hours=(9, 17),
        # Single bookings reach the taken Tuesday; the series' horizon reaches past the window.
        booking_window_days=(days[TAKEN_INDEX] - today).days + 7,
        allow_series=True,
        series_horizon_days=(days[-1] - today).days + 30,
        series_requires_approval=True,
    )
    coach.name = "Marcus Bennett"
    coach.save()
    SessionTypeFactory(coach=coach, title="Chemistry lab prep", duration_minutes=60)
    tutoring = SessionTypeFactory(coach=coach, title="Maths tutoring", duration_minutes=60)
    client = ClientFactory(email="dana@example.com", name="Dana Whitfield", timezone="America/New_York")
    ConnectionFactory(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    taken_at = ten_new_york(days[TAKEN_INDEX])
    services.book_slot(client=ClientFactory(name="Other Client"), session_type=tutoring, start=taken_at)

    # The wizard: coach, type, the first Tuesday, 10:00, then "Repeat this session…".
    log_in(client.email)
    page.goto("/book/")
    page.get_by_role("link", name="Book with Marcus Bennett").click()
    page.get_by_test_id("session-type").get_by_role("link", name="Maths tutoring").click()
    expect(page.get_by_role("heading", name="Maths tutoring", level=1)).to_be_visible()
    open_day(page, first_day)
    page.get_by_test_id("times").get_by_test_id("time-slot").filter(has_text=re.compile(r"^10:00$")).click()
    page.locator("#continue").click()
    expect(page.get_by_test_id("confirm-summary")).to_contain_text("10:00")
    page.get_by_test_id("series-repeat-toggle").click()
    page.locator("#series-frequency").select_option("weekly")
    page.get_by_test_id("series-ends-count").check()
    expect(page.locator("#series-count")).to_have_value("8")
    shot(page, "series-flow-1-repeat.png")
    page.get_by_test_id("series-preview-submit").click()

    # The preview: eight dates, one taken, the zone stated; book the seven free ones.
    preview = page.get_by_test_id("series-preview")
    rows = preview.get_by_test_id("series-row")
    expect(rows).to_have_count(COUNT)
    codes = [rows.nth(i).get_attribute("data-code") for i in range(COUNT)]
    assert codes == ["" if i != TAKEN_INDEX else "slot_taken" for i in range(COUNT)], codes
    for i, day in enumerate(days):
        expect(rows.nth(i)).to_contain_text(f"{day:%a} {day.day} {day:%b %Y}")
        expect(rows.nth(i)).to_contain_text("10:00–11:00")
    expect(rows.nth(TAKEN_INDEX).get_by_test_id("verdict")).to_have_text("This time is taken.")
    expect(preview.get_by_test_id("series-zone")).to_contain_text("America/New_York")
    expect(preview.get_by_test_id("series-kind")).to_contain_text("This series will be a request")
    shot(page, "series-flow-2-preview.png")
    page.get_by_test_id("series-book-free").filter(has_text="Book the 7 free ones, skip the rest").click()

    # The series page: seven sessions, all at 10:00 New York time, 15:00Z before the change, 14:00Z after.
    expect(page.get_by_text("Series requested: 7 sessions.")).to_contain_text("1 date was skipped.")
    expect(page.get_by_test_id("series-description")).to_contain_text("Weekly, Tuesdays 10:00")
    occurrences = page.get_by_test_id("series-occurrence")
    expect(occurrences).to_have_count(COUNT - 1)
    booked_days = [day for i, day in enumerate(days) if i != TAKEN_INDEX]
    series = Series.objects.get(client=client)
    bookings = list(Booking.objects.filter(series=series).select_related("session").order_by("session__start"))
    assert [b.session.start for b in bookings] == [ten_new_york(day) for day in booked_days]
    assert {b.status for b in bookings} == {BookingStatus.REQUESTED}
    for i, day in enumerate(booked_days):
        row = occurrences.nth(i)
        expect(row).to_have_attribute("data-status", BookingStatus.REQUESTED)
        expect(row.locator("time")).to_have_text(f"{day:%a} {day.day} {day:%b %Y}, 10:00–11:00")
        utc = dt.datetime.fromisoformat(row.get_attribute("data-start")).astimezone(dt.UTC)
        assert (utc.date(), utc.hour, utc.minute) == (day, 15 if day < change else 14, 0), (day, utc)
    shot(page, "series-flow-3-series.png")

    # The dashboard: the series is one entry; "All sessions" opens its seven dates.
    page.goto("/dashboard/")
    groups = page.get_by_test_id("series-group")
    expect(groups).to_have_count(1)
    expect(groups.get_by_test_id("series-group-description")).to_contain_text("Weekly, Tuesdays 10:00, 7 of 7 left")
    expect(page.get_by_test_id("upcoming-row")).to_have_count(0)
    shot(page, "series-flow-4-dashboard.png")
    groups.get_by_test_id("series-group-open").click()
    expect(occurrences).to_have_count(COUNT - 1)
    expect(occurrences.locator("time").filter(has_text=re.compile(r", 10:00–11:00$"))).to_have_count(COUNT - 1)
    series_url = page.url

    # The coach approves the series once.
    coach_page = sign_in(coach.email, "America/New_York")
    coach_page.goto("/coach/")
    item = coach_page.locator(f"li#series-request-{series.pk}[data-testid=series-request]")
    expect(item).to_contain_text("Dana Whitfield")
    expect(item.get_by_test_id("series-date")).to_have_count(COUNT - 1)
    expect(item.get_by_test_id("series-date").filter(has_text="10:00–11:00")).to_have_count(COUNT - 1)
    expect(coach_page.get_by_test_id("approve-series-button")).to_have_count(1)
    shot(coach_page, "series-flow-5-queue.png")
    item.get_by_test_id("approve-series-button").click()
    expect(coach_page.locator(f"#series-request-{series.pk}").get_by_test_id("row-notice")).to_contain_text(
        "Series approved: 7 sessions are confirmed."
    )
    statuses = list(Booking.objects.filter(series=series).values_list("status", flat=True))
    assert statuses == [BookingStatus.CONFIRMED] * (COUNT - 1)
    page.reload()
    for i in range(COUNT - 1):
        expect(occurrences.nth(i)).to_have_attribute("data-status", BookingStatus.CONFIRMED)

    # The client cancels the fourth session and the following.
    fourth = occurrences.nth(3)
    fourth.get_by_test_id("occurrence-more").click()
    fourth.get_by_test_id("occurrence-cancel-following").click()
    change_card = page.get_by_test_id("series-change")
    expect(change_card).to_have_attribute("data-action", "cancel-following")
    targets = change_card.get_by_test_id("series-target")
    expect(targets).to_have_count(4)
    for target, day in zip(targets.all(), booked_days[3:], strict=True):
        expect(target).to_contain_text(f"{day:%a} {day.day} {day:%b %Y}, 10:00")
    shot(page, "series-flow-6-cancel-following.png")
    page.locator("#series-change-submit").filter(has_text="Cancel 4 sessions").click()

    page.wait_for_url(series_url)
    expect(page.get_by_text(re.compile(r"Cancelled 4 sessions, from"))).to_be_visible()
    expect(page.get_by_test_id("series-left")).to_contain_text("3 of 7")
    for i in range(COUNT - 1):
        expect(occurrences.nth(i)).to_have_attribute(
            "data-status", BookingStatus.CONFIRMED if i < 3 else BookingStatus.CANCELLED
        )
    expect(page.get_by_test_id("series-history")).to_contain_text("cancelled")
    shot(page, "series-flow-7-after.png")
    active = Booking.objects.filter(series=series, status__in=ACTIVE_STATUSES).select_related("session")
    assert sorted(b.session.start for b in active) == [ten_new_york(day) for day in booked_days[:3]]
    assert Booking.objects.filter(series=series, status=BookingStatus.CANCELLED).count() == 4
