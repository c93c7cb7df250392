"""Consent versions: a client accepts the current version of a coach's (and the site's)
documents before booking — on the wizard's confirm step or through the API — and is asked
again when a new version is published; the coach and staff see who accepted which version,
when and from where, each for their own documents only; a published version never changes."""

from __future__ import annotations

import datetime as dt
import json
from html import unescape

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from accounts.tests.factories import ClientFactory, GuardianLinkFactory, StaffFactory, make_token
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import DomainError, NotAllowed
from conftest import logged_in
from intake import consents
from intake.models import ConsentRecord, ConsentVersion

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TERMS = "Sessions start on time. Cancel 24 hours ahead."
MISSING = "To book, read and accept each document below: tick its box."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    return open_coach()


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, title="Career consultation", price=0)


@pytest.fixture
def client_user():
    return ClientFactory(name="Nia Client")


@pytest.fixture
def terms(coach):
    return consents.create_document(actor=coach, kind="terms", title="Coaching terms", body=TERMS)


def confirm_url(session_type, start: dt.datetime = START) -> str:
    return f"{reverse('book_confirm', args=[session_type.coach_id, session_type.pk])}?start={start:%Y-%m-%dT%H:%M:%SZ}"


def page(response) -> str:
    return unescape(response.content.decode())


def key(version: ConsentVersion) -> str:
    return f"consent:{version.pk}"


def book(http, session_type, start=START, accept=(), **extra):
    return http.post(
        confirm_url(session_type, start),
        {"notes": "", "reminders": "on", "accept": list(accept)},
        REMOTE_ADDR="203.0.113.7",
        **extra,
    )


def api_book(client, coach, session_type, start=START, **body):
    _token, secret = make_token(client)
    payload = {"coach": coach.pk, "session_type": session_type.pk, "start": start.isoformat(), **body}
    return logged_in(client).post(
        "/api/v1/bookings",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        REMOTE_ADDR="198.51.100.4",
    )


# ---------------------------------------------------------------------------------------
# The wizard
# ---------------------------------------------------------------------------------------


def test_the_first_booking_asks_ticking_records_and_books(coach, consult, client_user, terms) -> None:
    http = logged_in(client_user)
    version = consents.current_version(terms)
    shown = page(http.get(confirm_url(consult)))
    assert 'data-testid="consents"' in shown
    assert "Coaching terms" in shown and TERMS in shown
    assert f'name="accept" value="{key(version)}" required' in shown
    assert "I have read and accept “Coaching terms”." in shown

    response = book(http, consult, accept=[key(version)])
    booking = Booking.objects.get(client=client_user)
    assert response.status_code == 303
    assert response["Location"] == reverse("booking_done", args=[booking.reference])
    record = ConsentRecord.objects.get()
    assert (record.client, record.accepted_by, record.version) == (client_user, client_user, version)
    assert record.accepted_at == NOW
    assert record.ip_address == "203.0.113.7"
    assert record.booking == booking


def test_without_the_tick_nothing_is_booked_and_the_page_says_why(coach, consult, client_user, terms) -> None:
    response = book(logged_in(client_user), consult)
    assert response.status_code == 400
    assert MISSING in page(response)
    assert 'data-testid="consents"' in page(response)
    assert not Booking.objects.exists()
    assert not ConsentRecord.objects.exists()
    # A tick for another version (an older page) is no acceptance of the current one.
    assert book(logged_in(client_user), consult, accept=["consent:999999"]).status_code == 400
    assert not Booking.objects.exists()


def test_the_second_booking_does_not_ask_again_but_a_new_version_does(
    coach, consult, client_user, terms, clock
) -> None:
    http = logged_in(client_user)
    first = consents.current_version(terms)
    assert book(http, consult, accept=[key(first)]).status_code == 303
    later = START + dt.timedelta(hours=2)
    assert 'data-testid="consents"' not in page(http.get(confirm_url(consult, later)))
    assert book(http, consult, later).status_code == 303
    assert Booking.objects.filter(client=client_user).count() == 2

    second = consents.publish_version(actor=coach, document=terms, body=TERMS + " Fees are due at booking.")
    assert second.number == 2
    latest = START + dt.timedelta(hours=4)
    shown = page(http.get(confirm_url(consult, latest)))
    assert f'value="{key(second)}"' in shown and f'value="{key(first)}"' not in shown
    assert book(http, consult, latest, accept=[key(first)]).status_code == 400
    assert Booking.objects.filter(client=client_user).count() == 2
    assert book(http, consult, latest, accept=[key(second)]).status_code == 303
    assert list(ConsentRecord.objects.filter(client=client_user).values_list("version__number", flat=True)) == [
        2,
        1,
    ]


