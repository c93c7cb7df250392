"""The booking detail page and its actions, the three dashboards and their live fragments."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings import live, services
from bookings.models import Booking, BookingStatus, PlannedSession, Session, SessionStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 07:00 in Paris, 01:00 in New York
TOMORROW_9 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 Paris, 04:00 New York


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def browser(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def hx(user) -> Client:
    http = Client(headers={"HX-Request": "true"})
    http.force_login(user)
    return http


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def approving_coach():
    """Every unconnected client's booking is a request."""
    return open_coach(timezone="Europe/Paris", require_approval_unconnected=True)


@pytest.fixture
def one_on_one(coach):
    return SessionTypeFactory(coach=coach, title="Consultation")


@pytest.fixture
def request_type(approving_coach):
    return SessionTypeFactory(coach=approving_coach, title="Intro call")


@pytest.fixture
def client_ny():
    return ClientFactory(timezone="America/New_York", name="Nina York")


@pytest.fixture
def booking(one_on_one, client_ny):
    return services.book_slot(client=client_ny, session_type=one_on_one, start=TOMORROW_9, notes="About my plan")


@pytest.fixture
def request_booking(request_type, client_ny):
    return services.book_slot(client=client_ny, session_type=request_type, start=TOMORROW_9)


def detail_url(b: Booking) -> str:
    return f"/bookings/{b.reference}/"


def action_url(b: Booking, action: str) -> str:
    return f"/bookings/{b.reference}/{action}/"


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def actions(b: Booking) -> list[str]:
    return list(b.events.order_by("created_at", "pk").values_list("action", flat=True))


# --- Booking details ----------------------------------------------------------------------


class TestDetail:
    def test_client_sees_the_session_in_their_zone_with_the_zone_named(self, booking, client_ny):
        page = browser(client_ny).get(detail_url(booking))

        assert page.status_code == 200
        body = text(page)
        assert "Wednesday 2 December 2026" in body
        assert "04:00–05:00" in body and "America/New_York" in body
        assert booking.reference in body
        assert "About my plan" in body
        assert 'data-testid="booking-status">Booked<' in body

    def test_coach_sees_it_in_the_coach_zone(self, booking, coach):
        body = text(browser(coach).get(detail_url(booking)))

        assert "10:00–11:00" in body and "Europe/Paris" in body
        assert "Nina York" in body

    def test_staff_see_any_booking(self, booking):
        assert browser(StaffFactory()).get(detail_url(booking)).status_code == 200

    @pytest.mark.parametrize("who", ["other_client", "other_coach"])
    def test_people_unrelated_to_the_booking_get_404(self, booking, who):
        outsider = ClientFactory() if who == "other_client" else CoachFactory()

        assert browser(outsider).get(detail_url(booking)).status_code == 404
        assert browser(outsider).post(action_url(booking, "cancel"), {"reason": "x"}).status_code == 404
        booking.refresh_from_db()
        assert booking.status == BookingStatus.FIRM_BOOKED

    def test_visitors_are_sent_to_log_in(self, booking):
        response = Client().get(detail_url(booking))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize("reference", ["BK-2026-999999", "BK-2026-%00", "99999999999999999999999", "1"])
    def test_unknown_or_malformed_reference_is_404(self, booking, client_ny, reference):
        http = browser(client_ny)
        assert http.get(f"/bookings/{reference}/").status_code == 404
        assert http.post(f"/bookings/{reference}/cancel/").status_code == 404

    def test_history_lists_every_change_in_the_viewer_zone_with_who(self, request_booking, approving_coach, client_ny):
        services.request_information(booking=request_booking, actor=approving_coach, question="Which level?")
        services.answer_information(booking=request_booking, actor=client_ny, answer="Beginner")
        services.expire_requests(now=TOMORROW_9)

        body = text(browser(client_ny).get(detail_url(request_booking)))

        rows = re.findall(r'data-testid="history-row">(.*?)</li>', body)
        assert len(rows) == 4
        assert "Requested" in rows[0] and "Nina York" in rows[0] and "Tue 1 Dec 2026, 01:00" in rows[0]
        assert "Asked for more information" in rows[1] and approving_coach.display_name in rows[1]
        assert "Which level?" in rows[1]
        assert "Answered the coach's question" in rows[2] and "Beginner" in rows[2]
        assert "Expired without an answer" in rows[3] and "System" in rows[3]
        assert "Requested → Declined" in rows[3]

    def test_the_page_offers_each_side_its_own_actions(self, request_booking, approving_coach, client_ny):
        coach_page = text(browser(approving_coach).get(detail_url(request_booking)))
        client_page = text(browser(client_ny).get(detail_url(request_booking)))

        for testid in ("approve-button", "decline-button", "suggest-button", "ask-button"):
            assert f'data-testid="{testid}"' in coach_page
            assert f'data-testid="{testid}"' not in client_page
        assert 'data-testid="cancel-button"' in client_page


