"""Intake forms in Chromium: a client on a phone answers a three-step intake form (Back and
Next, a date, choices, a scale, a file), accepts the coach's consent document and books;
then the coach signs in and reads the answers on the booking's page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import ClientFactory
from availability.selectors import free_slots
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from intake import consents
from intake.models import IntakeResponse, ResponseStatus
from intake.tests.forms_helpers import THREE_STEPS, make_form

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
PHONE = {"width": 375, "height": 812}


@pytest.mark.django_db(transaction=True)
def test_a_client_answers_a_three_step_intake_on_a_phone_and_the_coach_reads_it(sign_in, tmp_path) -> None:
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Claire Martin"
    coach.save()
    consult = SessionTypeFactory(coach=coach, title="First consultation", duration_minutes=60, price=0)
    make_form(coach, "Welcome form", THREE_STEPS, session_type=consult)
    consents.create_document(actor=coach, kind="treatment", title="Consent to coaching", body="I agree to coaching.")
    ClientFactory(email="nia@example.com", name="Nia Client", timezone="Europe/Paris")
    day = timezone.now().astimezone(PARIS).date() + dt.timedelta(days=2)
    assert free_slots(coach=coach, session_type=consult, start_date=day, end_date=day, viewer_tz=PARIS)
    letter = tmp_path / "referral.pdf"
    letter.write_bytes(b"%PDF-1.4 referral letter")

    page = sign_in("nia@example.com", "Europe/Paris", viewport=PHONE)

    def fits() -> None:
        width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"scrollWidth {width} > innerWidth {inner} on {page.url}"

    page.goto(f"/book/{coach.pk}/{consult.pk}/?date={day.isoformat()}")
    page.get_by_test_id("times").get_by_test_id("time-slot").first.click()
    page.locator("#continue").click()

    # Step 1: the Questions step comes before confirming.
    progress = page.get_by_test_id("questions-progress")
    expect(progress).to_have_text("Step 1 of 3: About you")
    expect(page.locator("[data-step=questions][aria-current=step]")).to_be_visible()
    fits()
    page.get_by_label("Preferred name").fill("Nia")
    page.get_by_test_id("questions-next").click()
    # A required answer missing: said on the field.
    expect(page.get_by_test_id("question-error")).to_have_text("Answer this question.")
    page.get_by_label("Date of birth").fill("1990-04-30")
    page.get_by_test_id("questions-next").click()

    # Step 2, then Back and forward again: what was answered is kept.
    expect(progress).to_have_text("Step 2 of 3: History")
    page.get_by_label("What brings you here?").fill("A new job, and nerves.")
    page.get_by_test_id("questions-back").click()
    expect(progress).to_have_text("Step 1 of 3: About you")
    expect(page.get_by_label("Preferred name")).to_have_value("Nia")
    page.get_by_test_id("questions-next").click()
    expect(progress).to_have_text("Step 2 of 3: History")
    page.get_by_label("What brings you here?").fill("A new job, and nerves.")
    page.get_by_text("No", exact=True).click()
    page.get_by_text("Friend", exact=True).click()
    fits()
    page.get_by_test_id("questions-next").click()

    # Step 3: choices, a scale and a file.
    expect(progress).to_have_text("Step 3 of 3: Goals")
    page.get_by_text("Career", exact=True).click()
    page.get_by_text("Family", exact=True).click()
    page.locator("label.choice", has_text="8").first.click()
    page.locator("input[type=file]").set_input_files(str(letter))
    fits()
    page.get_by_test_id("questions-next").click()

    # The confirm step: the consent, then book.
    expect(page.get_by_test_id("confirm")).to_be_visible()
    expect(page.locator("[data-step=questions]")).to_have_class("done")
    page.get_by_test_id("consents").locator("input[name=accept]").check()
    fits()
    page.locator("#book-submit").click()
    expect(page.get_by_test_id("booking-done")).to_be_visible()

    booking = Booking.objects.get(client__email="nia@example.com")
    response = IntakeResponse.objects.get(booking=booking)
    assert response.status == ResponseStatus.SUBMITTED

    coach_page = sign_in(coach.email, "Europe/Paris")
    coach_page.goto(f"/bookings/{booking.reference}/")
    card = coach_page.get_by_test_id("intake-answers")
    expect(card).to_contain_text("Welcome form")
    expect(card).to_contain_text("A new job, and nerves.")
    expect(card).to_contain_text("30")  # the date of birth, as a date
    expect(card).to_contain_text("Career, Family")
    expect(card.get_by_test_id("answer-file")).to_have_text("referral.pdf")
