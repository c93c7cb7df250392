"""The reports page in Chromium, over the practice of ``reports.tests.practice`` (two
coaches, Paris and New York, 8 bookings from 23 March to 5 April 2026):

- staff at desktop size see the overview's key figures, go through every report's tab (each
  page with its chart and table, the range kept), narrow one to the Paris coach with the
  filter, open every report on one page and print it, download the bookings as CSV, and
  get a warning (not an error) for a date that can't be read;
- the Paris coach on a phone goes through their own reports, each page fitting the screen;
- no serious or critical axe finding on the overview and the busiest page (popular times),
  for staff and for the coach;
- a client gets the product's 404.

Full-page screenshots go to ``BROWSER_TEST_SHOTS`` when set, else to the test's tmp_path.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings.export import COLUMNS
from reports.tests.practice import FIRST, LAST, practice  # noqa: F401  (the fixture)
from tests_browser.conftest import DESKTOP, PHONE
from tests_browser.test_accessibility import american, axe_script, serious_violations  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = f"/reports/?start={FIRST.isoformat()}&end={LAST.isoformat()}"
# Each report page's section (the overview's is volume), each with a chart but the last (the
# coaches' table alone), and the tabs that lead to them: a staff member looking at every
# coach has them all; a coach, or a chosen coach, all but the last.
SECTIONS = ["volume", "cancellations", "utilisation", "popular-times", "conversion", "revenue", "clients", "coaches"]
TABS = ["Overview", "Cancellations", "Utilisation", "Popular times", "Conversion", "Revenue", "Clients", "Coaches"]


def shot(page: Page, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("BROWSER_TEST_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    return path


def key_figures(page: Page) -> dict[str, str]:
    """The key figures at the top of the page, label → value as shown."""
    return page.get_by_test_id("report-kpis").evaluate(
        "dl => Object.fromEntries([...dl.querySelectorAll('.report-kpi')].map("
        "k => [k.querySelector('dt').textContent.trim(), k.querySelector('dd').textContent.trim()]))"
    )


def shows_section(page: Page, slug: str) -> None:
    """The page's one section: a heading, a definition, a table with its CSV and (but the
    coaches') a chart."""
    found = page.locator("section.report-section").evaluate_all("sections => sections.map(s => s.id)")
    assert found == [slug]
    section = page.get_by_test_id(f"report-section-{slug}")
    expect(section.get_by_role("heading", level=2)).to_be_visible()
    expect(section.locator(".report-definition")).not_to_be_empty()
    if slug != "coaches":
        expect(section.locator("figure.report-chart svg[role=img]").first).to_be_visible()
    expect(section.locator("table.report-table").first).to_be_visible()
    expect(section.locator("table.report-table caption a", has_text="CSV").first).to_be_visible()


def tab_labels(page: Page) -> list[str]:
    return page.get_by_test_id("report-tabs").get_by_role("link").all_inner_texts()


def walk_tabs(page: Page, on_each=None) -> None:
    """Click each tab after the overview in turn: the page of that report, with the filters of
    the page before (the range, a chosen coach) and its tab marked as the current one."""
    query = page.url.split("?", 1)[1]
    for label, slug in zip(tab_labels(page)[1:], SECTIONS[1:], strict=False):
        page.get_by_test_id("report-tabs").get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(re.compile(rf"/reports/{slug}/\?"))
        assert page.url.split("?", 1)[1] == query
        expect(page.get_by_test_id("report-tabs").locator("[aria-current=page]")).to_have_text(label)
        expect(page.get_by_test_id("report-kpis")).to_have_count(0)  # the overview's alone
        shows_section(page, slug)
        if on_each:
            on_each(slug)