# --- Actions of the coach (and staff) -------------------------------------------------------


class TestCoachActions:
    def test_approve(self, request_booking, approving_coach):
        response = browser(approving_coach).post(action_url(request_booking, "approve"))

        assert response.status_code == 302 and response["Location"] == detail_url(request_booking)
        request_booking.refresh_from_db()
        assert request_booking.status == BookingStatus.CONFIRMED
        event = request_booking.events.last()
        assert (event.action, event.actor, event.to_status) == ("approved", approving_coach, "confirmed")
        followed = browser(approving_coach).get(detail_url(request_booking))
        assert "Request approved" not in text(followed)  # the message was shown once, on the redirect
        assert 'data-testid="booking-status">Confirmed<' in text(followed)

    def test_approve_goes_back_to_a_safe_next_page(self, request_booking, approving_coach):
        http = browser(approving_coach)
        assert http.post(action_url(request_booking, "approve"), {"next": "/coach/"})["Location"] == "/coach/"

    def test_approve_ignores_an_outside_next(self, request_booking, approving_coach):
        response = browser(approving_coach).post(action_url(request_booking, "approve"), {"next": "https://evil.test/"})
        assert response["Location"] == detail_url(request_booking)

    def test_staff_can_approve(self, request_booking):
        staff = StaffFactory()
        browser(staff).post(action_url(request_booking, "approve"))
        request_booking.refresh_from_db()
        assert request_booking.status == BookingStatus.CONFIRMED
        assert request_booking.events.last().actor == staff

    def test_the_client_may_see_but_not_approve(self, request_booking, client_ny):
        response = browser(client_ny).post(action_url(request_booking, "approve"))

        assert response.status_code == 403
        assert "Only the coach or back-office staff can do that." in text(response)
        request_booking.refresh_from_db()
        assert request_booking.status == BookingStatus.REQUESTED

    def test_decline_needs_a_reason(self, request_booking, approving_coach):
        response = browser(approving_coach).post(action_url(request_booking, "decline"), {"reason": "  "})

        assert response.status_code == 400
        assert "Tell the client why you are declining." in text(response)
        request_booking.refresh_from_db()
        assert request_booking.status == BookingStatus.REQUESTED

    def test_decline_with_a_reason(self, request_booking, approving_coach, client_ny):
        browser(approving_coach).post(action_url(request_booking, "decline"), {"reason": "I'm away that week"})

        request_booking.refresh_from_db()
        assert request_booking.status == BookingStatus.DECLINED
        assert request_booking.events.last().note == "I'm away that week"
        body = text(browser(client_ny).get(detail_url(request_booking)))
        assert "I'm away that week" in body and 'data-testid="decline-reason"' in body

    def test_answering_twice_shows_the_refusal(self, request_booking, approving_coach):
        http = browser(approving_coach)
        http.post(action_url(request_booking, "approve"))

        response = http.post(action_url(request_booking, "decline"), {"reason": "Changed my mind"})

        assert response.status_code == 409
        assert "This request has already been answered." in text(response)

    def test_suggested_times_are_read_in_the_coach_zone(self, request_booking, approving_coach):
        response = browser(approving_coach).post(
            action_url(request_booking, "suggest"),
            {"alt_1": "2026-12-03T11:00", "alt_2": "2026-12-04T15:30", "alt_3": "", "note": "Either works"},
        )

        assert response.status_code == 302
        request_booking.refresh_from_db()
        assert request_booking.suggested_alternatives == ["2026-12-03T10:00:00+00:00", "2026-12-04T14:30:00+00:00"]
        assert request_booking.events.last().action == "alternatives_suggested"

    def test_suggested_times_typed_as_a_date_and_a_24_hour_time(self, request_booking, approving_coach):
        # The page's boxes: a date picker and an HH:MM text box per time.
        response = browser(approving_coach).post(
            action_url(request_booking, "suggest"),
            {"alt_1_date": "2026-12-03", "alt_1_time": "15:30", "alt_2_date": "2026-12-04", "alt_2_time": "11:00"},
        )

        assert response.status_code == 302
        request_booking.refresh_from_db()
        assert request_booking.suggested_alternatives == ["2026-12-03T14:30:00+00:00", "2026-12-04T10:00:00+00:00"]

    def test_a_suggested_date_without_its_time_is_refused(self, request_booking, approving_coach):
        response = browser(approving_coach).post(
            action_url(request_booking, "suggest"), {"alt_1_date": "2026-12-03", "alt_1_time": ""}
        )

        assert response.status_code == 400
        assert "Enter a date and time (24-hour), like 2026-12-01 09:30." in text(response)

    def test_staff_in_another_zone_also_type_the_coach_local_time(self, request_booking):
        staff = StaffFactory(timezone="Asia/Kolkata")
        browser(staff).post(action_url(request_booking, "suggest"), {"alt_1": "2026-12-03T11:00"})
        request_booking.refresh_from_db()
        assert request_booking.suggested_alternatives == ["2026-12-03T10:00:00+00:00"]

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({}, "Suggest at least one time."),
            ({"alt_1": "tomorrow"}, "Enter a date and time"),
            ({"alt_1": "2026-11-30T11:00"}, "Suggested times must be in the future."),
            ({"alt_1": "2027-03-28T02:30"}, "doesn't exist in Europe/Paris"),
            ({"alt_1": "0001-01-01T00:30"}, "Choose a date between 1900 and 2999."),
        ],
    )
    def test_bad_suggestions_are_refused_with_a_message(self, request_booking, approving_coach, data, message):
        response = browser(approving_coach).post(action_url(request_booking, "suggest"), data)

        assert response.status_code == 400
        assert message in text(response)
        request_booking.refresh_from_db()
        assert request_booking.suggested_alternatives == []

    def test_a_client_posting_suggestions_gets_403(self, request_booking, client_ny):
        response = browser(client_ny).post(action_url(request_booking, "suggest"), {"alt_1": "2026-12-03T11:00"})
        assert response.status_code == 403

    def test_ask_for_more_information(self, request_booking, approving_coach, client_ny):
        browser(approving_coach).post(action_url(request_booking, "ask"), {"question": "What level are you?"})

        request_booking.refresh_from_db()
        assert request_booking.info_request == "What level are you?"
        assert request_booking.events.last().action == "information_requested"
        assert "What level are you?" in text(browser(client_ny).get(detail_url(request_booking)))

    def test_coach_cancels_with_a_reason_only(self, booking, coach):
        http = browser(coach)
        refused = http.post(action_url(booking, "cancel"), {"reason": ""})
        assert refused.status_code == 400 and "Tell the client why the session is cancelled." in text(refused)

        http.post(action_url(booking, "cancel"), {"reason": "I'm ill"})
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == coach
        assert booking.events.last().note == "I'm ill"

    def test_no_show_only_after_the_start(self, booking, coach, frozen):
        early = browser(coach).post(action_url(booking, "no-show"))
        assert early.status_code == 409 and "The session hasn't started yet." in text(early)

        frozen.move_to(TOMORROW_9 + dt.timedelta(minutes=20))
        page = text(browser(coach).get(detail_url(booking)))
        assert 'data-testid="no-show-button"' in page
        browser(coach).post(action_url(booking, "no-show"))
        booking.refresh_from_db()
        assert booking.status == BookingStatus.NO_SHOW
        assert booking.events.last().actor == coach

    def test_unknown_action_is_404_and_get_is_not_allowed(self, booking, coach):
        assert browser(coach).post(action_url(booking, "delete")).status_code == 404
        assert browser(coach).get(action_url(booking, "approve")).status_code == 405