def test_a_document_not_required_or_another_coachs_is_not_asked(coach, consult, client_user, terms) -> None:
    other = open_coach()
    consents.create_document(actor=other, kind="treatment", title="Other coach's consent", body="Other text")
    consents.set_required(actor=coach, document=terms, required=False)
    http = logged_in(client_user)
    assert 'data-testid="consents"' not in page(http.get(confirm_url(consult)))
    assert book(http, consult).status_code == 303
    assert not ConsentRecord.objects.exists()


def test_a_site_wide_document_applies_to_every_coach(coach, consult, client_user) -> None:
    staff = StaffFactory()
    document = consents.create_document(
        actor=staff, kind="data_processing", title="How we process your data", body="We keep your data safe."
    )
    assert document.owner is None
    version = consents.current_version(document)
    other_type = SessionTypeFactory(coach=open_coach(), price=0)
    http = logged_in(client_user)
    for session_type in (consult, other_type):
        assert "How we process your data" in page(http.get(confirm_url(session_type)))
    assert book(http, consult).status_code == 400
    assert book(http, consult, accept=[key(version)]).status_code == 303
    # Accepted once, it is not asked again with the other coach.
    later = START + dt.timedelta(hours=2)
    assert 'data-testid="consents"' not in page(http.get(confirm_url(other_type, later)))
    assert book(http, other_type, later).status_code == 303


def test_a_seat_in_a_group_session_asks_too(coach, client_user, terms) -> None:
    group = GroupTypeFactory(coach=coach, price=0)
    session = services.publish_session(actor=coach, session_type=group, start=START, capacity=10)
    http = logged_in(client_user)
    url = reverse("book_seat", args=[session.pk])
    assert "Coaching terms" in page(http.get(url))
    refused = http.post(url, {"notes": "", "reminders": "on"})
    assert refused.status_code == 400 and MISSING in page(refused)
    assert not Booking.objects.exists()
    version = consents.current_version(terms)
    assert http.post(url, {"notes": "", "reminders": "on", "accept": [key(version)]}).status_code == 303
    assert ConsentRecord.objects.get().booking == Booking.objects.get()


def test_a_guardian_accepts_for_their_dependent(coach, consult, client_user, terms) -> None:
    child = GuardianLinkFactory(guardian=client_user).dependent
    version = consents.current_version(terms)
    http = logged_in(client_user)
    response = http.post(
        confirm_url(consult), {"notes": "", "reminders": "on", "book_for": child.pk, "accept": [key(version)]}
    )
    assert response.status_code == 303
    record = ConsentRecord.objects.get()
    assert (record.client, record.accepted_by) == (child, client_user)
    assert "Coaching terms" in page(http.get(reverse("my_consents")))


# ---------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------


def test_the_api_refuses_until_the_versions_are_accepted(coach, consult, client_user, terms) -> None:
    version = consents.current_version(terms)
    response = api_book(client_user, coach, consult)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "consent_required"
    assert error["consents"] == [{"id": version.pk, "title": "Coaching terms", "version": 1, "text": TERMS}]
    assert not Booking.objects.exists()

    assert api_book(client_user, coach, consult, accept_consents=[version.pk + 1000]).status_code == 409
    response = api_book(client_user, coach, consult, accept_consents=[version.pk])
    assert response.status_code == 201
    record = ConsentRecord.objects.get()
    assert record.version == version and record.ip_address == "198.51.100.4"
    assert record.booking_id == response.json()["id"]
    # Accepted: the next booking goes through without it.
    assert api_book(client_user, coach, consult, START + dt.timedelta(hours=2)).status_code == 201


