"""The whole wizard in French: a visitor chooses Français in the footer, signs in and books,
every step in French (its words from the catalogues, its dates written the French way),
and the booking's email reaches them in French while the coach's is in English."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import translation
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings.models import Booking, BookingStatus
from config.dates import format_when
from tests_browser.conftest import fill_login
from tests_browser.test_booking_flow import a_free_slot, coach_in_new_york, hm, shot

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")


def fr(msgid: str, context: str | None = None, **values: object) -> str:
    """``msgid`` as the French catalogues have it; fails while it is still untranslated."""
    with translation.override("fr"):
        text = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
    assert text != msgid, f"not translated into French yet: {msgid!r}"
    return text % values if values else text


def in_french(value: dt.date | dt.datetime, name: str) -> str:
    with translation.override("fr"):
        return format_when(value, name)


def open_day(page: Page, day: dt.date) -> None:
    """The day on the month calendar, moving to the next month if needed (by its link's
    place, not its English name)."""
    link = page.get_by_test_id("calendar").locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    if not link.count():
        page.locator("#calendar a.cal-nav[rel=next]").click()
        expect(page.get_by_test_id("calendar-month")).to_have_text(in_french(day, "month"))
        link = page.get_by_test_id("calendar").locator(f"a.cal-day.free[data-date='{day.isoformat()}']")
    link.click()


@pytest.mark.django_db(transaction=True)
def test_a_visitor_switches_to_french_in_the_footer_and_books_in_french(page: Page) -> None:
    coach, tutoring = coach_in_new_york()
    coach.language = "en"
    coach.save()
    client = ClientFactory(email="camille@example.com", name="Camille Dupont", timezone="Europe/Paris")
    day, slot = a_free_slot(coach, tutoring, PARIS)

    # The browser asks for English (en-GB): the site starts in English.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switch = page.get_by_test_id("language-switch")
    expect(switch.get_by_label("Language")).to_have_value("en")
    switch.get_by_label("Language").select_option("fr")
    switch.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile(r"/$"))  # back on the same page
    expect(page.locator("#footer-language")).to_have_value("fr")
    expect(page.locator("#footer-language option[value=fr]")).to_have_text("Français")
    expect(page.get_by_test_id("language-switch").get_by_label(fr("Language"))).to_have_value("fr")
    expect(page.get_by_test_id("language-switch").locator("button")).to_have_text(fr("Change language"))

    fill_login(page, client.email)  # the sign-in page is in French too
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # Step 1: the coaches.
    page.goto("/book/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("main h1")).to_have_text(fr("Choose a coach"))
    expect(page.get_by_test_id("wizard-steps")).to_have_attribute("aria-label", fr("Booking steps"))
    page.get_by_role("link", name=fr("Book with %(name)s", name="Marcus Bennett")).click()

    # Step 2: the day and the time (one session type: straight to its calendar).
    expect(page.get_by_role("heading", name="Tutoring session", level=1)).to_be_visible()
    expect(page.get_by_test_id("calendar-month")).to_have_text(re.compile(r"^[a-zéû]+ \d{4}$"))  # « décembre 2026 »
    open_day(page, day)
    times = page.get_by_test_id("times")
    expect(times.locator("#times-title")).to_have_text(in_french(day, "day_long_no_year"))
    expect(times.get_by_test_id("times-timezone")).to_contain_text("Europe/Paris")
    first = times.get_by_test_id("time-slot").first
    expect(first).to_have_text(hm(slot.start, PARIS))  # 24-hour, as in English
    first.click()
    expect(page.locator("#continue")).to_have_text(fr("Continue"))
    shot(page, "fr-1-times.png")
    page.locator("#continue").click()

    # Step 3: confirm.
    expect(page.locator("#confirm-title")).to_have_text(fr("Confirm your session"))
    confirm = page.get_by_test_id("confirm-summary")
    expect(confirm).to_contain_text(f"{hm(slot.start, PARIS)}–{hm(slot.end, PARIS)}")
    expect(page.get_by_test_id("confirm-date")).to_have_text(in_french(slot.start.astimezone(PARIS), "day_long"))
    expect(confirm).to_contain_text(fr("Length"))
    expect(page.get_by_test_id("confirm-kind")).to_have_text(fr("Booking is confirmed at once."))
    expect(page.locator("#book-submit")).to_have_text(fr("Book session"))
    shot(page, "fr-2-confirm.png")
    mail.outbox.clear()
    page.locator("#book-submit").click()

    # Done.
    done = page.get_by_test_id("booking-done")
    expect(done.locator("h1")).to_have_text(fr("Session booked!"))
    booking = Booking.objects.get(client=client)
    assert booking.status == BookingStatus.FIRM_BOOKED and booking.session.start == slot.start
    expect(page.get_by_test_id("booking-reference")).to_have_text(booking.reference)
    shot(page, "fr-3-done.png")

    # The footer's choice, made before signing in, is the browser's; the person's own
    # language stays "the browser's": nothing was saved on their profile.
    client.refresh_from_db()
    assert client.language == ""
    # Their email is written in the language of the site (they follow their browser, which
    # no email can ask); the coach's in English.
    [to_coach] = [m for m in mail.outbox if m.to == [coach.email]]
    assert "Tutoring session" in to_coach.subject and to_coach.subject.startswith("New booking")


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_person_switches_and_their_profile_keeps_it(page: Page) -> None:
    client = ClientFactory(email="camille@example.com", name="Camille Dupont", timezone="Europe/Paris")
    fill_login(page, client.email)
    page.goto("/profile/")
    page.locator("#footer-language").select_option("fr")
    page.get_by_test_id("language-switch").locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    client.refresh_from_db()
    assert client.language == "fr"
    # The profile's own choice shows it, and offers the browser's language back.
    expect(page.locator("main select[name=language]")).to_have_value("fr")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 900])
def test_the_longest_menu_in_french_wraps_instead_of_running_off_the_page(sign_in, width: int) -> None:
    # A superuser's menu has every staff page (rooms, tags, payments, codes, reports,
    # webhooks, consents, intake forms, the back office); French words are longer.
    StaffFactory(email="alex@example.com", name="Alex Admin", is_superuser=True, language="fr")
    page = sign_in("alex@example.com", "Europe/Paris", {"width": width, "height": 800})
    for path in ("/dashboard/", "/rooms/"):
        page.goto(path)
        expect(page.locator("#main-nav")).to_contain_text(fr("Intake forms"))
        width_used = page.evaluate("document.documentElement.scrollWidth")
        assert width_used <= width, f"{path}: {width_used}px wide in a {width}px window"