# --- Actions of the client ---------------------------------------------------------------------


class TestClientActions:
    def test_cancel(self, booking, client_ny):
        response = browser(client_ny).post(action_url(booking, "cancel"), {"reason": "Plans changed"})

        assert response.status_code == 302
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED
        event = booking.events.last()
        assert (event.action, event.actor, event.note) == ("cancelled", client_ny, "Plans changed")

    def test_reschedule_links_to_the_wizard_step(self, booking, client_ny, coach):
        link = f'href="/bookings/{booking.reference}/reschedule/"'
        assert link in text(browser(client_ny).get(detail_url(booking)))
        assert link in text(browser(client_ny).get("/client/"))
        assert link not in text(browser(coach).get(detail_url(booking)))

    def test_a_late_cancel_shows_the_policy(self, coach, client_ny):
        strict = SessionTypeFactory(coach=coach, cancellation_notice_hours=48)
        late = services.book_slot(client=client_ny, session_type=strict, start=TOMORROW_9)

        response = browser(client_ny).post(action_url(late, "cancel"), {"reason": ""})

        assert response.status_code == 409
        assert "Sessions can be cancelled up to 48 hours before they start." in text(response)
        late.refresh_from_db()
        assert late.status == BookingStatus.FIRM_BOOKED

    def test_coach_may_see_but_not_rate(self, booking, coach, frozen):
        frozen.move_to(TOMORROW_9 + dt.timedelta(hours=2))
        services.complete_past_sessions()
        response = browser(coach).post(action_url(booking, "rate"), {"rating": "5"})
        assert response.status_code == 403

    def test_accept_a_suggested_time(self, request_booking, approving_coach, client_ny):
        services.suggest_alternatives(
            booking=request_booking, actor=approving_coach, alternatives=[dt.datetime(2026, 12, 3, 13, tzinfo=UTC)]
        )
        page = text(browser(client_ny).get(detail_url(request_booking)))
        assert 'data-testid="accept-alternative"' in page and "Thu 3 Dec, 08:00" in page  # New York

        browser(client_ny).post(
            action_url(request_booking, "accept-alternative"), {"start": "2026-12-03T13:00:00+00:00"}
        )

        request_booking.refresh_from_db()
        assert request_booking.status == BookingStatus.CONFIRMED
        assert request_booking.session.start == dt.datetime(2026, 12, 3, 13, tzinfo=UTC)
        assert actions(request_booking)[-1] == "alternative_accepted"

    def test_a_time_that_was_not_suggested_is_refused(self, request_booking, approving_coach, client_ny):
        services.suggest_alternatives(
            booking=request_booking, actor=approving_coach, alternatives=[dt.datetime(2026, 12, 3, 13, tzinfo=UTC)]
        )
        response = browser(client_ny).post(
            action_url(request_booking, "accept-alternative"), {"start": "2026-12-03T14:00:00+00:00"}
        )
        assert response.status_code == 400 and "That time was not one of the suggested times." in text(response)
        overflow = browser(client_ny).post(
            action_url(request_booking, "accept-alternative"), {"start": "0001-01-01T00:00:00+14:00"}
        )
        assert overflow.status_code == 400 and "Choose one of the suggested times." in text(overflow)

    def test_decline_the_suggestions(self, request_booking, approving_coach, client_ny):
        services.suggest_alternatives(
            booking=request_booking, actor=approving_coach, alternatives=[dt.datetime(2026, 12, 3, 13, tzinfo=UTC)]
        )
        browser(client_ny).post(action_url(request_booking, "decline-alternatives"), {"note": "None fit"})

        request_booking.refresh_from_db()
        assert request_booking.status == BookingStatus.CANCELLED
        assert request_booking.events.last().action == "alternatives_declined"

    def test_answer_the_coach(self, request_booking, approving_coach, client_ny):
        services.request_information(booking=request_booking, actor=approving_coach, question="Goals?")

        blank = browser(client_ny).post(action_url(request_booking, "answer"), {"answer": ""})
        assert blank.status_code == 400 and "Write your answer." in text(blank)
        browser(client_ny).post(action_url(request_booking, "answer"), {"answer": "Run a marathon"})

        request_booking.refresh_from_db()
        assert request_booking.info_response == "Run a marathon"
        assert request_booking.events.last().action == "information_given"

    def test_rate_a_completed_session(self, booking, client_ny, frozen):
        not_yet = browser(client_ny).post(action_url(booking, "rate"), {"rating": "5"})
        assert not_yet.status_code == 409 and "once it has taken place" in text(not_yet)

        frozen.move_to(TOMORROW_9 + dt.timedelta(hours=2))
        services.complete_past_sessions()
        assert 'data-testid="rate-button"' in text(browser(client_ny).get(detail_url(booking)))
        bad = browser(client_ny).post(action_url(booking, "rate"), {"rating": "9"})
        assert bad.status_code == 400 and "Give a rating from 1 to 5." in text(bad)

        browser(client_ny).post(action_url(booking, "rate"), {"rating": "4", "feedback": "Helpful"})
        booking.refresh_from_db()
        assert (booking.rating, booking.feedback) == (4, "Helpful")


