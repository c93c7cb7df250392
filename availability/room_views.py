"""Rooms and equipment in the browser, for staff and coaches: the list (open hours and this
week's use at a glance), a form to add one with its opening hours, its page (details,
opening hours, closures, active or not), and its calendar: a week of bookings and open
hours on the viewer's clock, with the utilisation of the weeks around it.

Plain forms that work without JavaScript: a change redirects back with a message; a form
with errors comes back on the whole page, the errors beside their fields, with a 4xx
status. Every write goes through ``availability.rooms``; clients get 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from availability import rooms
from availability.models import Resource, ResourceClosure
from availability.room_forms import KIND_LABELS, ClosureForm, HoursForm, RoomForm
from config.dates import format_when
from config.errors import DomainError
from config.inputs import EARLIEST_DAY, LATEST_DAY

ONE_DAY = dt.timedelta(days=1)
WEEKS_AROUND = 4  # utilisation rows before and after the week shown
HOURS_PREFIX, CLOSURE_PREFIX = "hours", "closure"


def managers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the login page), then staff or a coach (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not rooms.can_manage_rooms(request.user):
            raise PermissionDenied(_("Only staff and coaches can manage rooms and equipment."))
        return view(request, *args, **kwargs)

    return wrapper


def _status(refusal: DomainError) -> int:
    return refusal.status if 400 <= refusal.status < 500 else 400


def _hours_of(resource: Resource) -> list[rooms.Hours]:
    return [(h.weekday, h.start, h.end) for h in resource.hours.all()]


def _edit_url(resource: Resource, anchor: str = "") -> str:
    return reverse("room_edit", args=[resource.pk]) + (f"#{anchor}" if anchor else "")


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# --- the list -------------------------------------------------------------------------------


@managers_only
@require_GET
def room_list(request: HttpRequest) -> HttpResponse:
    resources = rooms.resources_for_list()
    this_week = rooms.this_week_utilisation(resources)
    rows = [
        {
            "resource": resource,
            "kind": KIND_LABELS.get(resource.kind, resource.kind),
            "hours": rooms.hours_summary(_hours_of(resource)),
            "week": this_week.get(resource.pk),
        }
        for resource in resources
    ]
    return render(request, "availability/rooms/list.html", {"rows": rows})


# --- add, edit --------------------------------------------------------------------------------


@managers_only
@require_http_methods(["GET", "POST"])
def room_create(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = RoomForm(data, initial={"timezone": request.user.timezone or "UTC"})
    hours_form = HoursForm(data, prefix=HOURS_PREFIX)
    status = 200
    if request.method == "POST":
        valid = form.is_valid() & hours_form.is_valid()
        if valid:
            try:
                resource = rooms.create_resource(
                    actor=request.user, **form.values(), hours=hours_form.cleaned_data["hours"]
                )
            except DomainError as refusal:
                if refusal.field.startswith("day") or refusal.field == "hours":
                    hours_form.show_refusal(refusal.field, refusal.message)
                else:
                    form.show_refusal(refusal.field, refusal.message)
                status = _status(refusal)
            else:
                messages.success(
                    request,
                    _("“%(name)s” is added. Add its closures below, or see its calendar.") % {"name": resource.name},
                )
                return HttpResponseRedirect(_edit_url(resource), status=303)
        else:
            status = 400
    return render(request, "availability/rooms/create.html", {"form": form, "hours_form": hours_form}, status=status)


def _resource(pk: int) -> Resource:
    return get_object_or_404(Resource.objects.prefetch_related("hours"), pk=pk)


def _edit_page(
    request: HttpRequest,
    resource: Resource,
    *,
    form: RoomForm | None = None,
    hours_form: HoursForm | None = None,
    closure_form: ClosureForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if form is None:
        form = RoomForm(
            initial={
                "name": resource.name,
                "kind": resource.kind,
                "capacity": resource.capacity,
                "location": resource.location,
                "description": resource.description,
                "timezone": resource.timezone,
            }
        )
    hours = _hours_of(resource)
    today = timezone.now().astimezone(ZoneInfo(resource.timezone)).date()
    closures = list(resource.closures.order_by("start_date"))
    return render(
        request,
        "availability/rooms/edit.html",
        {
            "resource": resource,
            "kind_label": KIND_LABELS.get(resource.kind, resource.kind),
            "form": form,
            "hours_form": hours_form or HoursForm(hours=hours, prefix=HOURS_PREFIX),
            "hours_summary": rooms.hours_summary(hours),
            "closure_form": closure_form or ClosureForm(prefix=CLOSURE_PREFIX),
            "upcoming_closures": [c for c in closures if c.end_date >= today],
            "past_closures": [c for c in closures if c.end_date < today],
            "upcoming_count": len(rooms.upcoming_uses(resource)),
        },
        status=status,
    )


@managers_only
@require_http_methods(["GET", "POST"])
def room_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _resource(pk)
    if request.method != "POST":
        return _edit_page(request, resource)
    form = RoomForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, resource, form=form, status=400)
    try:
        rooms.update_resource(resource=resource, actor=request.user, **form.values())
    except DomainError as refusal:
        form.show_refusal(refusal.field, refusal.message)
        return _edit_page(request, resource, form=form, status=_status(refusal))
    messages.success(request, _("“%(name)s” is saved.") % {"name": resource.name})
    return HttpResponseRedirect(_edit_url(resource), status=303)


@managers_only
@require_POST
def room_hours(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _resource(pk)
    hours_form = HoursForm(request.POST, prefix=HOURS_PREFIX)
    if not hours_form.is_valid():
        return _edit_page(request, resource, hours_form=hours_form, status=400)
    try:
        rooms.set_hours(resource=resource, actor=request.user, hours=hours_form.cleaned_data["hours"])
    except DomainError as refusal:
        hours_form.show_refusal(refusal.field, refusal.message)
        return _edit_page(request, resource, hours_form=hours_form, status=_status(refusal))
    resource = _resource(pk)
    messages.success(
        request,
        _("Opening hours of “%(name)s” are saved: %(hours)s. Sessions already booked keep the room.")
        % {"name": resource.name, "hours": rooms.hours_summary(_hours_of(resource))},
    )
    return HttpResponseRedirect(_edit_url(resource, "hours"), status=303)


# --- closures -----------------------------------------------------------------------------------


@managers_only
@require_POST
def room_closure_add(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _resource(pk)
    closure_form = ClosureForm(request.POST, prefix=CLOSURE_PREFIX)
    if not closure_form.is_valid():
        return _edit_page(request, resource, closure_form=closure_form, status=400)
    data = closure_form.cleaned_data
    try:
        closure = rooms.add_closure(
            resource=resource,
            actor=request.user,
            start_date=data["start_date"],
            end_date=data["end_date"],
            reason=data["reason"],
        )
    except DomainError as refusal:
        closure_form.show_refusal(refusal.field, refusal.message)
        return _edit_page(request, resource, closure_form=closure_form, status=_status(refusal))
    uses = [
        use
        for use in rooms.upcoming_uses(resource)
        if closure.start_date <= use.start.astimezone(ZoneInfo(resource.timezone)).date() <= closure.end_date
    ]
    messages.success(request, _("“%(name)s” is closed on those days.") % {"name": resource.name})
    if uses:
        messages.warning(
            request,
            ngettext(
                "%(count)d session already booked then keeps the room: see it on the room's calendar, and move it "
                "if it can't take place.",
                "%(count)d sessions already booked then keep the room: see them on the room's calendar, and move "
                "them if they can't take place.",
                len(uses),
            )
            % {"count": len(uses)},
        )
    return HttpResponseRedirect(_edit_url(resource, "closures"), status=303)


@managers_only
@require_POST
def room_closure_delete(request: HttpRequest, pk: int, closure_pk: int) -> HttpResponse:
    resource = _resource(pk)
    closure = get_object_or_404(ResourceClosure, pk=closure_pk, resource=resource)
    rooms.delete_closure(closure=closure, actor=request.user)
    messages.success(
        request,
        _("The closure from %(first)s to %(last)s is removed.")
        % {"first": format_when(closure.start_date, "date_short"), "last": format_when(closure.end_date, "date_short")},
    )
    return HttpResponseRedirect(_edit_url(resource, "closures"), status=303)


# --- active or not ------------------------------------------------------------------------------


@managers_only
@require_POST
def room_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate, or ask first when sessions still to come use the room (409 with the
    question and the sessions; the answer posts ``confirm``)."""
    resource = _resource(pk)
    try:
        rooms.deactivate_resource(resource=resource, actor=request.user, confirmed=request.POST.get("confirm") == "1")
    except rooms.RoomInUse as refusal:
        return render(
            request,
            "availability/rooms/deactivate.html",
            {
                "resource": resource,
                "question": refusal.message,
                "uses": refusal.uses[:20],
                "more": len(refusal.uses) - 20,
            },
            status=409,
        )
    messages.success(
        request,
        _("“%(name)s” is inactive: new bookings won't get it; sessions already booked keep it.")
        % {"name": resource.name},
    )
    return HttpResponseRedirect(_edit_url(resource), status=303)


