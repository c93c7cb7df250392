"""Pages where bookings are looked after: a booking's details and history with the actions
each side may take, the dashboards' data, and the live fragments that keep the coach's
and the staff's pages current without a reload.

Views parse, authorize and render; every change goes through ``bookings.services``. A
booking the viewer may not see is 404 (``get_booking_for``); one they may see but not
change answers 403 with the service's message on the page; any other refusal shows its
message with the service's 4xx status, never a 500.

Every action is a plain POST form (redirect back on success) that htmx enhances: the
response then replaces the part of the page the form lives in (the booking's details,
a row of the requests queue, a row of the client's upcoming sessions).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors as account_selectors
from accounts.access import role_required
from accounts.models import Role, User
from availability import hours
from availability.models import Allocation, AllocationKind
from availability.rules import decision_text, rules_for
from availability.selectors import LONGEST_ALLOCATION
from bookings import live, selectors, series_coach, services, suggestions, video
from bookings.manage_forms import (
    LOCAL_INPUT_FORMAT,
    AcceptAlternativeForm,
    AnswerForm,
    NoteForm,
    PublishSessionForm,
    QuestionForm,
    RateForm,
    ReasonForm,
    StaffFilterForm,
    SuggestForm,
)
from bookings.models import (
    ACTIVE_STATUSES,
    BOOKED_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    PlannedSession,
    Session,
)
from bookings.workshop_views import workshop_context
from config import stored_text
from config.dates import format_when
from config.errors import DomainError, NotAllowed

REFERENCE_SHAPE = re.compile(r"BK-\d{4}-\d{1,12}")
STAFF_PAGE_SIZE = 25
AGENDA_DAYS = 7
ROSTER_LIMIT = 12

ACTION_LABELS = {
    "booked": pgettext_lazy("booking history", "Booked"),
    "requested": gettext_lazy("Requested"),
    "seat_taken": gettext_lazy("Took a seat"),
    "approved": gettext_lazy("Approved"),
    "declined": gettext_lazy("Declined"),
    "alternatives_suggested": gettext_lazy("Suggested other times"),
    "alternative_accepted": gettext_lazy("Accepted a suggested time"),
    "alternatives_declined": gettext_lazy("Declined the suggested times"),
    "information_requested": gettext_lazy("Asked for more information"),
    "information_given": gettext_lazy("Answered the coach's question"),
    "expired": gettext_lazy("Expired without an answer"),
    "cancelled": gettext_lazy("Cancelled"),
    "rescheduled": gettext_lazy("Rescheduled"),
    "completed": gettext_lazy("Completed"),
    "completed_automatically": gettext_lazy("Completed"),
    "no_show": gettext_lazy("Marked as a no-show"),
    "workshop_confirmed": gettext_lazy("Workshop confirmed"),
    "material_added": gettext_lazy("Material shared"),
    "rated": gettext_lazy("Rated the session"),
    "held_for_payment": gettext_lazy("Held while the client pays"),
    "paid": pgettext_lazy("booking history", "Paid"),
    "payment_expired": gettext_lazy("Not paid in time"),
}

SUCCESS_MESSAGES = {
    "cancel": gettext_lazy("The session is cancelled."),
    "approve": gettext_lazy("Request approved: the session is confirmed."),
    "decline": gettext_lazy("Request declined."),
    "suggest": gettext_lazy("Your suggested times were sent to the client."),
    "ask": gettext_lazy("Your question was sent to the client."),
    "answer": gettext_lazy("Your answer was sent to the coach."),
    "accept-alternative": gettext_lazy("You took the suggested time: the session is confirmed."),
    "decline-alternatives": gettext_lazy("You declined the suggested times; the request is withdrawn."),
    "rate": gettext_lazy("Thank you for your rating."),
    "no-show": gettext_lazy("Marked as a no-show."),
    "cancel-offer": gettext_lazy("The session is cancelled; the client has your other times and a link to book one."),
}


# ---------------------------------------------------------------------------------------
# Booking details
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    when: dt.datetime
    who: str
    action: str
    from_status: str
    to_status: str
    note: str
    late: bool


def history_rows(booking: Booking, events: list[BookingEvent] | None = None) -> list[HistoryRow]:
    labels = dict(BookingStatus.choices)
    events = list(selectors.history(booking)) if events is None else events
    return [
        HistoryRow(
            when=event.created_at,
            who=event.actor.display_name if event.actor else gettext("System"),
            action=ACTION_LABELS.get(event.action, event.action.replace("_", " ").capitalize()),
            from_status=labels.get(event.from_status, ""),
            to_status=labels.get(event.to_status, event.to_status),
            note=stored_text.display(event.note),
            late=bool(event.data.get("late")) if isinstance(event.data, dict) else False,
        )
        for event in events
    ]


def decided_by(events: list[BookingEvent]) -> str:
    """Which rule made the booking firm or a request, as its first history entry recorded
    it ("Firm because VIP"); empty when it recorded none."""
    data = events[0].data if events else None
    # Recorded language-neutral (the reasons' codes), worded in the viewer's language.
    return decision_text(data.get("decided_by")) if isinstance(data, dict) else ""


def suggested_times(booking: Booking) -> list[tuple[str, dt.datetime]]:
    """The coach's suggestions as (the value to post back, the instant)."""
    times = []
    for value in booking.suggested_alternatives or []:
        try:
            times.append((value, dt.datetime.fromisoformat(value)))
        except (TypeError, ValueError):
            continue
    return times


