"""The coach's calendar: a week or a month of the sessions the coach hosts (their own and
those they co-host, each naming its other hosts), requests and time off, in the coach's
own time zone, each item leading to its booking.

Every week and month has its own URL (``/coach/calendar/week/2026-12-07/``,
``/coach/calendar/month/2026-12/``) so it can be bookmarked; staff open any coach's with
``?coach=<id>``. The page renders a grid and, for a phone, the same days as an agenda list
(CSS shows one or the other). Whatever the range, the page reads the sessions with their
bookings, and the days away, in a fixed number of queries.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from accounts.models import Role, User
from availability import selectors as availability_selectors
from bookings import selectors
from bookings.models import Booking, BookingStatus, Session
from config.dates import format_when
from config.inputs import in_range_day

WEEK, MONTH = "week", "month"
MONTH_CELL_LIMIT = 3  # items a month's day shows before "+ N more"
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Entry:
    """One thing on the calendar: a booking, a group session, a day away, or a time the
    coach's own calendar makes them busy."""

    kind: str  # "booking", "request", "group", "away", "busy"
    title: str
    who: str
    status: str  # the words a person reads ("Request", "Confirmed", …)
    url: str | None
    start: dt.datetime | None = None  # in the coach's zone; None for a day away
    end: dt.datetime | None = None
    viewer_time: str = ""  # the start on the viewer's clock, when their zone differs
    done: bool = False  # completed, a no-show, or in the past
    attendees: tuple[tuple[str, str], ...] = ()  # (name, booking url) of a group's people
    hosts: str = ""  # "with Ana and Ben": the session's other hosts, when it has several
    all_day: bool = False  # a busy time that fills the whole day


@dataclass
class Day:
    date: dt.date
    in_range: bool
    is_today: bool
    url: str  # the day's week
    entries: list[Entry] = field(default_factory=list)

    @property
    def away(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind == "away"]

    @property
    def timed(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind != "away"]

    @property
    def shown(self) -> list[Entry]:
        return self.entries[:MONTH_CELL_LIMIT]

    @property
    def more(self) -> int:
        return max(0, len(self.entries) - MONTH_CELL_LIMIT)


STATUS_WORDS = {
    BookingStatus.REQUESTED: gettext_lazy("Request"),
    BookingStatus.FIRM_BOOKED: gettext_lazy("Booked"),
    BookingStatus.CONFIRMED: gettext_lazy("Confirmed"),
    BookingStatus.COMPLETED: gettext_lazy("Completed"),
    BookingStatus.NO_SHOW: gettext_lazy("No-show"),
}


def _viewer_time(start: dt.datetime, zone: ZoneInfo, viewer_zone: ZoneInfo | None) -> str:
    """The start on the viewer's clock ("10:00", or "Tue 01:00" on another day), or ""."""
    if viewer_zone is None:
        return ""
    local = start.astimezone(viewer_zone)
    return (
        f"{local:%H:%M}" if local.date() == start.astimezone(zone).date() else format_when(local, "weekday_short_time")
    )


def _booking_entry(
    session: Session,
    booking: Booking,
    *,
    zone: ZoneInfo,
    viewer_zone: ZoneInfo | None,
    now: dt.datetime,
    hosts: str = "",
) -> Entry:
    requested = booking.status == BookingStatus.REQUESTED
    return Entry(
        hosts=hosts,
        kind="request" if requested else "booking",
        title=session.session_type.title,
        who=booking.client.display_name,
        status=str(STATUS_WORDS.get(booking.status, booking.get_status_display())),
        url=reverse("booking_detail", args=[booking.reference]),
        start=session.start,
        end=session.end,
        viewer_time=_viewer_time(session.start, zone, viewer_zone),
        done=booking.status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW) or session.end <= now,
    )


def _group_entry(
    session: Session, *, zone: ZoneInfo, viewer_zone: ZoneInfo | None, now: dt.datetime, hosts: str = ""
) -> Entry:
    people = session.calendar_bookings
    return Entry(
        hosts=hosts,
        kind="group",
        title=session.session_type.title,
        who=ngettext("%(taken)d of %(capacity)d seat taken", "%(taken)d of %(capacity)d seats taken", session.capacity)
        % {"taken": len([b for b in people if b.status != BookingStatus.NO_SHOW]), "capacity": session.capacity},
        status=gettext("Group"),
        # A group session has no page of its own: each attendee leads to their booking.
        url=None,
        start=session.start,
        end=session.end,
        viewer_time=_viewer_time(session.start, zone, viewer_zone),
        done=session.end <= now,
        attendees=tuple(
            (booking.client.display_name, reverse("booking_detail", args=[booking.reference])) for booking in people
        ),
    )


