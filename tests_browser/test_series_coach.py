"""The coach answers a recurring series in Chromium (issue 17): its eight requests are one
item in the queue; one date is declined alone, then "Approve series" confirms the rest,
the count and the agenda follow without a reload, and the agenda marks each session of
the series with a "Series" badge."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory
from bookings.models import Booking, BookingStatus
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from tests_browser.conftest import DESKTOP, PHONE
from tests_browser.test_accessibility import american, axe_script, serious_violations  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")


def shot(page: Page, name: str) -> None:
    """Screenshots for people to look at, when BROWSER_TEST_SHOTS names a folder."""
    folder = os.environ.get("BROWSER_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_coach_answers_a_series_once(sign_in) -> None:
    coach = open_coach(timezone="Europe/Paris", hours=(8, 20), series_requires_approval=True)
    tutoring = SessionTypeFactory(coach=coach, title="Spanish tutoring", duration_minutes=60)
    sofia = ClientFactory(name="Sofia Marquez", timezone="Europe/Madrid")
    first_day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=2)
    first = dt.datetime.combine(first_day, dt.time(18), tzinfo=PARIS)
    series, _outcomes = series_services.book_series(
        client=sofia, session_type=tutoring, start=first, count=8, notes="Conversation practice before my move."
    )
    bookings = list(Booking.objects.filter(series=series).order_by("session__start"))
    assert {booking.status for booking in bookings} == {BookingStatus.REQUESTED}

    page = sign_in(coach.email, "Europe/Paris")
    page.goto("/coach/")
    item = page.locator(f"#series-request-{series.pk}")
    expect(item).to_contain_text("Sofia Marquez")
    expect(item).to_contain_text(f"from {first.day} {first:%b}, 8 sessions")
    expect(item.get_by_test_id("series-date")).to_have_count(8)
    expect(page.get_by_test_id("request-row")).to_have_count(0)
    expect(page.locator("#requests-count")).to_have_text("1")
    shot(page, "series-coach-1-queue.png")

    third = item.locator(f"[data-testid=series-date][data-reference='{bookings[2].reference}']")
    third.get_by_test_id("decline-one-toggle").click()
    third.get_by_test_id("decline-one-reason").fill("I'm away that week.")
    shot(page, "series-coach-2-decline-one.png")
    third.get_by_test_id("decline-one-button").click()
    item = page.locator(f"#series-request-{series.pk}")
    expect(item.get_by_test_id("row-notice")).to_contain_text("the rest of the series still waits")
    expect(item.locator(f"[data-reference='{bookings[2].reference}']")).to_contain_text("Declined")

    item.get_by_test_id("approve-series-button").click()
    item = page.locator(f"#series-request-{series.pk}")
    expect(item.get_by_test_id("row-notice")).to_contain_text("Series approved: 7 sessions are confirmed.")
    expect(page.locator("#requests-count")).to_have_text("0")
    expect(page.get_by_test_id("series-badge").first).to_be_visible()
    expect(page.get_by_test_id("running-series-link")).to_contain_text("7 of 7 left")
    shot(page, "series-coach-3-approved.png")
    statuses = list(Booking.objects.filter(series=series).order_by("session__start").values_list("status", flat=True))
    assert statuses.count(BookingStatus.CONFIRMED) == 7 and statuses[2] == BookingStatus.DECLINED


@pytest.mark.django_db(transaction=True)
def test_a_series_request_on_the_dashboard_has_no_serious_accessibility_violation(american) -> None:  # noqa: F811
    coach = open_coach(timezone="Europe/Paris", hours=(8, 20), series_requires_approval=True)
    tutoring = SessionTypeFactory(coach=coach, title="Spanish tutoring", duration_minutes=60)
    first_day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=1)
    first = dt.datetime.combine(first_day, dt.time(18), tzinfo=PARIS)
    series_services.book_series(client=ClientFactory(), session_type=tutoring, start=first, count=4)
    found = []
    for viewport in (DESKTOP, PHONE):
        page = american(coach.email, viewport=viewport)
        page.goto("/coach/")
        expect(page.get_by_test_id("series-request")).to_have_count(1)
        page.get_by_test_id("decline-one-toggle").first.click()
        page.get_by_test_id("decline-series-toggle").click()
        found += [f"{viewport['width']}px {line}" for line in serious_violations(page)]
        page.goto("/coach/settings/#series")
        found += [f"{viewport['width']}px {line}" for line in serious_violations(page)]
    assert found == []
