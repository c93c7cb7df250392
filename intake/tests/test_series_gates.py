"""A series asks what a single booking asks (issue 21, point 1): the coach's consent
documents (ticked on the series preview, or ``accept_consents`` over the API) and the intake
forms (the Questions step, back to the preview; or ``intake_answers``), recorded with the
series' first booking. Refused, nothing of the series is written. Staff and a coach booking
for a client are not asked, and a reschedule is never refused for a document published
after the booking.

The consent documents and the intake forms are ``intake``'s (registered into
``bookings.gates``): these end-to-end tests set them up with intake's own helpers.
"""

from __future__ import annotations

import datetime as dt
import json
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory, GuardianLinkFactory, StaffFactory, make_token
from bookings import services
from bookings.models import Booking, Series
from bookings.tests.factories import SessionTypeFactory, open_coach
from intake import consents
from intake.models import AskWhen, ConsentRecord, IntakeResponse, ResponseStatus
from intake.tests.forms_helpers import make_form, question

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)  # a Saturday
TERMS = "Sessions start on time. Cancel 24 hours ahead."
MISSING = "To book, read and accept each document below: tick its box."
PAGE_ADDRESS, API_ADDRESS = "203.0.113.7", "198.51.100.4"


def tuesday(weeks: int = 0, hour: int = 10) -> dt.datetime:
    return (dt.datetime(2027, 2, 23, hour, 0) + dt.timedelta(weeks=weeks)).replace(tzinfo=NY).astimezone(dt.UTC)