def _entries_by_day(
    coach: User, *, first: dt.date, last: dt.date, zone: ZoneInfo, viewer_zone: ZoneInfo | None, now: dt.datetime
) -> dict[dt.date, list[Entry]]:
    start, _ = selectors.local_day_bounds(first, zone)
    _, end = selectors.local_day_bounds(last, zone)
    by_day: dict[dt.date, list[Entry]] = {}
    for first_away, last_away, reason in availability_selectors.days_away(coach, first_day=first, last_day=last):
        away = Entry(kind="away", title=reason or gettext("Time off"), who="", status=gettext("Away"), url=None)
        day = max(first_away, first)
        while day <= min(last_away, last):
            by_day.setdefault(day, []).append(away)
            day += ONE_DAY
    for begins, ends in availability_selectors.outside_busy(coach, start=start, end=end):
        _add_busy(by_day, begins, ends, zone=zone, viewer_zone=viewer_zone, now=now, first=first, last=last)
    for session in selectors.coach_calendar_sessions(coach, start=start, end=end):
        day = session.start.astimezone(zone).date()
        hosts = selectors.other_hosts_text(session, coach)
        if session.session_type.is_group:
            by_day.setdefault(day, []).append(
                _group_entry(session, zone=zone, viewer_zone=viewer_zone, now=now, hosts=hosts)
            )
        else:
            for booking in session.calendar_bookings:
                by_day.setdefault(day, []).append(
                    _booking_entry(session, booking, zone=zone, viewer_zone=viewer_zone, now=now, hosts=hosts)
                )
    for entries in by_day.values():
        entries.sort(key=lambda entry: (entry.kind != "away", entry.start or start))
    return by_day


def _add_busy(
    by_day: dict[dt.date, list[Entry]],
    begins: dt.datetime,
    ends: dt.datetime,
    *,
    zone: ZoneInfo,
    viewer_zone: ZoneInfo | None,
    now: dt.datetime,
    first: dt.date,
    last: dt.date,
) -> None:
    """A busy time from the coach's own calendars, a piece on each day it touches."""
    day = begins.astimezone(zone).date()
    while day <= last:
        day_start, day_end = selectors.local_day_bounds(day, zone)
        if day_start >= ends:
            break
        piece_start, piece_end = max(begins, day_start), min(ends, day_end)
        if day >= first and piece_start < piece_end:
            by_day.setdefault(day, []).append(
                Entry(
                    kind="busy",
                    title=gettext("Busy (own calendar)"),
                    who="",
                    status=gettext("Busy"),
                    url=None,
                    start=piece_start.astimezone(zone),
                    end=piece_end.astimezone(zone),
                    viewer_time=_viewer_time(piece_start, zone, viewer_zone),
                    done=piece_end <= now,
                    all_day=piece_start == day_start and piece_end == day_end,
                )
            )
        day += ONE_DAY


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _parse_day(value: str) -> dt.date | None:
    if len(value) != 10:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if in_range_day(day) else None


def _calendar_coach(request: HttpRequest) -> User:
    """The coach themself, or for staff the coach named by ``?coach=`` (404 otherwise)."""
    user = request.user
    raw = (request.GET.get("coach") or "").strip()
    if user.is_staff_member:
        coaches = User.objects.filter(role=Role.COACH, is_active=True)
        if not raw.isdigit() or len(raw) > 12:
            if user.is_coach:
                return user
            # Without a choice yet, staff see the first coach's; the page offers the others.
            coach = coaches.order_by("name", "pk").first()
        else:
            coach = coaches.filter(pk=int(raw)).first()
        if coach is None:
            raise Http404("No such coach.")
        return coach
    if user.role != Role.COACH or (raw and raw != str(user.pk)):
        raise Http404("Page not found")
    return user


def _url(view: str, anchor: dt.date, coach: User, viewer: User) -> str:
    if view == WEEK:
        path = reverse("coach_calendar_week", args=[anchor.isoformat()])
    else:
        path = reverse("coach_calendar_month", args=[anchor.strftime("%Y-%m")])
    return f"{path}?{urlencode({'coach': coach.pk})}" if coach.pk != viewer.pk else path


