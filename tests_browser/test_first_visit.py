"""What a newcomer meets first: times in their own zone on the very first page, signed in
by confirming their email (in the same browser or on another device), one "Forgot your
password?" on the login page, and no 404 for the icon on back-office pages."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accounts.tests.factories import ClientFactory, CoachFactory
from availability.selectors import free_slots
from bookings.tests.factories import SessionTypeFactory, open_coach
from tests_browser.conftest import PHONE

pytestmark = pytest.mark.browser

KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45: no whole-hour mistake can pass
CONFIRM_LINK = re.compile(r"https?://\S+(/accounts/confirm-email/\S+/)")


@pytest.fixture
def timezone_id() -> str:
    return "Asia/Kathmandu"


@pytest.mark.django_db(transaction=True)
def test_a_visitors_first_page_shows_times_in_their_zone(page: Page) -> None:
    coach = open_coach(timezone="America/New_York", minimum_notice_hours=2)
    session_type = SessionTypeFactory(coach=coach, title="Tutoring session", duration_minutes=60)
    day = dt.datetime.now(KATHMANDU).date() + dt.timedelta(days=2)
    slots = free_slots(coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=KATHMANDU)
    assert slots

    # No cookie yet: this is the browser's first request to the site.
    page.goto(f"/book/{coach.pk}/{session_type.pk}/?date={day.isoformat()}")

    expect(page.get_by_test_id("viewer-timezone")).to_contain_text("Asia/Kathmandu")
    times = page.get_by_test_id("times")
    expect(times.get_by_test_id("times-timezone")).to_contain_text("Asia/Kathmandu")
    expect(times.get_by_test_id("time-slot").first).to_have_text(f"{slots[0].start.astimezone(KATHMANDU):%H:%M}")
    assert page.evaluate("document.documentElement.hasAttribute('data-timezone-unknown')") is False


@pytest.mark.django_db(transaction=True)
def test_the_first_page_is_loaded_again_only_once(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda request: request.resource_type == "document" and requests.append(request.url))

    page.goto("/")
    expect(page.get_by_test_id("viewer-timezone")).to_contain_text("Asia/Kathmandu")
    page.goto("/accounts/login/")
    expect(page.get_by_test_id("viewer-timezone")).to_contain_text("Asia/Kathmandu")

    paths = [re.sub(r"^https?://[^/]+", "", url) for url in requests]
    assert paths == ["/", "/", "/accounts/login/"]


@pytest.mark.django_db(transaction=True)
def test_a_browser_that_refuses_cookies_is_not_sent_round_in_circles(browser: Browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Kathmandu")
    context.route("**/*", lambda route: route.continue_(headers={**route.request.headers, "cookie": ""}))
    page = context.new_page()
    page.add_init_script("Object.defineProperty(document, 'cookie', {get: () => '', set: () => true});")
    documents: list[str] = []
    page.on("request", lambda request: request.resource_type == "document" and documents.append(request.url))

    page.goto("/")
    expect(page.get_by_test_id("viewer-timezone")).to_contain_text("UTC")
    page.wait_for_timeout(300)

    assert len(documents) == 1
    context.close()


def _sign_up(page: Page, email: str) -> str:
    password = "a-Long-and-unusual-passw0rd"
    page.goto("/accounts/signup/")
    page.locator("input[name=name]").fill("Nadia Newcomer")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(password)
    page.locator("input[name=password2]").fill(password)
    page.locator("form[action$='/accounts/signup/'] [type=submit]").click()
    expect(page.get_by_role("heading", name=re.compile("verify your email", re.I))).to_be_visible()
    (message,) = [m for m in mail.outbox if email in m.to]
    match = CONFIRM_LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def _confirm(page: Page, path: str) -> None:
    page.goto(path)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/client/$"))
    expect(page.get_by_role("heading", name="Hello, Nadia")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_confirming_the_email_signs_in_where_one_signed_up(page: Page) -> None:
    link = _sign_up(page, "nadia.same@example.com")

    _confirm(page, link)


@pytest.mark.django_db(transaction=True)
def test_confirming_the_email_on_another_device_signs_in_there(page: Page, browser: Browser, live_server) -> None:
    link = _sign_up(page, "nadia.phone@example.com")
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})

    _confirm(phone.new_page(), link)

    phone.close()


@pytest.mark.django_db(transaction=True)
def test_the_login_page_offers_the_password_reset_once(page: Page) -> None:
    page.goto("/accounts/login/")

    expect(page.get_by_role("link", name="Forgot your password?")).to_have_count(1)


@pytest.mark.django_db(transaction=True)
def test_back_office_pages_ask_for_no_missing_icon(page: Page, log_in) -> None:
    ClientFactory(email="admin@example.com", name="Ada Admin", is_staff=True, is_superuser=True)
    missing: list[str] = []
    page.on("response", lambda response: response.status == 404 and missing.append(response.url))

    log_in("admin@example.com")
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/", "/admin/password_change/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")

    assert missing == []
    icon = page.request.get("/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/")


@pytest.mark.django_db(transaction=True)
def test_a_client_sees_no_api_tokens_card_but_a_coach_does(sign_in) -> None:
    ClientFactory(email="client@example.com", name="Chloé Client")
    CoachFactory(email="coach@example.com", name="Carl Coach")

    client = sign_in("client@example.com", "Europe/Paris", PHONE)
    client.goto("/profile/")
    expect(client.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(client.get_by_role("heading", name="API tokens")).to_be_hidden()
    client.get_by_text("Developer", exact=True).click()  # behind "Developer", for the few who script
    expect(client.get_by_role("heading", name="API tokens")).to_be_visible()

    coach = sign_in("coach@example.com", "Europe/Paris")
    coach.goto("/profile/")
    expect(coach.get_by_role("heading", name="API tokens")).to_be_visible()