def booking_permissions(user: User, booking: Booking, *, now: dt.datetime) -> dict[str, bool]:
    """Which actions the page offers ``user``; the services still decide."""
    manager = services.is_manager(user, booking.session.coach)
    client_side = not manager and services.can_act_for_client(user, booking)
    started = booking.session.start <= now
    requested = booking.status == BookingStatus.REQUESTED
    return {
        "manager": manager,
        "client_side": client_side,
        "cancel": (manager or client_side) and booking.status in ACTIVE_STATUSES and not started,
        "reschedule": client_side
        and booking.status in ACTIVE_STATUSES
        and not started
        and not booking.session.session_type.is_group,
        "accept_alternative": client_side and requested and bool(booking.suggested_alternatives),
        "answer": client_side and requested and bool(booking.info_request),
        "rate": client_side and booking.status == BookingStatus.COMPLETED and booking.rating is None,
        "approve": manager and requested,
        "decline": manager and requested,
        "suggest": manager and requested,
        "ask": manager and requested,
        "no_show": manager and booking.status in BOOKED_STATUSES and started,
    }


@dataclass(frozen=True)
class SuggestField:
    """One "Suggest other times" box pair: its number, the date and the HH:MM it starts
    with (the coach's zone) and, when it comes from a suggestion, why."""

    index: int
    date: str = ""
    time: str = ""
    reason: str = ""


@dataclass(frozen=True)
class RebookTime:
    """A free time offered on a declined request's page, linking into the wizard."""

    start: dt.datetime
    reason: str
    url: str


def suggest_fields(
    user: User, booking: Booking, *, now: dt.datetime, posted: QueryDict | None = None
) -> list[SuggestField]:
    """The coach's "Suggest other times" boxes: what was just posted (a refused form shows
    it again), else the best few suggested times for this client (``bookings.suggestions``:
    their usual times and the free times nearest the request), which the coach may change."""
    count = services.MAX_ALTERNATIVES
    if posted is not None:
        return [
            SuggestField(index=i, date=posted.get(f"alt_{i}_date", ""), time=posted.get(f"alt_{i}_time", ""))
            for i in range(1, count + 1)
        ]
    session = booking.session
    if session.session_type.is_group:  # a seat's other times are other sessions, not free slots
        return [SuggestField(index=i) for i in range(1, count + 1)]
    zone = ZoneInfo(session.coach.timezone)
    found = suggestions.suggested_times(
        coach=session.coach,
        session_type=session.session_type,
        client=booking.client,
        anchor=session.start,
        zone=zone,
        nearest_text=gettext("Closest to the requested time"),
        viewer=user,
        now=now,
        limit=suggestions.PREFILL_COUNT,
    )
    fields = [
        SuggestField(
            index=i,
            date=f"{item.start.astimezone(zone):%Y-%m-%d}",
            time=f"{item.start.astimezone(zone):%H:%M}",
            reason=item.reason,
        )
        for i, item in enumerate(found, start=1)
    ]
    return fields + [SuggestField(index=i) for i in range(len(fields) + 1, count + 1)]


def rebook_times(user: User, booking: Booking, *, zone: ZoneInfo, now: dt.datetime) -> list[RebookTime]:
    """For a declined one-on-one request, free times to book instead (the client's usual
    times and those nearest the declined one), each a link into the wizard with that time
    chosen; none when the type is no longer offered or the coach no longer visible."""
    session = booking.session
    session_type, coach = session.session_type, session.coach
    if session_type.is_group or not session_type.is_active:
        return []
    if not account_selectors.coaches_visible_to(user).filter(pk=coach.pk).exists():
        return []
    found = suggestions.suggested_times(
        coach=coach,
        session_type=session_type,
        client=booking.client,
        anchor=session.start,
        zone=zone,
        nearest_text=gettext("Closest to the time you asked for"),
        viewer=user,
        now=now,
    )
    return [
        RebookTime(start=item.start, reason=item.reason, url=suggestions.wizard_url(session_type, item.start, zone))
        for item in found
    ]


