"""Intake answers and files at rest: encrypted (a raw read of the columns shows no
plaintext), re-encrypted by ``rotate_encryption_keys``; published versions never change;
erasure and retention delete a person's responses and files."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from accounts.tests.factories import ClientFactory, GuardianLinkFactory
from bookings.tests.factories import SessionTypeFactory, open_coach
from config import crypto
from intake import answers, builder, services
from intake.models import AnswerRead, FormStep, IntakeFile, IntakeResponse, Question, ResponseStatus
from intake.tests.forms_helpers import make_form

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SECRET_ANSWER = "I am afraid of heights"
SECRET_FILE = b"%PDF-1.4 diagnosis: very private"
SECRET_NAME = "diagnosis-nia.pdf"


class Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.size, self._data = name, len(data), data

    def chunks(self):
        yield self._data


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def filled(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    coach = open_coach()
    consult = SessionTypeFactory(coach=coach)
    form = make_form(
        coach,
        "Health",
        [("You", [{"kind": "long_text", "label": "Fears"}, {"kind": "file", "label": "Letter"}])],
        session_type=consult,
    )
    client = ClientFactory()
    version = answers.current_version(form)
    letter = Question.objects.get(step__version=version, label="Letter")
    fears = Question.objects.get(step__version=version, label="Fears")
    response = IntakeResponse.objects.create(
        client=client,
        answered_by=client,
        coach=coach,
        version=version,
        status=ResponseStatus.SUBMITTED,
        answers=json.dumps({str(fears.pk): SECRET_ANSWER}),
    )
    file = answers.store_file(question=letter, upload=Upload(SECRET_NAME, SECRET_FILE), by=client, client=client)
    IntakeFile.objects.filter(pk=file.pk).update(response=response)
    return response, file


def test_a_raw_read_of_the_columns_shows_no_plaintext(filled):
    response, file = filled
    stored_answers = raw("intake_intakeresponse", "answers", response.pk)
    assert SECRET_ANSWER not in stored_answers and "heights" not in stored_answers
    assert stored_answers.startswith("gAAAA")  # a Fernet token
    content = raw("intake_intakefile", "content", file.pk)
    name = raw("intake_intakefile", "name", file.pk)
    assert SECRET_FILE.decode() not in content and "diagnosis" not in content and "private" not in content
    assert SECRET_NAME not in name and "diagnosis" not in name
    # Read back through the models, everything is there.
    assert answers.answers_of(IntakeResponse.objects.get(pk=response.pk))
    assert answers.file_bytes(IntakeFile.objects.get(pk=file.pk)) == SECRET_FILE
    assert IntakeFile.objects.get(pk=file.pk).name == SECRET_NAME


def test_rotation_re_encrypts_answers_and_files(filled, settings):
    response, file = filled
    before = raw("intake_intakefile", "content", file.pk)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # the old key removed: everything still reads
    assert raw("intake_intakefile", "content", file.pk) != before
    assert Fernet(NEW).decrypt(raw("intake_intakefile", "content", file.pk).encode()) == SECRET_FILE
    assert Fernet(NEW).decrypt(raw("intake_intakefile", "name", file.pk).encode()).decode() == SECRET_NAME
    assert SECRET_ANSWER in Fernet(NEW).decrypt(raw("intake_intakeresponse", "answers", response.pk).encode()).decode()
    assert answers.file_bytes(IntakeFile.objects.get(pk=file.pk)) == SECRET_FILE
    labels = {f"{model._meta.label}.{field.name}" for model, field in crypto.encrypted_columns()}
    assert {"intake.IntakeFile.content", "intake.IntakeFile.name", "intake.IntakeResponse.answers"} <= labels


def test_a_published_version_never_changes(filled):
    response, _file = filled
    version = response.version
    step = FormStep.objects.get(version=version)
    with pytest.raises(ValueError):
        step.title = "Changed"
        step.save()
    question = Question.objects.filter(step__version=version).first()
    with pytest.raises(ValueError):
        question.delete()
    # Editing makes a new draft version, copied; the old one is as it was.
    draft = builder.editable(version.form)
    assert draft.number == version.number + 1 and draft.published_at is None
    assert [q.label for q in answers.questions_of(draft)] == [q.label for q in answers.questions_of(version)]


def test_delete_responses_of_removes_answers_and_files(filled):
    response, file = filled
    other = IntakeResponse.objects.create(
        client=ClientFactory(), coach=response.coach, version=response.version, answers="{}"
    )
    AnswerRead.objects.create(reader=None, response=response, at=dt.datetime.now(dt.UTC))
    assert services.delete_responses_of(response.client) == 1
    assert not IntakeResponse.objects.filter(pk=response.pk).exists()
    assert not IntakeFile.objects.filter(pk=file.pk).exists()
    assert not AnswerRead.objects.exists()
    assert IntakeResponse.objects.filter(pk=other.pk).exists()
    assert services.delete_responses_of(response.client) == 0  # idempotent


def test_a_guardians_erasure_keeps_the_dependents_answers(filled):
    response, _file = filled
    link = GuardianLinkFactory(dependent=response.client)
    IntakeResponse.objects.filter(pk=response.pk).update(answered_by=link.guardian)
    assert services.delete_responses_of(link.guardian) == 0
    response.refresh_from_db()
    assert response.answered_by is None


def test_retention_deletes_old_responses(filled):
    cutoff = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert services.delete_responses_before(cutoff, dry_run=True) == 1
    assert IntakeResponse.objects.exists()
    assert services.delete_responses_before(cutoff) == 1
    assert not IntakeResponse.objects.exists() and not IntakeFile.objects.exists()