# --- htmx ---------------------------------------------------------------------------------------


class TestHtmx:
    def test_detail_action_answers_with_the_detail_part(self, request_booking, approving_coach):
        response = hx(approving_coach).post(action_url(request_booking, "approve"))

        assert response.status_code == 200
        body = text(response)
        assert "<html" not in body and 'id="booking-detail"' in body
        assert "Request approved: the session is confirmed." in body

    def test_a_refusal_comes_back_as_4xx_with_its_message(self, request_booking, approving_coach):
        response = hx(approving_coach).post(action_url(request_booking, "decline"), {"reason": ""})

        assert response.status_code == 400
        assert 'data-testid="action-error">Tell the client why you are declining.<' in text(response)

    def test_queue_row_is_swapped_and_the_count_updates(self, request_booking, approving_coach, client_ny):
        other = services.book_slot(
            client=ClientFactory(),
            session_type=request_booking.session.session_type,
            start=TOMORROW_9 + dt.timedelta(hours=2),
        )
        response = hx(approving_coach).post(action_url(request_booking, "approve"), {"ui": "queue"})

        body = text(response)
        assert response.status_code == 200
        assert f'id="request-{request_booking.pk}"' in body and "Confirmed" in body
        assert 'data-testid="approve-button"' not in body  # answered: no more buttons
        assert re.search(r'id="requests-count"[^>]*hx-swap-oob="true">1<', body)
        assert f'id="request-{other.pk}"' not in body  # only the answered row of the queue

    def test_queue_refusal_stays_in_the_row(self, request_booking, approving_coach):
        response = hx(approving_coach).post(action_url(request_booking, "decline"), {"ui": "queue", "reason": ""})
        assert response.status_code == 400
        assert 'data-testid="row-error">Tell the client why you are declining.<' in text(response)

    def test_client_dashboard_row_cancel(self, booking, client_ny):
        response = hx(client_ny).post(action_url(booking, "cancel"), {"ui": "upcoming"})
        body = text(response)
        assert response.status_code == 200 and f'id="upcoming-{booking.pk}"' in body and "Cancelled" in body


