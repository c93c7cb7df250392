"""A change of hours over sessions already booked: the coach is shown the sessions it leaves
outside the new hours, and keeps, cancels or answers each one; never silently."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.test import Client

from accounts.tests.factories import ClientFactory
from availability.models import Allocation, AllocationKind
from bookings import services
from bookings.models import BookingStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # Tuesday, 07:00 in Paris
WED_10_PARIS = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


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


def listed(page: str) -> list[str]:
    return re.findall(r'data-testid="outside-row" data-session="(\d+)"', page)


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def booked(coach):
    return services.book_slot(
        client=ClientFactory(name="Nina York"),
        session_type=SessionTypeFactory(coach=coach, title="Consultation"),
        start=WED_10_PARIS,
    )


class TestEditorTellsTheCoach:
    def test_a_day_off_over_a_booking_lists_it(self, coach, booked):
        http = browser(coach)
        response = http.post("/coach/availability/overrides/", {"date": "2026-12-02", "kind": "off", "reason": ""})
        assert response.status_code == 302
        assert response["Location"] == f"/coach/availability/outside-hours/?sessions={booked.session_id}"
        page = text(http.get(response["Location"]))
        assert "Wednesday 2 December 2026 is now a day off." in page  # the change is saved, and said
        assert listed(page) == [str(booked.session_id)]
        assert "Consultation" in page and "Nina York" in page and "Wednesday 2 December 2026, 10:00–11:00" in page
        assert "leaves this session outside your hours" in page

    def test_with_htmx_the_coach_is_taken_there(self, coach, booked):
        response = browser(coach, **{"HX-Request": "true"}).post(
            "/coach/availability/time-off/", {"start_date": "2026-12-02", "end_date": "2026-12-04", "reason": "Away"}
        )
        assert response["HX-Redirect"] == f"/coach/availability/outside-hours/?sessions={booked.session_id}"

    def test_shrinking_a_window_lists_what_falls_out(self, coach, booked):
        from availability.models import AvailabilityWindow

        window = AvailabilityWindow.objects.get(coach=coach, weekday=2)
        response = browser(coach).post(
            f"/coach/availability/windows/{window.pk}/edit/", {"start": "13:00", "end": "17:00"}
        )
        assert response["Location"].endswith(f"?sessions={booked.session_id}")

    def test_a_change_that_leaves_every_session_inside_goes_back_to_the_editor(self, coach, booked):
        response = browser(coach).post("/coach/availability/overrides/", {"date": "2026-12-03", "kind": "off"})
        assert response.status_code == 302 and "outside-hours" not in response["Location"]

    def test_a_session_already_outside_is_not_listed_again(self, coach, booked):
        http = browser(coach)
        http.post("/coach/availability/overrides/", {"date": "2026-12-02", "kind": "off"})
        again = http.post("/coach/availability/time-off/", {"start_date": "2026-12-02", "end_date": "2026-12-02"})
        assert "outside-hours" not in again["Location"]


class TestTheList:
    def test_keep_cancel_and_suggest(self, coach, booked):
        approving = open_coach(timezone="Europe/Paris", require_approval_unconnected=True)
        asked = services.book_slot(
            client=ClientFactory(), session_type=SessionTypeFactory(coach=approving), start=WED_10_PARIS
        )
        group = services.publish_session(
            actor=coach, session_type=GroupTypeFactory(coach=coach), start=WED_10_PARIS + dt.timedelta(hours=3)
        )
        http = browser(coach)
        http.post("/coach/availability/overrides/", {"date": "2026-12-02", "kind": "off"})
        page = text(http.get("/coach/availability/outside-hours/"))
        assert listed(page) == [str(booked.session_id), str(group.pk)]
        assert 'data-testid="suggest-toggle"' not in page  # booked: no request to answer...
        assert 'data-testid="offer-toggle"' in page  # ...but other times can be offered

        keep = re.search(r'href="([^"]+)" data-testid="keep-session"', page).group(1)
        assert listed(text(http.get(keep))) == [str(group.pk)]

        cancelled = http.post(f"/bookings/{booked.reference}/cancel/", {"reason": "I'm away that day", "next": keep})
        assert cancelled["Location"] == keep
        booked.refresh_from_db()
        assert booked.status == BookingStatus.CANCELLED and booked.cancellation_reason == "I'm away that day"

        http_other = browser(approving)
        http_other.post("/coach/availability/overrides/", {"date": "2026-12-02", "kind": "off"})
        theirs = text(http_other.get("/coach/availability/outside-hours/"))
        assert listed(theirs) == [str(asked.session_id)] and 'data-testid="suggest-toggle"' in theirs
        http_other.post(
            f"/bookings/{asked.reference}/suggest/",
            {"alt_1_date": "2026-12-03", "alt_1_time": "10:00", "next": "/coach/availability/outside-hours/"},
        )
        asked.refresh_from_db()
        assert asked.suggested_alternatives == ["2026-12-03T09:00:00+00:00"]

    def test_nothing_outside(self, coach, booked):
        page = text(browser(coach).get("/coach/availability/outside-hours/"))
        assert 'data-testid="outside-hours-empty"' in page and listed(page) == []

    def test_only_coaches_and_only_their_own(self, coach, booked):
        browser(coach).post("/coach/availability/overrides/", {"date": "2026-12-02", "kind": "off"})
        other = open_coach(timezone="Europe/Paris")
        assert (
            listed(text(browser(other).get(f"/coach/availability/outside-hours/?sessions={booked.session_id}"))) == []
        )
        assert browser(ClientFactory()).get("/coach/availability/outside-hours/").status_code in (403, 404)
        assert (
            browser(coach).get("/coach/availability/outside-hours/?sessions=abc,99999999999999999").status_code == 200
        )


class TestOfferOtherTimes:
    def test_cancelling_with_other_times_sends_them_and_a_link(self, coach, booked):
        http = browser(coach)
        response = http.post(
            f"/bookings/{booked.reference}/cancel-offer/",
            {
                "reason": "I'm away that day",
                "alt_1_date": "2026-12-04",
                "alt_1_time": "10:00",
                "alt_2_date": "2026-12-03",
                "alt_2_time": "15:00",
                "next": "/coach/availability/outside-hours/",
            },
        )
        assert response.status_code == 302 and response["Location"] == "/coach/availability/outside-hours/"
        booked.refresh_from_db()
        assert booked.status == BookingStatus.CANCELLED
        reason = booked.cancellation_reason
        assert reason.startswith("I'm away that day")
        assert "Other times I can offer (Europe/Paris): Thu 3 Dec 2026, 15:00; Fri 4 Dec 2026, 10:00." in reason
        assert f"/book/{coach.pk}/{booked.session.session_type_id}/" in reason

    def test_an_offered_time_that_clashes_or_no_reason_is_refused(self, coach, booked):
        other = services.book_slot(
            client=ClientFactory(name="Ola Berg"),
            session_type=booked.session.session_type,
            start=WED_10_PARIS + dt.timedelta(days=1),
        )
        http = browser(coach)
        clash = http.post(
            f"/bookings/{booked.reference}/cancel-offer/",
            {"reason": "Away", "alt_1_date": "2026-12-03", "alt_1_time": "10:00"},
        )
        assert clash.status_code == 409 and "clashes with Consultation with Ola Berg" in text(clash)
        bare = http.post(
            f"/bookings/{booked.reference}/cancel-offer/", {"alt_1_date": "2026-12-03", "alt_1_time": "12:00"}
        )
        assert bare.status_code == 400 and "Tell the client why" in text(bare)
        at_night = http.post(
            f"/bookings/{booked.reference}/cancel-offer/",
            {"reason": "Away", "alt_1_date": "2026-12-03", "alt_1_time": "03:00"},
        )
        assert at_night.status_code == 409 and "03:00 is outside your working hours" in text(at_night)
        booked.refresh_from_db()
        other.refresh_from_db()
        assert booked.status == other.status == BookingStatus.FIRM_BOOKED

    def test_an_offered_time_over_the_coachs_own_calendar_says_so(self, coach, booked):
        thursday_10 = WED_10_PARIS + dt.timedelta(days=1)
        Allocation.objects.create(
            staff=coach,
            kind=AllocationKind.EXTERNAL,
            start=thursday_10,
            end=thursday_10 + dt.timedelta(hours=1),
            blocked_start=thursday_10,
            blocked_end=thursday_10 + dt.timedelta(hours=1),
            counts_toward_limits=False,
        )
        clash = browser(coach).post(
            f"/bookings/{booked.reference}/cancel-offer/",
            {"reason": "Away", "alt_1_date": "2026-12-03", "alt_1_time": "10:00"},
        )
        assert clash.status_code == 409 and "clashes with an event in your own calendar" in text(clash)

    def test_a_client_cannot(self, booked):
        response = browser(booked.client).post(
            f"/bookings/{booked.reference}/cancel-offer/",
            {"reason": "x", "alt_1_date": "2026-12-03", "alt_1_time": "12:00"},
        )
        assert response.status_code == 403
        booked.refresh_from_db()
        assert booked.status == BookingStatus.FIRM_BOOKED
