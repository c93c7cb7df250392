"""The main pages under the Content-Security-Policy in Chromium: each role goes through its
pages and uses what their scripts do (the wizard, the availability editor's htmx edits,
confirm dialogs, dismissing messages, the notification settings, the back office with its
forms and the email preview, the API docs), and the browser reports no policy violation and
no console error on any of them.

Violations are collected by a ``securitypolicyviolation`` listener installed before any page
script runs (``window.__csp``), and read before each navigation away.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Dialog, Page, expect

from accounts.tests.factories import AdminFactory, ClientFactory, StaffFactory
from availability.selectors import free_slots
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications.models import CalendarFeed
from tests_browser.conftest import DESKTOP, TIMEOUT_MS, fill_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")

COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__csp.push({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    where: event.sourceFile + ":" + event.lineNumber,
  });
});
"""


class Watched:
    """A signed-in (or visitor's) page whose violations and console errors are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text} ({self.page.url})")

    def check(self) -> None:
        """Everything reported on the current document so far, then nothing is pending."""
        violations = self.page.evaluate("window.__csp || []")
        self.problems.extend(f"CSP violation on {self.page.url}: {v}" for v in violations)
        self.page.evaluate("window.__csp = []")
        assert self.problems == []

    def goto(self, path: str) -> Page:
        self.check()
        self.page.goto(path)
        return self.page


@pytest.fixture
def watch(browser: Browser, live_server) -> Iterator:
    contexts = []

    def make(email: str | None = None, zone: str = "Europe/Paris") -> Watched:
        context = browser.new_context(base_url=live_server.url, timezone_id=zone, locale="en-GB", viewport=DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(COLLECT_VIOLATIONS)
        contexts.append(context)
        watched = Watched(context.new_page())
        if email:
            fill_login(watched.page, email)
            watched.check()
        return watched

    yield make
    for context in contexts:
        context.close()


def coach_with_a_session_type():
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save()
    return coach, SessionTypeFactory(coach=coach, title="Coaching session", duration_minutes=60)


def test_the_policy_really_is_enforced(watch) -> None:
    # The collector itself: an inline script added to a page is refused and reported.
    visitor = watch()
    page = visitor.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.append(s); }"
    )

    expect(page.locator("body")).to_be_visible()
    assert page.evaluate("window.ran") is None
    violations = page.evaluate("window.__csp")
    assert [v["directive"] for v in violations] == ["script-src-elem"]


def test_a_visitor_and_a_client_through_the_site(watch) -> None:
    coach, session_type = coach_with_a_session_type()
    ClientFactory(email="sofia@example.com", name="Sofia Marquez", timezone="Europe/Paris")
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=2)
    slot = free_slots(coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS)[0]

    visitor = watch()
    visitor.goto("/")
    expect(visitor.page.get_by_role("link", name="Booking home")).to_be_visible()
    visitor.goto("/accounts/login/")
    visitor.goto("/api/v1/docs")
    expect(visitor.page.locator(".swagger-ui .info .title")).to_contain_text("Booking API")
    visitor.page.locator(".opblock-summary", has_text="/api/v1/coaches").first.click()
    expect(visitor.page.locator(".opblock-body").first).to_be_visible()
    visitor.check()

    # Sign in (a form post and allauth's redirect, under form-action 'self').
    client = watch("sofia@example.com")
    page = client.page
    expect(page).not_to_have_url(re.compile("/accounts/login/"))

    # The wizard: coach → day → time → confirm, the submit button guarded against a second click.
    client.goto("/book/")
    page.get_by_role("link", name="Book with Camille Laurent").click()
    calendar = page.get_by_test_id("calendar")
    link = calendar.locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    if not link.count():
        page.get_by_role("link", name=re.compile(r"^Next month")).click()
    page.get_by_test_id("calendar").locator(f"a.cal-day.free[data-date='{day.isoformat()}']").click()
    page.get_by_test_id("times").get_by_test_id("time-slot").first.click()
    page.locator("#continue").click()
    expect(page.get_by_test_id("confirm-summary")).to_contain_text(f"{slot.start.astimezone(PARIS):%H:%M}")
    page.locator("#book-submit").click()
    expect(page.get_by_test_id("booking-done")).to_contain_text("Session booked!")
    assert Booking.objects.filter(client__email="sofia@example.com").count() == 1
    client.check()

    # Notification settings: ticking a lead time chooses "my own reminders"; saved.
    client.goto("/profile/notifications/")
    expect(page.locator("#mode_usual")).to_be_checked()
    page.locator('input[name="reminders"]').first.click()
    expect(page.locator("#mode_own")).to_be_checked()
    page.get_by_test_id("save-settings").click()
    flash = page.locator(".flashes .flash").first
    expect(flash).to_be_visible()
    flash.locator(".flash-close").click()
    expect(page.locator(".flashes .flash")).to_have_count(0)
    client.check()

    # The calendar feed card: the address selects itself, changing it asks first.
    client.goto("/profile/")
    feed = page.get_by_test_id("calendar-feed-url")
    address = feed.input_value()
    feed.focus()
    assert page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart") == len(address)
    questions: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_test_id("rotate-feed").click()
    expect(feed).to_have_value(address)
    assert questions == ["Change your calendar address? The old one stops working at once."]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("rotate-feed").click()
    expect(page.get_by_test_id("calendar-feed-url")).not_to_have_value(address)
    assert CalendarFeed.objects.filter(user__email="sofia@example.com").count() == 1
    client.check()

    client.goto("/client/")
    expect(page.get_by_test_id("upcoming-sessions")).to_contain_text("Coaching session")
    client.check()


def test_a_coach_on_the_dashboard_and_in_the_availability_editor(watch) -> None:
    coach, _ = coach_with_a_session_type()

    watched = watch(coach.email)
    page = watched.page
    watched.goto("/coach/")
    expect(page.get_by_test_id("coach-live")).to_be_visible()
    # The live region is polled by htmx; let one poll go through.
    with page.expect_response(lambda response: "live" in response.url, timeout=15_000):
        pass
    watched.check()

    watched.goto("/coach/availability/")
    week = page.get_by_test_id("week")
    status = page.locator("#editor-status")
    page.once("dialog", lambda dialog: dialog.accept())
    week.locator("#day-0").get_by_role("button", name=re.compile("Clear")).click()
    expect(week.locator("#day-0 .window-none")).to_have_text("Not available")
    saturday_form = week.locator("#day-5")
    saturday_form.get_by_role("button", name=re.compile("Remove")).first.click()
    expect(status).to_contain_text("Removed Saturday")
    status.locator(".flash-close").first.click()
    expect(status.locator(".flash")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    week.get_by_role("button", name="Use default pattern").click()
    expect(week.locator("#day-0 .window-time")).to_have_text(["09:00–12:00", "13:00–17:00"])
    watched.check()


def test_staff_and_an_admin_in_the_back_office(watch) -> None:
    _, session_type = coach_with_a_session_type()
    StaffFactory(email="stella@example.com", name="Stella Staff")
    AdminFactory(email="ada@example.com", name="Ada Admin")

    staff = watch("stella@example.com")
    staff.goto("/staff/")
    expect(staff.page.get_by_test_id("staff-bookings")).to_be_visible()
    staff.check()

    admin = watch("ada@example.com")
    page = admin.page
    admin.goto("/admin/")
    expect(page.get_by_role("heading", name="Back office")).to_be_visible()
    admin.goto("/admin/bookings/sessiontype/")
    page.get_by_role("link", name="Coaching session").click()
    expect(page.locator("#sessiontype_form")).to_be_visible()
    page.locator("input[name=title]").fill("Coaching session, longer")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    session_type.refresh_from_db()
    assert session_type.title == "Coaching session, longer"
    admin.check()

    # The message template editor with its email preview (a srcdoc frame).
    admin.goto("/admin/notifications/messagetemplate/")
    expect(page.get_by_test_id("template-coverage")).to_be_visible()
    admin.goto("/admin/notifications/messagetemplate/add/?kind=confirmed&channel=email")
    page.get_by_role("button", name="Preview").or_(page.locator("input[value=Preview]")).first.click()
    frame = page.frame_locator("[data-testid=preview-html]")
    expect(frame.get_by_role("link", name="View the booking")).to_be_visible()
    background = frame.get_by_role("link", name="View the booking").evaluate(
        "link => getComputedStyle(link).backgroundColor"
    )
    assert background == "rgb(47, 91, 211)"  # the email's own inline style applies in the preview
    admin.check()