def download_bookings(page: Page) -> list[list[str]]:
    """The rows of "Bookings as CSV" as the page links it (its filters included)."""
    with page.expect_download() as info:
        page.get_by_test_id("export-bookings").click()
    download = info.value
    assert re.fullmatch(r"bookings-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_staff_read_every_coach_then_one(sign_in, practice, tmp_path) -> None:  # noqa: F811
    staff = StaffFactory(timezone="Europe/Paris")
    page = sign_in(staff.email, "Europe/Paris", DESKTOP)
    response = page.goto(REPORT)
    assert response is not None and response.ok

    expect(page.get_by_test_id("report-title")).to_have_text("Every coach")
    expect(page.get_by_test_id("report-range")).to_contain_text("23 Mar 2026 – 5 Apr 2026")
    every = key_figures(page)
    assert every["Bookings"] == "8", every
    assert every["Revenue"] == "240.00 EUR\n100.00 USD"  # both currencies
    assert tab_labels(page) == TABS
    expect(page.get_by_test_id("report-tabs").locator("[aria-current=page]")).to_have_text("Overview")
    shows_section(page, "volume")
    shot(page, tmp_path, "reports-staff-desktop.png")

    rows = download_bookings(page)
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 1 + 8

    def each(slug: str) -> None:
        if slug == "popular-times":
            shot(page, tmp_path, "reports-staff-popular-times.png")

    walk_tabs(page, each)
    # The last tab: both coaches side by side.
    coaches = page.get_by_test_id("report-table-coaches")
    expect(coaches.locator("tbody tr")).to_have_count(2)
    expect(coaches).to_contain_text(practice["paris"].display_name)
    expect(coaches).to_contain_text(practice["new_york"].display_name)

    # The Paris coach alone, chosen on the revenue page: the filter keeps the page; euros
    # only; no coaches' tab.
    page.get_by_test_id("report-tabs").get_by_role("link", name="Revenue", exact=True).click()
    page.get_by_role("combobox", name="Coach", exact=True).select_option(str(practice["paris"].pk))
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(rf"/reports/revenue/\?.*coach={practice['paris'].pk}"))
    expect(page.get_by_test_id("report-title")).to_have_text(f"{practice['paris'].display_name}'s figures")
    expect(page.get_by_role("combobox", name="Coach", exact=True)).to_have_value(str(practice["paris"].pk))
    assert tab_labels(page) == TABS[:-1]
    expect(page.get_by_test_id("report-table-revenue-by-coach").locator("tbody tr")).to_have_count(1)
    # Its overview: 6 bookings, 2 of 5 not declined cancelled (40%, not 2/7 = 29%).
    page.get_by_test_id("report-tabs").get_by_role("link", name="Overview", exact=True).click()
    page.wait_for_url(re.compile(rf"/reports/\?.*coach={practice['paris'].pk}"))
    paris = key_figures(page)
    assert list(paris) == list(every)
    assert paris["Bookings"] == "6"
    assert (every["Cancellation rate"], paris["Cancellation rate"]) == ("29%", "40%")
    assert paris["Revenue"] == "240.00 EUR"

    # Every report of the Paris coach on one page, printed without the filters and the tabs.
    page.get_by_test_id("report-all").click()
    page.wait_for_url(re.compile(rf"/reports/all/\?.*coach={practice['paris'].pk}"))
    found = page.locator("section.report-section").evaluate_all("sections => sections.map(s => s.id)")
    assert found == SECTIONS[:-1]
    assert key_figures(page) == paris
    page.emulate_media(media="print")
    expect(page.get_by_test_id("report-filters")).to_be_hidden()
    expect(page.get_by_test_id("report-tabs")).to_be_hidden()
    expect(page.get_by_test_id("report-section-revenue").locator("svg[role=img]").first).to_be_visible()
    shot(page, tmp_path, "reports-paris-all-print.png")
    page.emulate_media(media="screen")

    rows = download_bookings(page)
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 1 + 6
    coach_names = {row[COLUMNS.index("coach_name")] for row in rows[1:]}
    assert coach_names == {practice["paris"].name}

    # A date that can't be read: the page, with a warning and the default range.
    response = page.goto("/reports/?start=2026-02-31&end=2026-04-05")
    assert response is not None and response.status == 200
    expect(page.get_by_test_id("report-problem")).to_have_text(
        "The first day could not be read (YYYY-MM-DD); showing the default range."
    )
    expect(page.get_by_test_id("report-kpis")).to_be_visible()


