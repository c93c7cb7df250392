"""Intake forms' pages: the builder (coaches their own forms, staff the site-wide ones), the
wizard's Questions step, and reading answers (the client's own list, one response, a file).

Reading follows ``intake.answers.response_for``: the client (or the guardian who answered),
the coach of the bookings they were given for, and staff holding
``intake.view_intake_answers`` — every read of theirs logged and shown to the client.
Anyone else gets 404, whatever page they try.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.selectors import coaches_visible_to, dependents_of
from bookings import gates
from config import crypto
from config.errors import DomainError
from intake import answers, builder
from intake.forms import BuilderStepForm, IntakeFormTitleForm, QuestionForm
from intake.models import AnswerRead, AskWhen, FormAsk, IntakeFile, IntakeResponse, QuestionKind


def builder_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, then 404 for anyone who is neither a coach nor staff."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not builder.may_build(request.user):
            raise Http404("Page not found")
        return view(request, *args, **kwargs)

    return wrapper


def _refused(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


# ---------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------


@builder_only
@require_http_methods(["GET", "HEAD", "POST"])
def intake_forms(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = IntakeFormTitleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = builder.create_form(actor=user, title=form.cleaned_data["title"])
        except DomainError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Form created: add its questions, then publish it."))
            return redirect("intake_form", made.pk)
    forms_list = builder.forms_of(user).annotate(
        published=Max("versions__number", filter=Q(versions__published_at__isnull=False)),
        answered=Count("versions__responses", filter=Q(versions__responses__status="submitted"), distinct=True),
        asked_by=Count("asks", distinct=True),
    )
    return render(
        request,
        "intake/forms.html",
        {"forms": forms_list, "form": form, "site_wide": not user.is_coach},
        status=400 if form.errors else 200,
    )


FORM_ACTIONS = {
    "rename",
    "add_step",
    "update_step",
    "delete_step",
    "step_up",
    "step_down",
    "add_question",
    "delete_question",
    "question_up",
    "question_down",
    "publish",
    "discard",
    "asks",
    "delete",
    "edit",
}


def _int(value: str | None) -> int:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 12:
        raise Http404("No such item.")
    return int(value)


def _wanted_asks(request: HttpRequest) -> dict[int, str]:
    wanted = {}
    for raw in request.POST.getlist("ask"):
        if raw.isdigit() and len(raw) < 12:
            wanted[int(raw)] = request.POST.get(f"when_{raw}", AskWhen.FIRST_BOOKING)
    return wanted


@builder_only
@require_http_methods(["GET", "HEAD", "POST"])
def intake_form(request: HttpRequest, pk: int) -> HttpResponse:
    """One form: its draft's steps and questions, publishing, which types ask it."""
    user = request.user
    form = builder.own_form(user, pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    error = ""
    new_question = QuestionForm(request.POST if action == "add_question" else None, prefix="new")
    new_step = BuilderStepForm(request.POST if action == "add_step" else None, prefix="step")
    title_form = IntakeFormTitleForm(request.POST if action == "rename" else None, initial={"title": form.title})
    if request.method == "POST":
        try:
            done = _form_action(request, form, action, new_question, new_step, title_form)
        except DomainError as exc:
            error, done = exc.message, ""
        if done:
            messages.success(request, done)
            if action == "delete":
                return redirect("intake_forms")
            return redirect(reverse("intake_form", args=[form.pk]) + request.POST.get("anchor", ""))
        if not error and action not in FORM_ACTIONS:
            error = _("Unknown action.")
    draft = builder.draft_of(form)
    current = builder.current_of(form)
    shown = draft or current
    steps = list(shown.steps.prefetch_related("questions")) if shown else []
    asks = {ask.session_type_id: ask.when for ask in FormAsk.objects.filter(form=form)}
    types = list(builder.session_types_for(user, form))
    bad = bool(error or new_question.errors or new_step.errors or title_form.errors)
    return render(
        request,
        "intake/form_builder.html",
        {
            "intake_form": form,
            "draft": draft,
            "current": current,
            "steps": steps,
            "new_question": new_question,
            "new_step": new_step,
            "title_form": title_form,
            "posted_step": request.POST.get("step", "") if action == "add_question" else "",
            "error": error,
            "types": [(session_type, asks.get(session_type.pk, "")) for session_type in types],
            "when_choices": AskWhen.choices,
            "versions": form.versions.filter(published_at__isnull=False).annotate(answered=Count("responses")),
        },
        status=400 if bad else 200,
    )


def _form_action(request, form, action, new_question, new_step, title_form) -> str:
    """Carry out one builder action; its success message, or "" when a form was refused."""
    post = request.POST
    if action == "rename":
        if not title_form.is_valid():
            return ""
        builder.rename(form=form, title=title_form.cleaned_data["title"])
        return _("Title saved.")
    if action == "add_step":
        if not new_step.is_valid():
            return ""
        builder.add_step(form=form, **new_step.cleaned_data)
        return _("Step added.")
    if action == "update_step":
        step = builder.draft_step(form, _int(post.get("step")))
        builder.update_step(step=step, title=post.get("title", ""), intro=post.get("intro", ""))
        return _("Step saved.")
    if action == "delete_step":
        builder.delete_step(step=builder.draft_step(form, _int(post.get("step"))))
        return _("Step deleted.")
    if action in ("step_up", "step_down"):
        builder.move(builder.draft_step(form, _int(post.get("step"))), -1 if action == "step_up" else 1)
        return _("Order saved.")
    if action == "add_question":
        step = builder.draft_step(form, _int(post.get("step")))
        if not new_question.is_valid():
            return ""
        try:
            builder.add_question(step=step, data=new_question.cleaned_data)
        except DomainError as exc:
            _refused(new_question, exc)
            return ""
        return _("Question added.")
    if action == "delete_question":
        builder.delete_question(question=builder.draft_question(form, _int(post.get("question"))))
        return _("Question deleted.")
    if action in ("question_up", "question_down"):
        builder.move(builder.draft_question(form, _int(post.get("question"))), -1 if action == "question_up" else 1)
        return _("Order saved.")
    if action == "publish":
        version = builder.publish(form=form, actor=request.user)
        return _("Version %(number)s published: clients answer it from their next booking.") % {
            "number": version.number
        }
    if action == "discard":
        builder.discard_draft(form=form)
        return _("Changes discarded.")
    if action == "asks":
        builder.set_asks(form=form, actor=request.user, wanted=_wanted_asks(request))
        return _("Saved: the session types you chose ask this form.")
    if action == "edit":
        version = builder.editable(form)
        return _("Editing version %(number)s: clients keep answering the current version until you publish it.") % {
            "number": version.number
        }
    if action == "delete":
        builder.delete_form(form=form)
        return _("Form deleted.")
    return ""


@builder_only
@require_http_methods(["GET", "HEAD", "POST"])
def intake_question(request: HttpRequest, pk: int, question_id: int) -> HttpResponse:
    """Change one question of the form's draft (a published form gets a new draft)."""
    form = builder.own_form(request.user, pk)
    question = builder.draft_question(form, question_id)
    edit = QuestionForm(request.POST or None, initial=QuestionForm.initial_for(question))
    if request.method == "POST" and edit.is_valid():
        try:
            builder.update_question(question=question, data=edit.cleaned_data)
        except DomainError as exc:
            _refused(edit, exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect(reverse("intake_form", args=[form.pk]) + f"#step-{question.step_id}")
    return render(
        request,
        "intake/question_form.html",
        {"intake_form": form, "question": question, "form": edit},
        status=400 if edit.errors else 200,
    )


# ---------------------------------------------------------------------------------------
# The wizard's Questions step
# ---------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, fallback: str) -> str:
    wanted = request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return fallback


def _subject(request: HttpRequest) -> Any:
    """Whom the answers are about: the viewer, or (``?for=``) one of their dependents."""
    user = request.user
    raw = request.GET.get("for") or ""
    if raw and raw != str(user.pk):
        if not raw.isdigit() or len(raw) > 12:
            raise Http404("No such person.")
        link = dependents_of(user).filter(dependent_id=int(raw)).select_related("dependent").first()
        if link is None:
            raise Http404("No such person.")
        return link.dependent
    return user


def _step_number(request: HttpRequest, count: int) -> int:
    raw = request.GET.get("step") or "1"
    number = int(raw) if raw.isdigit() and len(raw) < 4 else 1
    return min(max(number, 1), max(count, 1))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def questions(request: HttpRequest, form_id: int, type_id: int) -> HttpResponse:
    """One step of an intake form, on the way to booking ``type_id``: Back and Next save the
    step as a draft (so leaving and coming back resumes); after the last step the client
    goes back to the booking's confirm step (``?next=``)."""
    user = request.user
    if not gates.asks(user):
        raise Http404("Page not found")
    ask = (
        FormAsk.objects.select_related("form", "session_type", "session_type__coach")
        .filter(form_id=form_id, session_type_id=type_id)
        .first()
    )
    if ask is None or not coaches_visible_to(user).filter(pk=ask.session_type.coach_id).exists():
        raise Http404("No such form.")
    form, session_type = ask.form, ask.session_type
    coach = session_type.coach
    version = answers.current_version(form)
    if version is None:
        raise Http404("No such form.")
    client = _subject(request)
    next_url = _safe_next(request, reverse("book_coach", args=[coach.pk]))
    steps = answers.steps_of(version)
    number = _step_number(request, len(steps))
    step = steps[number - 1]
    step_questions = list(step.questions.all())
    draft = answers.draft_of(client, version, coach)
    saved = answers.answers_of(draft) if draft else {}
    post = request.method == "POST"
    step_form = answers.StepForm(
        request.POST if post else None, request.FILES if post else None, questions=step_questions, answers=saved
    )

    def step_url(n: int) -> str:
        return answers.questions_url(form, session_type, client, next_url, n)

    if post:
        going_back = request.POST.get("go") == "back"
        if step_form.is_valid():
            draft = draft or answers.start_draft(
                client=client, version=version, coach=coach, by=user, session_type=session_type
            )
            saved = answers.save_step(draft, step_questions, step_form.cleaned_data, by=user)
            if going_back:
                return redirect(step_url(max(number - 1, 1)))
            if number < len(steps):
                return redirect(step_url(number + 1))
            missing = answers.finish_draft(draft)
            if not missing:
                return redirect(next_url)
            first = missing[0]
            position = next(i for i, s in enumerate(steps, start=1) if s.pk == first.step_id)
            messages.error(
                request, _("Some required questions are not answered yet: “%(question)s”.") % {"question": first.label}
            )
            return redirect(step_url(position))
        if going_back and number > 1:
            # Back with an unfinished step: nothing of it is saved, nothing is lost before.
            return redirect(step_url(number - 1))
    files = {}
    if draft:
        ids = [saved.get(str(q.pk)) for q in step_questions if q.kind == QuestionKind.FILE]
        files = {file.pk: file for file in IntakeFile.objects.filter(pk__in=[i for i in ids if i], response=draft)}
    fields = [
        {
            "field": step_form[str(question.pk)],
            "question": question,
            "file": files.get(saved.get(str(question.pk))) if question.kind == QuestionKind.FILE else None,
        }
        for question in step_questions
    ]
    from bookings.views import GROUP_QUESTION_STEPS, ONE_ON_ONE_QUESTION_STEPS, _steps

    keys = GROUP_QUESTION_STEPS if session_type.is_group else ONE_ON_ONE_QUESTION_STEPS
    return render(
        request,
        "intake/questions.html",
        {
            "intake_form": form,
            "session_type": session_type,
            "coach": coach,
            "client": client,
            "for_someone_else": client.pk != user.pk,
            "step": step,
            "number": number,
            "count": len(steps),
            "fields": fields,
            "step_form": step_form,
            "back_url": step_url(number - 1) if number > 1 else next_url,
            "steps": _steps(
                keys,
                "questions",
                {"coach": reverse("book_coach_list"), "session": reverse("book_coach", args=[coach.pk])},
            ),
        },
        status=400 if step_form.errors else 200,
    )


# ---------------------------------------------------------------------------------------
# Reading answers
# ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def my_answers(request: HttpRequest) -> HttpResponse:
    """The viewer's own answers (and those they gave for their dependents), their files,
    and every time a staff member read them."""
    user = request.user
    responses = list(
        IntakeResponse.objects.filter(Q(client=user) | Q(answered_by=user), status="submitted")
        .select_related("version__form", "client", "coach", "booking")
        .order_by("-submitted_at", "-pk")
    )
    reads = AnswerRead.objects.filter(response__in=responses).select_related(
        "reader", "response__version__form", "file"
    )
    return render(
        request,
        "intake/my_answers.html",
        {"items": [(response, answers.display(response)) for response in responses], "reads": reads},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def answers_detail(request: HttpRequest, pk: int) -> HttpResponse:
    response, staff_read = answers.response_for(request.user, pk)
    if staff_read:
        answers.log_read(request.user, response)
    return render(
        request,
        "intake/answers_detail.html",
        {"response": response, "shown": answers.display(response), "staff_read": staff_read},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def answer_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A file given as an answer, to whoever may read its response (a staff read logged)."""
    file = IntakeFile.objects.filter(pk=pk, response__isnull=False).first()
    if file is None:
        raise Http404("No such file.")
    response, staff_read = answers.response_for(request.user, file.response_id)
    try:
        data = answers.file_bytes(file)
    except crypto.Unreadable:
        raise Http404("This file can't be read.") from None
    if staff_read:
        answers.log_read(request.user, response, file)
    reply = HttpResponse(data, content_type=file.content_type)
    reply["Content-Disposition"] = _attachment(file.name)
    reply["Cache-Control"] = "private, no-store"
    reply["X-Content-Type-Options"] = "nosniff"
    return reply


def _attachment(name: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(True, name or "file")
