"""Intake forms' answers: which forms a booking asks, checking answers, drafts, files, and
who may read what.

A session type asks a form (``FormAsk``) before the client's first booking with its coach,
or at every booking. The wizard's Questions step (``intake.form_views``) saves each step
as a draft; once every step is answered the draft is ``complete`` and waits for the booking.
The booking wizard and the API ask through ``bookings.gates`` (``IntakeAsker``, registered
from ``IntakeConfig.ready``), so bookings never imports this app. Once the booking is made
the answers are submitted with it — right after its commit, as consents are, never inside
the booking's own transaction (that holds the booking's row locks and its services own it);
the answers were checked and saved before, so this is one update that nothing refuses.

Who reads answers (``may_read``): the client they are about, the guardian who answered for
them, the coach of the bookings they were given for (the coach they were given to, and the
hosts of the booking they came with), and staff holding ``intake.view_intake_answers`` —
each of whose reads is logged (``AnswerRead``) and shown to the client. Nobody else.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import GuardianLink, User
from bookings.gates import Asked
from bookings.models import Booking, SessionType
from bookings.selectors import co_hosting
from config import crypto
from config.dates import format_when
from intake.models import (
    SCALE_MAX,
    SCALE_MIN,
    AnswerRead,
    AskWhen,
    FormAsk,
    FormVersion,
    IntakeFile,
    IntakeForm,
    IntakeResponse,
    Question,
    QuestionKind,
    ResponseStatus,
)

logger = logging.getLogger(__name__)

ASKER = "intake"
READ_PERMISSION = "intake.view_intake_answers"
SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 5000

# What a file's name ending says it is; only these are offered and served.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "txt": "text/plain",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}


# ---------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------


def current_version(form: IntakeForm) -> FormVersion | None:
    """The newest published version of ``form``."""
    return form.versions.filter(published_at__isnull=False).order_by("-number").first()


def questions_of(version: FormVersion) -> list[Question]:
    return list(Question.objects.filter(step__version=version).select_related("step"))


def steps_of(version: FormVersion) -> list:
    return list(version.steps.prefetch_related("questions"))


# ---------------------------------------------------------------------------------------
# One question as a form field; checking answers
# ---------------------------------------------------------------------------------------


class IntakeFileField(forms.FileField):
    """A file answer: within the question's size and name-ending limits."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        self.question = question
        super().__init__(**kwargs)

    def validate(self, value) -> None:
        super().validate(value)
        if value:
            check_upload(self.question, value.name, value.size)


def check_upload(question: Question, name: str, size: int) -> None:
    """``ValidationError`` for a file this question does not take."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = [ext for ext in question.extensions if ext in CONTENT_TYPES] or ["pdf"]
    if extension not in allowed:
        raise ValidationError(
            _("This file type is not accepted here. Accepted: %(types)s.") % {"types": ", ".join(allowed)},
            code="file_type",
        )
    if size > question.max_size_mb * 1024 * 1024:
        raise ValidationError(
            _("This file is too large: at most %(size)s MB.") % {"size": question.max_size_mb}, code="file_size"
        )
    if size == 0:
        raise ValidationError(_("This file is empty."), code="file_empty")


def field_for(question: Question, *, has_file: bool = False) -> forms.Field:
    required = question.required and not (question.kind == QuestionKind.FILE and has_file)
    common = {
        "label": question.label,
        "help_text": question.help_text,
        "required": required,
        "error_messages": {"required": gettext_lazy("Answer this question.")},
    }
    kind = question.kind
    if kind == QuestionKind.SHORT_TEXT:
        return forms.CharField(max_length=SHORT_TEXT_MAX, **common)
    if kind == QuestionKind.LONG_TEXT:
        return forms.CharField(max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5}), **common)
    if kind == QuestionKind.SINGLE_CHOICE:
        common["error_messages"]["invalid_choice"] = gettext_lazy("Choose one of the options.")
        return forms.ChoiceField(
            choices=[(choice, choice) for choice in question.choices], widget=forms.RadioSelect, **common
        )
    if kind == QuestionKind.MULTIPLE_CHOICE:
        common["error_messages"]["required"] = gettext_lazy("Choose at least one option.")
        common["error_messages"]["invalid_choice"] = gettext_lazy("Choose among the options.")
        return forms.MultipleChoiceField(
            choices=[(choice, choice) for choice in question.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == QuestionKind.DATE:
        common["error_messages"]["invalid"] = gettext_lazy("Enter a date, e.g. 2001-04-30.")
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), input_formats=["%Y-%m-%d"], **common)
    if kind == QuestionKind.YES_NO:
        common["error_messages"]["invalid_choice"] = gettext_lazy("Answer yes or no.")
        return forms.ChoiceField(
            choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))], widget=forms.RadioSelect, **common
        )
    if kind == QuestionKind.SCALE:
        common["error_messages"]["invalid_choice"] = gettext_lazy("Choose a number from 1 to 10.")
        return forms.TypedChoiceField(
            choices=[(str(n), str(n)) for n in range(SCALE_MIN, SCALE_MAX + 1)],
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect(attrs={"class": "scale-choice"}),
            **common,
        )
    return IntakeFileField(question, **common)


def stored(question: Question, value: Any) -> Any:
    """A cleaned form value as it is kept in the answers' JSON (None: not answered)."""
    if value in (None, "", [], ()):
        return None
    if question.kind == QuestionKind.DATE:
        return value.isoformat()
    if question.kind == QuestionKind.YES_NO:
        return value == "yes"
    if question.kind == QuestionKind.MULTIPLE_CHOICE:
        return list(value)
    return value


