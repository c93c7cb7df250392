"""The coach's private notes pages: their own list with search, a client's notes, and
adding, changing and deleting a note. Only coaches reach them; a note, a client or a
booking the coach may not keep notes on is 404, as is any page for other roles (staff
and admins included: staff reading notes, with its read log, is a later step)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import DomainError
from intake import selectors, services
from intake.forms import NoteForm, SearchForm
from intake.models import CoachNote

PAGE_SIZE = 25


def coach_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, then 404 for anyone who is not a coach (admins too: notes are the
    author's alone)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.may_keep_notes(request.user):
            raise Http404("Page not found")
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request: HttpRequest, fallback: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return fallback


def _home_of(note: CoachNote) -> str:
    """Where a note lives: its booking's page, or its client's notes."""
    if note.booking_id:
        return reverse("booking_detail", args=[note.booking.reference]) + "#private-notes"
    return reverse("client_notes", args=[note.client_id])


def _saved(request: HttpRequest, form: NoteForm, write: Callable[[str], object]) -> bool:
    """Run ``write`` with the form's text; a refusal goes onto the form."""
    if not form.is_valid():
        return False
    try:
        write(form.cleaned_data["text"])
    except DomainError as error:
        form.add_error("text" if error.field == "text" else None, error.message)
        return False
    return True


@coach_only
@require_http_methods(["GET", "HEAD"])
def coach_notes(request: HttpRequest) -> HttpResponse:
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    found = selectors.search_notes(request.user, query)
    page = Paginator(found.notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/notes.html",
        {"search": search, "query": query, "page": page, "capped": found.capped, "limit": selectors.SEARCH_LIMIT},
        status=200 if search.is_valid() else 400,
    )


@coach_only
@require_http_methods(["GET", "HEAD", "POST"])
def client_notes(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_for_notes(request.user, client_id)
    form = NoteForm(request.POST or None)
    if request.method == "POST" and _saved(
        request, form, lambda text: services.add_note(author=request.user, client=client, text=text)
    ):
        messages.success(request, _("Note saved."))
        return redirect("client_notes", client.pk)
    notes = selectors.notes_about(request.user, client)
    context = {
        "client": client,
        "form": form,
        "general": [note for note in notes if not note.booking_id],
        "on_sessions": [note for note in notes if note.booking_id],
    }
    return render(request, "intake/client_notes.html", context, status=400 if form.errors else 200)


@coach_only
@require_POST
def booking_note_add(request: HttpRequest, reference: str) -> HttpResponse:
    booking = selectors.booking_for_notes(request.user, reference)
    form = NoteForm(request.POST)
    back = reverse("booking_detail", args=[booking.reference]) + "#private-notes"
    if _saved(
        request,
        form,
        lambda text: services.add_note(author=request.user, client=booking.client, booking=booking, text=text),
    ):
        messages.success(request, _("Note saved."))
        return redirect(back)
    # The booking's page is another app's: the refused note is shown on its own page.
    return render(
        request,
        "intake/note_form.html",
        {"form": form, "booking": booking, "client": booking.client, "back": back, "action": request.path},
        status=400,
    )


@coach_only
@require_http_methods(["GET", "HEAD", "POST"])
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.own_note(request.user, pk)
    back = _next_url(request, _home_of(note))
    form = NoteForm(request.POST or None, initial={"text": note.text})
    if request.method == "POST" and _saved(
        request, form, lambda text: services.edit_note(note=note, actor=request.user, text=text)
    ):
        messages.success(request, _("Note saved."))
        return redirect(back)
    return render(
        request,
        "intake/note_form.html",
        {
            "form": form,
            "note": note,
            "booking": note.booking,
            "client": note.client,
            "back": back,
            "action": request.path,
        },
        status=400 if form.errors else 200,
    )


@coach_only
@require_POST
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.own_note(request.user, pk)
    back = _next_url(request, _home_of(note))
    services.delete_note(note=note, actor=request.user)
    messages.success(request, _("Note deleted."))
    return redirect(back)