# ---------------------------------------------------------------------------------------
# Who sees what; versions never change
# ---------------------------------------------------------------------------------------


def test_the_coach_sees_records_of_their_documents_only(coach, consult, client_user, terms) -> None:
    other = open_coach()
    others_doc = consents.create_document(actor=other, kind="confidentiality", title="Other NDA", body="Secret")
    stranger = ClientFactory(name="Sam Stranger")
    other_type = SessionTypeFactory(coach=other, price=0)
    assert book(logged_in(client_user), consult, accept=[key(consents.current_version(terms))]).status_code == 303
    assert book(logged_in(stranger), other_type, accept=[key(consents.current_version(others_doc))]).status_code == 303

    mine = page(logged_in(coach).get(reverse("consent_documents")))
    assert "Nia Client" in mine and "203.0.113.7" in mine and "Coaching terms" in mine
    assert "Sam Stranger" not in mine and "Other NDA" not in mine
    theirs = page(logged_in(other).get(reverse("consent_documents")))
    assert "Sam Stranger" in theirs and "Nia Client" not in theirs
    assert list(consents.records_of(other).values_list("client__name", flat=True)) == ["Sam Stranger"]
    # Another coach's document is not found, nor are the pages for a client.
    assert logged_in(other).get(reverse("consent_document", args=[terms.pk])).status_code == 404
    assert logged_in(client_user).get(reverse("consent_documents")).status_code == 404
    with pytest.raises(NotAllowed):
        consents.publish_version(actor=other, document=terms, body="Hijacked")


def test_staff_write_site_wide_documents_and_see_their_records(consult, client_user, terms) -> None:
    staff = StaffFactory()
    http = logged_in(staff)
    response = http.post(
        reverse("consent_documents"),
        {
            "kind": "data_processing",
            "title": "Data policy",
            "body": "We keep data safe.",
            "required_before_booking": "on",
        },
    )
    assert response.status_code == 302
    document = consents.documents_of(staff).get()
    assert document.owner is None and document.required_before_booking
    assert book(logged_in(client_user), consult).status_code == 400
    accepted = [key(consents.current_version(terms)), key(consents.current_version(document))]
    assert book(logged_in(client_user), consult, accept=accepted).status_code == 303
    shown = page(http.get(reverse("consent_document", args=[document.pk])))
    assert "Nia Client" in shown and "Data policy" in shown
    assert "Coaching terms" not in page(http.get(reverse("consent_documents")))


def test_a_published_version_never_changes(coach, terms) -> None:
    version = consents.current_version(terms)
    version.body = "Quietly changed"
    with pytest.raises(ValueError):
        version.save()
    version.refresh_from_db()
    assert version.body == TERMS
    with pytest.raises(DomainError) as same:
        consents.publish_version(actor=coach, document=terms, body=TERMS)
    assert same.value.code == "unchanged"
    # The page publishes a new version instead, and keeps the old one.
    response = logged_in(coach).post(
        reverse("consent_document", args=[terms.pk]), {"action": "publish", "body": "New terms"}
    )
    assert response.status_code == 302
    assert list(terms.versions.values_list("number", "body")) == [(2, "New terms"), (1, TERMS)]
    model_admin = admin.site._registry[ConsentVersion]
    assert not model_admin.has_change_permission(request=None, obj=version)
    assert not admin.site._registry[ConsentRecord].has_change_permission(request=None)


def test_bad_input_on_the_pages_is_a_message_not_an_error(coach, terms) -> None:
    http = logged_in(coach)
    response = http.post(reverse("consent_documents"), {"kind": "nonsense", "title": "", "body": ""})
    assert response.status_code == 400
    response = http.post(reverse("consent_document", args=[terms.pk]), {"action": "publish", "body": "  "})
    assert response.status_code == 400
    assert "Write the document's text." in page(response)
    assert http.post(reverse("consent_document", args=[terms.pk]), {"action": "nonsense"}).status_code == 400
    assert http.get(reverse("consent_documents") + "?page=junk").status_code == 200
    assert terms.versions.count() == 1
