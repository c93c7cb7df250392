"""Intake answers over the API.

- ``POST /intake/files`` (multipart: ``question``, ``file``, optional ``client``): keeps an
  uploaded answer encrypted and returns its ``id``, to send as that question's answer in a
  booking's ``intake_answers``. Within the question's size and type limits.
- ``GET /intake/responses/{id}``: a response's answers, for those who may read them (the
  client, the coach of their bookings, staff with ``intake.view_intake_answers`` — logged);
  404 for anyone else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from accounts.access import can_book_for
from accounts.models import User
from bookings import gates
from config.errors import DomainError
from intake import answers
from intake.models import Question

router = Router(tags=["intake"])


class FileOut(Schema):
    id: int
    name: str
    size: int
    content_type: str


@router.post("/intake/files", response={201: FileOut}, summary="Upload a file to answer an intake question")
def upload_file(
    request: HttpRequest,
    file: File[UploadedFile],
    question: int = Form(..., description="The id of the file question it answers."),
    client: int | None = Form(None, description="Whom the answers are about (a dependent); default: you."),
) -> Status:
    actor = request.auth
    if not gates.asks(actor):
        raise DomainError(gettext("Only clients answer intake forms."), code="forbidden", status=403)
    subject = actor
    if client is not None and client != actor.pk:
        subject = User.objects.filter(pk=client, is_active=True).first()
        if subject is None or not can_book_for(actor, subject):
            raise Http404("No such client.")
    found = (
        Question.objects.filter(pk=question, kind="file", step__version__published_at__isnull=False)
        .select_related("step")
        .first()
    )
    if found is None:
        raise DomainError(gettext("No file question with that id."), code="unknown_question", status=404)
    try:
        kept = answers.store_file(question=found, upload=file, by=actor, client=subject)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="invalid_file", field="file") from None
    return Status(201, {"id": kept.pk, "name": kept.name, "size": kept.size, "content_type": kept.content_type})


class AnswerOut(Schema):
    question: int
    label: str
    type: str
    value: Any = None
    file: int | None = None


class ResponseOut(Schema):
    id: int
    form: str
    version: int
    client: int
    coach: int
    booking: str | None
    submitted_at: dt.datetime | None
    answers: list[AnswerOut]


@router.get("/intake/responses/{response_id}", response=ResponseOut, summary="Read one intake response")
def get_response(request: HttpRequest, response_id: int) -> dict:
    if response_id < 1 or response_id > 10**12:
        raise Http404("No such answers.")
    response, staff_read = answers.response_for(request.auth, response_id)
    if staff_read:
        answers.log_read(request.auth, response)
    kept = answers.answers_of(response)
    out = []
    for question in answers.questions_of(response.version):
        value = kept.get(str(question.pk))
        out.append(
            {
                "question": question.pk,
                "label": question.label,
                "type": question.kind,
                "value": None if question.kind == "file" else value,
                "file": value if question.kind == "file" else None,
            }
        )
    return {
        "id": response.pk,
        "form": response.version.form.title,
        "version": response.version.number,
        "client": response.client_id,
        "coach": response.coach_id,
        "booking": response.booking.reference if response.booking_id else None,
        "submitted_at": response.submitted_at,
        "answers": out,
    }
