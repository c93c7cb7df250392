"""Forms and pages as people with other browsers, screens and needs meet them.

- Times are typed as the site shows them, 24-hour HH:MM, even in a browser set to American
  English (whose ``<input type=time>`` and ``datetime-local`` show "12:00 PM").
- The time-zone picker is searchable by city, region or UTC offset and offers canonical zones.
- Long forms: a counter under capped text, an error summary linking to each field, and the
  booking settings split into sections reached from links at the top.
- axe-core (npm, pinned in ``tests_browser/axe/package-lock.json``, installed here with
  ``npm ci`` the first time) finds no serious or critical violation on the main pages of a
  visitor, a client, a coach and staff, and on the waitlist's and workshops' pages, at
  desktop and phone size.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from accounts.tests.factories import ClientFactory, StaffFactory
from availability.selectors import free_slots
from bookings import relay, services
from bookings.models import Booking, Session, SessionKind
from bookings.services import workshops
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.inputs import canonical_zones
from notifications.models import Kind, Notification
from tests_browser.conftest import DESKTOP, PHONE, TIMEOUT_MS, fill_login
from waitlist import services as waitlist
from waitlist.models import WaitlistOffer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
AXE = Path(__file__).parent / "axe"
AXE_SCRIPT = AXE / "node_modules" / "axe-core" / "axe.min.js"
TIME_INPUT = "input[data-time-input]"
BROWSER_TIME_INPUTS = "input[type=time], input[type=datetime-local]"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from the lock file (``npm ci``) if it isn't installed yet."""
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm") or "/usr/bin/npm"
        if not Path(npm).exists():
            pytest.fail("The accessibility check needs npm (apt-get install nodejs npm) to install axe-core.")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AXE,
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "npm_config_cache": str(AXE / ".npm-cache")},
        )
    return AXE_SCRIPT


@pytest.fixture
def american(browser: Browser, live_server, axe_script: Path) -> Iterator:
    """``american(email=None, viewport=DESKTOP)`` → a page in a browser set to American
    English in New York (12-hour clock, month/day/year), signed in when given an email,
    with axe-core loaded in every document (an init script, so the page's policy allows it)."""
    contexts = []

    def make(email: str | None = None, viewport: dict | None = None) -> Page:
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", timezone_id="America/New_York", viewport=viewport or DESKTOP
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(path=str(axe_script))
        contexts.append(context)
        page = context.new_page()
        return fill_login(page, email) if email else page

    yield make
    for context in contexts:
        context.close()


def serious_violations(page: Page) -> list[str]:
    """axe's serious and critical findings on the page as it is now, one line each."""
    page.wait_for_load_state("networkidle")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url} {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]} "
        f"{v['nodes'][0]['failureSummary'].splitlines()[1:2]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def a_request(coach: User, client: User, title: str = "Coaching session") -> Booking:
    """A one-on-one request (the coach asks approval of clients not connected yet), the
    day after tomorrow at the first free hour."""
    session_type = SessionTypeFactory(coach=coach, title=title, duration_minutes=60)
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=2)
    slot = free_slots(coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS)[0]
    return services.book_slot(client=client, session_type=session_type, start=slot.start)


# --- 24-hour times ------------------------------------------------------------------------


def test_times_are_typed_24_hour_in_an_american_browser(american) -> None:
    coach = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
    GroupTypeFactory(coach=coach, title="Leadership circle")
    request = a_request(coach, ClientFactory(timezone="Europe/Paris"))
    page = american(coach.email)

    # Every page where a coach types a time: no browser time box (12-hour in en-US), only
    # HH:MM text boxes.
    for path in ("/coach/availability/", "/dashboard/", f"/bookings/{request.reference}/"):
        page.goto(path)
        assert page.locator(BROWSER_TIME_INPUTS).count() == 0, path
        boxes = page.locator(TIME_INPUT)
        assert boxes.count() > 0, path
        for index in range(boxes.count()):
            expect(boxes.nth(index)).to_have_attribute("placeholder", "HH:MM")

    # A Saturday evening window typed loosely ("18", "2130") is read as 18:00–21:30.
    page.goto("/coach/availability/")
    saturday = page.locator("#day-5")
    saturday.locator("details.window-add summary").click()
    add = saturday.get_by_role("form", name="Add a Saturday window")
    add.get_by_label("Start").fill("18")
    add.get_by_label("End").fill("2130")
    add.get_by_label("End").blur()
    expect(add.get_by_label("Start")).to_have_value("18:00")
    expect(add.get_by_label("End")).to_have_value("21:30")
    add.get_by_role("button", name="Add").click()
    expect(page.locator("#day-5")).to_contain_text("18:00–21:30")

    # A group session published with the date picker and a 24-hour time starts at 14:30 Paris.
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=3)
    page.goto("/dashboard/")
    publish = page.get_by_test_id("publish-session")
    publish.locator("input[name=start_date]").fill(day.isoformat())
    publish.get_by_role("textbox", name="Time, 24-hour").fill("14:30")
    publish.get_by_test_id("publish-button").click()
    expect(page.get_by_test_id("publish-notice")).to_be_visible()
    session = Session.objects.get(session_type__coach=coach, session_type__kind=SessionKind.GROUP)
    assert session.start.astimezone(PARIS).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(14, 30))