def as_data(question: Question, value: Any) -> list[str]:
    """A kept (or the API's JSON) answer as form data: the list of posted strings."""
    if value is None:
        return []
    if question.kind == QuestionKind.YES_NO:
        if isinstance(value, bool):
            return ["yes" if value else "no"]
        return [str(value).strip().lower()]
    if question.kind == QuestionKind.MULTIPLE_CHOICE:
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]
    if isinstance(value, (dict, list)):
        return ["\x00invalid"]  # refused by the field as not a choice, not a date…
    return [str(value)]


class StepForm(forms.Form):
    """The questions of one step; a file question already answered is not asked again
    (a new file replaces it)."""

    def __init__(self, *args: Any, questions: list[Question], answers: dict, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "q-%s")
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            has_file = question.kind == QuestionKind.FILE and answers.get(str(question.pk)) is not None
            self.fields[str(question.pk)] = field_for(question, has_file=has_file)
            if question.kind != QuestionKind.FILE and str(question.pk) in answers:
                data = as_data(question, answers[str(question.pk)])
                multiple = question.kind == QuestionKind.MULTIPLE_CHOICE
                self.initial[str(question.pk)] = data if multiple else (data[0] if data else None)


def missing_required(questions: list[Question], answers: dict) -> list[Question]:
    return [question for question in questions if question.required and answers.get(str(question.pk)) is None]


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def store_file(*, question: Question, upload, by: User, client: User) -> IntakeFile:
    """An uploaded answer kept encrypted (bytes and name); checked against the question's
    limits (``ValidationError``)."""
    check_upload(question, upload.name, upload.size)
    data = b"".join(upload.chunks())
    extension = upload.name.rsplit(".", 1)[-1].lower()
    return IntakeFile.objects.create(
        uploaded_by=by,
        client=client,
        question=question,
        name=upload.name[-200:],
        content_type=CONTENT_TYPES[extension],
        size=len(data),
        content=crypto.encrypt_bytes(data),
    )


def file_bytes(file: IntakeFile) -> bytes:
    return crypto.decrypt_bytes(file.content)


# ---------------------------------------------------------------------------------------
# What a booking asks; drafts
# ---------------------------------------------------------------------------------------


@dataclass
class Due:
    ask: FormAsk
    version: FormVersion
    draft: IntakeResponse | None = None


def _answered_before(client: User, form: IntakeForm, coach: User) -> bool:
    return IntakeResponse.objects.filter(
        client=client, coach=coach, version__form=form, status=ResponseStatus.SUBMITTED
    ).exists()


def due_forms(client: User, session_type: SessionType) -> list[Due]:
    """The forms ``client`` answers before booking ``session_type``: those it asks at every
    booking, and those it asks before the first booking with its coach not yet answered
    for that coach. Published forms only. One query when the type asks nothing."""
    asks = list(FormAsk.objects.filter(session_type=session_type).select_related("form"))
    found = []
    for ask in asks:
        version = current_version(ask.form)
        if version is None:
            continue
        if ask.when == AskWhen.FIRST_BOOKING and _answered_before(client, ask.form, session_type.coach):
            continue
        found.append(Due(ask=ask, version=version))
    return found