def _zone_gap(coach_zone: ZoneInfo, viewer_zone: ZoneInfo, now: dt.datetime) -> str:
    """How far the viewer's clock is from the coach's right now, in words."""
    minutes = int((now.astimezone(viewer_zone).utcoffset() - now.astimezone(coach_zone).utcoffset()).total_seconds())
    minutes //= 60
    if minutes == 0:
        return gettext("the same time right now")
    hours, rest = divmod(abs(minutes), 60)
    amount = f"{hours} h {rest:02d} min" if rest else f"{hours} h"
    return (gettext("%(amount)s ahead") if minutes > 0 else gettext("%(amount)s behind")) % {"amount": amount}


def _render(request: HttpRequest, view: str, anchor: dt.date | None, notice: str | None = None) -> HttpResponse:
    coach = _calendar_coach(request)
    zone = ZoneInfo(coach.timezone)
    now = timezone.now()
    today = now.astimezone(zone).date()
    anchor = anchor or today
    if view == WEEK:
        first = _week_start(anchor)
        last = first + dt.timedelta(days=6)
        grid_first, grid_last = first, last
        prev_anchor, next_anchor = first - dt.timedelta(days=7), first + dt.timedelta(days=7)
        this_anchor = _week_start(today)
        title = (
            f"{first.day} – {format_when(last, 'date_long')}"
            if first.month == last.month
            else f"{format_when(first, 'date_short_no_year')} – {format_when(last, 'date_short')}"
            if first.year == last.year
            else f"{format_when(first, 'date_short')} – {format_when(last, 'date_short')}"
        )
    else:
        first = anchor.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        grid_first, grid_last = _week_start(first), _week_start(last) + dt.timedelta(days=6)
        prev_anchor, next_anchor = _add_months(first, -1), _add_months(first, 1)
        this_anchor = today.replace(day=1)
        title = format_when(first, "month")
    viewer_zone = ZoneInfo(request.viewer_timezone)
    differs = viewer_zone.key != zone.key
    by_day = _entries_by_day(
        coach, first=grid_first, last=grid_last, zone=zone, viewer_zone=viewer_zone if differs else None, now=now
    )
    days = []
    day = grid_first
    while day <= grid_last:
        days.append(
            Day(
                date=day,
                in_range=first <= day <= last,
                is_today=day == today,
                url=_url(WEEK, _week_start(day), coach, request.user),
                entries=by_day.get(day, []),
            )
        )
        day += ONE_DAY
    in_range = [day for day in days if day.in_range]
    counts = {
        "bookings": sum(1 for d in in_range for e in d.entries if e.kind == "booking"),
        "requests": sum(1 for d in in_range for e in d.entries if e.kind == "request"),
        "groups": sum(1 for d in in_range for e in d.entries if e.kind == "group"),
    }
    staff = request.user.is_staff_member
    return render(
        request,
        "bookings/manage/calendar.html",
        {
            "coach": coach,
            "own": coach.pk == request.user.pk,
            "view": view,
            "title": title,
            "first": first,
            "last": last,
            "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
            "days": days,
            "agenda_days": [d for d in in_range if d.entries],
            "counts": counts,
            "busy_shown": any(e.kind == "busy" for d in in_range for e in d.entries),
            "coach_zone": zone.key,
            "zone_differs": differs,
            "zone_gap": _zone_gap(zone, viewer_zone, now) if differs else "",
            "weekday_names": [calendar.day_name[i] for i in range(7)],
            "prev_url": _url(view, prev_anchor, coach, request.user),
            "next_url": _url(view, next_anchor, coach, request.user),
            "today_url": _url(view, this_anchor, coach, request.user),
            "week_url": _url(WEEK, _week_start(today if first <= today <= last else first), coach, request.user),
            "month_url": _url(MONTH, anchor.replace(day=1), coach, request.user),
            "coaches": list(User.objects.filter(role=Role.COACH, is_active=True).order_by("name", "pk"))
            if staff
            else [],
            "notice": notice,
        },
    )


@login_required
@require_GET
def coach_calendar(request: HttpRequest) -> HttpResponse:
    """This week of the coach's calendar."""
    return _render(request, WEEK, None)


@login_required
@require_GET
def coach_calendar_week(request: HttpRequest, day: str) -> HttpResponse:
    """The week (Monday to Sunday) holding ``day`` (YYYY-MM-DD)."""
    parsed = _parse_day(day)
    notice = None if parsed else gettext("That date could not be read; showing this week.")
    return _render(request, WEEK, parsed, notice)


@login_required
@require_GET
def coach_calendar_month(request: HttpRequest, month: str) -> HttpResponse:
    """The month ``month`` (YYYY-MM)."""
    parsed = _parse_day(f"{month}-01") if len(month) == 7 else None
    notice = None if parsed else gettext("That month could not be read; showing this month.")
    return _render(request, MONTH, parsed, notice)