def test_staff_filter_dates_have_no_browser_time_box(american) -> None:
    staff = StaffFactory()
    page = american(staff.email)
    page.goto("/dashboard/")
    expect(page.locator("input[name=date_from]")).to_be_visible()
    assert page.locator(BROWSER_TIME_INPUTS).count() == 0


# --- the time-zone picker ------------------------------------------------------------------


def test_the_time_zone_picker_finds_cities_offsets_and_regions(american) -> None:
    page = american(viewport=PHONE)
    page.goto("/accounts/signup/")
    picker = page.get_by_role("combobox", name="Time zone")
    # Filled from the browser's zone: its city, its offset now and its name.
    expect(picker).to_have_value(re.compile(r"^New York — UTC-0[45]:00 · America/New York$"))

    # Canonical zones only (no Asia/Calcutta, no US/Eastern), grouped by region.
    values = page.locator("select[name=timezone] option").evaluate_all("options => options.map(o => o.value)")
    assert set(values) <= canonical_zones()
    assert len(values) > 300
    groups = page.locator("select[name=timezone] optgroup").evaluate_all("groups => groups.map(g => g.label)")
    assert groups == [
        "Africa",
        "Americas",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian Ocean",
        "Pacific",
    ]

    # A city: one match, under its region, with its offset.
    picker.fill("kathmandu")
    listbox = page.get_by_role("listbox", name="Time zones")
    expect(listbox.get_by_role("option")).to_have_text(["Kathmandu — UTC+05:45"])
    expect(listbox.get_by_role("group", name="Asia")).to_be_visible()
    picker.press("Enter")
    expect(listbox).to_be_hidden()
    expect(picker).to_have_value("Kathmandu — UTC+05:45 · Asia/Kathmandu")
    assert page.locator("select[name=timezone]").input_value() == "Asia/Kathmandu"

    # An offset; a region and city together; Escape keeps the choice.
    picker.fill("+05:30")
    expect(listbox.get_by_role("option")).to_have_text(["Colombo — UTC+05:30", "Kolkata — UTC+05:30"])
    picker.fill("europe par")
    expect(listbox.get_by_role("option")).to_have_text([re.compile(r"^Paris — UTC\+0[12]:00$")])
    picker.press("Escape")
    expect(picker).to_have_value("Kathmandu — UTC+05:45 · Asia/Kathmandu")
    picker.fill("atlantis")
    expect(listbox).to_contain_text("No time zone matches")


def test_a_client_changes_zone_with_the_keyboard(american) -> None:
    client = ClientFactory(timezone="Europe/Paris")
    page = american(client.email)
    page.goto("/profile/")
    picker = page.get_by_role("combobox", name="Time zone")
    expect(picker).to_have_value(re.compile(r"^Paris — UTC\+0[12]:00 · Europe/Paris$"))
    picker.focus()
    page.keyboard.type("sao paulo")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(picker).to_have_value("Sao Paulo — UTC-03:00 · America/Sao Paulo")
    page.locator("form:has(select[name=timezone]) [type=submit]").first.click()
    expect(page.get_by_test_id("viewer-timezone")).to_contain_text("America/Sao_Paulo")
    client.refresh_from_db()
    assert client.timezone == "America/Sao_Paulo"


# --- long forms ----------------------------------------------------------------------------


def test_capped_text_counts_down(american) -> None:
    coach = open_coach(timezone="Europe/Paris")
    session_type = SessionTypeFactory(coach=coach, title="Coaching session", duration_minutes=60)
    client = ClientFactory(timezone="Europe/Paris")
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=2)
    slot = free_slots(coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS)[0]
    page = american(client.email)
    start = slot.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    page.goto(f"/book/{coach.pk}/{session_type.pk}/confirm/?start={start}")

    notes = page.locator("textarea[name=notes]")
    counter = page.locator("#" + notes.get_attribute("id") + "-count")
    shown = counter.locator("[aria-hidden=true]")
    expect(shown).to_have_text("2,000 characters left")
    notes.fill("x" * 1_990)
    expect(shown).to_have_text("10 characters left")
    # Near the end it is also said (a polite live region), not on every key press before.
    expect(counter.locator(".visually-hidden")).to_have_text("10 characters left")
    expect(counter).to_have_class(re.compile("is-near"))
    assert counter.get_attribute("id") in (notes.get_attribute("aria-describedby") or "")