@managers_only
@require_POST
def room_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _resource(pk)
    rooms.reactivate_resource(resource=resource, actor=request.user)
    messages.success(request, _("“%(name)s” is active again.") % {"name": resource.name})
    return HttpResponseRedirect(_edit_url(resource), status=303)


# --- calendar and utilisation -------------------------------------------------------------------


def _parse_day(value: str) -> dt.date | None:
    if len(value) != 10:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST_DAY <= day <= LATEST_DAY else None


def _calendar(request: HttpRequest, pk: int, anchor: dt.date | None, notice: str = "") -> HttpResponse:
    resource = _resource(pk)
    viewer_zone = ZoneInfo(request.viewer_timezone)
    room_zone = ZoneInfo(resource.timezone)
    now = timezone.now()
    today = now.astimezone(viewer_zone).date()
    monday = _week_start(anchor or today)
    # Keep a week and the utilisation weeks around it within the calendar's range.
    first_monday = _week_start(EARLIEST_DAY) + dt.timedelta(weeks=WEEKS_AROUND + 1)
    last_monday = _week_start(LATEST_DAY) - dt.timedelta(weeks=WEEKS_AROUND + 1)
    if not first_monday <= monday <= last_monday:
        monday = min(max(monday, first_monday), last_monday)
        notice = notice or _("That week is out of range; showing the nearest one.")
    week = rooms.room_week(resource, monday, viewer_zone, now=now)
    # Utilisation weeks are the room's own ISO weeks, around the week shown.
    room_monday = _week_start(monday)
    weeks = rooms.utilisation(
        resource,
        room_monday - dt.timedelta(weeks=WEEKS_AROUND),
        room_monday + dt.timedelta(weeks=WEEKS_AROUND, days=6),
    )
    this_room_week = _week_start(now.astimezone(room_zone).date())

    def url(day: dt.date) -> str:
        return reverse("room_calendar_week", args=[pk, day.isoformat()])

    return render(
        request,
        "availability/rooms/calendar.html",
        {
            "resource": resource,
            "kind_label": KIND_LABELS.get(resource.kind, resource.kind),
            "week": week,
            "weeks": weeks,
            "shown_monday": room_monday,
            "this_room_week": this_room_week,
            "hours_summary": rooms.hours_summary(_hours_of(resource)),
            "viewer_zone": viewer_zone.key,
            "room_zone": room_zone.key,
            "zone_differs": viewer_zone.key != room_zone.key,
            "prev_url": url(monday - dt.timedelta(weeks=1)),
            "next_url": url(monday + dt.timedelta(weeks=1)),
            "today_url": reverse("room_calendar", args=[pk]),
            "notice": notice,
        },
    )


@managers_only
@require_GET
def room_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """This week of the room, on the viewer's clock."""
    return _calendar(request, pk, None)


@managers_only
@require_GET
def room_calendar_week(request: HttpRequest, pk: int, day: str) -> HttpResponse:
    """The week (Monday to Sunday) holding ``day`` (YYYY-MM-DD)."""
    parsed = _parse_day(day)
    return _calendar(request, pk, parsed, "" if parsed else _("That date could not be read; showing this week."))