def draft_of(client: User, version: FormVersion, coach: User) -> IntakeResponse | None:
    return (
        IntakeResponse.objects.filter(client=client, version=version, coach=coach, status=ResponseStatus.DRAFT)
        .order_by("-updated_at", "-pk")
        .first()
    )


def start_draft(*, client: User, version: FormVersion, coach: User, by: User, session_type) -> IntakeResponse:
    draft = draft_of(client, version, coach)
    if draft is None:
        draft = IntakeResponse.objects.create(
            client=client,
            answered_by=by,
            coach=coach,
            version=version,
            session_type=session_type,
            answers=json.dumps({}),
        )
    return draft


def answers_of(response: IntakeResponse) -> dict:
    try:
        data = json.loads(response.answers or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def save_step(draft: IntakeResponse, questions: list[Question], cleaned: dict, *, by: User) -> dict:
    """Keep one step's cleaned answers in ``draft`` (a file kept encrypted); returns the
    draft's answers."""
    answers = answers_of(draft)
    for question in questions:
        value = cleaned.get(str(question.pk))
        if question.kind == QuestionKind.FILE:
            if value:
                kept = store_file(question=question, upload=value, by=by, client=draft.client)
                old = answers.get(str(question.pk))
                IntakeFile.objects.filter(pk=kept.pk).update(response=draft)
                if old is not None:
                    IntakeFile.objects.filter(pk=old, response=draft).exclude(pk=kept.pk).delete()
                answers[str(question.pk)] = kept.pk
            continue
        value = stored(question, value)
        if value is None:
            answers.pop(str(question.pk), None)
        else:
            answers[str(question.pk)] = value
    draft.answers = json.dumps(answers)
    draft.answered_by = by
    draft.complete = False
    draft.save(update_fields=["answers", "answered_by", "complete", "updated_at"])
    return answers


def finish_draft(draft: IntakeResponse) -> list[Question]:
    """Mark ``draft`` complete when every required question is answered; else the missing."""
    missing = missing_required(questions_of(draft.version), answers_of(draft))
    if not missing:
        draft.complete = True
        draft.save(update_fields=["complete", "updated_at"])
    return missing


def questions_url(form: IntakeForm, session_type: SessionType, client: User, next_url: str, step: int = 1) -> str:
    query = {"for": client.pk, "next": next_url}
    if step > 1:
        query["step"] = step
    return reverse("intake_questions", args=[form.pk, session_type.pk]) + "?" + urlencode(query)


def question_out(question: Question) -> dict:
    out = {
        "id": question.pk,
        "step": question.step.title,
        "type": question.kind,
        "label": question.label,
        "help_text": question.help_text,
        "required": question.required,
    }
    if question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        out["choices"] = list(question.choices)
    if question.kind == QuestionKind.SCALE:
        out["min"], out["max"] = SCALE_MIN, SCALE_MAX
    if question.kind == QuestionKind.FILE:
        out["max_size_mb"] = question.max_size_mb
        out["allowed_types"] = question.extensions
    return out


def check_answers(version: FormVersion, answers: dict, *, booker: User, client: User) -> tuple[dict, dict[int, str]]:
    """The API's answers ({question id: value}) to ``version``: the answers as kept, and
    the refusals ({question id: message}). A file answer is the id of a file the booker
    uploaded for that question and not yet used."""
    answers = {str(key): value for key, value in (answers or {}).items()}
    kept: dict = {}
    errors: dict[int, str] = {}
    for question in questions_of(version):
        key = str(question.pk)
        value = answers.get(key)
        if question.kind == QuestionKind.FILE:
            if value in (None, ""):
                if question.required:
                    errors[question.pk] = _("Answer this question.")
                continue
            file_id = value if isinstance(value, int) and not isinstance(value, bool) else None
            found = (
                IntakeFile.objects.filter(
                    pk=file_id, uploaded_by=booker, question=question, response__isnull=True
                ).first()
                if file_id is not None
                else None
            )
            if found is None:
                errors[question.pk] = _("Upload the file first, then send the id the upload gave.")
            else:
                kept[key] = found.pk
            continue
        form_field = field_for(question)
        data = MultiValueDict({key: as_data(question, value)})
        raw = form_field.widget.value_from_datadict(data, MultiValueDict(), key)
        try:
            cleaned = form_field.clean(raw)
        except ValidationError as error:
            errors[question.pk] = " ".join(str(message) for message in error.messages)
            continue
        value = stored(question, cleaned)
        if value is not None:
            kept[key] = value
    return kept, errors


class IntakeAsker:
    """The intake forms, as ``bookings.gates`` asks them."""

    name = ASKER

    def asked(
        self, client: User, session_type, *, booker: User, answers: dict | None = None, next_url: str = ""
    ) -> list[Asked]:
        items = []
        for due in due_forms(client, session_type):
            form, version = due.ask.form, due.version
            if answers is not None:
                own = {
                    key: value
                    for key, value in answers.items()
                    if str(key) in {str(q.pk) for q in questions_of(version)}
                }
                kept, errors = check_answers(version, own, booker=booker, client=client)
                items.append(
                    Asked(
                        asker=ASKER,
                        ident=version.pk,
                        title=form.title,
                        ready=not errors,
                        questions=tuple(question_out(q) for q in questions_of(version)),
                        errors=tuple(sorted(errors.items())),
                        answers=tuple(sorted(kept.items())),
                    )
                )
                continue
            draft = draft_of(client, version, session_type.coach)
            items.append(
                Asked(
                    asker=ASKER,
                    ident=version.pk,
                    title=form.title,
                    ready=bool(draft and draft.complete),
                    url=questions_url(form, session_type, client, next_url),
                )
            )
        return items

    def attach(self, client: User, items: list[Asked], *, booking: Booking, by: User) -> None:
        submitted = []
        coach = booking.session.coach
        now = timezone.now()
        with transaction.atomic():
            for item in items:
                version = FormVersion.objects.get(pk=item.ident)
                if item.answers:
                    answers = dict(item.answers)
                    response = IntakeResponse.objects.create(
                        client=client,
                        answered_by=by,
                        coach=coach,
                        version=version,
                        session_type=booking.session.session_type,
                        booking=booking,
                        status=ResponseStatus.SUBMITTED,
                        complete=True,
                        answers=json.dumps(answers),
                        submitted_at=now,
                    )
                    file_ids = [value for q, value in answers.items() if _is_file_answer(version, q)]
                    IntakeFile.objects.filter(pk__in=file_ids, response__isnull=True).update(response=response)
                else:
                    response = draft_of(client, version, coach)
                    if response is None or not response.complete:
                        continue
                    IntakeResponse.objects.filter(pk=response.pk).update(
                        status=ResponseStatus.SUBMITTED, booking=booking, submitted_at=now, updated_at=now
                    )
                submitted.append(response)
        for response in submitted:
            tell_coach(response, booking)


def _is_file_answer(version: FormVersion, question_id: str) -> bool:
    return Question.objects.filter(pk=question_id, step__version=version, kind=QuestionKind.FILE).exists()


def tell_coach(response: IntakeResponse, booking: Booking) -> None:
    """The coach is told new answers came, with a link: never their content. Best effort:
    the booking and its answers stand if the message can't be made."""
    from notifications import services as notify
    from notifications.models import Kind

    try:
        booking = Booking.objects.select_related(
            "client", "session", "session__coach", "session__session_type", "session__resource"
        ).get(pk=booking.pk)
        notify.tell(
            booking.session.coach,
            Kind.INTAKE_ANSWERS,
            key=f"intake:{response.pk}",
            booking=booking,
            extra={"answers_url": settings.SITE_URL + reverse("booking_detail", args=[booking.reference]) + "#intake"},
        )
    except Exception:
        logger.exception("The coach could not be told of intake response %s.", response.pk)


# ---------------------------------------------------------------------------------------
# Who reads answers
# ---------------------------------------------------------------------------------------


def may_read_all(user: User) -> bool:
    """Staff with the explicit permission (each of their reads is logged)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(READ_PERMISSION))


def _own(user: User) -> Q:
    return Q(client=user) | Q(answered_by=user)


def _hosts(user: User) -> Q:
    """Responses given to ``user`` as the coach, or with a booking in a session they host."""
    return Q(coach=user) | Q(booking__session__coach=user) | Q(co_hosting(user, "booking__session"))


def readable_by(user: User) -> QuerySet[IntakeResponse]:
    """The submitted responses ``user`` reads as the client (or guardian) or as the coach;
    staff's permission is not here: their reads go through ``read_as_staff``."""
    responses = IntakeResponse.objects.filter(status=ResponseStatus.SUBMITTED).select_related(
        "version__form", "client", "coach", "booking"
    )
    if not user.is_authenticated:
        return responses.none()
    if user.is_coach:
        return responses.filter(_hosts(user) | _own(user))
    return responses.filter(_own(user) | Q(client__in=GuardianLink.objects.filter(guardian=user).values("dependent")))


def response_for(user: User, pk: int) -> tuple[IntakeResponse, bool]:
    """The response ``pk`` if ``user`` may read it, and whether it is a staff read (to log);
    else 404."""
    response = readable_by(user).filter(pk=pk).first()
    if response is not None:
        return response, False
    if may_read_all(user):
        response = (
            IntakeResponse.objects.filter(pk=pk, status=ResponseStatus.SUBMITTED)
            .select_related("version__form", "client", "coach", "booking")
            .first()
        )
        if response is not None:
            return response, True
    raise Http404("No such answers.")


def log_read(reader: User, response: IntakeResponse, file: IntakeFile | None = None) -> None:
    AnswerRead.objects.create(reader=reader, response=response, file=file, at=timezone.now())
    logger.info("Staff %s read intake response %s%s.", reader.pk, response.pk, f" file {file.pk}" if file else "")


def on_booking(user: User, booking: Booking) -> list[IntakeResponse]:
    """The answers about ``booking``'s client that ``user`` may read as its coach (the
    booking's own, and those given to them before the first booking), or as that client."""
    if not user.is_authenticated:
        return []
    base = readable_by(user).filter(client=booking.client_id)
    if user.is_coach:
        return list(base.filter(Q(booking=booking) | Q(coach=user) | Q(coach=booking.session.coach)).distinct())
    return list(base.filter(booking=booking))


@dataclass
class Shown:
    question: Question
    value: Any = None
    text: str = ""
    file: IntakeFile | None = None


@dataclass
class ShownStep:
    title: str
    answers: list[Shown] = field(default_factory=list)


def display(response: IntakeResponse) -> list[ShownStep]:
    """The response's answers, step by step, as text (a file as the file)."""
    answers = answers_of(response)
    files = {file.pk: file for file in response.files.all()}
    steps = []
    for step in steps_of(response.version):
        shown = ShownStep(title=step.title)
        for question in step.questions.all():
            value = answers.get(str(question.pk))
            item = Shown(question=question, value=value)
            if value is None:
                item.text = ""
            elif question.kind == QuestionKind.FILE:
                item.file = files.get(value) if isinstance(value, int) else None
            elif question.kind == QuestionKind.YES_NO:
                item.text = _("Yes") if value else _("No")
            elif question.kind == QuestionKind.MULTIPLE_CHOICE:
                item.text = ", ".join(str(v) for v in value)
            elif question.kind == QuestionKind.DATE:
                try:
                    item.text = format_when(dt.date.fromisoformat(value), "date_long")
                except (TypeError, ValueError):
                    item.text = str(value)
            else:
                item.text = str(value)
            shown.answers.append(item)
        steps.append(shown)
    return steps


def export_of(user: User) -> list[dict]:
    """The person's own answers (about them, or given by them), for their data download."""
    out = []
    for response in IntakeResponse.objects.filter(_own(user)).select_related("version__form", "coach", "client"):
        answers = answers_of(response)
        questions = {str(q.pk): q for q in questions_of(response.version)}
        out.append(
            {
                "id": response.pk,
                "form": response.version.form.title,
                "version": response.version.number,
                "status": response.status,
                "about": response.client.display_name,
                "coach": response.coach.display_name,
                "booking": response.booking.reference if response.booking_id else None,
                "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
                "answers": [
                    {"question": questions[key].label if key in questions else key, "answer": value}
                    for key, value in answers.items()
                ],
                "files": [
                    {"id": file.pk, "name": file.name, "content_type": file.content_type, "size": file.size}
                    for file in response.files.all()
                ],
            }
        )
    return out


def files_of(user: User) -> list[IntakeFile]:
    return list(IntakeFile.objects.filter(Q(client=user) | Q(uploaded_by=user)))
