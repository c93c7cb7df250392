"""Rough edges of the dashboards a new user hits: the client's past and cancelled lists, the
staff overview's impossible date range, the coach's fragments after an answer, and the
warnings before a group session is published."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.test import Client

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 07:00 in Paris
TOMORROW_9 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def browser(user, **headers) -> Client:
    http = Client(headers=headers)
    http.force_login(user)
    return http


def text(response) -> str:
    return html.unescape(response.content.decode())


def section(page: str, testid: str) -> str:
    """The HTML of the ``<section data-testid=…>`` (sections don't nest here)."""
    match = re.search(rf'<section[^>]*data-testid="{testid}".*?</section>', page, re.S)
    return match.group(0) if match else ""


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def one_on_one(coach):
    return SessionTypeFactory(coach=coach, title="Consultation")


class TestClientDashboardLists:
    def test_past_is_by_time_and_future_cancelled_or_declined_are_listed_apart(self, coach, one_on_one, frozen):
        client = ClientFactory(timezone="Europe/Paris")
        frozen.move_to(NOW - dt.timedelta(days=3))
        had = services.book_slot(client=client, session_type=one_on_one, start=TOMORROW_9 - dt.timedelta(days=2))
        frozen.move_to(NOW)
        coming = services.book_slot(client=client, session_type=one_on_one, start=TOMORROW_9)
        called_off = services.book_slot(client=client, session_type=one_on_one, start=TOMORROW_9 + dt.timedelta(days=1))
        services.cancel(booking=called_off, actor=client, reason="Travelling")
        approving = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
        asked = services.book_slot(
            client=client, session_type=SessionTypeFactory(coach=approving), start=TOMORROW_9 + dt.timedelta(days=2)
        )
        services.decline(booking=asked, actor=approving, reason="Fully booked that week")

        page = text(browser(client).get("/client/"))
        past = section(page, "past-sessions")
        ended = section(page, "cancelled-sessions")
        assert had.reference in past
        assert called_off.reference not in past and asked.reference not in past
        assert called_off.reference in ended and asked.reference in ended
        assert "Cancelled" in ended and "Declined" in ended
        assert coming.reference in section(page, "upcoming-sessions") and coming.reference not in ended

    def test_no_cancelled_list_when_there_is_none(self, one_on_one):
        client = ClientFactory(timezone="Europe/Paris")
        services.book_slot(client=client, session_type=one_on_one, start=TOMORROW_9)
        page = text(browser(client).get("/client/"))
        assert 'data-testid="cancelled-sessions"' not in page


class TestStaffOverviewRange:
    def test_from_after_to_says_so(self, one_on_one):
        booking = services.book_slot(client=ClientFactory(), session_type=one_on_one, start=TOMORROW_9)
        http = browser(StaffFactory(timezone="UTC"))
        page = text(http.get("/staff/?date_from=2026-12-05&date_to=2026-12-02"))
        assert "“From” (5 Dec 2026) is after “To” (2 Dec 2026)" in page
        assert 'data-testid="filter-error"' in page
        assert booking.reference not in page
        fragment = text(http.get("/staff/live/?date_from=2026-12-05&date_to=2026-12-02&v=old"))
        assert 'data-testid="filter-error"' in fragment  # the live refresh keeps saying it

    def test_a_sound_range_has_no_error(self, one_on_one):
        booking = services.book_slot(client=ClientFactory(), session_type=one_on_one, start=TOMORROW_9)
        page = text(browser(StaffFactory(timezone="UTC")).get("/staff/?date_from=2026-12-02&date_to=2026-12-02"))
        assert 'data-testid="filter-error"' not in page and booking.reference in page


class TestApproveUpdatesEveryFragment:
    def test_the_answer_comes_with_the_agenda_and_rosters_out_of_band(self):
        coach = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
        asked = services.book_slot(
            client=ClientFactory(), session_type=SessionTypeFactory(coach=coach), start=TOMORROW_9
        )
        http = browser(coach, **{"HX-Request": "true"})
        assert "Requested" in section(text(http.get("/coach/")), "week-agenda")

        response = http.post(f"/bookings/{asked.reference}/approve/", {"ui": "queue"})
        body = text(response)
        assert response.status_code == 200
        assert "Request approved" in body  # the row itself, with its notice
        week = re.search(r'<section[^>]*id="week-agenda"[^>]*>.*?</section>', body, re.S)
        assert week and 'hx-swap-oob="true"' in week.group(0)
        assert asked.reference in week.group(0) and "Requested" not in week.group(0)
        assert re.search(r'<section[^>]*id="agenda"[^>]*hx-swap-oob="true"', body)
        assert re.search(r'<section[^>]*id="group-rosters"[^>]*hx-swap-oob="true"', body)

    def test_a_refusal_sends_no_fragment(self):
        coach = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
        asked = services.book_slot(
            client=ClientFactory(), session_type=SessionTypeFactory(coach=coach), start=TOMORROW_9
        )
        services.approve(booking=asked, actor=coach)
        body = text(
            browser(coach, **{"HX-Request": "true"}).post(f"/bookings/{asked.reference}/approve/", {"ui": "queue"})
        )
        assert 'hx-swap-oob="true"' not in body.replace(
            'id="requests-count" data-testid="requests-count" hx-swap-oob="true"', ""
        )


class TestPublishAndSuggestAskFirst:
    """The coach's hours are 09:00-17:00 in Paris (08:00-16:00 UTC)."""

    def test_publishing_at_three_in_the_morning_asks_then_publishes_when_confirmed(self, coach):
        from bookings.models import Session
        from bookings.tests.factories import GroupTypeFactory

        group = GroupTypeFactory(coach=coach, title="Yoga")
        http = browser(coach, **{"HX-Request": "true"})
        first = http.post("/coach/sessions/publish/", {"session_type": group.pk, "start": "2026-12-03T03:00"})
        body = text(first)
        assert first.status_code == 200 and 'data-testid="publish-warning"' in body
        assert "Thu 3 Dec, 03:00 is outside your working hours (Europe/Paris)" in body
        assert "Publish anyway" in body and re.search(r'name="confirm_outside" value="2026-12-03T03:00"', body)
        assert "2026-12-03" in body and "03:00" in body  # the typed values are kept
        assert not Session.objects.filter(session_type=group).exists()

        confirmed = http.post(
            "/coach/sessions/publish/",
            {"session_type": group.pk, "start": "2026-12-03T03:00", "confirm_outside": "2026-12-03T03:00"},
        )
        assert confirmed.status_code == 200 and "Yoga published" in text(confirmed)
        assert Session.objects.get(session_type=group).start == dt.datetime(2026, 12, 3, 2, tzinfo=UTC)

    def test_within_hours_publishes_without_a_question(self, coach):
        from bookings.tests.factories import GroupTypeFactory

        group = GroupTypeFactory(coach=coach)
        response = browser(coach).post(
            "/coach/sessions/publish/", {"session_type": group.pk, "start": "2026-12-03T10:00"}
        )
        assert response.status_code == 302

    def test_a_clash_says_what_it_clashes_with(self, coach, one_on_one):
        from bookings.tests.factories import GroupTypeFactory

        services.book_slot(client=ClientFactory(name="Nina York"), session_type=one_on_one, start=TOMORROW_9)
        group = GroupTypeFactory(coach=coach)
        response = browser(coach).post(
            "/coach/sessions/publish/",
            {"session_type": group.pk, "start": "2026-12-02T10:30", "confirm_outside": "2026-12-02T10:30"},
        )
        assert response.status_code == 409
        assert "Wed 2 Dec, 10:30 clashes with Consultation with Nina York (Wed 2 Dec, 10:00–11:00)." in text(response)

    def test_a_past_start_and_a_wrong_capacity_are_reported_together(self, coach):
        from bookings.tests.factories import GroupTypeFactory

        group = GroupTypeFactory(coach=coach)
        response = browser(coach).post(
            "/coach/sessions/publish/", {"session_type": group.pk, "start": "2026-11-30T10:00", "capacity": "999"}
        )
        body = text(response)
        assert response.status_code == 400
        assert "Mon 30 Nov 2026, 10:00 has already passed" in body and "Choose between 1 and 10 seats." in body

    def test_suggesting_three_in_the_morning_asks_then_sends(self):
        coach = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
        asked = services.book_slot(
            client=ClientFactory(), session_type=SessionTypeFactory(coach=coach), start=TOMORROW_9
        )
        http = browser(coach, **{"HX-Request": "true"})
        posted = {"ui": "queue", "alt_1": "2026-12-03T03:00", "alt_2": "2026-12-03T10:00"}
        first = http.post(f"/bookings/{asked.reference}/suggest/", posted)
        body = text(first)
        assert first.status_code == 409
        assert "Thu 3 Dec, 03:00 is outside your working hours" in body and "10:00 is outside" not in body
        assert 'data-testid="confirm-anyway"' in body and "Suggest anyway" in body
        assert 'name="alt_1" value="2026-12-03T03:00"' in body
        asked.refresh_from_db()
        assert not asked.suggested_alternatives

        sent = http.post(f"/bookings/{asked.reference}/suggest/", {**posted, "confirm_outside": "1"})
        assert sent.status_code == 200
        asked.refresh_from_db()
        assert len(asked.suggested_alternatives) == 2

    def test_a_suggested_time_that_clashes_names_the_session(self, one_on_one):
        coach = one_on_one.coach
        coach.coach_profile.require_approval_unconnected = True
        coach.coach_profile.save()
        services.book_slot(client=ClientFactory(name="Nina York"), session_type=one_on_one, start=TOMORROW_9)
        asked = services.book_slot(
            client=ClientFactory(), session_type=one_on_one, start=TOMORROW_9 + dt.timedelta(days=1)
        )
        assert asked.status == "requested"
        response = browser(coach).post(f"/bookings/{asked.reference}/suggest/", {"alt_1": "2026-12-02T10:00"})
        assert response.status_code == 409
        assert "Wed 2 Dec, 10:00 clashes with Consultation with Nina York" in text(response)


def test_a_confirmation_holds_for_the_start_confirmed_only(coach):
    from bookings.models import Session
    from bookings.tests.factories import GroupTypeFactory

    group = GroupTypeFactory(coach=coach)
    response = browser(coach).post(
        "/coach/sessions/publish/",
        {"session_type": group.pk, "start": "2026-12-03T04:00", "confirm_outside": "2026-12-03T03:00"},
    )
    assert response.status_code == 200 and "Thu 3 Dec, 04:00 is outside your working hours" in text(response)
    assert not Session.objects.filter(session_type=group).exists()
