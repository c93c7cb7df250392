"""Taking a place offered from the waitlist asks what a booking asks (issue 21, point 4):
the coach's consent documents (ticked on the offer's page, or ``accept_consents`` over the
API) and the intake forms (the Questions step and back to the offer, or
``intake_answers``). Refused, nothing is booked and the place stays held for the client
until the offer runs out. Staff taking it for a client they added are not asked.

The consent documents and the intake forms are ``intake``'s (registered into
``bookings.gates``): these end-to-end tests set them up with intake's own helpers.
"""

from __future__ import annotations

import datetime as dt
import json
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, StaffFactory, make_token
from bookings import relay, services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from intake import consents
from intake.models import ConsentRecord, IntakeResponse, ResponseStatus
from intake.tests.forms_helpers import make_form, question
from waitlist import services as waitlist
from waitlist import times
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # a Tuesday
START = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
THURSDAY_10 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)  # 10:00 in Paris
TERMS = "Arrive ten minutes early."
MISSING = "To book, read and accept each document below: tick its box."
PAGE_ADDRESS, API_ADDRESS = "203.0.113.9", "198.51.100.8"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def circle(coach):
    return GroupTypeFactory(coach=coach, title="Morning circle", capacity=1, price=0)


@pytest.fixture
def session(coach, circle):
    session = services.publish_session(actor=coach, session_type=circle, start=START)
    services.take_seat(client=ClientFactory(name="Hana Holder"), session=session)
    return session


@pytest.fixture
def sofia():
    return ClientFactory(name="Sofia Marquez")


@pytest.fixture
def terms(coach):
    return consents.create_document(actor=coach, kind="terms", title="Circle rules", body=TERMS)


def offered(session, client, *, by=None) -> WaitlistOffer:
    """``client`` waits (joined by ``by``); the seat frees and is offered to them."""
    waitlist.join(actor=by or client, client=client, session=session)
    holder = Booking.objects.get(session=session, status=BookingStatus.FIRM_BOOKED)
    services.cancel(booking=holder, actor=holder.client)
    relay.relay_pending()
    return WaitlistOffer.objects.get(entry__client=client, status=OfferStatus.PENDING)


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def text_of(response) -> str:
    return unescape(response.content.decode())


def key(document) -> str:
    return f"consent:{consents.current_version(document).pk}"


def still_held(offer: WaitlistOffer) -> bool:
    offer.refresh_from_db()
    return (
        offer.status == OfferStatus.PENDING
        and offer.booking_id is None
        and (offer.session is None or offer.session.seats_held == 1)
        and (offer.hold is None or offer.hold.is_active)
    )


def accept_api(user, offer, **body):
    return Client().post(
        f"/api/v1/waitlist/offers/{offer.pk}/accept",
        json.dumps(body) if body else "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {make_token(user)[1]}",
        REMOTE_ADDR=API_ADDRESS,
    )


# --- the offer's page ---------------------------------------------------------------------


def test_the_offer_page_asks_the_consents_and_takes_the_seat_once_ticked(session, sofia, terms):
    offer = offered(session, sofia)
    http = signed_in(sofia)
    url = reverse("waitlist:offer", args=[offer.pk])
    shown = text_of(http.get(url))
    assert 'data-testid="consents"' in shown and "Circle rules" in shown and TERMS in shown
    assert f'name="accept" value="{key(terms)}" required' in shown
    assert 'value="decline" class="btn btn-ghost" formnovalidate' in shown  # declining needs no tick

    refused = http.post(url, {"answer": "accept"}, REMOTE_ADDR=PAGE_ADDRESS)
    assert refused.status_code == 400 and MISSING in text_of(refused)
    assert not Booking.objects.filter(client=sofia).exists() and not ConsentRecord.objects.exists()
    assert still_held(offer)

    taken = http.post(url, {"answer": "accept", "accept": [key(terms)]}, REMOTE_ADDR=PAGE_ADDRESS)
    booking = Booking.objects.get(client=sofia)
    assert taken.status_code == 302 and taken["Location"] == reverse("booking_done", args=[booking.reference])
    record = ConsentRecord.objects.get()
    assert (record.client, record.accepted_by, record.booking) == (sofia, sofia, booking)
    assert record.version == consents.current_version(terms) and record.version.number == 1
    assert record.ip_address == PAGE_ADDRESS and record.accepted_at == NOW
    assert WaitlistEntry.objects.get(client=sofia).status == EntryStatus.BOOKED


def test_declining_asks_nothing(session, sofia, terms):
    offer = offered(session, sofia)
    declined = signed_in(sofia).post(reverse("waitlist:offer", args=[offer.pk]), {"answer": "decline"})
    assert declined.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED and not ConsentRecord.objects.exists()


