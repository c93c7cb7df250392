"""Playwright fixtures for the browser tests: one Chromium per session, a fresh context per test.

The browser is Debian's Chromium (``/usr/bin/chromium``); ``playwright install`` is never used.
Tests run against pytest-django's ``live_server`` (a thread of this process, transactional DB),
so mail sent by the app lands in ``django.core.mail.outbox``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from accounts.tests.factories import PASSWORD

CHROMIUM = Path(os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    # Playwright's sync API keeps an asyncio loop running in this thread; Django then refuses
    # ORM calls from the test (factories, DB flushes, outbox reads) unless this is set. Set
    # only while Playwright runs, so `pytest -m "not browser"` keeps Django's safety check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            yield pw
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's Chromium "
            "(apt-get install chromium) or BROWSER_TEST_CHROMIUM=/path/to/chromium; "
            "`playwright install` is not used.",
            pytrace=False,
        )
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def viewport() -> dict[str, int]:
    """Override per test with ``@pytest.mark.parametrize("viewport", [PHONE])`` or a local fixture."""
    return DESKTOP


@pytest.fixture
def timezone_id() -> str:
    """The browser's time zone (what ``Intl.DateTimeFormat`` reports to static/js/app.js)."""
    return "Europe/Paris"


@pytest.fixture
def context_options(viewport: dict[str, int], timezone_id: str) -> dict[str, Any]:
    return {"viewport": viewport, "timezone_id": timezone_id, "locale": "en-GB"}


@pytest.fixture
def page(browser: Browser, live_server: Any, context_options: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def fill_login(page: Page, email: str, password: str = PASSWORD) -> Page:
    """Sign in through the real login form and wait to be sent on."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action$='/accounts/login/'] [type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


@pytest.fixture
def log_in(page: Page):
    """``log_in(email)`` fills the real login form and waits for the dashboard redirect."""

    def do(email: str, password: str = PASSWORD) -> Page:
        return fill_login(page, email, password)

    return do


@pytest.fixture
def sign_in(browser: Browser, live_server):
    """``sign_in(email, zone, viewport)`` → a page in a fresh browser context (that time
    zone, British English), signed in; closed after the test."""
    contexts = []

    def make(email: str, zone: str, viewport: dict | None = None) -> Page:
        context = browser.new_context(
            base_url=live_server.url, timezone_id=zone, locale="en-GB", viewport=viewport or DESKTOP
        )
        contexts.append(context)
        return fill_login(context.new_page(), email)

    yield make
    for context in contexts:
        context.close()