# --- Client dashboard -----------------------------------------------------------------------------


class TestClientDashboard:
    def test_empty_state(self, client_ny):
        body = text(browser(client_ny).get("/client/"))
        assert 'data-testid="no-upcoming"' in body and 'href="/book/"' in body

    def test_upcoming_soonest_first_in_the_client_zone_and_past_ones(self, one_on_one, client_ny, frozen):
        later = services.book_slot(client=client_ny, session_type=one_on_one, start=TOMORROW_9 + dt.timedelta(days=2))
        sooner = services.book_slot(client=client_ny, session_type=one_on_one, start=TOMORROW_9)
        gone = services.book_slot(client=client_ny, session_type=one_on_one, start=TOMORROW_9 + dt.timedelta(days=1))
        services.cancel(booking=gone, actor=client_ny)
        someone_else = services.book_slot(
            client=ClientFactory(), session_type=one_on_one, start=TOMORROW_9 + dt.timedelta(hours=3)
        )

        body = text(browser(client_ny).get("/client/"))

        upcoming = re.findall(r'data-testid="upcoming-row" data-reference="([^"]+)"', body)
        assert upcoming == [sooner.reference, later.reference]
        assert "Wed 2 Dec, 04:00–05:00" in body and "America/New_York" in body
        # Still to come when it was cancelled: not a past session, but in its own list.
        cancelled = body.split('data-testid="cancelled-sessions"')[1].split('data-testid="past-sessions"')[0]
        assert gone.reference in cancelled and "Cancelled" in cancelled
        assert gone.reference not in body.split('data-testid="past-sessions"')[1]
        assert someone_else.reference not in body
        assert 'data-testid="cancel-button"' in body

    def test_to_be_scheduled_with_pick_and_remove(self, one_on_one, client_ny):
        plan = services.schedule_later(client=client_ny, session_type=one_on_one)
        body = text(browser(client_ny).get("/client/"))
        assert 'data-testid="to-be-scheduled"' in body and "Consultation" in body
        assert f'href="/book/{one_on_one.coach_id}/{one_on_one.pk}/" data-testid="plan-pick"' in body

        response = browser(client_ny).post(f"/plans/{plan.pk}/remove/")
        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.closed_at is not None
        assert 'data-testid="to-be-scheduled"' not in text(browser(client_ny).get("/client/"))

    def test_someone_else_cannot_remove_a_plan(self, one_on_one, client_ny):
        plan = services.schedule_later(client=client_ny, session_type=one_on_one)
        assert browser(ClientFactory()).post(f"/plans/{plan.pk}/remove/").status_code == 404
        assert PlannedSession.objects.get(pk=plan.pk).closed_at is None


