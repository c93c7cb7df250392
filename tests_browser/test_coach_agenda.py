"""The coach's agenda in Chromium: a session about to begin is started with its Start
button (htmx), and its row says In progress without a reload."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings import services
from bookings.models import Session, SessionStatus
from bookings.tests.factories import GroupTypeFactory, open_coach

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_the_coach_starts_a_session_from_the_agenda(sign_in) -> None:
    coach = open_coach(timezone="Europe/Paris")
    yoga = GroupTypeFactory(coach=coach, title="Morning yoga", capacity=5)
    session = services.publish_session(actor=coach, session_type=yoga, start=timezone.now() + dt.timedelta(minutes=10))

    page = sign_in(coach.email, "Europe/Paris")
    page.goto("/coach/")
    row = page.locator(f"[data-testid=agenda-item][data-session='{session.pk}']")
    row.get_by_test_id("start-session-button").click()

    expect(page.get_by_test_id("live-notice")).to_contain_text("Morning yoga is in progress.")
    row = page.locator(f"[data-testid=agenda-item][data-session='{session.pk}']")
    expect(row).to_contain_text("In progress")
    expect(row.get_by_test_id("start-session-button")).to_have_count(0)
    assert Session.objects.get(pk=session.pk).status == SessionStatus.IN_PROGRESS