def test_a_coach_reads_their_practice_on_a_phone(sign_in, practice, tmp_path) -> None:  # noqa: F811
    page = sign_in(practice["paris"].email, "Europe/Paris", PHONE)
    response = page.goto(REPORT)
    assert response is not None and response.ok

    expect(page.get_by_test_id("report-title")).to_have_text("Your practice")
    filters = page.get_by_test_id("report-filters")
    expect(filters).to_be_visible()
    expect(filters.locator("select[name=coach]")).to_have_count(0)
    expect(filters.locator("select[name=room]")).to_have_count(0)
    figures = key_figures(page)
    assert figures["Bookings"] == "6"
    assert tab_labels(page) == TABS[:-1]
    shows_section(page, "volume")
    fits_a_phone(page)
    shot(page, tmp_path, "reports-coach-phone.png")

    def each(slug: str) -> None:
        fits_a_phone(page)
        if slug == "cancellations":
            # A short table fits (its long row name wraps).
            who = page.get_by_role("region", name="Who cancelled", exact=True)
            assert who.evaluate("w => w.scrollWidth <= w.clientWidth")
        if slug == "popular-times":
            # The wide tables (24 hours a row) scroll in their own box, no wider than the screen...
            wrap = page.get_by_test_id("report-section-popular-times").locator(".report-table-wrap").first
            sizes = wrap.evaluate("w => [w.scrollWidth, w.clientWidth, w.getBoundingClientRect().right]")
            assert sizes[0] > sizes[1] and sizes[2] <= PHONE["width"]
            # ...and a heatmap keeps a readable width and scrolls in its own box.
            heat = page.get_by_test_id("report-section-popular-times").locator(".report-chart-scroll").first
            assert heat.evaluate("w => w.scrollWidth > w.clientWidth && w.querySelector('svg').clientWidth >= 480")
            shot(page, tmp_path, "reports-coach-phone-popular-times.png")

    walk_tabs(page, each)


def fits_a_phone(page: Page) -> None:
    """The page itself never scrolls sideways (a wide table or a heatmap scrolls inside its
    own box), the tabs wrap with the current one in sight, and every chart fits within its
    section's card."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    current = page.get_by_test_id("report-tabs").locator("[aria-current=page]")
    box = current.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    misfits = page.evaluate(
        """() => [...document.querySelectorAll('section.report-section svg[role=img]')].flatMap(svg => {
            // A heatmap scrolls inside its own box: that box is what must fit.
            const chart = (svg.closest('.report-chart-scroll') || svg).getBoundingClientRect();
            const card = svg.closest('section').getBoundingClientRect();
            const fits = chart.width > 0 && chart.left >= card.left - 0.5 && chart.right <= card.right + 0.5;
            return fits ? [] : [`${svg.id}: ${chart.left}–${chart.right} in ${card.left}–${card.right}`];
        })"""
    )
    assert misfits == []


def test_no_serious_accessibility_violation_on_the_report(american, practice) -> None:  # noqa: F811
    staff = StaffFactory(timezone="Europe/Paris")
    found = []
    for email, viewport in ((staff.email, DESKTOP), (practice["paris"].email, PHONE)):
        page = american(email, viewport=viewport)
        for url in (REPORT, REPORT.replace("/reports/", "/reports/popular-times/")):
            response = page.goto(url)
            assert response is not None and response.ok
            found += [f"{viewport['width']}px {url} {line}" for line in serious_violations(page)]
        page.context.close()
    assert found == []


def test_a_client_gets_the_404_page(sign_in) -> None:
    client = ClientFactory(timezone="Europe/Paris")
    page = sign_in(client.email, "Europe/Paris")
    response = page.goto("/reports/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_test_id("report-kpis")).to_have_count(0)