def _detail_context(request: HttpRequest, booking: Booking, **extra: object) -> dict:
    now = timezone.now()
    session = booking.session
    coach_zone = session.coach.timezone
    events = list(selectors.history(booking))
    hosts = selectors.hosts_of(session)
    can = booking_permissions(request.user, booking, now=now)
    # The hosts' side (and staff) read why it is firm or a request; the client doesn't
    # (the rule may name a tag, "VIP", that is the coach's business).
    hosts_side = can["manager"] or request.user.pk in {host.pk for host in hosts}
    return {
        "booking": booking,
        "session": session,
        "can": can,
        "history": history_rows(booking, events),
        "hosts": hosts,
        "hosts_text": selectors.names_text([host.display_name for host in hosts]),
        "co_hosting": request.user.pk != session.coach_id and request.user.pk in {host.pk for host in hosts},
        "room": selectors.session_room_text(session),
        # The session's video link only for its people (bookings.video); a request or a
        # booking awaiting payment is told it comes once booked.
        "meeting_link": video.meeting_link_for(booking, request.user),
        "meeting_link_later": bool(video.session_link(session)) and booking.status in video.WAITING_FOR_LINK,
        "decided_by": decided_by(events) if hosts_side else "",
        "alternatives": suggested_times(booking),
        "coach_zone": coach_zone,
        "alternative_slots": range(1, services.MAX_ALTERNATIVES + 1),
        "suggest_fields": (
            suggest_fields(
                request.user,
                booking,
                now=now,
                posted=extra.get("posted") if extra.get("action") == "suggest" else None,
            )
            if can["suggest"]
            else []
        ),
        "rebook_times": (
            rebook_times(request.user, booking, zone=ZoneInfo(request.viewer_timezone), now=now)
            if can["client_side"] and booking.status == BookingStatus.DECLINED
            else []
        ),
        "back_url": reverse("dashboard"),
        **workshop_context(request.user, booking, now=now),
        **extra,
    }


def _booking_by_reference(user: User, reference: str) -> Booking:
    # Only well-formed references reach the database: a bare number would be read as a row
    # id (and may overflow an integer), and PostgreSQL refuses text with a NUL byte.
    if not REFERENCE_SHAPE.fullmatch(reference):
        raise Http404("No such booking.")
    return selectors.get_booking_for(user, reference)


