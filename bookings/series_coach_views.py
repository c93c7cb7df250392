"""The coach's side of a recurring series: one decision for all its requested occurrences
("Approve series", "Decline series" with a reason, "Suggest another time" for all of them),
or one occurrence declined alone.

Plain POST forms (a message and back to the dashboard) that htmx enhances: the response
then replaces the series' item in the requests queue, and the agenda, the next days, the
rosters, the running series and the queue's count come along out of band, read afresh —
as a single request's answer does (``manage_views.booking_action``).

A series the viewer may not see is 404; one they may see but not answer (its client) 403.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from bookings import selectors, services
from bookings.manage_forms import NoteForm, ReasonForm
from bookings.manage_views import REFERENCE_SHAPE, _safe_next, coach_live_context
from bookings.models import Booking, Series
from bookings.series_coach import decline_one_message, queue_count, series_request, suggestion_text
from bookings.series_forms import NewTimeForm
from bookings.services import series as series_services
from config.errors import DomainError

ITEM_TEMPLATE = "bookings/manage/_series_request.html"


def _series_to_answer(user, pk: int) -> Series:
    series = Series.objects.select_related("coach", "client", "session_type").filter(pk=pk).first()
    if series is None or not series_services.may_see(user, series):
        raise Http404("No such series.")
    if not services.is_manager(user, series.coach):
        raise PermissionDenied(_("Only the coach or back-office staff can answer a series."))
    return series


def _fresh(bookings: list[Booking]) -> list[Booking]:
    """The answered occurrences read again, as the queue shows them."""
    return list(
        Booking.objects.filter(pk__in=[booking.pk for booking in bookings])
        .select_related(*selectors.BOOKING_RELATED, "series")
        .order_by("session__start", "pk")
    )


def _answer(request: HttpRequest, series: Series, act) -> HttpResponse:
    """Run ``act`` (answered occurrences, or a refusal) and answer as the page asked."""
    try:
        answered, notice = act()
    except DomainError as refusal:  # NotAllowed included: 403
        answered, notice = [], None
        error, status = refusal.message, (refusal.status if 400 <= refusal.status < 500 else 400)
    else:
        error, status = None, 200
    if request.htmx and request.POST.get("ui") == "queue":
        coach = series.coach
        context = coach_live_context(coach) if error is None else {}
        return render(
            request,
            ITEM_TEMPLATE,
            {
                **context,
                "item": series_request(series, answered=_fresh(answered)),
                "series": series,
                "oob_sections": error is None,
                "oob_count": True,
                "requests_count": queue_count(coach),
                "row_notice": notice,
                "row_error": error,
            },
            status=status,
        )
    (messages.error if error else messages.success)(request, error or notice)
    return redirect(_safe_next(request) or reverse("dashboard"))


@login_required
@require_POST
def series_approve(request: HttpRequest, pk: int) -> HttpResponse:
    series = _series_to_answer(request.user, pk)

    def act():
        form = NoteForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        approved = series_services.approve_series(series=series, actor=request.user, note=note)
        count = len(approved)
        return approved, ngettext(
            "Series approved: %(count)d session is confirmed.",
            "Series approved: %(count)d sessions are confirmed.",
            count,
        ) % {"count": count}

    return _answer(request, series, act)


@login_required
@require_POST
def series_decline(request: HttpRequest, pk: int) -> HttpResponse:
    series = _series_to_answer(request.user, pk)

    def act():
        form = ReasonForm(request.POST)
        if not form.is_valid():
            raise DomainError(_("Keep the reason under 1000 characters."), code="invalid")
        declined = series_services.decline_series(series=series, actor=request.user, reason=form.cleaned_data["reason"])
        count = len(declined)
        return declined, ngettext(
            "Series declined: %(count)d request is withdrawn.",
            "Series declined: %(count)d requests are withdrawn.",
            count,
        ) % {"count": count}

    return _answer(request, series, act)


@login_required
@require_POST
def series_decline_one(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline one requested occurrence of the series; the others still wait."""
    series = _series_to_answer(request.user, pk)
    reference = request.POST.get("reference", "")

    def act():
        booking = (
            Booking.objects.filter(series=series, reference=reference)
            .select_related(*selectors.BOOKING_RELATED)
            .first()
            if REFERENCE_SHAPE.fullmatch(reference)
            else None
        )
        if booking is None:
            raise DomainError(_("That session isn't part of this series."), code="not_found", status=404)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            raise DomainError(_("Keep the reason under 1000 characters."), code="invalid")
        declined = services.decline(booking=booking, actor=request.user, reason=form.cleaned_data["reason"])
        return [declined], decline_one_message(booking)

    return _answer(request, series, act)


@login_required
@require_POST
def series_suggest(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer the series request with another time: the first open date moves to the date
    and time typed (24-hour, in the coach's zone), every other one by the same weekday
    shift at that time; the client accepts or declines once."""
    series = _series_to_answer(request.user, pk)

    def act():
        form = NewTimeForm(request.POST, zone=ZoneInfo(series.coach.timezone))
        if not form.is_valid():
            raise DomainError(" ".join(str(e) for errors in form.errors.values() for e in errors), code="invalid")
        note_form = NoteForm(request.POST)
        if not note_form.is_valid():
            raise DomainError(_("Keep the note under 1000 characters."), code="invalid")
        suggested = series_services.suggest_series_time(
            series=series,
            actor=request.user,
            new_start=form.cleaned_data["new_start"],
            note=note_form.cleaned_data["note"],
        )
        count = len(suggested)
        return suggested, ngettext(
            "Suggested %(when)s for the %(count)d session; the client answers once.",
            "Suggested %(when)s for the %(count)d sessions; the client answers once.",
            count,
        ) % {"when": suggestion_text(suggested[0], ZoneInfo(series.timezone)), "count": count}

    return _answer(request, series, act)
