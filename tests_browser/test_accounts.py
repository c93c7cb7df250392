"""Sign-up with email verification, role dashboards after logging in, and the product's 404."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, CoachFactory

pytestmark = pytest.mark.browser

CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def confirmation_link(email: str) -> str:
    messages = [m for m in mail.outbox if email in m.to]
    assert len(messages) == 1, [m.subject for m in mail.outbox]
    match = CONFIRM_LINK.search(messages[0].body)
    assert match, messages[0].body
    return match.group(0)


def expect_client_dashboard(page: Page, timezone_name: str) -> None:
    expect(page).to_have_url(re.compile(r"/client/$"))
    expect(page.get_by_test_id("upcoming-sessions")).to_contain_text("Upcoming sessions")
    expect(page.get_by_test_id("viewer-timezone")).to_have_text(re.compile(rf"Times shown in {timezone_name}\b"))


def test_visitor_signs_up_verifies_email_and_logs_back_in(page: Page, log_in) -> None:
    email, password = "nadia.new@example.com", "a-Long-and-unusual-passw0rd"

    page.goto("/")
    page.get_by_role("link", name="Create a free account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))

    page.locator("input[name=name]").fill("Nadia Newcomer")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(password)
    page.locator("input[name=password2]").fill(password)
    # static/js/app.js selects the browser's zone (the context's timezone_id) on load.
    expect(page.locator("select[name=timezone]")).to_have_value("Europe/Paris")
    page.locator("form[action$='/accounts/signup/'] [type=submit]").click()

    expect(page.get_by_role("heading", name=re.compile("verify your email", re.I))).to_be_visible()
    assert User.objects.get(email=email).timezone == "Europe/Paris"

    page.goto(confirmation_link(email))
    expect(page.get_by_role("heading", name=re.compile("confirm email", re.I))).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect_client_dashboard(page, "Europe/Paris")
    expect(page.get_by_role("heading", name="Hello, Nadia")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()

    log_in(email, password)
    expect_client_dashboard(page, "Europe/Paris")


def test_coach_logs_in_and_sees_the_coach_dashboard(page: Page, log_in) -> None:
    CoachFactory(email="coach@example.com", name="Carl Coach", password=PASSWORD)

    log_in("coach@example.com")

    expect(page).to_have_url(re.compile(r"/coach/$"))
    expect(page.get_by_test_id("agenda")).to_contain_text("Today's agenda")
    expect(page.get_by_test_id("pending-requests")).to_contain_text("Pending requests")
    expect(page.get_by_test_id("viewer-timezone")).to_contain_text("America/New_York")


def test_client_opening_the_coach_dashboard_gets_the_product_404(page: Page, log_in) -> None:
    ClientFactory(email="client@example.com", name="Chloé Client")
    log_in("client@example.com")

    response = page.goto("/coach/")

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Your dashboard")).to_be_visible()
    expect(page.locator("header.topbar")).to_be_visible()  # the product's page, not a bare server error
