"""A session in progress: the coach starts it from the agenda or the API, and it is still
completed (by the coach, or automatically once it ends) with its bookings.

Time starts on Tuesday 1 December 2026, 06:00 UTC (07:00 in Paris, the coach's zone); the
session is at 09:00 UTC (10:00 in Paris) for an hour.
"""

from __future__ import annotations

import datetime as dt
import html
import json

import pytest
import time_machine
from django.test import Client

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services
from bookings.models import BookingStatus, Session, SessionStatus
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
END = START + dt.timedelta(hours=1)
START_BUTTON = 'data-testid="start-session-button"'


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Coach"
    coach.save(update_fields=["name"])
    return coach


@pytest.fixture
def client_user():
    return ClientFactory(name="Nina York", timezone="America/New_York")


@pytest.fixture
def booking(coach, client_user):
    session_type = SessionTypeFactory(coach=coach, title="Consultation")
    return services.book_slot(client=client_user, session_type=session_type, start=START)


@pytest.fixture
def session(booking) -> Session:
    return booking.session


def logged_in(user, **headers: str) -> Client:
    http = Client(headers=headers)
    http.force_login(user)
    return http


def text(response) -> str:
    return html.unescape(response.content.decode())


def agenda_row(body: str, session: Session) -> str:
    return body.split(f'data-session="{session.pk}"')[1].split("</li>")[0]


def start_url(session: Session) -> str:
    return f"/coach/sessions/{session.pk}/start/"


# --- the coach's agenda ------------------------------------------------------------------------


def test_the_start_button_shows_from_30_minutes_before_until_the_end(coach, session, frozen) -> None:
    http = logged_in(coach)
    seen = {}
    for label, when in [
        ("31 min before", START - dt.timedelta(minutes=31)),
        ("30 min before", START - dt.timedelta(minutes=30)),
        ("during", START + dt.timedelta(minutes=50)),
        ("at the end", END),
    ]:
        frozen.move_to(when)
        seen[label] = START_BUTTON in agenda_row(text(http.get("/coach/")), session)
    assert seen == {"31 min before": False, "30 min before": True, "during": True, "at the end": False}


def test_the_coach_starts_a_session_with_a_plain_form_and_the_row_says_in_progress(coach, session, frozen) -> None:
    frozen.move_to(START - dt.timedelta(minutes=10))
    http = logged_in(coach)
    form = agenda_row(text(http.get("/coach/")), session)
    assert f'action="{start_url(session)}"' in form and "csrfmiddlewaretoken" in form

    response = http.post(start_url(session), {"next": "/coach/"}, follow=True)

    assert response.redirect_chain == [("/coach/", 302)]
    body = text(response)
    assert "Consultation is in progress." in body
    row = agenda_row(body, session)
    assert "In progress" in row and START_BUTTON not in row
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_the_start_form_needs_its_csrf_token(coach, session, frozen) -> None:
    frozen.move_to(START)
    http = Client(enforce_csrf_checks=True)
    http.force_login(coach)
    assert http.post(start_url(session)).status_code == 403
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_with_htmx_the_agenda_comes_back_with_the_session_in_progress(coach, session, frozen) -> None:
    frozen.move_to(START + dt.timedelta(minutes=5))

    response = logged_in(coach, **{"HX-Request": "true"}).post(start_url(session))

    assert response.status_code == 200
    body = text(response)
    assert 'id="coach-live"' in body and 'data-testid="live-notice"' in body
    assert "Consultation is in progress." in body
    assert "In progress" in agenda_row(body, session)