# --- Coach dashboard -------------------------------------------------------------------------------


class TestCoachDashboard:
    def test_agenda_today_and_this_week_in_the_coach_zone(self, coach, one_on_one, client_ny):
        today = services.book_slot(client=client_ny, session_type=one_on_one, start=NOW + dt.timedelta(hours=3))
        friday = services.book_slot(
            client=ClientFactory(), session_type=one_on_one, start=dt.datetime(2026, 12, 4, 15, tzinfo=UTC)
        )
        beyond = services.book_slot(
            client=ClientFactory(), session_type=one_on_one, start=dt.datetime(2026, 12, 9, 15, tzinfo=UTC)
        )

        body = text(browser(coach).get("/coach/"))

        agenda = body.split('data-testid="agenda"')[1].split('data-testid="requests-queue"')[0]
        assert "10:00" in agenda and "Nina York" in agenda and today.reference in agenda
        week = body.split('data-testid="week-agenda"')[1].split('data-testid="group-rosters"')[0]
        assert "Friday 4 December" in week and "16:00" in week and friday.reference in week
        assert beyond.reference not in body

    def test_requests_queue(self, approving_coach, request_booking, client_ny):
        body = text(browser(approving_coach).get("/coach/"))
        queue = body.split('data-testid="requests-queue"')[1].split('data-testid="week-agenda"')[0]
        assert request_booking.reference in queue and "Nina York" in queue
        assert re.search(r'data-testid="requests-count">1<', queue)
        for testid in ("approve-button", "decline-button", "suggest-button"):
            assert f'data-testid="{testid}"' in queue

    def test_publish_a_group_session_in_the_coach_zone_and_see_its_roster(self, coach, client_ny):
        group = GroupTypeFactory(coach=coach, title="Yoga")
        response = browser(coach).post(
            "/coach/sessions/publish/",
            # 18:00 is after the coach's hours (09:00-17:00): confirmed, as the page asks.
            {
                "session_type": group.pk,
                "start": "2026-12-03T18:00",
                "capacity": "4",
                "confirm_outside": "2026-12-03T18:00",
            },
        )
        assert response.status_code == 302
        session = Session.objects.get(session_type=group)
        assert session.start == dt.datetime(2026, 12, 3, 17, tzinfo=UTC) and session.capacity == 4

        services.take_seat(client=client_ny, session=session)
        roster = text(browser(coach).get("/coach/")).split('data-testid="group-rosters"')[1]
        assert "Yoga" in roster and "1/4 seats" in roster and "Nina York" in roster

    def test_publish_refusals_show_on_the_page(self, coach):
        group = GroupTypeFactory(coach=coach)
        past = browser(coach).post("/coach/sessions/publish/", {"session_type": group.pk, "start": "2026-11-30T18:00"})
        assert past.status_code == 400 and "Mon 30 Nov 2026, 18:00 has already passed" in text(past)
        too_big = browser(coach).post(
            "/coach/sessions/publish/", {"session_type": group.pk, "start": "2026-12-03T18:00", "capacity": "999"}
        )
        assert too_big.status_code == 400 and "Choose between 1 and 10 seats." in text(too_big)
        far = browser(coach).post("/coach/sessions/publish/", {"session_type": group.pk, "start": "0001-01-01T00:30"})
        assert far.status_code == 400 and "Choose a date between 1900 and 2999." in text(far)
        assert not Session.objects.filter(session_type=group).exists()

    def test_cannot_publish_another_coach_type(self, coach):
        foreign = GroupTypeFactory()
        response = browser(coach).post(
            "/coach/sessions/publish/", {"session_type": foreign.pk, "start": "2026-12-03T18:00"}
        )
        assert response.status_code == 400 and "Choose one of your group types." in text(response)

    def test_cancel_a_group_session_with_a_reason(self, coach, client_ny):
        group = GroupTypeFactory(coach=coach)
        session = services.publish_session(actor=coach, session_type=group, start=TOMORROW_9)
        seat = services.take_seat(client=client_ny, session=session)

        refused = browser(coach).post(f"/coach/sessions/{session.pk}/cancel/", {"reason": ""})
        assert refused.status_code == 400 and "Give the attendees a reason." in text(refused)

        browser(coach).post(f"/coach/sessions/{session.pk}/cancel/", {"reason": "Studio closed"})
        session.refresh_from_db()
        seat.refresh_from_db()
        assert session.status == SessionStatus.CANCELLED
        assert seat.status == BookingStatus.CANCELLED and seat.events.last().note == "Studio closed"

    def test_another_coach_cannot_cancel_the_session(self, coach):
        session = services.publish_session(actor=coach, session_type=GroupTypeFactory(coach=coach), start=TOMORROW_9)
        response = browser(CoachFactory()).post(f"/coach/sessions/{session.pk}/cancel/", {"reason": "no"})
        assert response.status_code == 404
        session.refresh_from_db()
        assert session.status == SessionStatus.SCHEDULED

    def test_ids_beyond_any_database_integer_are_404(self, coach, client_ny):
        huge = 10**30
        assert browser(coach).post(f"/coach/sessions/{huge}/cancel/", {"reason": "x"}).status_code == 404
        assert browser(client_ny).post(f"/plans/{huge}/remove/").status_code == 404

    def test_clients_cannot_use_coach_endpoints(self, client_ny):
        http = browser(client_ny)
        assert http.get("/coach/live/").status_code == 404
        assert http.post("/coach/sessions/publish/", {}).status_code == 404
        assert http.get("/staff/live/").status_code == 404