@login_required
@require_GET
def booking_detail(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking_by_reference(request.user, reference)
    return render(request, "bookings/detail.html", _detail_context(request, booking))


@login_required
@require_GET
def suggest_fields_fragment(request: HttpRequest, reference: str) -> HttpResponse:
    """The "Suggest times" boxes of a request in the coach's queue, filled with the best
    few suggested times: fetched (htmx) when the coach opens that form, so the queue itself
    runs no slot search per request. Without JavaScript the boxes start empty."""
    booking = _booking_by_reference(request.user, reference)
    if not services.is_manager(request.user, booking.session.coach):
        return HttpResponse(gettext("Only the coach or back-office staff can do that."), status=403)
    fields = (
        suggest_fields(request.user, booking, now=timezone.now())
        if booking.status == BookingStatus.REQUESTED
        else [SuggestField(index=i) for i in range(1, services.MAX_ALTERNATIVES + 1)]
    )
    return render(request, "bookings/manage/_suggest_fields.html", {"req": booking, "suggest_fields": fields})


# ---------------------------------------------------------------------------------------
# Booking actions
# ---------------------------------------------------------------------------------------


def _form_error(form) -> DomainError:
    """A form's errors as one refusal the page shows (400)."""
    texts = [str(error) for errors in form.errors.values() for error in errors]
    return DomainError(" ".join(texts) or gettext("Check the form and try again."), code="invalid")


def _valid(form):
    if not form.is_valid():
        raise _form_error(form)
    return form.cleaned_data


def _require_manager(user: User, booking: Booking) -> None:
    if not services.is_manager(user, booking.session.coach):
        raise NotAllowed(gettext("Only the coach or back-office staff can do that."))


# ---------------------------------------------------------------------------------------
# Before publishing or suggesting a time: outside the coach's hours asks first, and a clash
# names what it clashes with (the services still decide, and still refuse a race).
# ---------------------------------------------------------------------------------------

OUTSIDE_HOURS = "outside_hours"
CONFIRM_FIELD = "confirm_outside"


def _local(instant: dt.datetime, zone: ZoneInfo) -> str:
    return format_when(instant.astimezone(zone), "datetime_short_no_year")


def _outside_hours_question(coach: User, times: list[dt.datetime], length: dt.timedelta, type_id: int) -> None:
    """Refuse (409, ``outside_hours``) when any of ``times`` lies outside the coach's hours,
    naming them; the page then asks to confirm."""
    zone = ZoneInfo(coach.timezone)
    flags = hours.outside_hours(coach, [hours.Stretch(t, t + length, type_id) for t in times])
    outside = [t for t, flag in zip(times, flags, strict=True) if flag]
    if outside:
        listed = ", ".join(_local(t, zone) for t in outside)
        raise DomainError(
            gettext("%(times)s is outside your working hours (%(zone)s). Do you want to go ahead anyway?")
            % {"times": listed, "zone": coach.timezone},
            code=OUTSIDE_HOURS,
            status=409,
        )


def _clash_question(
    coach: User, start: dt.datetime, length: dt.timedelta, rules, *, exclude_session: int | None = None
) -> None:
    """Refuse (409, ``slot_taken``) when the coach already has something then, saying what."""
    end = start + length
    blocked_start, blocked_end = start - rules.buffer_before, end + rules.buffer_after
    clash = (
        Allocation.objects.filter(
            staff=coach,
            is_active=True,
            blocked_start__gte=blocked_start - LONGEST_ALLOCATION,
            blocked_start__lt=blocked_end,
            blocked_end__gt=blocked_start,
        )
        .exclude(session_id=exclude_session)
        .select_related("session__session_type")
        .order_by("start")
        .first()
    )
    if clash is None:
        return
    zone = ZoneInfo(coach.timezone)
    if clash.kind == AllocationKind.EXTERNAL:
        what = gettext("an event in your own calendar")
    elif clash.session is None:
        what = gettext("blocked time")
    else:
        what = clash.session.session_type.title
        people = [
            b.client.display_name
            for b in clash.session.bookings.filter(status__in=ACTIVE_STATUSES).select_related("client")[:3]
        ]
        if people and not clash.session.session_type.is_group:
            what = gettext("%(title)s with %(client)s") % {"title": what, "client": ", ".join(people)}
    span = f"{format_when(clash.start.astimezone(zone), 'datetime_short_no_year')}–{clash.end.astimezone(zone):%H:%M}"
    if clash.start < end and start < clash.end:
        text = gettext("%(when)s clashes with %(what)s (%(span)s).")
    else:
        text = gettext("%(when)s is too close to %(what)s (%(span)s): your buffers need the time around it.")
    raise services.BookingRefused(text % {"when": _local(start, zone), "what": what, "span": span}, code="slot_taken")


def _cancel(user: User, booking: Booking, data: QueryDict) -> Booking:
    return services.cancel(booking=booking, actor=user, reason=_valid(ReasonForm(data))["reason"])


def _approve(user: User, booking: Booking, data: QueryDict) -> Booking:
    return services.approve(booking=booking, actor=user, note=_valid(NoteForm(data))["note"])


def _decline(user: User, booking: Booking, data: QueryDict) -> Booking:
    return services.decline(booking=booking, actor=user, reason=_valid(ReasonForm(data))["reason"])


def _suggest(user: User, booking: Booking, data: QueryDict) -> Booking:
    _require_manager(user, booking)  # refuse (403) before reading the times
    coach = booking.session.coach
    cleaned = _valid(SuggestForm(data, zone=ZoneInfo(coach.timezone)))
    length = booking.session.end - booking.session.start
    rules = rules_for(coach.coach_profile, booking.session.session_type)
    for start in cleaned["alternatives"]:
        _clash_question(coach, start, length, rules, exclude_session=booking.session_id)
    if not data.get(CONFIRM_FIELD):
        _outside_hours_question(coach, cleaned["alternatives"], length, booking.session.session_type_id)
    return services.suggest_alternatives(
        booking=booking, actor=user, alternatives=cleaned["alternatives"], note=cleaned["note"]
    )


def _ask(user: User, booking: Booking, data: QueryDict) -> Booking:
    _require_manager(user, booking)
    return services.request_information(booking=booking, actor=user, question=_valid(QuestionForm(data))["question"])


def _answer(user: User, booking: Booking, data: QueryDict) -> Booking:
    if not services.can_act_for_client(user, booking):
        raise NotAllowed(gettext("Only the client (or who booked for them) can do that."))
    return services.answer_information(booking=booking, actor=user, answer=_valid(AnswerForm(data))["answer"])


def _accept_alternative(user: User, booking: Booking, data: QueryDict) -> Booking:
    if not services.can_act_for_client(user, booking):
        raise NotAllowed(gettext("Only the client (or who booked for them) can do that."))
    return services.accept_alternative(booking=booking, actor=user, start=_valid(AcceptAlternativeForm(data))["start"])


def _decline_alternatives(user: User, booking: Booking, data: QueryDict) -> Booking:
    return services.decline_alternatives(booking=booking, actor=user, note=_valid(NoteForm(data))["note"])


def _rate(user: User, booking: Booking, data: QueryDict) -> Booking:
    if not services.can_act_for_client(user, booking):
        raise NotAllowed(gettext("Only the client (or who booked for them) can do that."))
    cleaned = _valid(RateForm(data))
    return services.rate(booking=booking, actor=user, rating=cleaned["rating"], feedback=cleaned["feedback"])


def _cancel_offering_times(user: User, booking: Booking, data: QueryDict) -> Booking:
    """The coach cancels a booked session and offers other times: the times (checked free,
    and within hours or confirmed) and a link to book are part of the reason the client
    reads. A booked session has no "suggested times" state; a request is answered with
    ``suggest`` instead."""
    _require_manager(user, booking)
    coach = booking.session.coach
    zone = ZoneInfo(coach.timezone)
    reason = _valid(ReasonForm(data))["reason"]
    if not reason:
        raise DomainError(gettext("Tell the client why the session is cancelled."), code="reason_required")
    times = _valid(SuggestForm(data, zone=zone))["alternatives"]
    length = booking.session.end - booking.session.start
    rules = rules_for(coach.coach_profile, booking.session.session_type)
    for start in times:
        _clash_question(coach, start, length, rules, exclude_session=booking.session_id)
    if not data.get(CONFIRM_FIELD):
        _outside_hours_question(coach, times, length, booking.session.session_type_id)
    link = settings.SITE_URL + reverse("book_type", args=[coach.pk, booking.session.session_type_id])
    offered = gettext("Other times I can offer (%(zone)s): %(times)s. Book one here: %(link)s") % {
        "zone": coach.timezone,
        "times": "; ".join(format_when(start.astimezone(zone), "datetime_short") for start in sorted(times)),
        "link": link,
    }
    return services.cancel(booking=booking, actor=user, reason=f"{reason}\n\n{offered}")


def _no_show(user: User, booking: Booking, data: QueryDict) -> Booking:
    return services.mark_no_show(booking=booking, actor=user)


ACTIONS: dict[str, Callable[[User, Booking, QueryDict], Booking]] = {
    "cancel": _cancel,
    "approve": _approve,
    "decline": _decline,
    "suggest": _suggest,
    "ask": _ask,
    "answer": _answer,
    "accept-alternative": _accept_alternative,
    "decline-alternatives": _decline_alternatives,
    "rate": _rate,
    "no-show": _no_show,
    "cancel-offer": _cancel_offering_times,
}


@dataclass(frozen=True)
class Confirmation:
    """What the "go ahead anyway?" form posts again: the same values, confirmed."""

    url: str
    fields: list[tuple[str, str]]
    button: str


def _confirmation(request: HttpRequest, action: str) -> Confirmation:
    fields = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in ("csrfmiddlewaretoken", CONFIRM_FIELD)
        for value in values
    ]
    button = gettext("Suggest anyway") if action == "suggest" else gettext("Go ahead anyway")
    return Confirmation(url=request.path, fields=fields, button=button)