def test_the_questions_step_and_back_keeps_the_seat_held_then_books_with_the_answers(coach, circle, session, sofia):
    form = make_form(coach, "Circle intake", session_type=circle)
    offer = offered(session, sofia)
    expires = offer.expires_at
    http = signed_in(sofia)
    url = reverse("waitlist:offer", args=[offer.pk])
    shown = http.get(url)
    assert shown.status_code == 200
    link = (
        next(line for line in text_of(shown).splitlines() if 'data-testid="offer-questions-link"' in line)
        .split('href="')[1]
        .split('"')[0]
    )
    assert link.startswith(reverse("intake_questions", args=[form.pk, circle.pk]))
    assert parse_qs(urlsplit(link).query)["next"] == [url]

    # Taking it before answering goes to the Questions step; nothing is booked, nothing let go.
    sent = http.post(url, {"answer": "accept"})
    assert sent.status_code == 303 and sent["Location"] == link
    assert still_held(offer) and not Booking.objects.filter(client=sofia).exists()
    assert "Your goal" in text_of(http.get(link))
    back = http.post(link, {question(form, "Your goal").pk: "Wake up calmer"})
    assert back.status_code == 302 and back["Location"] == url
    assert still_held(offer) and offer.expires_at == expires
    assert 'data-testid="offer-questions"' not in text_of(http.get(url))

    taken = http.post(url, {"answer": "accept"})
    assert taken.status_code == 302, text_of(taken)
    booking = Booking.objects.get(client=sofia)
    response = IntakeResponse.objects.get()
    assert (response.status, response.booking, response.client) == (ResponseStatus.SUBMITTED, booking, sofia)
    assert json.loads(response.answers) == {str(question(form, "Your goal").pk): "Wake up calmer"}


def test_a_closed_offer_asks_nothing_and_says_why(session, sofia, terms, clock):
    offer = offered(session, sofia)
    clock.shift(dt.timedelta(days=1))
    answer = signed_in(sofia).post(reverse("waitlist:offer", args=[offer.pk]), {"answer": "accept"})
    assert answer.status_code == 409 and "This offer has expired." in text_of(answer)
    assert 'data-testid="consents"' not in text_of(answer)
    refused = accept_api(sofia, offer)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "offer_expired")
    assert not Booking.objects.filter(client=sofia).exists()


# --- the API ------------------------------------------------------------------------------


def test_the_api_refuses_with_409_until_consents_and_answers_are_sent(coach, circle, session, sofia, terms):
    form = make_form(coach, "Circle intake", session_type=circle)
    goal = question(form, "Your goal")
    version = consents.current_version(terms)
    offer = offered(session, sofia)

    refused = accept_api(sofia, offer)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "consent_required"
    assert error["consents"] == [{"id": version.pk, "title": "Circle rules", "version": 1, "text": TERMS}]
    assert still_held(offer)

    refused = accept_api(sofia, offer, accept_consents=[version.pk])
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "intake_required"
    assert [(f["title"], [q["id"] for q in f["questions"]]) for f in error["forms"]] == [("Circle intake", [goal.pk])]
    assert still_held(offer) and not ConsentRecord.objects.exists()

    taken = accept_api(sofia, offer, accept_consents=[version.pk], intake_answers={str(goal.pk): "Breathe"})
    assert taken.status_code == 201, taken.content
    booking = Booking.objects.get(reference=taken.json()["reference"])
    assert booking.client == sofia
    record = ConsentRecord.objects.get()
    assert (record.version, record.ip_address, record.booking, record.accepted_by) == (
        version,
        API_ADDRESS,
        booking,
        sofia,
    )
    response = IntakeResponse.objects.get()
    assert (response.booking, response.status) == (booking, ResponseStatus.SUBMITTED)
    assert json.loads(response.answers) == {str(goal.pk): "Breathe"}


def test_staff_taking_the_seat_for_the_client_they_added_are_not_asked(coach, circle, session, sofia, terms):
    make_form(coach, "Circle intake", session_type=circle)
    staff = StaffFactory()
    offer = offered(session, sofia, by=staff)
    taken = accept_api(staff, offer)
    assert taken.status_code == 201, taken.content
    assert Booking.objects.get(reference=taken.json()["reference"]).client == sofia
    assert not ConsentRecord.objects.exists() and not IntakeResponse.objects.exists()


def test_a_one_on_one_time_offered_asks_the_types_questions(coach, sofia, terms):
    consult = SessionTypeFactory(coach=coach, title="Consultation", price=0)
    form = make_form(coach, "Consult intake", session_type=consult)
    booking = services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10)
    times.join(
        actor=sofia,
        client=sofia,
        session_type=consult,
        days_of_week=[3],
        time_ranges=[["09:00", "12:00"]],
        date_from=dt.date(2026, 12, 1),
        date_to=dt.date(2026, 12, 20),
    )
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get(entry__client=sofia)
    assert offer.hold_id and offer.start == THURSDAY_10

    version = consents.current_version(terms)
    refused = accept_api(sofia, offer, accept_consents=[version.pk])
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "intake_required")
    assert still_held(offer)
    goal = question(form, "Your goal")
    taken = accept_api(sofia, offer, accept_consents=[version.pk], intake_answers={str(goal.pk): "A new job"})
    assert taken.status_code == 201, taken.content
    made = Booking.objects.get(reference=taken.json()["reference"])
    assert made.session.start == THURSDAY_10
    assert IntakeResponse.objects.get().booking == made and ConsentRecord.objects.get().booking == made
