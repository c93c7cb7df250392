"""The waitlist in Chromium: client B joins the waitlist of a full session, client A
cancels, B sees the seat held for them (the bell and an email), takes it in one click, and
the coach's roster shows B."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.tests.factories import GroupTypeFactory, open_coach

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("BROWSER_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"waitlist-{name}.png"), full_page=True)


def test_a_seat_freed_goes_to_the_waitlist_and_is_taken_in_one_click(sign_in) -> None:
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save()
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=1, price=0)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    session = services.publish_session(actor=coach, session_type=circle, start=start)
    ana = ClientFactory(name="Ana Lima", timezone="Europe/Paris")
    bruno = ClientFactory(name="Bruno Costa", timezone="America/Sao_Paulo")
    held = services.take_seat(client=ana, session=session)

    # B: the session is full; "Join the waitlist" puts them first in line.
    b = sign_in(bruno.email, "America/Sao_Paulo")
    b.goto(f"/book/{coach.pk}/{circle.pk}/")
    row = b.locator(f"[data-session-id='{session.pk}']")
    expect(row.get_by_test_id("seats")).to_have_text("Full")
    row.get_by_test_id("join-waitlist").click()
    expect(b).to_have_url(re.compile(r"/waitlist/$"))
    expect(b.get_by_role("status").first).to_contain_text("You are on the waitlist, number 1")
    expect(b.get_by_test_id("position")).to_have_text("Number 1 of 1 waiting")
    shot(b, "1-joined")

    # A cancels from their booking page; the worker relays the change.
    a = sign_in(ana.email, "Europe/Paris")
    a.goto(f"/bookings/{held.reference}/")
    a.get_by_test_id("cancel-button").click()
    a.get_by_test_id("cancel-confirm-submit").click()
    expect(a.get_by_test_id("cancellation")).to_be_visible()
    relay.relay_pending()

    # B: the bell counts the offer, and an email says until when the seat is held, in B's zone.
    b.goto("/waitlist/")
    expect(b.get_by_test_id("bell").get_by_test_id("bell-count")).to_have_text("1")
    expect(b.get_by_test_id("seat-offered")).to_be_visible()
    [message] = [m for m in mail.outbox if m.to == [bruno.email]]
    assert message.subject.startswith("A seat is free for you: Morning circle")
    assert "(America/Sao_Paulo)" in message.body
    link = re.search(r"https?://\S+/waitlist/offers/\d+/", message.body).group(0)
    b.goto(link[link.index("/waitlist/") :])
    expect(b.get_by_test_id("waitlist-offer")).to_contain_text("A seat is held for you")
    shot(b, "2-offer")
    b.get_by_test_id("accept-offer").click()
    expect(b).to_have_url(re.compile(r"/bookings/BK-[\w-]+/done/$"))
    shot(b, "3-booked")

    # The coach's roster shows B in the seat.
    c = sign_in(coach.email, "Europe/Paris")
    c.goto("/dashboard/")
    roster = c.locator(f"#roster-{session.pk}")
    expect(roster.get_by_test_id("roster-attendees")).to_contain_text("Bruno Costa")
    expect(roster.get_by_test_id("roster-attendees")).not_to_contain_text("Ana Lima")
    expect(roster).to_contain_text("1/1 seats")
    shot(c, "4-roster")