def _safe_next(request: HttpRequest) -> str | None:
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return next_url
    return None


@login_required
@require_POST
def booking_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    booking = _booking_by_reference(request.user, reference)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    error: str | None = None
    status = 200
    confirm = False  # the page asks "go ahead anyway?" with the posted values
    try:
        handler(request.user, booking, request.POST)
    except DomainError as refusal:  # NotAllowed included: 403
        error = refusal.message
        status = refusal.status if 400 <= refusal.status < 500 else 400
        confirm = refusal.code == OUTSIDE_HOURS
    notice = None if error else SUCCESS_MESSAGES[action]
    # Read it again as the viewer sees it: the service may have moved or ended it.
    booking = selectors.get_booking_for(request.user, booking.pk)
    ui = request.POST.get("ui", "")
    if request.htmx and ui == "queue":
        # After an answer, every other part of the dashboard that shows this booking
        # (today, the next days, the rosters) comes along out of band, read afresh.
        fresh = coach_live_context(booking.session.coach) if error is None else {}
        return render(
            request,
            "accounts/coach_dashboard.html#request_row",
            {
                **fresh,
                "oob_sections": error is None,
                "req": booking,
                "row_notice": notice,
                "row_error": error,
                "confirm": _confirmation(request, action) if confirm else None,
                "requests_count": series_coach.queue_count(booking.session.coach),
                "oob_count": True,
                "alternative_slots": range(1, services.MAX_ALTERNATIVES + 1),
            },
            status=status,
        )
    if request.htmx and ui == "upcoming":
        return render(
            request,
            "accounts/client_dashboard.html#upcoming_row",
            {"b": booking, "row_notice": notice, "row_error": error, "now": timezone.now()},
            status=status,
        )
    if error is None and not request.htmx:
        messages.success(request, notice)
        return redirect(_safe_next(request) or reverse("booking_detail", args=[booking.reference]))
    template = "bookings/detail.html#detail" if request.htmx else "bookings/detail.html"
    context = _detail_context(
        request,
        booking,
        notice=notice,
        error=error,
        posted=request.POST,
        action=action,
        confirm=_confirmation(request, action) if confirm else None,
    )
    return render(request, template, context, status=status)