# --- Staff overview ---------------------------------------------------------------------------------


class TestStaffOverview:
    def test_filters_and_pages(self, coach, one_on_one):
        other_coach = open_coach(timezone="Asia/Kolkata")
        other_type = SessionTypeFactory(coach=other_coach)
        mine = [
            services.book_slot(client=ClientFactory(), session_type=one_on_one, start=TOMORROW_9 + dt.timedelta(days=d))
            for d in range(27)
        ]
        theirs = services.book_slot(
            client=ClientFactory(), session_type=other_type, start=dt.datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
        )
        services.cancel(booking=mine[0], actor=coach, reason="Ill")
        staff = browser(StaffFactory(timezone="UTC"))

        first = text(staff.get("/staff/"))
        assert "28 bookings" in first and "Page 1 of 2" in first
        second = text(staff.get("/staff/?page=2"))
        assert len(re.findall(r'data-testid="staff-row"', second)) == 3

        by_coach = text(staff.get(f"/staff/?coach={other_coach.pk}"))
        assert re.findall(r'data-testid="staff-row" data-reference="([^"]+)"', by_coach) == [theirs.reference]

        by_status = text(staff.get("/staff/?status=cancelled"))
        assert re.findall(r'data-testid="staff-row" data-reference="([^"]+)"', by_status) == [mine[0].reference]

        by_dates = text(staff.get("/staff/?date_from=2026-12-03&date_to=2026-12-04"))
        assert re.findall(r'data-testid="staff-row" data-reference="([^"]+)"', by_dates) == [
            mine[1].reference,
            mine[2].reference,
        ]

    def test_opens_on_today_onwards_and_can_show_all(self, coach, one_on_one, client_ny, frozen):
        frozen.move_to(NOW - dt.timedelta(days=3))
        old = services.book_slot(client=client_ny, session_type=one_on_one, start=TOMORROW_9 - dt.timedelta(days=2))
        frozen.move_to(NOW)
        new = services.book_slot(client=client_ny, session_type=one_on_one, start=TOMORROW_9)
        staff = browser(StaffFactory(timezone="UTC"))

        default = text(staff.get("/staff/"))
        assert new.reference in default and old.reference not in default
        assert 'name="date_from" value="2026-12-01"' in default

        everything = text(staff.get("/staff/?date_from="))
        assert new.reference in everything and old.reference in everything

    @pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "date_from=9999-12-31"])
    def test_the_calendar_far_ends_are_ignored(self, booking, query):
        http = browser(StaffFactory(timezone="Asia/Kolkata"))
        assert http.get(f"/staff/?{query}").status_code == 200
        assert http.get(f"/staff/live/?{query}&v=old").status_code == 200

    def test_bad_filters_are_ignored_not_an_error(self, booking):
        response = browser(StaffFactory()).get("/staff/?coach=abc&status=nope&date_from=yesterday&page=99")
        assert response.status_code == 200 and booking.reference in text(response)


