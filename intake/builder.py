"""Building intake forms: a coach's own, or site-wide ones made by staff. Edits go to the
form's draft (made by copying the newest published version at the first edit); publishing
freezes the draft as the new current version, so answers keep the version they answered.
Which session types ask the form, and when, is set here too."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import SessionType
from config.errors import DomainError, NotAllowed
from intake.models import AskWhen, FormAsk, FormStep, FormVersion, IntakeForm, Question, QuestionKind

CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)


def may_build(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_coach or user.is_staff_member))


def forms_of(user: User) -> QuerySet[IntakeForm]:
    """The forms ``user`` builds: a coach's own, staff's site-wide ones."""
    if not user.is_authenticated:
        return IntakeForm.objects.none()
    if user.is_coach:
        return IntakeForm.objects.filter(owner=user)
    if user.is_staff_member:
        return IntakeForm.objects.filter(owner__isnull=True)
    return IntakeForm.objects.none()


def own_form(user: User, pk: int) -> IntakeForm:
    form = forms_of(user).filter(pk=pk).first()
    if form is None:
        raise Http404("No such form.")
    return form


def session_types_for(user: User, form: IntakeForm) -> QuerySet[SessionType]:
    """The session types that may ask ``form``: its coach's; any coach's for a site-wide one."""
    types = SessionType.objects.select_related("coach").order_by("coach__name", "coach__pk", "title", "pk")
    if form.owner_id is not None:
        return types.filter(coach_id=form.owner_id)
    return types


def create_form(*, actor: User, title: str) -> IntakeForm:
    if not may_build(actor):
        raise NotAllowed(_("Only coaches and staff build intake forms."))
    title = (title or "").strip()[:200]
    if not title:
        raise DomainError(_("Give the form a title."), code="empty", field="title")
    with transaction.atomic():
        form = IntakeForm.objects.create(owner=actor if actor.is_coach else None, title=title)
        version = FormVersion.objects.create(form=form, number=1)
        FormStep.objects.create(version=version, position=1, title=_("About you"))
    return form


def draft_of(form: IntakeForm) -> FormVersion | None:
    return form.versions.filter(published_at__isnull=True).first()


def current_of(form: IntakeForm) -> FormVersion | None:
    return form.versions.filter(published_at__isnull=False).order_by("-number").first()


def editable(form: IntakeForm) -> FormVersion:
    """The form's draft, made by copying its newest published version when there is none
    (editing a published form makes a new version)."""
    with transaction.atomic():
        IntakeForm.objects.select_for_update().filter(pk=form.pk).first()
        draft = draft_of(form)
        if draft is not None:
            return draft
        newest = form.versions.aggregate(top=Max("number"))["top"] or 0
        draft = FormVersion.objects.create(form=form, number=newest + 1)
        source = current_of(form)
        if source is not None:
            for step in source.steps.prefetch_related("questions"):
                copy = FormStep.objects.create(
                    version=draft, position=step.position, title=step.title, intro=step.intro
                )
                Question.objects.bulk_create(
                    [
                        Question(
                            step=copy,
                            position=question.position,
                            kind=question.kind,
                            label=question.label,
                            help_text=question.help_text,
                            required=question.required,
                            choices=list(question.choices),
                            max_size_mb=question.max_size_mb,
                            allowed_types=question.allowed_types,
                        )
                        for question in step.questions.all()
                    ]
                )
        return draft


def rename(*, form: IntakeForm, title: str) -> None:
    title = (title or "").strip()[:200]
    if not title:
        raise DomainError(_("Give the form a title."), code="empty", field="title")
    form.title = title
    form.save(update_fields=["title"])


def _next_position(queryset) -> int:
    return (queryset.aggregate(top=Max("position"))["top"] or 0) + 1


def add_step(*, form: IntakeForm, title: str, intro: str = "") -> FormStep:
    draft = editable(form)
    title = (title or "").strip()[:200]
    if not title:
        raise DomainError(_("Give the step a title."), code="empty", field="title")
    return FormStep.objects.create(
        version=draft, position=_next_position(draft.steps.all()), title=title, intro=(intro or "").strip()
    )


def draft_step(form: IntakeForm, pk: int) -> FormStep:
    step = FormStep.objects.filter(pk=pk, version=editable(form)).first()
    if step is None:
        raise Http404("No such step.")
    return step


def draft_question(form: IntakeForm, pk: int) -> Question:
    question = Question.objects.filter(pk=pk, step__version=editable(form)).select_related("step").first()
    if question is None:
        raise Http404("No such question.")
    return question


def update_step(*, step: FormStep, title: str, intro: str) -> None:
    title = (title or "").strip()[:200]
    if not title:
        raise DomainError(_("Give the step a title."), code="empty", field="title")
    step.title, step.intro = title, (intro or "").strip()
    step.save()


def delete_step(*, step: FormStep) -> None:
    if step.version.steps.count() <= 1:
        raise DomainError(_("A form has at least one step."), code="last_step")
    for question in step.questions.all():
        question.delete()
    step.delete()


def _question_values(data: dict) -> dict:
    kind = data["kind"]
    choices = [line.strip() for line in (data.get("choices") or "").splitlines() if line.strip()]
    if kind in CHOICE_KINDS:
        if len(choices) < 2:
            raise DomainError(_("Give at least two options, one per line."), code="choices", field="choices")
        if len(set(choices)) != len(choices):
            raise DomainError(_("Each option appears once."), code="choices", field="choices")
    return {
        "kind": kind,
        "label": data["label"].strip(),
        "help_text": (data.get("help_text") or "").strip(),
        "required": bool(data.get("required")),
        "choices": choices if kind in CHOICE_KINDS else [],
        "max_size_mb": data.get("max_size_mb") or 10,
        "allowed_types": data.get("allowed_types") or "pdf,jpg,png",
    }


def add_question(*, step: FormStep, data: dict) -> Question:
    values = _question_values(data)
    return Question.objects.create(step=step, position=_next_position(step.questions.all()), **values)


def update_question(*, question: Question, data: dict) -> Question:
    for name, value in _question_values(data).items():
        setattr(question, name, value)
    question.save()
    return question


def delete_question(*, question: Question) -> None:
    question.delete()


def move(item: FormStep | Question, direction: int) -> None:
    """Swap ``item`` with its neighbour before (-1) or after (+1)."""
    siblings = list(item.version.steps.all() if isinstance(item, FormStep) else item.step.questions.all())
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    other = index + direction
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        if sibling.position != position:
            sibling.position = position
            sibling.save(update_fields=["position"])


def publish(*, form: IntakeForm, actor: User) -> FormVersion:
    """The draft becomes the current version (never changed again)."""
    with transaction.atomic():
        IntakeForm.objects.select_for_update().filter(pk=form.pk).first()
        draft = draft_of(form)
        if draft is None:
            raise DomainError(_("Nothing changed since the last version: nothing to publish."), code="unchanged")
        questions = Question.objects.filter(step__version=draft)
        if not questions.exists():
            raise DomainError(_("Add at least one question before publishing."), code="empty")
        for step in draft.steps.all():
            if not step.questions.exists():
                raise DomainError(
                    _("The step “%(title)s” has no question: add one or delete the step.") % {"title": step.title},
                    code="empty_step",
                )
        FormVersion.objects.filter(pk=draft.pk).update(published_at=timezone.now(), published_by=actor)
        draft.refresh_from_db()
        return draft


def discard_draft(*, form: IntakeForm) -> None:
    """Throw away unpublished changes (a form never published keeps its draft)."""
    draft = draft_of(form)
    if draft is None or current_of(form) is None:
        return
    draft.delete()  # its steps and questions with it


def set_asks(*, form: IntakeForm, actor: User, wanted: dict[int, str]) -> None:
    """Which session types ask ``form`` and when: ``wanted`` is {type id: "first"|"every"};
    a type left out no longer asks it."""
    allowed = set(session_types_for(actor, form).filter(pk__in=list(wanted)).values_list("pk", flat=True))
    if set(wanted) - allowed:
        raise NotAllowed(_("You can only choose your own session types."))
    for when in wanted.values():
        if when not in AskWhen.values:
            raise DomainError(_("Choose when the form is asked."), code="invalid")
    with transaction.atomic():
        FormAsk.objects.filter(form=form).exclude(session_type_id__in=list(wanted)).delete()
        for type_id, when in wanted.items():
            FormAsk.objects.update_or_create(form=form, session_type_id=type_id, defaults={"when": when})


def delete_form(*, form: IntakeForm) -> None:
    """A form nobody answered may be deleted; one with answers is only no longer asked."""
    from intake.models import IntakeFile, IntakeResponse

    if IntakeResponse.objects.filter(version__form=form).exists():
        FormAsk.objects.filter(form=form).delete()
        raise DomainError(
            _("This form has answers, which are kept: it is no longer asked, but not deleted."), code="answered"
        )
    IntakeFile.objects.filter(question__step__version__form=form).delete()  # uploads never used
    form.delete()