# ---------------------------------------------------------------------------------------
# Client dashboard
# ---------------------------------------------------------------------------------------


def client_dashboard_context(client: User, *, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    bookings = selectors.client_bookings(client, now=now)
    # Past is by time; a cancelled or declined session that was still to come is not a
    # session the client had, so it gets its own quiet list.
    past, called_off = [], []
    for booking in bookings["past"]:
        ended_early = booking.status in (BookingStatus.CANCELLED, BookingStatus.DECLINED)
        (called_off if ended_early and booking.session.start > now else past).append(booking)
    from bookings.series_groups import group_series  # a series is one entry (issue 17)

    return {
        "upcoming": group_series(bookings["upcoming"], now=now),
        "past": past[:20],
        "called_off": called_off[:20],
        "plans": list(selectors.plans_of(client)),
        "now": now,
    }


@login_required
@require_POST
def plan_drop(request: HttpRequest, pk: int) -> HttpResponse:
    plan = PlannedSession.objects.select_related("session_type", "client").filter(pk=pk, closed_at__isnull=True).first()
    if plan is None or not (request.user.pk in (plan.client_id, plan.booked_by_id) or request.user.is_staff_member):
        raise Http404("No such plan.")
    try:
        services.drop_plan(plan=plan, actor=request.user)
    except DomainError as refusal:
        messages.error(request, refusal.message)
        return redirect("client_dashboard")
    if request.htmx:
        return HttpResponse("")
    messages.success(request, gettext("%(title)s removed from your list.") % {"title": plan.session_type.title})
    return redirect("client_dashboard")


# ---------------------------------------------------------------------------------------
# Coach dashboard
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaDay:
    date: dt.date
    sessions: list[Session]


def coach_live_context(coach: User, *, now: dt.datetime | None = None, version: str | None = None) -> dict:
    """The parts of the coach's dashboard that refresh themselves: today's agenda, the
    next days, the requests queue and the group rosters, with the change counter they
    were read at (read first, so a change during the reads shows on the next poll)."""
    version = str(live.version(coach.pk)) if version is None else version
    now = now or timezone.now()
    zone = ZoneInfo(coach.timezone)
    today = now.astimezone(zone).date()
    start, _ = selectors.local_day_bounds(today, zone)
    end, _ = selectors.local_day_bounds(today + dt.timedelta(days=AGENDA_DAYS), zone)
    sessions = selectors.coach_agenda(coach, start=start, end=end)  # co-hosted ones too
    by_day: dict[dt.date, list[Session]] = {}
    for session in sessions:
        by_day.setdefault(session.start.astimezone(zone).date(), []).append(session)
    week = [AgendaDay(day, by_day[day]) for day in sorted(by_day) if day != today]
    # A series' requests are one item, answered once (``series_coach_views``).
    requests = series_coach.queue_items(selectors.requests_queue(coach).select_related("series"))
    active = Booking.objects.filter(status__in=ACTIVE_STATUSES).select_related("client").order_by("created_at")
    rosters = list(
        selectors.upcoming_group_sessions(host=coach, now=now).prefetch_related(
            Prefetch("bookings", queryset=active, to_attr="active_bookings")
        )[:ROSTER_LIMIT]
    )
    selectors.attach_co_hosts([*sessions, *rosters])  # one read, none without co-hosts
    return {
        "live_version": version,
        "live_url": f"{reverse('coach_live')}?{urlencode({'v': version})}",
        "today": today,
        "today_sessions": by_day.get(today, []),
        "week": week,
        "requests": requests,
        "requests_count": len(requests),
        "rosters": rosters,
        "running_series": series_coach.running_series(coach, now=now),
        # A co-host sees the session; its coach (or staff) starts or cancels it.
        "startable": {
            session.pk for session in sessions if session.coach_id == coach.pk and services.can_start(session, now=now)
        },
        "now": now,
        "alternative_slots": range(1, services.MAX_ALTERNATIVES + 1),
    }


def render_coach_dashboard(request: HttpRequest, *, status: int = 200, **context: object) -> HttpResponse:
    """The coach's dashboard; the publish form comes back with its errors after a refusal."""
    connections = list(account_selectors.connections_of_coach(request.user))
    context.setdefault("publish_form", PublishSessionForm(coach=request.user))
    return render(
        request,
        "accounts/coach_dashboard.html",
        {
            "pending": [c for c in connections if c.status == "pending"],
            "clients": [c for c in connections if c.status == "accepted"],
            **coach_live_context(request.user),
            **context,
        },
        status=status,
    )


@role_required(Role.COACH)
@require_GET
def coach_live(request: HttpRequest) -> HttpResponse:
    """The coach's live fragment; ``204`` while nothing changed since version ``v``."""
    current = str(live.version(request.user.pk))
    if request.GET.get("v", "") == current:
        return HttpResponse(status=204)
    return render(request, "accounts/coach_dashboard.html#live", coach_live_context(request.user, version=current))


def _manageable_session(user: User, pk: int) -> Session:
    session = Session.objects.select_related("coach", "session_type").filter(pk=pk).first()
    if session is None or not services.is_manager(user, session.coach):
        raise Http404("No such session.")
    return session


@role_required(Role.COACH)
@require_POST
def session_publish(request: HttpRequest) -> HttpResponse:
    form = PublishSessionForm(request.POST, coach=request.user)
    status = 400
    warning: str | None = None
    if form.is_valid():
        try:
            session_type, start = form.cleaned_data["session_type"], form.cleaned_data["start"]
            rules = rules_for(request.user.coach_profile, session_type)
            _clash_question(request.user, start, rules.duration, rules)
            if not form.confirmed_outside_hours():
                _outside_hours_question(request.user, [start], rules.duration, session_type.pk)
            session = services.publish_session(
                actor=request.user,
                session_type=form.cleaned_data["session_type"],
                start=form.cleaned_data["start"],
                capacity=form.cleaned_data["capacity"],
            )
        except DomainError as refusal:
            status = refusal.status if 400 <= refusal.status < 500 else 400
            if refusal.code == OUTSIDE_HOURS:
                # A question, not an error: the same form asks to go ahead, values kept.
                warning, status = refusal.message, 200
                asked = f"{start.astimezone(form.zone):{LOCAL_INPUT_FORMAT}}"
                form = PublishSessionForm({**request.POST.dict(), "confirm_outside": asked}, coach=request.user)
                form.is_valid()
            else:
                form.add_error(None, refusal.message)
        else:
            local = timezone.localtime(session.start)
            text = gettext("%(title)s published for %(when)s.") % {
                "title": session.session_type.title,
                "when": format_when(local, "datetime_short_no_year"),
            }
            if request.htmx:
                fresh = PublishSessionForm(coach=request.user)
                response = render(
                    request, "accounts/coach_dashboard.html#publish", {"publish_form": fresh, "publish_notice": text}
                )
                response["HX-Trigger"] = "live-refresh"  # the rosters show the new session now
                return response
            messages.success(request, text)
            return redirect("coach_dashboard")
    if request.htmx:
        return render(
            request,
            "accounts/coach_dashboard.html#publish",
            {"publish_form": form, "publish_warning": warning},
            status=status,
        )
    return render_coach_dashboard(request, publish_form=form, publish_warning=warning, status=status)


@login_required
@require_POST
def session_start(request: HttpRequest, pk: int) -> HttpResponse:
    """The coach (or staff) marks a session as started from the agenda's "Start" button; the
    coach's htmx request gets the refreshed agenda, a plain POST a message and a redirect."""
    session = _manageable_session(request.user, pk)
    try:
        services.mark_started(session=session, actor=request.user)
    except DomainError as refusal:
        error, status = refusal.message, (refusal.status if 400 <= refusal.status < 500 else 400)
    else:
        error, status = None, 200
    text = error or gettext("%(title)s is in progress.") % {"title": session.session_type.title}
    if request.htmx and session.coach_id == request.user.pk:
        context = coach_live_context(request.user)
        context["live_notice"], context["live_error"] = (None, error) if error else (text, None)
        return render(request, "accounts/coach_dashboard.html#live", context, status=status)
    (messages.error if error else messages.success)(request, text)
    return redirect(_safe_next(request) or reverse("dashboard"))


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = _manageable_session(request.user, pk)
    form = ReasonForm(request.POST)
    try:
        services.cancel_session(session=session, actor=request.user, reason=_valid(form)["reason"])
    except DomainError as refusal:
        error, status = refusal.message, (refusal.status if 400 <= refusal.status < 500 else 400)
    else:
        # A session nobody had joined changes no booking, so nothing else moves the counters.
        live.bump(session.coach_id, live.STAFF_SCOPE)
        error, status = None, 200
    text = error or gettext("%(title)s on %(when)s is cancelled.") % {
        "title": session.session_type.title,
        "when": format_when(timezone.localtime(session.start), "datetime_short_no_year"),
    }
    if request.htmx and session.coach_id == request.user.pk:
        context = coach_live_context(request.user)
        context["live_notice"], context["live_error"] = (None, error) if error else (text, None)
        return render(request, "accounts/coach_dashboard.html#live", context, status=status)
    if error:
        messages.error(request, error)
        if session.coach_id == request.user.pk:
            return render_coach_dashboard(request, status=status)
        return redirect("dashboard")
    messages.success(request, text)
    return redirect(_safe_next(request) or reverse("dashboard"))


# ---------------------------------------------------------------------------------------
# Sessions a change of hours left outside them
# ---------------------------------------------------------------------------------------

MAX_LISTED_SESSIONS = 200


def _session_ids(raw: str) -> list[int]:
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit() and len(part.strip()) < 12]
    return list(dict.fromkeys(ids))[:MAX_LISTED_SESSIONS]