def test_settings_in_sections_and_errors_summed_up_on_a_phone(american) -> None:
    coach = open_coach(timezone="Europe/Paris")
    page = american(coach.email, viewport=PHONE)
    page.goto("/coach/settings/")

    # Links to each section at the top; the last one brings its fields into view.
    nav = page.get_by_role("navigation", name="Settings sections")
    expect(nav.get_by_role("link")).to_have_text(
        ["About you", "Who books straight away", "When", "Breathing room and limits", "Prices", "Recurring series"]
    )
    nav.get_by_role("link", name="Breathing room and limits").click()
    expect(page.get_by_label("Most sessions a week")).to_be_in_viewport()

    # Two mistakes: a summary at the top, focused, with a link to each field.
    page.get_by_label("Most sessions a week").fill("30")
    page.get_by_label("Most sessions a day").fill("0")
    page.get_by_label("Minimum notice (hours)").fill("")
    page.get_by_role("button", name="Save settings").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There are problems with this form")
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.first).to_contain_text("Minimum notice (hours):")
    links.last.click()
    expect(page.get_by_label("Most sessions a day")).to_be_focused()
    expect(page.get_by_label("Most sessions a day")).to_be_in_viewport()


# --- axe over the main pages ---------------------------------------------------------------


def test_no_serious_accessibility_violation_for_any_role(american) -> None:
    coach = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
    coach.name = "Camille Laurent"
    coach.save()
    client = ClientFactory(timezone="Europe/Madrid")
    request = a_request(coach, client)
    Notification.objects.create(recipient=client, kind=Kind.CONFIRMED, booking=request, title="Request sent")
    staff = StaffFactory()
    session_type = request.session.session_type

    pages = {
        None: ["/", "/book/", f"/book/{coach.pk}/", f"/book/{coach.pk}/{session_type.pk}/", "/accounts/login/",
               "/accounts/signup/"],
        client.email: ["/dashboard/", f"/bookings/{request.reference}/", "/notifications/", "/profile/",
                       "/connections/"],
        coach.email: ["/dashboard/", "/coach/availability/", "/coach/settings/", "/coach/session-types/",
                      "/coach/calendar/", f"/bookings/{request.reference}/"],
        staff.email: ["/dashboard/", "/notifications/", "/profile/"],
    }  # fmt: skip
    found = []
    for viewport in (DESKTOP, PHONE):
        for email, paths in pages.items():
            page = american(email, viewport=viewport)
            for path in paths:
                response = page.goto(path)
                assert response is not None and response.ok, path
                found += [f"{viewport['width']}px {line}" for line in serious_violations(page)]
            page.context.close()
    assert found == []


def test_links_in_text_are_underlined_and_the_unread_marker_is_text(american) -> None:
    client = ClientFactory(timezone="Europe/Paris")
    Notification.objects.create(recipient=client, kind=Kind.CONFIRMED, title="Booking confirmed")
    page = american()
    page.goto("/accounts/signup/")
    link = page.locator("main p a[href$='/accounts/login/']")
    assert link.evaluate("a => getComputedStyle(a).textDecorationLine") == "underline"

    page = american(client.email)
    page.goto("/notifications/")
    title = page.get_by_test_id("notification").first.locator(".notification-title")
    # Screen readers hear "Unread:" (real text), not an unlabelled dot.
    expect(title.get_by_test_id("unread-label")).to_have_text("Unread:")
    assert title.locator(".dot").get_attribute("aria-hidden") == "true"


def test_no_serious_accessibility_violation_on_waitlist_and_workshop_pages(american) -> None:
    coach = open_coach(timezone="Europe/Paris")
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=1, price=0)
    start = (timezone.now() + dt.timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    session = services.publish_session(actor=coach, session_type=circle, start=start)
    holder, waiting, second = ClientFactory(), ClientFactory(), ClientFactory()
    seat = services.take_seat(client=holder, session=session)
    waitlist.join(actor=waiting, client=waiting, session=session)
    waitlist.join(actor=second, client=second, session=session)
    services.cancel(booking=seat, actor=holder)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    workshop_type = GroupTypeFactory(
        coach=coach, title="Workshop", kind=SessionKind.WORKSHOP, capacity=5, min_participants=2, show_participants=True
    )
    workshop = services.publish_session(actor=coach, session_type=workshop_type, start=start + dt.timedelta(days=2))
    booked = services.take_seat(client=holder, session=workshop)
    workshops.add_material(actor=coach, session=workshop, title="Reading", url="https://example.com/read")
    consult = SessionTypeFactory(coach=coach, title="Consultation")
    taker = offer.entry.client

    pages = {
        taker.email: ["/waitlist/", f"/waitlist/offers/{offer.pk}/", f"/waitlist/times/{consult.pk}/", "/dashboard/"],
        holder.email: [f"/bookings/{booked.reference}/"],
        coach.email: [f"/waitlist/session/{session.pk}/", f"/coach/sessions/{workshop.pk}/"],
    }
    found = []
    for viewport in (DESKTOP, PHONE):
        for email, paths in pages.items():
            page = american(email, viewport=viewport)
            for path in paths:
                response = page.goto(path)
                assert response is not None and response.ok, path
                found += [f"{viewport['width']}px {line}" for line in serious_violations(page)]
            page.context.close()
    assert found == []
