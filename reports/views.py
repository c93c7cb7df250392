"""The report pages: ``/reports/`` (the overview) and one page per report — staff see every
coach (and may choose a coach, a session type, a room), a coach sees their own — over a
date range in the viewer's zone; each table's numbers as CSV, and the bookings themselves
as CSV, with the page's filters. Clients and visitors get a 404 (the page doesn't exist for
them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Role, User
from availability.models import Resource
from bookings import export
from bookings.models import SessionType
from config.inputs import canonical_zone, in_range_day
from reports import figures, sections

DEFAULT_DAYS = 90


@dataclass
class Chosen:
    filters: figures.Filters
    problems: list[str]
    coach: User | None
    today: dt.date


def _may_see(user: User) -> bool:
    return user.is_staff_member or user.is_coach


def _day(value: str | None) -> dt.date | None:
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if in_range_day(day) else None


def _id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


def choose(request: HttpRequest, *, zone_param: bool = False) -> Chosen:
    """The filters a request asks for, within what its user may see; what was refused is
    said in ``problems`` (and the default used instead)."""
    user = request.user
    zone_name = request.viewer_timezone
    problems: list[str] = []
    if zone_param and request.GET.get("tz"):
        zone_name = canonical_zone(request.GET["tz"]) or ""
        if not zone_name:
            raise ValueError("tz")
    zone = ZoneInfo(zone_name)
    today = timezone.now().astimezone(zone).date()
    first = _day(request.GET.get("start"))
    last = _day(request.GET.get("end"))
    if request.GET.get("start") and first is None:
        problems.append(_("The first day could not be read (YYYY-MM-DD); showing the default range."))
    if request.GET.get("end") and last is None:
        problems.append(_("The last day could not be read (YYYY-MM-DD); showing the default range."))
    last = last or today
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        problems.append(_("The last day is before the first; they were swapped."))
        first, last = last, first
    if (last - first).days + 1 > figures.MAX_DAYS:
        problems.append(
            _("A report covers at most %(days)s days; showing the last %(days)s.") % {"days": figures.MAX_DAYS}
        )
        first = last - dt.timedelta(days=figures.MAX_DAYS - 1)
    coach = None
    if user.is_staff_member:
        coach_id = _id(request.GET.get("coach"))
        if coach_id:
            coach = User.objects.filter(pk=coach_id, role=Role.COACH).first()
            if coach is None:
                problems.append(_("That coach was not found; showing every coach."))
    else:
        coach = user
    type_id = _id(request.GET.get("type"))
    if type_id and not SessionType.objects.filter(pk=type_id, **({"coach": coach} if coach else {})).exists():
        problems.append(_("That session type was not found; showing every type."))
        type_id = None
    room_id = _id(request.GET.get("room")) if user.is_staff_member else None
    if room_id and not Resource.objects.filter(pk=room_id).exists():
        problems.append(_("That room was not found; showing every room."))
        room_id = None
    filters = figures.Filters(
        first_day=first,
        last_day=last,
        zone=zone,
        coach_id=coach.pk if coach else None,
        session_type_id=type_id,
        resource_id=room_id,
    )
    return Chosen(filters=filters, problems=problems, coach=coach, today=today)


def _query(filters: figures.Filters, *, staff: bool) -> str:
    params = {"start": filters.first_day.isoformat(), "end": filters.last_day.isoformat()}
    if staff and filters.coach_id:
        params["coach"] = str(filters.coach_id)
    if filters.session_type_id:
        params["type"] = str(filters.session_type_id)
    if filters.resource_id:
        params["room"] = str(filters.resource_id)
    return urlencode(params)


def _presets(today: dt.date, filters: figures.Filters, *, staff: bool) -> list[tuple[str, str, bool]]:
    ranges = [
        (_("Last 30 days"), today - dt.timedelta(days=29), today),
        (_("Last 90 days"), today - dt.timedelta(days=89), today),
        (_("This year"), today.replace(month=1, day=1), today),
        (_("Last 12 months"), today - dt.timedelta(days=364), today),
    ]
    found = []
    for label, first, last in ranges:
        chosen = figures.Filters(
            first, last, filters.zone, filters.coach_id, filters.session_type_id, filters.resource_id
        )
        found.append((label, _query(chosen, staff=staff), first == filters.first_day and last == filters.last_day))
    return found


def bookings_download(filters: figures.Filters) -> StreamingHttpResponse:
    """The bookings of these filters as a CSV download (the page's and the API's), times in
    the filters' zone and in UTC."""
    bookings = export.bookings_in_range(
        filters.start,
        filters.end,
        coach_id=filters.coach_id,
        session_type_id=filters.session_type_id,
        resource_id=filters.resource_id,
    )
    name = f"bookings-{filters.first_day}-{filters.last_day}.csv"
    return export.csv_response(name, export.COLUMNS, export.rows(bookings, filters.zone))