@role_required(Role.COACH)
@require_GET
def outside_hours_review(request: HttpRequest) -> HttpResponse:
    """The coach's sessions still to come that lie outside their hours, each to keep, cancel
    with a reason, or (a request) answer with other times. The availability editor sends
    the coach here with ``?sessions=`` the ones its change left outside; without it, all.
    "Keep" drops a session from the list (its link is the same page without it)."""
    coach = request.user
    outside = hours.sessions_outside_hours(coach, now=timezone.now())
    asked = "sessions" in request.GET
    wanted = _session_ids(request.GET.get("sessions", "")) if asked else outside
    ids = [pk for pk in wanted if pk in set(outside)]
    active = Booking.objects.filter(status__in=ACTIVE_STATUSES).select_related("client").order_by("created_at")
    by_id = {
        session.pk: session
        for session in Session.objects.filter(coach=coach, pk__in=ids)
        .select_related("session_type")
        .prefetch_related(Prefetch("bookings", queryset=active, to_attr="active_bookings"))
    }
    sessions = [by_id[pk] for pk in ids if pk in by_id]

    def without(pk: int) -> str:
        rest = [other.pk for other in sessions if other.pk != pk]
        return f"{reverse('outside_hours')}?{urlencode({'sessions': ','.join(map(str, rest))})}"

    rows = [(session, without(session.pk)) for session in sessions]
    return render(
        request,
        "bookings/manage/outside_hours.html",
        {
            "rows": rows,
            "here": request.get_full_path(),
            "zone": coach.timezone,
            "after_change": asked,
            "alternative_slots": range(1, 4),
        },
    )


