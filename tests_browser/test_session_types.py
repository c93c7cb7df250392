"""A coach's session types in the browser, at desktop and phone size: create one with the
live preview following the form, reorder with the keyboard, duplicate, archive (after a
confirm) and see the client's wizard follow; and the wizard's confirm step saying why a
booking will be a request and what happens next."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import ClientFactory
from availability.selectors import free_slots
from bookings.models import SessionType
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from tests_browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")


def paris_coach(**settings):
    coach = open_coach(timezone="Europe/Paris", **settings)
    coach.name = "Camille Laurent"
    coach.save()
    return coach


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_coach_creates_orders_duplicates_and_archives_session_types_and_clients_see_that_order(sign_in, size) -> None:
    coach = paris_coach()
    SessionTypeFactory(coach=coach, title="Intro call", duration_minutes=30)
    GroupTypeFactory(coach=coach, title="Leadership circle", capacity=6)
    ClientFactory(email="sofia@example.com", timezone="Europe/Paris")
    page = sign_in(coach.email, "Europe/Paris", size)

    page.goto("/coach/")
    page.get_by_test_id("dashboard-session-types").click()
    expect(page.get_by_role("heading", name="Session types", level=1)).to_be_visible()
    page.get_by_test_id("new-type").click()

    # The preview follows the form before anything is saved.
    preview = page.get_by_test_id("type-preview")
    page.get_by_label("Title").fill("Deep-dive strategy")
    page.get_by_label("Description").fill("Ninety minutes on your plan for the quarter.")
    page.get_by_label("Kind").select_option("workshop")
    page.get_by_label("Seats").fill("8")
    page.get_by_label("Length (minutes)").fill("90")
    page.get_by_label("Price", exact=True).fill("120")
    page.get_by_label("Approval").select_option("always")
    expect(preview.get_by_test_id("preview-title")).to_have_text("Deep-dive strategy")
    expect(preview).to_contain_text("Workshop · up to 8")
    expect(preview).to_contain_text("120 EUR")
    expect(preview.get_by_test_id("preview-approval")).to_contain_text("Every booking is a request")
    assert not SessionType.objects.filter(title="Deep-dive strategy").exists()

    page.get_by_test_id("save-type").click()
    expect(page.get_by_role("status").or_(page.locator(".flash")).first).to_contain_text("Deep-dive strategy")
    rows = page.get_by_test_id("offered").get_by_test_id("type-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_contain_text("Deep-dive strategy")

    # Up with the keyboard: the focus stays on the moved type's button, ready to press again.
    rows.nth(2).get_by_test_id("move-up").focus()
    page.keyboard.press("Enter")
    expect(rows.nth(1)).to_contain_text("Deep-dive strategy")
    expect(rows.nth(1).get_by_test_id("move-up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(rows.nth(0)).to_contain_text("Deep-dive strategy")
    expect(rows.nth(0).get_by_test_id("move-down")).to_be_focused()

    # Duplicate: the copy opens to be changed, not offered yet.
    rows.nth(1).get_by_test_id("duplicate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Copy of Intro call")
    page.get_by_role("link", name="← Session types").click()
    expect(page.get_by_test_id("archived").get_by_test_id("type-row")).to_have_count(1)

    # Archive asks first; dismissing keeps it, accepting archives it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    rows.nth(2).get_by_test_id("archive").click()
    expect(rows).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    rows.nth(2).get_by_test_id("archive").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("archived").get_by_test_id("type-row")).to_have_count(2)

    client = sign_in("sofia@example.com", "Europe/Paris", size)
    client.goto(f"/book/{coach.pk}/?all=1")
    expect(client.get_by_test_id("session-type")).to_have_count(2)
    expect(client.get_by_test_id("session-type").nth(0)).to_contain_text("Deep-dive strategy")
    expect(client.get_by_test_id("session-type").nth(1)).to_contain_text("Intro call")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_confirm_step_says_why_a_booking_is_a_request_and_what_happens_next(sign_in, size) -> None:
    coach = paris_coach(require_approval_unconnected=True, firm_booking_threshold_hours=24)
    st = SessionTypeFactory(coach=coach, title="Career consultation")
    ClientFactory(email="sofia@example.com", timezone="Europe/Paris")
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=3)
    slot = free_slots(coach=coach, session_type=st, start_date=day, end_date=day, viewer_tz=PARIS)[0]
    page = sign_in("sofia@example.com", "Europe/Paris", size)

    page.goto(f"/book/{coach.pk}/{st.pk}/confirm/?start={slot.start:%Y-%m-%dT%H:%M:%SZ}")

    kind = page.get_by_test_id("confirm-kind")
    expect(kind).to_contain_text("This will be a request")
    expect(page.get_by_test_id("request-reasons")).to_have_text(
        "You're not connected with Camille Laurent yet: bookings from new clients need approval."
    )
    expect(page.get_by_test_id("request-next")).to_contain_text("Camille Laurent answers within 24 hours, by")
    expect(page.get_by_test_id("book-submit")).to_have_text("Send request")
    box = kind.bounding_box()
    assert box is not None and box["width"] <= size["width"]
