"""The wizard's Questions step: a session type asking a form sends the client through it
(one page per step, Back and Next, each saved as a draft) before the confirm step; the
booking is refused without the answers and nothing is half-written; the answers are
submitted with the booking and the coach is told (never the content)."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import ClientFactory, GuardianLinkFactory
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from intake import answers, consents
from intake.models import AskWhen, IntakeFile, IntakeResponse, ResponseStatus
from intake.tests.forms_helpers import (
    LATER,
    NOW,
    START,
    THREE_STEPS,
    book,
    confirm_url,
    make_form,
    page,
    question,
)
from notifications.models import Notification

pytestmark = pytest.mark.django_db


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
def intake_form(coach, consult):
    return make_form(coach, "Welcome form", THREE_STEPS, session_type=consult)


def answer_all(http, form, location, client=None):
    """Go through the three steps from ``location`` (the first step's URL); returns the
    last redirect (to the confirm step)."""
    step1 = http.post(
        location, {question(form, "Preferred name").pk: "Nia", question(form, "Date of birth").pk: "1990-04-30"}
    )
    assert step1.status_code == 302, page(step1)
    step2 = http.post(
        step1.url,
        {
            question(form, "What brings you here?").pk: "A new job.",
            question(form, "Seen a coach before?").pk: "no",
            question(form, "How did you hear of us?").pk: "Friend",
        },
    )
    assert step2.status_code == 302, page(step2)
    letter = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 referral secret", content_type="application/pdf")
    step3 = http.post(
        step2.url,
        {
            question(form, "Areas").pk: ["Career", "Family"],
            question(form, "Motivation").pk: "8",
            question(form, "Referral letter").pk: letter,
        },
    )
    assert step3.status_code == 302, page(step3)
    return step3


def test_the_confirm_step_sends_the_client_to_the_questions_first(client_user, consult, intake_form):
    http = logged_in(client_user)
    response = http.get(confirm_url(consult))
    assert response.status_code == 303
    assert "/book/questions/" in response.url
    first = http.get(response.url)
    assert first.status_code == 200
    html = page(first)
    assert "Step 1 of 3: About you" in html
    assert "Preferred name" in html and 'data-testid="questions-next"' in html
    assert 'data-step="questions"' in html


def test_three_steps_then_confirm_then_the_booking_carries_the_answers(client_user, coach, consult, intake_form):
    http = logged_in(client_user)
    first = http.get(confirm_url(consult)).url
    last = answer_all(http, intake_form, first)
    assert last.url.startswith(confirm_url(consult).split("?")[0] + "?start=")
    confirm = http.get(last.url)
    assert confirm.status_code == 200
    assert 'data-step="questions"' in page(confirm)
    draft = IntakeResponse.objects.get()
    assert draft.status == ResponseStatus.DRAFT and draft.complete
    booked = book(http, consult)
    assert booked.status_code == 303, page(booked)
    booking = Booking.objects.get()
    response = IntakeResponse.objects.get()
    assert response.status == ResponseStatus.SUBMITTED
    assert response.booking == booking and response.coach == coach and response.client == client_user
    kept = answers.answers_of(response)
    assert kept[str(question(intake_form, "Preferred name").pk)] == "Nia"
    assert kept[str(question(intake_form, "Seen a coach before?").pk)] is False
    assert kept[str(question(intake_form, "Areas").pk)] == ["Career", "Family"]
    assert kept[str(question(intake_form, "Motivation").pk)] == 8
    assert kept[str(question(intake_form, "Date of birth").pk)] == "1990-04-30"
    file = IntakeFile.objects.get()
    assert file.response == response and file.name == "letter.pdf"
    assert answers.file_bytes(file) == b"%PDF-1.4 referral secret"
    # The coach is told, with a link, never the content.
    told = Notification.objects.get(recipient=coach, kind="intake_answers")
    assert "Nia" not in told.body.replace("Nia Client", "")
    assert "A new job" not in told.body and "A new job" not in told.title
    assert "#intake" in told.body


def test_a_refused_confirm_keeps_the_questions_step_in_the_steps_shown(client_user, coach, consult, intake_form):
    consents.create_document(actor=coach, kind="terms", title="Coaching terms", body="Fees are due at booking.")
    http = logged_in(client_user)
    answer_all(http, intake_form, http.get(confirm_url(consult)).url)
    refused = book(http, consult)  # the terms not ticked
    assert refused.status_code == 400
    assert 'data-step="questions"' in page(refused) and "Coaching terms" in page(refused)
    assert not Booking.objects.exists()


def test_a_date_answer_is_written_the_readers_way(client_user, coach, consult, intake_form):
    http = logged_in(client_user)
    answer_all(http, intake_form, http.get(confirm_url(consult)).url)
    assert book(http, consult).status_code == 303
    url = reverse("booking_detail", args=[Booking.objects.get().reference])
    coach_http = logged_in(coach)
    assert "30 April 1990" in page(coach_http.get(url))
    coach.language = "fr"
    coach.save(update_fields=["language"])
    assert "30 avril 1990" in page(coach_http.get(url))


def test_the_booking_is_refused_while_answers_are_missing(client_user, consult, intake_form):
    http = logged_in(client_user)
    refused = book(http, consult)
    assert refused.status_code == 303 and "/book/questions/" in refused.url
    assert not Booking.objects.exists()
    assert not IntakeResponse.objects.filter(status=ResponseStatus.SUBMITTED).exists()


def test_each_step_is_a_draft_and_coming_back_resumes(client_user, consult, intake_form):
    http = logged_in(client_user)
    first = http.get(confirm_url(consult)).url
    http.post(
        first,
        {question(intake_form, "Preferred name").pk: "Nia", question(intake_form, "Date of birth").pk: "1990-04-30"},
    )
    draft = IntakeResponse.objects.get()
    assert draft.status == ResponseStatus.DRAFT and not draft.complete
    # Later, the confirm step sends the client back, and their answer is there.
    again = http.get(http.get(confirm_url(consult)).url)
    assert 'value="Nia"' in page(again)


def test_validation_per_field_with_clear_messages(client_user, consult, intake_form):
    http = logged_in(client_user)
    first = http.get(confirm_url(consult)).url
    bad = http.post(
        first, {question(intake_form, "Preferred name").pk: "", question(intake_form, "Date of birth").pk: "30/04/1990"}
    )
    assert bad.status_code == 400
    html = page(bad)
    assert "Answer this question." in html
    assert "Enter a date, e.g. 2001-04-30." in html
    step1 = http.post(
        first,
        {question(intake_form, "Preferred name").pk: "Nia", question(intake_form, "Date of birth").pk: "1990-04-30"},
    )
    step2 = http.post(
        step1.url,
        {
            question(intake_form, "What brings you here?").pk: "x",
            question(intake_form, "Seen a coach before?").pk: "maybe",
            question(intake_form, "How did you hear of us?").pk: "Radio",
        },
    )
    html = page(step2)
    assert step2.status_code == 400
    assert "Answer yes or no." in html and "Choose one of the options." in html


def test_a_file_too_large_or_of_another_type_is_refused(client_user, consult, intake_form):
    http = logged_in(client_user)
    first = http.get(confirm_url(consult)).url
    step1 = http.post(
        first,
        {question(intake_form, "Preferred name").pk: "Nia", question(intake_form, "Date of birth").pk: "1990-04-30"},
    )
    step2 = http.post(
        step1.url,
        {
            question(intake_form, "What brings you here?").pk: "x",
            question(intake_form, "Seen a coach before?").pk: "yes",
            question(intake_form, "How did you hear of us?").pk: "Friend",
        },
    )
    exe = SimpleUploadedFile("tool.exe", b"MZ")
    refused = http.post(
        step2.url,
        {
            question(intake_form, "Areas").pk: ["Career"],
            question(intake_form, "Motivation").pk: "5",
            question(intake_form, "Referral letter").pk: exe,
        },
    )
    assert refused.status_code == 400
    assert "This file type is not accepted here. Accepted: pdf, jpg, png." in page(refused)
    big = SimpleUploadedFile("big.pdf", b"x" * (10 * 1024 * 1024 + 1))
    refused = http.post(
        step2.url,
        {
            question(intake_form, "Areas").pk: ["Career"],
            question(intake_form, "Motivation").pk: "5",
            question(intake_form, "Referral letter").pk: big,
        },
    )
    assert "This file is too large: at most 10 MB." in page(refused)
    assert not IntakeFile.objects.exists()


def test_back_keeps_what_was_answered(client_user, consult, intake_form):
    http = logged_in(client_user)
    first = http.get(confirm_url(consult)).url
    step1 = http.post(
        first,
        {question(intake_form, "Preferred name").pk: "Nia", question(intake_form, "Date of birth").pk: "1990-04-30"},
    )
    back = http.post(step1.url, {"go": "back", question(intake_form, "What brings you here?").pk: "Half typed"})
    assert back.status_code == 302
    assert "Nia" in page(http.get(back.url))


def test_first_booking_rule_asks_once_per_coach(client_user, consult, intake_form):
    http = logged_in(client_user)
    answer_all(http, intake_form, http.get(confirm_url(consult)).url)
    assert book(http, consult).status_code == 303
    # The next booking with this coach goes straight to confirming.
    assert http.get(confirm_url(consult, LATER)).status_code == 200


def test_every_booking_rule_asks_again(client_user, coach, consult):
    form = make_form(
        coach,
        "Check-in",
        [("Today", [{"kind": "scale", "label": "Energy"}])],
        session_type=consult,
        when=AskWhen.EVERY_BOOKING,
    )
    http = logged_in(client_user)
    for start in (START, LATER):
        location = http.get(confirm_url(consult, start)).url
        assert "/book/questions/" in location
        done = http.post(location, {question(form, "Energy").pk: "6"})
        assert done.status_code == 302
        assert book(http, consult, start).status_code == 303
    assert IntakeResponse.objects.filter(status=ResponseStatus.SUBMITTED).count() == 2
    assert {r.booking_id for r in IntakeResponse.objects.all()} == set(Booking.objects.values_list("pk", flat=True))


def test_a_new_version_keeps_old_answers_on_their_version(client_user, coach, consult, intake_form):
    from intake import builder

    http = logged_in(client_user)
    answer_all(http, intake_form, http.get(confirm_url(consult)).url)
    book(http, consult)
    old = IntakeResponse.objects.get()
    step = builder.editable(intake_form).steps.first()
    builder.add_question(
        step=step, data={"kind": "short_text", "label": "Pronouns", "required": False, "choices": "", "help_text": ""}
    )
    new = builder.publish(form=intake_form, actor=coach)
    assert new.number == 2
    old.refresh_from_db()
    assert old.version.number == 1
    assert "Pronouns" not in [q.label for q in answers.questions_of(old.version)]


def test_a_guardian_answers_for_their_dependent(consult, intake_form):
    link = GuardianLinkFactory()
    guardian, child = link.guardian, link.dependent
    http = logged_in(guardian)
    # The guardian picks the child on the confirm step: the questions are about the child.
    refused = book(http, consult, book_for=child.pk)
    assert refused.status_code == 303 and f"for={child.pk}" in refused.url
    last = answer_all(http, intake_form, refused.url)
    assert f"for%3D{child.pk}" in last.url or f"for={child.pk}" in last.url
    confirm = http.get(last.url)
    assert confirm.status_code == 200
    assert book(http, consult, book_for=child.pk).status_code == 303
    response = IntakeResponse.objects.get(status=ResponseStatus.SUBMITTED)
    assert response.client == child and response.answered_by == guardian


def test_the_notes_a_guardian_typed_come_back_after_the_questions(consult, intake_form):
    link = GuardianLinkFactory()
    guardian, child = link.guardian, link.dependent
    http = logged_in(guardian)
    refused = book(http, consult, book_for=child.pk, notes="Sam is shy at first.", reminders="")
    assert refused.status_code == 303
    confirm = http.get(answer_all(http, intake_form, refused.url).url)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Sam is shy at first." in html
    assert 'name="reminders"' in html and 'name="reminders" checked' not in html
    assert book(http, consult, book_for=child.pk, notes="Sam is shy at first.").status_code == 303
    assert Booking.objects.get(client=child).client_notes == "Sam is shy at first."
    # Booked: the draft is gone, a later visit starts empty.
    assert not [key for key, _value in http.session.items() if key.startswith("confirm-draft:")]


def test_someone_elses_dependent_is_not_found(client_user, consult, intake_form):
    stranger_child = ClientFactory()
    http = logged_in(client_user)
    location = http.get(confirm_url(consult)).url.replace(f"for={client_user.pk}", f"for={stranger_child.pk}")
    assert http.get(location).status_code == 404


def test_a_coach_booking_for_a_client_is_not_asked(coach, consult, intake_form):
    # Like the consents: the client is asked at their own next booking.
    http = logged_in(coach)
    assert http.get(confirm_url(consult)).status_code == 200


def test_the_coach_is_emailed_a_link_never_the_answers(
    client_user, coach, consult, intake_form, django_capture_on_commit_callbacks
):
    http = logged_in(client_user)
    answer_all(http, intake_form, http.get(confirm_url(consult)).url)
    with django_capture_on_commit_callbacks(execute=True):
        book(http, consult)
    from notifications import delivery

    delivery.send_deliveries()
    sent = [m for m in mail.outbox if coach.email in m.to and "intake answers" in m.subject.lower()]
    assert len(sent) == 1
    assert "#intake" in sent[0].body
    for message in sent:
        text = message.body + "".join(str(alt[0]) for alt in getattr(message, "alternatives", []))
        assert "A new job" not in text and "1990" not in text and "letter.pdf" not in text
    told = Notification.objects.get(recipient=coach, kind="intake_answers")
    body = json.dumps(told.payload) + told.title + told.body
    assert "A new job" not in body and "1990" not in body and "letter.pdf" not in body
