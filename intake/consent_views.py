"""Consent documents' pages: a coach writes their own and publishes new versions, staff the
site-wide ones; both see who accepted which version, when and from which address (their
documents' records only). A client sees what they accepted. Anyone else gets 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.errors import DomainError
from intake import consents
from intake.forms import ConsentDocumentForm, ConsentVersionForm

RECORDS_PAGE_SIZE = 50


def manager_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, then 404 for anyone who is neither a coach nor staff."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not consents.may_manage(request.user):
            raise Http404("Page not found")
        return view(request, *args, **kwargs)

    return wrapper


def _refused(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _records_page(request: HttpRequest, records) -> Any:
    return Paginator(records, RECORDS_PAGE_SIZE).get_page(request.GET.get("page"))


@manager_only
@require_http_methods(["GET", "HEAD", "POST"])
def consent_documents(request: HttpRequest) -> HttpResponse:
    """The documents the viewer manages, a form for a new one, and their acceptances."""
    user = request.user
    form = ConsentDocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = consents.create_document(actor=user, **form.cleaned_data)
        except DomainError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Document published: clients accept it before their next booking."))
            return redirect("consent_document", document.pk)
    documents = consents.documents_of(user).annotate(
        current_number=Max("versions__number"), accepted=Count("versions__records")
    )
    return render(
        request,
        "intake/consents.html",
        {
            "documents": documents,
            "form": form,
            "site_wide": not user.is_coach,
            "records": _records_page(request, consents.records_of(user)),
        },
        status=400 if form.errors else 200,
    )


@manager_only
@require_http_methods(["GET", "HEAD", "POST"])
def consent_document(request: HttpRequest, pk: int) -> HttpResponse:
    """One document: its versions, publishing a new one, whether it is asked, its records."""
    user = request.user
    document = consents.own_document(user, pk)
    current = consents.current_version(document)
    action = request.POST.get("action", "")
    unknown = ""
    form = ConsentVersionForm(
        request.POST if action == "publish" else None, initial={"body": current.body if current else ""}
    )
    if request.method == "POST":
        if action == "required":
            required = request.POST.get("required_before_booking") == "on"
            consents.set_required(actor=user, document=document, required=required)
            if required:
                messages.success(request, _("Clients now accept this document before booking."))
            else:
                messages.success(request, _("Clients are no longer asked to accept this document."))
            return redirect("consent_document", document.pk)
        if action == "publish" and form.is_valid():
            try:
                version = consents.publish_version(actor=user, document=document, body=form.cleaned_data["body"])
            except DomainError as error:
                _refused(form, error)
            else:
                messages.success(
                    request,
                    _("Version %(number)s published: every client accepts it at their next booking.")
                    % {"number": version.number},
                )
                return redirect("consent_document", document.pk)
        elif action != "publish":
            unknown = _("Unknown action.")
    return render(
        request,
        "intake/consent_document.html",
        {
            "document": document,
            "current": current,
            "versions": document.versions.annotate(accepted=Count("records")),
            "form": form,
            "unknown": unknown,
            "records": _records_page(request, consents.records_of(user).filter(version__document=document)),
        },
        status=400 if form.errors or unknown else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def my_consents(request: HttpRequest) -> HttpResponse:
    """The documents the viewer accepted (and accepted for their dependents)."""
    return render(
        request,
        "intake/my_consents.html",
        {"records": _records_page(request, consents.records_for_client(request.user))},
    )