def test_too_early_is_refused_with_a_message_on_the_page(coach, session, frozen) -> None:
    frozen.move_to(START - dt.timedelta(hours=1))

    plain = logged_in(coach).post(start_url(session), {"next": "/coach/"}, follow=True)
    htmx = logged_in(coach, **{"HX-Request": "true"}).post(start_url(session))

    assert "A session can be started from 30 minutes before its time." in text(plain)
    assert htmx.status_code == 409
    assert 'data-testid="live-error"' in text(htmx)
    assert "A session can be started from 30 minutes before its time." in text(htmx)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_only_the_coach_or_staff_start_a_session_from_the_pages(coach, session, client_user, frozen) -> None:
    frozen.move_to(START)
    assert logged_in(open_coach()).post(start_url(session)).status_code == 404
    assert logged_in(client_user).post(start_url(session)).status_code == 404
    assert Client().post(start_url(session)).status_code == 302  # to the sign-in page
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED

    response = logged_in(StaffFactory()).post(start_url(session), {"next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


# --- the API -----------------------------------------------------------------------------------


def api_start(user, session: Session):
    http = Client()
    if user is not None:
        http.force_login(user)
    return http.post(f"/api/v1/sessions/{session.pk}/start", "", content_type="application/json")


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_the_api_starts_a_session_and_answers_with_it(coach, session, frozen) -> None:
    frozen.move_to(START - dt.timedelta(minutes=30))

    response = api_start(coach, session)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["title"]) == (session.pk, "in_progress", "Consultation")
    assert (body["start"], body["timezone"]) == ("2026-12-01T10:00:00+01:00", "Europe/Paris")
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_the_api_refuses_too_early_twice_or_when_cancelled_with_409(coach, session, booking, frozen) -> None:
    frozen.move_to(START - dt.timedelta(minutes=31))
    assert error(api_start(coach, session), 409)["code"] == "invalid_transition"

    frozen.move_to(START)
    assert api_start(coach, session).status_code == 200
    assert error(api_start(coach, session), 409)["code"] == "invalid_transition"

    other = services.book_slot(
        client=ClientFactory(), session_type=session.session_type, start=START + dt.timedelta(hours=2)
    )
    services.cancel(booking=other, actor=coach, reason="Ill")
    other.session.refresh_from_db()
    assert other.session.status == SessionStatus.CANCELLED
    frozen.move_to(START + dt.timedelta(hours=2))
    assert error(api_start(coach, other.session), 409)["code"] == "invalid_transition"


def test_the_api_answers_404_or_403_for_others_sessions_like_for_bookings(coach, session, client_user, frozen) -> None:
    frozen.move_to(START)
    assert error(api_start(open_coach(), session), 404)["code"] == "not_found"
    assert error(api_start(ClientFactory(), session), 404)["code"] == "not_found"
    assert error(api_start(client_user, session), 403)["code"] == "forbidden"  # sees it, doesn't run it
    assert error(api_start(None, session), 401)["code"] == "unauthenticated"
    missing = Client()
    missing.force_login(coach)
    assert error(missing.post("/api/v1/sessions/999999/start", "", content_type="application/json"), 404)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED

    staff_answer = api_start(StaffFactory(), session)
    assert staff_answer.status_code == 200
    assert json.loads(staff_answer.content)["status"] == "in_progress"


# --- completing a session in progress ------------------------------------------------------------


def test_a_session_in_progress_is_completed_by_its_coach(coach, session, booking, frozen) -> None:
    frozen.move_to(START + dt.timedelta(minutes=1))
    services.mark_started(session=session, actor=coach)

    done = services.mark_completed(session=session, actor=coach)

    assert done.status == SessionStatus.COMPLETED
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED


def test_a_session_in_progress_is_completed_automatically_after_its_end(coach, session, booking, frozen) -> None:
    frozen.move_to(START + dt.timedelta(minutes=1))
    services.mark_started(session=session, actor=coach)

    assert services.complete_past_sessions(now=END - dt.timedelta(seconds=1)) == 0
    assert services.complete_past_sessions(now=END) == 1

    session.refresh_from_db()
    booking.refresh_from_db()
    assert (session.status, booking.status) == (SessionStatus.COMPLETED, BookingStatus.COMPLETED)
    assert booking.events.last().action == "completed_automatically"


def test_a_session_that_has_ended_cannot_start(coach, session, frozen) -> None:
    frozen.move_to(END)
    with pytest.raises(DomainError) as refused:
        services.mark_started(session=session, actor=coach)
    assert (refused.value.code, refused.value.status) == ("invalid_transition", 409)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