# ---------------------------------------------------------------------------------------
# Staff overview
# ---------------------------------------------------------------------------------------


def staff_live_context(request: HttpRequest, *, version: str | None = None) -> dict:
    """The staff overview's bookings table: filtered, paginated, with its change counter."""
    version = str(live.version(live.STAFF_SCOPE)) if version is None else version
    zone = ZoneInfo(request.viewer_timezone)
    if request.GET:
        form = StaffFilterForm(request.GET)
        filters = form.filters()
    else:
        # Opening the overview shows what is coming, from today on; "Show all" clears it.
        today = timezone.now().astimezone(zone).date()
        form = StaffFilterForm(initial={"date_from": today})
        filters = {"date_from": today}
    bookings = selectors.staff_sessions(
        coach_id=filters["coach"].pk if filters.get("coach") else None,
        status=filters.get("status") or None,
        day_from=filters.get("date_from"),
        day_to=filters.get("date_to"),
        zone=zone,
    )
    page = Paginator(bookings, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    query = {
        key: value
        for key, value in {
            "coach": filters["coach"].pk if filters.get("coach") else "",
            "status": filters.get("status") or "",
            "date_from": filters["date_from"].isoformat() if filters.get("date_from") else "",
            "date_to": filters["date_to"].isoformat() if filters.get("date_to") else "",
        }.items()
        if value
    }
    return {
        "filter_form": form,
        "page": page,
        "filter_query": urlencode(query),
        "filtered": bool(query),
        "live_version": version,
        "live_url": f"{reverse('staff_live')}?{urlencode({**query, 'page': page.number, 'v': version})}",
    }


@role_required(Role.STAFF)
@require_GET
def staff_live(request: HttpRequest) -> HttpResponse:
    current = str(live.version(live.STAFF_SCOPE))
    if request.GET.get("v", "") == current:
        return HttpResponse(status=204)
    return render(request, "accounts/staff_dashboard.html#live", staff_live_context(request, version=current))
