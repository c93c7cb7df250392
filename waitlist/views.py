"""The waitlist's pages: join from a full session, the client's own waitlist (position,
seats held for them, leave), an offer's page (accept in one click, or decline), and the
coach's and staff's view of a session's queue with each entry's factors."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.selectors import coaches_visible_to
from availability.forms import date_field, time_field
from bookings import gates
from bookings import views as booking_views
from bookings.models import BookingStatus, Session, SessionKind, SessionType
from bookings.services.common import is_manager
from config.errors import DomainError
from waitlist import scoring, services, times
from waitlist.models import OPEN_STATUSES, OfferStatus, WaitlistEntry, WaitlistMove, WaitlistOffer


def _entries_of(user):
    return WaitlistEntry.objects.select_related("session__session_type", "session__coach", "client").filter(client=user)


@login_required
@require_POST
def join(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(Session.objects.select_related("session_type", "coach"), pk=session_id)
    try:
        entry = services.join(actor=request.user, client=request.user, session=session)
    except DomainError as exc:
        if exc.code == "not_full":
            return redirect("book_seat", session.pk)
        messages.error(request, exc.message)
        return redirect("waitlist:mine")
    place = services.position(entry)
    messages.success(
        request,
        _("You are on the waitlist, number %(place)s. We'll tell you as soon as a seat is free.") % {"place": place},
    )
    return redirect("waitlist:mine")


DAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]


class TimesForm(forms.Form):
    days_of_week = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Days"), choices=DAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    # 24-hour HH:MM text boxes, as every time on the site (not the browser's own time box).
    start_time = time_field(gettext_lazy("From"))
    end_time = time_field(gettext_lazy("Until"))
    date_from = date_field(gettext_lazy("First day"))
    date_to = date_field(gettext_lazy("Last day"))


@login_required
def join_times(request: HttpRequest, type_id: int) -> HttpResponse:
    """Wait for a one-on-one time of a type: the days, hours (the client's own) and dates."""
    session_type = get_object_or_404(
        SessionType.objects.select_related("coach__coach_profile").filter(
            coach__in=coaches_visible_to(request.user).values("pk"), is_active=True
        ),
        pk=type_id,
        kind=SessionKind.ONE_ON_ONE,
    )
    today = timezone.localdate()
    form = TimesForm(
        request.POST or None,
        initial={
            "date_from": today,
            "date_to": today + dt.timedelta(days=14),
            "start_time": dt.time(9),
            "end_time": dt.time(12),
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                times.join(
                    actor=request.user,
                    client=request.user,
                    session_type=session_type,
                    days_of_week=data["days_of_week"],
                    time_ranges=[[f"{data['start_time']:%H:%M}", f"{data['end_time']:%H:%M}"]],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                )
            except DomainError as exc:
                field = {"time_ranges": "end_time"}.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("You are on the waitlist. When a time you want frees, it is held for you and you are told."),
                )
                return redirect("waitlist:mine")
    return render(
        request,
        "waitlist/times.html",
        {"session_type": session_type, "coach": session_type.coach, "form": form},
        status=status,
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in client's entries: open ones with their position or the seat held for
    them, then the last ones that ended."""
    now = timezone.now()
    open_entries = list(
        _entries_of(request.user).filter(status__in=OPEN_STATUSES).order_by("session__start", "date_from", "pk")
    )
    pending = {
        offer.entry_id: offer
        for offer in WaitlistOffer.objects.filter(
            entry__in=[entry.pk for entry in open_entries], status=OfferStatus.PENDING
        )
    }
    rows = []
    for entry in open_entries:
        rows.append(
            {
                "entry": entry,
                "offer": pending.get(entry.pk),
                "position": services.position(entry, now=now),
                "waiting": services.waiting_count(entry.session)
                if entry.session_id
                else len(services.queue_of(entry, now=now)),
                "days": ", ".join(str(label) for day, label in DAYS if day in entry.days_of_week),
            }
        )
    ended = list(_entries_of(request.user).exclude(status__in=OPEN_STATUSES).order_by("-ended_at")[:10])
    return render(request, "waitlist/mine.html", {"rows": rows, "ended": ended})


@login_required
@require_POST
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(_entries_of(request.user), pk=pk)
    try:
        services.leave(actor=request.user, entry=entry)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You left the waitlist."))
    return redirect("waitlist:mine")


def _offer_for(request: HttpRequest, pk: int) -> WaitlistOffer:
    return get_object_or_404(
        WaitlistOffer.objects.select_related(
            "entry__client", "session__session_type", "session__coach", "session_type__coach", "booking"
        ),
        pk=pk,
        entry__client=request.user,
    )


def _gates(request: HttpRequest, held: WaitlistOffer) -> tuple[list[gates.Item], list[gates.Asked]]:
    """What the client accepts (the consent documents) and answers (the intake forms) before
    taking ``held``, as before any booking with its coach (``bookings.gates``); the
    Questions step comes back to this page. Asked only while the offer is open."""
    if not services.still_open(held):
        return [], []
    client = held.entry.client
    coach, session_type = services.offered(held)
    consents = gates.pending(client, coach) if gates.asks(request.user) else []
    next_url = reverse("waitlist:offer", args=[held.pk])
    return consents, gates.asked(client, session_type, booker=request.user, next_url=next_url)


@login_required
def offer(request: HttpRequest, pk: int) -> HttpResponse:
    """A seat or a time held for the client: accept (the booking is made, or goes on to
    payment) or decline (it goes to the next in line). Accepting asks first what a booking
    asks: the consent documents' ticks here, the intake forms' answers on the Questions
    step (a link; it comes back here, and the seat stays held meanwhile)."""
    held = _offer_for(request, pk)
    error = ""
    status = 200
    consents, intake = _gates(request, held)
    declining = request.POST.get("answer") == "decline"
    if request.method == "POST" and not declining and gates.missing(consents, request.POST.getlist("accept")):
        error, status = str(booking_views.CONSENT_MISSING), 400
    elif request.method == "POST" and not declining and (unanswered := gates.unanswered(intake)):
        return booking_views.redirect_303_to(unanswered)  # the answers first; the offer stays held
    elif request.method == "POST":
        try:
            if declining:
                services.decline(actor=request.user, offer=held)
                messages.success(request, _("You declined; it goes to the next person waiting."))
                return redirect("waitlist:mine")
            booking = services.accept(actor=request.user, offer=held)
        except DomainError as exc:
            error, status = exc.message, exc.status
            held = _offer_for(request, pk)
        else:
            client = held.entry.client
            gates.record(request, client, consents=consents, intake=intake, booking=booking, by=request.user)
            if booking.status == BookingStatus.AWAITING_PAYMENT:
                return redirect("payments:pay", booking.reference)
            return redirect("booking_done", booking.reference)
    expired = held.status == OfferStatus.PENDING and held.expires_at <= timezone.now()
    seat = held.session
    context = {
        "offer": held,
        "error": error,
        "expired": expired,
        "st": seat.session_type if seat else held.session_type,
        "start": seat.start if seat else held.start,
        "consents": consents,
        "consents_ticked": request.POST.getlist("accept"),
        "questions_url": gates.unanswered(intake),
    }
    return render(request, "waitlist/offer.html", context, status=status)


@login_required
def queue(request: HttpRequest, session_id: int) -> HttpResponse:
    """A session's waitlist for its coach and staff: who waits, in order, with each factor
    of their score; and the seats held for people now."""
    session = get_object_or_404(Session.objects.select_related("session_type", "coach"), pk=session_id)
    if not services.may_manage(request.user, session):
        raise PermissionDenied
    ranked = services.queue(session)
    offers = list(
        WaitlistOffer.objects.filter(session=session, status=OfferStatus.PENDING).select_related("entry__client")
    )
    moves = WaitlistMove.objects.filter(entry__session=session).select_related("entry__client", "actor")[:20]
    return render(
        request,
        "waitlist/queue.html",
        {
            "session": session,
            "session_type": session.session_type,
            "ranked": ranked,
            "offers": offers,
            "weights": scoring.WEIGHTS,
            "may_move": request.user.is_staff_member,
            "moves": moves,
        },
    )


@login_required
def type_queue(request: HttpRequest, type_id: int) -> HttpResponse:
    """The people waiting for one-on-one times of a session type, for its coach and staff:
    in order, with each factor of their score and the times they want."""
    session_type = get_object_or_404(SessionType.objects.select_related("coach"), pk=type_id)
    if not is_manager(request.user, session_type.coach):
        raise PermissionDenied
    ranked = services.type_queue(session_type)
    offers = list(
        WaitlistOffer.objects.filter(
            entry__session_type=session_type, entry__session__isnull=True, status=OfferStatus.PENDING
        ).select_related("entry__client")
    )
    moves = WaitlistMove.objects.filter(entry__session_type=session_type, entry__session__isnull=True).select_related(
        "entry__client", "actor"
    )[:20]
    return render(
        request,
        "waitlist/queue.html",
        {
            "session": None,
            "session_type": session_type,
            "ranked": ranked,
            "offers": offers,
            "weights": scoring.WEIGHTS,
            "may_move": request.user.is_staff_member,
            "moves": moves,
            "days": dict(DAYS),
        },
    )


@login_required
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff move a waiting entry to another place in its session's queue, with a reason."""
    entry = get_object_or_404(WaitlistEntry.objects.select_related("session"), pk=pk)
    raw = request.POST.get("to_position", "")
    try:
        to_position = int(raw)
    except ValueError:
        messages.error(request, _("Give the place to move them to, as a number."))
    else:
        try:
            services.move(
                actor=request.user, entry=entry, to_position=to_position, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            if exc.status == 403:
                raise PermissionDenied from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Moved."))
    if entry.session_id:
        return redirect("waitlist:queue", entry.session_id)
    return redirect("waitlist:type_queue", entry.session_type_id)
