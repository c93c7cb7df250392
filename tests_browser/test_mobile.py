"""Phone-sized screens: the nav folds behind the burger and the dashboard still works."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory
from tests_browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])]


def test_phone_nav_collapses_behind_the_burger_and_dashboard_is_usable(page: Page, log_in) -> None:
    ClientFactory(email="client@example.com", name="Chloé Client")
    log_in("client@example.com")
    expect(page).to_have_url(re.compile(r"/client/$"))

    nav = page.get_by_role("navigation", name="Main")
    burger = page.locator("label.nav-burger")
    my_coaches = nav.get_by_role("link", name="My coaches")
    expect(burger).to_be_visible()
    expect(nav).to_be_hidden()
    expect(my_coaches).to_be_hidden()

    # The dashboard content is there and fits the screen without sideways scrolling.
    expect(page.get_by_test_id("upcoming-sessions")).to_be_visible()
    expect(page.get_by_role("heading", name="Hello, Chloé")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    burger.click()
    expect(my_coaches).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()

    my_coaches.click()
    expect(page).to_have_url(re.compile(r"/connections/$"))
    expect(nav).to_be_hidden()  # a fresh page starts with the menu closed