# --- Live updates ------------------------------------------------------------------------------------


class TestLive:
    def test_coach_fragment_is_204_until_something_changes(
        self, approving_coach, request_type, django_capture_on_commit_callbacks
    ):
        http = browser(approving_coach)
        page = text(http.get("/coach/"))
        version = re.search(r'id="coach-live"[^>]*data-version="([^"]+)"', page).group(1)

        assert http.get(f"/coach/live/?v={version}").status_code == 204

        with django_capture_on_commit_callbacks(execute=True):
            fresh = services.book_slot(client=ClientFactory(), session_type=request_type, start=TOMORROW_9)
        assert live.version(approving_coach.pk) != version

        changed = http.get(f"/coach/live/?v={version}")
        assert changed.status_code == 200
        body = text(changed)
        assert fresh.reference in body and "<html" not in body
        assert f'data-version="{live.version(approving_coach.pk)}"' in body
        assert f"/coach/live/?{urlencode({'v': live.version(approving_coach.pk)})}" in body
        assert 'hx-trigger="every 10s' in body

    def test_staff_fragment(self, one_on_one, django_capture_on_commit_callbacks):
        http = browser(StaffFactory())
        version = live.version(live.STAFF_SCOPE)
        assert http.get(f"/staff/live/?v={version}").status_code == 204

        with django_capture_on_commit_callbacks(execute=True):
            fresh = services.book_slot(client=ClientFactory(), session_type=one_on_one, start=TOMORROW_9)

        changed = http.get(f"/staff/live/?v={version}&status=firm_booked")
        assert changed.status_code == 200 and fresh.reference in text(changed)
        assert "status=firm_booked" in text(changed)  # the next poll keeps the filters

    def test_cancelling_an_empty_group_session_moves_the_coach_counter(self, coach, frozen):
        session = services.publish_session(actor=coach, session_type=GroupTypeFactory(coach=coach), start=TOMORROW_9)
        before = live.version(coach.pk)
        frozen.shift(dt.timedelta(seconds=5))
        browser(coach).post(f"/coach/sessions/{session.pk}/cancel/", {"reason": "Nobody came"})
        assert live.version(coach.pk) != before


# --- Fixed query counts with 30 bookings ---------------------------------------------------------------


@pytest.fixture
def thirty(coach, client_ny):
    one = SessionTypeFactory(coach=coach)
    group = GroupTypeFactory(coach=coach, capacity=10)
    made = []
    for day in range(10):
        start = TOMORROW_9 + dt.timedelta(days=day)
        made.append(services.book_slot(client=client_ny, session_type=one, start=start))
        made.append(services.book_slot(client=ClientFactory(), session_type=one, start=start + dt.timedelta(hours=2)))
    session = services.publish_session(actor=coach, session_type=group, start=TOMORROW_9 + dt.timedelta(hours=5))
    for _ in range(9):
        made.append(services.take_seat(client=ClientFactory(), session=session))
    made.append(services.take_seat(client=client_ny, session=session))
    services.schedule_later(client=client_ny, session_type=SessionTypeFactory(coach=coach))
    assert len(made) == 30
    return made


@pytest.mark.parametrize(
    ("who", "path", "limit"),
    [
        ("client", "/client/", 8),  # with the waitlist (one read; its offers only when one is held)
        ("coach", "/coach/", 14),  # with the running series and the waitlists (a read each, whatever their number)
        ("staff", "/staff/", 10),
        ("coach", "/coach/live/?v=stale", 10),  # the waitlists refresh with the rest
        ("staff", "/staff/live/?v=stale", 5),
    ],
)
def test_dashboards_have_a_fixed_number_of_queries(
    thirty, coach, client_ny, who, path, limit, django_assert_max_num_queries
):
    user = {"client": client_ny, "coach": coach, "staff": StaffFactory()}[who]
    http = browser(user)
    with django_assert_max_num_queries(limit):
        response = http.get(path)
    assert response.status_code == 200
    assert text(response).count(thirty[0].reference) >= 1
