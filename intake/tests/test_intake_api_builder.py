"""The API's booking takes the intake answers (409 intake_required with the questions when
they are missing or refused; files through POST /intake/files), and the builder pages
(coaches their own forms, staff the site-wide ones)."""

from __future__ import annotations

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from intake import answers
from intake.models import FormAsk, IntakeFile, IntakeForm, IntakeResponse, ResponseStatus
from intake.tests.forms_helpers import NOW, THREE_STEPS, api, api_book, make_form, page, question

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup():
    coach = open_coach()
    consult = SessionTypeFactory(coach=coach, price=0)
    form = make_form(coach, "Welcome form", THREE_STEPS, session_type=consult)
    return coach, consult, form


def good_answers(form, file_id=None) -> dict:
    found = {
        question(form, "Preferred name").pk: "Nia",
        question(form, "Date of birth").pk: "1990-04-30",
        question(form, "What brings you here?").pk: "A new job",
        question(form, "Seen a coach before?").pk: False,
        question(form, "How did you hear of us?").pk: "Search",
        question(form, "Areas").pk: ["Health"],
        question(form, "Motivation").pk: 9,
    }
    if file_id:
        found[question(form, "Referral letter").pk] = file_id
    return {str(key): value for key, value in found.items()}


def test_the_api_refuses_without_answers_and_lists_the_questions(setup):
    _coach, consult, _form = setup
    client = ClientFactory()
    refused = api_book(client, consult)
    assert refused.status_code == 409
    body = refused.json()["error"]
    assert body["code"] == "intake_required"
    (listed,) = body["forms"]
    assert listed["title"] == "Welcome form"
    assert len(listed["questions"]) == 8
    scale = next(q for q in listed["questions"] if q["type"] == "scale")
    assert (scale["min"], scale["max"]) == (1, 10)
    assert not Booking.objects.exists()


def test_the_api_explains_each_refused_answer(setup):
    _coach, consult, form = setup
    bad = good_answers(form)
    bad[str(question(form, "Motivation").pk)] = 11
    bad[str(question(form, "Date of birth").pk)] = "yesterday"
    refused = api_book(ClientFactory(), consult, intake_answers=bad)
    assert refused.status_code == 409
    errors = refused.json()["error"]["errors"]
    assert errors[str(question(form, "Motivation").pk)] == "Choose a number from 1 to 10."
    assert errors[str(question(form, "Date of birth").pk)] == "Enter a date, e.g. 2001-04-30."
    assert not Booking.objects.exists()


def test_the_api_books_with_answers_and_an_uploaded_file(setup):
    _coach, consult, form = setup
    client = ClientFactory()
    http = api(client)
    letter = SimpleUploadedFile("letter.pdf", b"%PDF api letter", content_type="application/pdf")
    uploaded = http.post("/api/v1/intake/files", {"question": question(form, "Referral letter").pk, "file": letter})
    assert uploaded.status_code == 201, uploaded.content
    file_id = uploaded.json()["id"]
    booked = api_book(client, consult, intake_answers=good_answers(form, file_id))
    assert booked.status_code == 201, booked.content
    response = IntakeResponse.objects.get()
    assert response.status == ResponseStatus.SUBMITTED and response.booking == Booking.objects.get()
    assert answers.answers_of(response)[str(question(form, "Seen a coach before?").pk)] is False
    assert IntakeFile.objects.get(pk=file_id).response == response


def test_the_upload_endpoint_checks_type_size_and_owner(setup):
    _coach, _consult, form = setup
    client = ClientFactory()
    http = api(client)
    target = question(form, "Referral letter").pk
    exe = http.post("/api/v1/intake/files", {"question": target, "file": SimpleUploadedFile("a.exe", b"MZ")})
    assert exe.status_code == 400 and exe.json()["error"]["code"] == "invalid_file"
    assert (
        http.post(
            "/api/v1/intake/files",
            {"question": question(form, "Motivation").pk, "file": SimpleUploadedFile("a.pdf", b"%PDF")},
        ).status_code
        == 404
    )
    # Someone else's upload can't be used as an answer.
    other = api(ClientFactory()).post(
        "/api/v1/intake/files", {"question": target, "file": SimpleUploadedFile("a.pdf", b"%PDF")}
    )
    refused = api_book(client, _consult, intake_answers=good_answers(form, other.json()["id"]))
    assert refused.status_code == 409
    assert str(target) in refused.json()["error"]["errors"]


def test_a_coach_builds_publishes_and_asks_a_form(setup):
    coach, consult, _form = setup
    http = logged_in(coach)
    listing = http.get(reverse("intake_forms"))
    assert listing.status_code == 200 and "Welcome form" in page(listing)
    made = http.post(reverse("intake_forms"), {"title": "Follow-up"})
    form = IntakeForm.objects.get(title="Follow-up")
    assert made.status_code == 302 and form.owner == coach
    url = reverse("intake_form", args=[form.pk])
    step = form.versions.get().steps.get()
    added = http.post(
        url,
        {
            "action": "add_question",
            "step": step.pk,
            "new-kind": "single_choice",
            "new-label": "Mood",
            "new-required": "on",
            "new-choices": "Good",
        },
    )
    assert added.status_code == 400 and "Give at least two options, one per line." in page(added)
    http.post(
        url,
        {
            "action": "add_question",
            "step": step.pk,
            "new-kind": "single_choice",
            "new-label": "Mood",
            "new-required": "on",
            "new-choices": "Good\nBad",
        },
    )
    http.post(url, {"action": "add_step", "step-title": "Consent"})
    empty_step = http.post(url, {"action": "publish"})
    assert "has no question" in page(empty_step)
    second = form.versions.get().steps.get(title="Consent")
    http.post(url, {"action": "delete_step", "step": second.pk})
    assert http.post(url, {"action": "publish"}).status_code == 302
    assert answers.current_version(form).number == 1
    http.post(url, {"action": "asks", "ask": [consult.pk], f"when_{consult.pk}": "every"})
    assert FormAsk.objects.get(form=form).when == "every"
    # Another coach's session type can't be chosen.
    foreign = SessionTypeFactory(coach=CoachFactory())
    refused = http.post(url, {"action": "asks", "ask": [foreign.pk]})
    assert refused.status_code == 403 or "your own session types" in page(refused)
    assert not FormAsk.objects.filter(session_type=foreign).exists()


def test_builders_see_only_their_own_forms(setup):
    _coach, _consult, form = setup
    assert logged_in(CoachFactory()).get(reverse("intake_form", args=[form.pk])).status_code == 404
    assert logged_in(ClientFactory()).get(reverse("intake_forms")).status_code == 404
    staff = StaffFactory()
    assert logged_in(staff).get(reverse("intake_form", args=[form.pk])).status_code == 404
    logged_in(staff).post(reverse("intake_forms"), {"title": "Site-wide welcome"})
    assert IntakeForm.objects.get(title="Site-wide welcome").owner is None


def test_the_builder_is_reachable_from_the_booking_settings(setup):
    coach, _consult, _form = setup
    assert reverse("intake_forms") in page(logged_in(coach).get(reverse("coach_settings")))