def _tabs(report: sections.Report, query: str) -> list[tuple[str, str, bool]]:
    """Each report page's tab: its label, its address with the page's filters, and whether it
    is the page shown."""
    tabs = []
    for page in report.pages:
        url = reverse("reports_page", args=[page.slug]) if page.slug else reverse("reports")
        tabs.append((page.label, f"{url}?{query}", page is report.page))
    return tabs


@login_required
@require_GET
def report_page(request: HttpRequest, slug: str = "") -> HttpResponse:
    """The overview (key figures and volume) at ``/reports/``, each other report at
    ``/reports/<slug>/``, with the same filters."""
    if not _may_see(request.user):
        raise Http404
    page = sections.page_of(slug, staff=request.user.is_staff_member)
    if page is None:
        raise Http404
    return _render(request, page)


@login_required
@require_GET
def report_all(request: HttpRequest) -> HttpResponse:
    """Every report the viewer has on one page, to print (slower than one report's page)."""
    if not _may_see(request.user):
        raise Http404
    return _render(request, None)


def _render(request: HttpRequest, page: sections.Page | None) -> HttpResponse:
    staff = request.user.is_staff_member
    chosen = choose(request)
    report = sections.build(chosen.filters, today=chosen.today, staff=staff, page=page)
    types = SessionType.objects.order_by("coach__name", "position", "pk")
    if chosen.coach:
        types = types.filter(coach=chosen.coach)
    query = _query(chosen.filters, staff=staff)
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "tabs": _tabs(report, query),
            "filters": chosen.filters,
            "problems": chosen.problems,
            "staff": staff,
            "coach": chosen.coach,
            "coaches": list(User.objects.filter(role=Role.COACH, is_active=True).order_by("name", "pk"))
            if staff
            else [],
            "types": list(types.select_related("coach")),
            "rooms": list(Resource.objects.filter(is_active=True).order_by("name")) if staff else [],
            "query": query,
            "presets": _presets(chosen.today, chosen.filters, staff=staff),
        },
    )


@login_required
@require_GET
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """One table of a report page as CSV (the same numbers the page shows beside its chart);
    only that page's figures are read."""
    user = request.user
    if not _may_see(user):
        raise Http404
    staff = user.is_staff_member
    page = sections.page_of_table(slug, staff=staff)
    if page is None:
        raise Http404
    chosen = choose(request)
    report = sections.build(chosen.filters, today=chosen.today, staff=staff, page=page)
    table = sections.find_table(report, slug)
    if table is None:
        raise Http404
    name = f"{slug}-{chosen.filters.first_day}-{chosen.filters.last_day}.csv"
    return export.csv_response(name, table.headers, table.rows)


@login_required
@require_GET
def bookings_csv(request: HttpRequest) -> HttpResponse:
    """Every booking of the range (the page's filters), streamed: times in the viewer's zone
    (or ``tz``) and in UTC."""
    user = request.user
    if not _may_see(user):
        raise Http404
    try:
        chosen = choose(request, zone_param=True)
    except ValueError:
        return HttpResponse(_("Unknown time zone."), status=400, content_type="text/plain; charset=utf-8")
    return bookings_download(chosen.filters)