def param(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    coach = open_coach(timezone="America/New_York", hours=(8, 18), booking_window_days=21)
    coach.coach_profile.allow_series = True
    coach.coach_profile.save()
    return coach


@pytest.fixture
def session_type(coach):
    return SessionTypeFactory(coach=coach, title="Tutoring", duration_minutes=60, price=0)


def connected(coach, **kwargs):
    client = ClientFactory(**kwargs)
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    return client


@pytest.fixture
def client_user(coach):
    return connected(coach, name="Cleo Client", timezone="America/New_York")


@pytest.fixture
def terms(coach):
    return consents.create_document(actor=coach, kind="terms", title="Coaching terms", body=TERMS)


@pytest.fixture
def intake_form(coach, session_type):
    return make_form(coach, "Welcome form", session_type=session_type)


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def page(response) -> str:
    return unescape(response.content.decode())


def key(document) -> str:
    return f"consent:{consents.current_version(document).pk}"


def preview_url(coach, session_type, count: int = 3) -> str:
    query = {"start": param(tuesday()), "frequency": "weekly", "ends": "count", "count": str(count)}
    return f"{reverse('series_preview', args=[coach.pk, session_type.pk])}?{urlencode(query)}"


def book_page(http, url, accept=(), **extra):
    data = {"on_conflict": "all_or_nothing", "reminders": "on", "notes": "", "accept": list(accept), **extra}
    return http.post(url, data, REMOTE_ADDR=PAGE_ADDRESS)


def first_of(series: Series) -> Booking:
    return Booking.objects.filter(series=series).order_by("session__start").first()


def nothing_written() -> bool:
    return not (
        Series.objects.exists()
        or Booking.objects.exists()
        or ConsentRecord.objects.exists()
        or IntakeResponse.objects.filter(status=ResponseStatus.SUBMITTED).exists()
    )


def api_series(user, coach, session_type, count: int = 3, **body):
    payload = {
        "coach": coach.pk,
        "session_type": session_type.pk,
        "start": tuesday().isoformat(),
        "count": count,
        **body,
    }
    return Client().post(
        "/api/v1/series",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {make_token(user)[1]}",
        REMOTE_ADDR=API_ADDRESS,
    )


# --- the series preview (the wizard's review step) --------------------------------------


def test_the_preview_asks_the_consents_and_refuses_without_the_ticks(coach, session_type, client_user, terms):
    http = signed_in(client_user)
    url = preview_url(coach, session_type)
    shown = page(http.get(url))
    assert 'data-testid="consents"' in shown and "Coaching terms" in shown and TERMS in shown
    assert f'name="accept" value="{key(terms)}" required' in shown

    refused = book_page(http, url)
    assert refused.status_code == 400
    assert MISSING in page(refused) and 'data-testid="consents"' in page(refused)
    # A tick for something else (an old page's version) is no acceptance either.
    assert book_page(http, url, accept=["consent:999999"]).status_code == 400
    assert nothing_written()


def test_with_the_ticks_the_series_is_booked_and_the_acceptance_recorded_on_its_first_booking(
    coach, session_type, client_user, terms
):
    http = signed_in(client_user)
    url = preview_url(coach, session_type)
    response = book_page(http, url, accept=[key(terms)])
    series = Series.objects.get(client=client_user)
    assert response.status_code == 303
    assert response["Location"] == reverse("series_detail", args=[series.pk])
    assert Booking.objects.filter(series=series).count() == 3
    record = ConsentRecord.objects.get()
    assert (record.client, record.accepted_by) == (client_user, client_user)
    assert record.version == consents.current_version(terms) and record.version.number == 1
    assert record.ip_address == PAGE_ADDRESS and record.accepted_at == NOW
    assert record.booking == first_of(series) and record.booking.session.start == tuesday()
    # Accepted once: the next series (or booking) with the coach asks nothing.
    assert 'data-testid="consents"' not in page(http.get(preview_url(coach, session_type, count=2)))


def test_intake_questions_step_then_back_to_the_preview_then_booked_with_the_answers(
    coach, session_type, client_user, intake_form
):
    http = signed_in(client_user)
    url = preview_url(coach, session_type)
    # Nothing is booked without the answers: the POST goes to the Questions step too.
    refused = book_page(http, url)
    assert refused.status_code == 303 and "/book/questions/" in refused["Location"]
    assert nothing_written()

    sent = http.get(url)
    assert sent.status_code == 303
    questions = sent["Location"]
    assert questions.startswith(reverse("intake_questions", args=[intake_form.pk, session_type.pk]))
    back = parse_qs(urlsplit(questions).query)["next"][0]
    assert back.startswith(reverse("series_preview", args=[coach.pk, session_type.pk]) + "?")
    assert parse_qs(urlsplit(back).query)["count"] == ["3"]
    assert "Your goal" in page(http.get(questions))

    answered = http.post(questions, {question(intake_form, "Your goal").pk: "Pass the exam"})
    assert answered.status_code == 302 and answered["Location"] == back
    preview = http.get(back)
    assert preview.status_code == 200 and 'data-testid="series-occurrences"' in page(preview)
    assert not Series.objects.exists()

    booked = book_page(http, back)
    assert booked.status_code == 303, page(booked)
    series = Series.objects.get(client=client_user)
    response = IntakeResponse.objects.get()
    assert response.status == ResponseStatus.SUBMITTED and response.booking == first_of(series)
    assert json.loads(response.answers) == {str(question(intake_form, "Your goal").pk): "Pass the exam"}
    # Asked before the first booking with the coach only: answered, the next series goes straight on.
    assert signed_in(client_user).get(preview_url(coach, session_type, count=2)).status_code == 200


def test_a_guardian_accepts_and_answers_for_their_dependent(coach, session_type, client_user, terms, intake_form):
    child = GuardianLinkFactory(guardian=client_user).dependent
    Connection.objects.create(client=child, coach=coach, status=ConnectionStatus.ACCEPTED)
    http = signed_in(client_user)
    url = f"{preview_url(coach, session_type)}&book_for={child.pk}"
    questions = http.get(url)["Location"]
    assert parse_qs(urlsplit(questions).query)["for"] == [str(child.pk)]
    back = http.post(questions, {question(intake_form, "Your goal").pk: "Learn to swim"})["Location"]
    assert book_page(http, back, book_for=child.pk).status_code == 400  # the ticks are still missing
    assert book_page(http, back, accept=[key(terms)], book_for=child.pk).status_code == 303
    series = Series.objects.get(client=child)
    record = ConsentRecord.objects.get()
    assert (record.client, record.accepted_by, record.booking) == (child, client_user, first_of(series))
    response = IntakeResponse.objects.get()
    assert (response.client, response.answered_by, response.booking) == (child, client_user, first_of(series))


def test_staff_booking_a_series_for_a_client_are_not_asked(coach, session_type, client_user, terms, intake_form):
    staff = StaffFactory()
    http = signed_in(staff)
    assert http.post(reverse("book_for_client"), {"client": client_user.pk}).status_code == 303
    url = preview_url(coach, session_type)
    shown = http.get(url)
    assert shown.status_code == 200 and 'data-testid="consents"' not in page(shown)
    assert book_page(http, url, for_client=client_user.pk).status_code == 303
    assert Booking.objects.filter(series__client=client_user).count() == 3
    assert not ConsentRecord.objects.exists() and not IntakeResponse.objects.exists()


# --- the API ----------------------------------------------------------------------------


def test_the_api_refuses_with_409_until_consents_and_answers_are_sent(coach, session_type, client_user, terms):
    form = make_form(coach, "Welcome form", session_type=session_type, when=AskWhen.EVERY_BOOKING)
    goal = question(form, "Your goal")
    version = consents.current_version(terms)

    refused = api_series(client_user, coach, session_type)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "consent_required"
    assert error["consents"] == [{"id": version.pk, "title": "Coaching terms", "version": 1, "text": TERMS}]
    assert nothing_written()

    refused = api_series(client_user, coach, session_type, accept_consents=[version.pk])
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "intake_required"
    assert [(f["title"], [q["id"] for q in f["questions"]]) for f in error["forms"]] == [("Welcome form", [goal.pk])]
    assert nothing_written()

    bad = api_series(client_user, coach, session_type, accept_consents=[version.pk], intake_answers={str(goal.pk): ""})
    assert bad.status_code == 409 and bad.json()["error"]["errors"] == {str(goal.pk): "Answer this question."}
    assert nothing_written()

    made = api_series(
        client_user, coach, session_type, accept_consents=[version.pk], intake_answers={str(goal.pk): "Pass"}
    )
    assert made.status_code == 201, made.content
    series = Series.objects.get(pk=made.json()["id"])
    assert len(made.json()["occurrences"]) == 3
    first = first_of(series)
    record = ConsentRecord.objects.get()
    assert (record.version, record.ip_address, record.booking, record.accepted_by) == (
        version,
        API_ADDRESS,
        first,
        client_user,
    )
    response = IntakeResponse.objects.get()
    assert (response.booking, response.client, response.status) == (first, client_user, ResponseStatus.SUBMITTED)
    assert json.loads(response.answers) == {str(goal.pk): "Pass"}


def test_the_coach_and_staff_booking_a_series_over_the_api_are_not_asked(coach, session_type, client_user, terms):
    make_form(coach, "Welcome form", session_type=session_type)
    by_coach = api_series(coach, coach, session_type, count=2, client=client_user.pk)
    assert by_coach.status_code == 201, by_coach.content
    later = {"start": tuesday(weeks=2, hour=14).isoformat()}
    by_staff = api_series(StaffFactory(), coach, session_type, count=2, client=client_user.pk, **later)
    assert by_staff.status_code == 201, by_staff.content
    assert Series.objects.filter(client=client_user).count() == 2
    assert not ConsentRecord.objects.exists() and not IntakeResponse.objects.exists()


def test_a_preview_over_the_api_books_nothing_and_asks_nothing(coach, session_type, client_user, terms):
    body = {"coach": coach.pk, "session_type": session_type.pk, "start": tuesday().isoformat(), "count": 2}
    response = Client().post(
        "/api/v1/series/preview",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {make_token(client_user)[1]}",
    )
    assert response.status_code == 200 and len(response.json()["occurrences"]) == 2
    assert nothing_written()


# --- a reschedule is not asked ------------------------------------------------------------


def test_a_reschedule_is_not_refused_for_a_consent_published_after_the_booking(coach, session_type, client_user):
    booking = services.book_slot(client=client_user, session_type=session_type, start=tuesday(), booked_by=client_user)
    consents.create_document(actor=coach, kind="terms", title="New terms", body=TERMS)
    make_form(coach, "Welcome form", session_type=session_type, when=AskWhen.EVERY_BOOKING)

    moved = Client().post(
        f"/api/v1/bookings/{booking.pk}/reschedule",
        json.dumps({"start": tuesday(hour=12).isoformat()}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {make_token(client_user)[1]}",
    )
    assert moved.status_code == 200, moved.content
    moved_ref = moved.json()["reference"]
    url = reverse("booking_reschedule_confirm", args=[moved_ref]) + f"?start={param(tuesday(hour=15))}"
    again = signed_in(client_user).post(url)
    assert again.status_code == 303, page(again)
    final = Booking.objects.get(reference=again["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert final.session.start == tuesday(hour=15)
    assert not ConsentRecord.objects.exists() and not IntakeResponse.objects.exists()
    # A new booking, though, asks for it.
    refused = api_series(client_user, coach, session_type, count=2, start=tuesday(weeks=1, hour=16).isoformat())
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "consent_required"
