"""The client-facing first steps of the booking wizard.

Step 1 (``book_coach_list``) lists the coaches the viewer may see. Steps 2 and 3 live on
the coach's page (``book_coach``), one URL whose query string holds the wizard's state
(``?month=YYYY-MM``, ``?date=YYYY-MM-DD``, ``?start=<UTC instant>``, ``?duration=MINUTES``),
so back, refresh and shared links all work with or without JavaScript. With htmx the
same view answers with the ``times`` partial plus out-of-band copies of the calendar,
the step indicator and the notices, so every region stays in step with the URL.

Bad query values never fail the page: each falls back to a sensible default and says so.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from accounts.models import User
from accounts.selectors import coaches_visible_to
from availability.selectors import MAX_RANGE_DAYS, free_slots
from availability.slots import Slot

# Session types arrive with the booking core (issue 4); until then the length is a choice.
DURATIONS = (30, 45, 60, 90)
DEFAULT_DURATION = 60
SLOT_UNAVAILABLE = "This time is no longer available. Select another."
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    free_count: int
    bookable: bool
    is_today: bool
    selected: bool
    url: str


@dataclass(frozen=True)
class TimeChoice:
    start: dt.datetime  # in the viewer's zone
    end: dt.datetime
    label: str
    url: str
    selected: bool


@dataclass(frozen=True)
class TimeGroup:
    label: str
    times: list[TimeChoice]


@dataclass(frozen=True)
class WizardState:
    """The coach page's query string, parsed; every bad value replaced by a default."""

    duration: int
    month: dt.date  # the first of the shown month
    date: dt.date | None
    start: dt.datetime | None  # UTC
    start_unreadable: bool
    notices: list[str]


def book_coach_list(request: HttpRequest) -> HttpResponse:
    """Step 1: choose a coach. Open to visitors; only coaches the viewer may see are listed."""
    return render(request, "bookings/coach_list.html", {"coaches": coaches_visible_to(request.user)})


@vary_on_headers("HX-Request")
def book_coach(request: HttpRequest, coach_id: int) -> HttpResponse:
    """Steps 2 and 3: a month calendar of the coach's free days, the chosen day's times,
    and the chosen time's summary. Entering here skips step 1 (a pre-selected coach)."""
    coach = get_object_or_404(coaches_visible_to(request.user), pk=coach_id)
    zone = ZoneInfo(request.viewer_timezone)
    now = timezone.now()
    today = now.astimezone(zone).date()
    # The last viewer-local day on which a slot can start: slots must end inside the window.
    last_day = (now + dt.timedelta(days=coach.coach_profile.booking_window_days)).astimezone(zone).date()
    state = _parse_state(request.GET, today=today, last_day=last_day, zone=zone)

    month_first = state.month
    month_last = month_first.replace(day=calendar.monthrange(month_first.year, month_first.month)[1])
    range_first, range_last = max(month_first, today), min(month_last, last_day)
    duration = dt.timedelta(minutes=state.duration)
    # One free_slots call for the whole visible month: the calendar's marks and the chosen
    # day's times both come from it.
    slots = (
        free_slots(coach=coach, duration=duration, start_date=range_first, end_date=range_last, viewer_tz=zone, now=now)
        if range_first <= range_last
        else []
    )
    by_day: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot)

    def link(**params: object) -> str:
        query = {"duration": state.duration, **{k: v for k, v in params.items() if v is not None}}
        return f"{reverse('book_coach', args=[coach.pk])}?{urlencode(query)}"

    day_slots = by_day.get(state.date, []) if state.date else []
    selected_slot = next((s for s in day_slots if state.start is not None and s.start == state.start), None)
    # Seed 004: a chosen time that isn't free (taken meanwhile, or never a slot) is refused
    # above the refreshed list.
    slot_unavailable = state.start_unreadable or (state.start is not None and selected_slot is None)

    # The next day with free times after the chosen one (or from today when none is
    # chosen), to suggest when the chosen day or the month has nothing. Usually the month's
    # slots answer; past the month's end one more bounded call looks ahead.
    next_free_day: dt.date | None = None
    if not day_slots:
        after = state.date or (today - ONE_DAY)
        next_free_day = next((day for day in sorted(by_day) if day > after), None)
        if next_free_day is None and month_last < last_day:
            next_free_day = _first_free_day(
                coach, first=month_last + ONE_DAY, last=last_day, duration=duration, zone=zone, now=now
            )

    weeks = [
        [
            None
            if day.month != month_first.month
            else CalendarDay(
                date=day,
                free_count=len(by_day.get(day, [])),
                bookable=today <= day <= last_day,
                is_today=day == today,
                selected=day == state.date,
                url=link(date=day.isoformat()),
            )
            for day in week
        ]
        for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
            month_first.year, month_first.month
        )
    ]
    first_month = today.replace(day=1)
    last_month = last_day.replace(day=1)
    prev_month = _add_months(month_first, -1) if month_first > first_month else None
    next_month = _add_months(month_first, 1) if month_first < last_month else None

    selected = None
    time_groups: list[TimeGroup] = []
    # A day whose slots straddle a clock change shows the zone's abbreviation on each time,
    # so 01:30 before and 01:30 after a fall-back can be told apart.
    show_offset = len({slot.start.astimezone(zone).utcoffset() for slot in day_slots}) > 1
    for slot in day_slots:
        local_start, local_end = slot.start.astimezone(zone), slot.end.astimezone(zone)
        choice = TimeChoice(
            start=local_start,
            end=local_end,
            label=local_start.strftime("%H:%M %Z" if show_offset else "%H:%M"),
            url=link(date=state.date.isoformat(), start=_instant_param(slot.start)),
            selected=slot is selected_slot,
        )
        if choice.selected:
            selected = choice
        group = _part_of_day(local_start)
        if not time_groups or time_groups[-1].label != group:
            time_groups.append(TimeGroup(label=group, times=[]))
        time_groups[-1].times.append(choice)

    step = "confirm" if selected else "time" if state.date else "date"
    context = {
        "coach": coach,
        "profile": coach.coach_profile,
        "durations": DURATIONS,
        "duration": state.duration,
        "notices": state.notices,
        "month": month_first,
        "month_param": month_first.strftime("%Y-%m"),
        "month_free_days": sum(1 for day in by_day if month_first <= day <= month_last),
        "prev_month_url": link(month=prev_month.strftime("%Y-%m")) if prev_month else None,
        "next_month_url": link(month=next_month.strftime("%Y-%m")) if next_month else None,
        "prev_month": prev_month,
        "next_month": next_month,
        "weekday_names": [calendar.day_abbr[i] for i in range(7)],
        "weeks": weeks,
        "today": today,
        "last_day": last_day,
        "selected_date": state.date,
        "time_groups": time_groups,
        "selected": selected,
        "slot_unavailable": slot_unavailable,
        "slot_unavailable_text": SLOT_UNAVAILABLE,
        "next_free_day": next_free_day,
        "next_free_day_url": link(date=next_free_day.isoformat()) if next_free_day else None,
        "step": step,
        "page_url": request.get_full_path(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        context["oob"] = True
        return render(request, "bookings/coach.html#times", context)
    return render(request, "bookings/coach.html", context)


# ---------------------------------------------------------------------------------------
# Parsing the query string
# ---------------------------------------------------------------------------------------


def _parse_state(query: QueryDict, *, today: dt.date, last_day: dt.date, zone: ZoneInfo) -> WizardState:
    notices: list[str] = []
    get = query.get
    bookable = f"from {_day_label(today)} to {_day_label(last_day)}"

    raw_duration = (get("duration") or "").strip()
    duration = DEFAULT_DURATION
    if raw_duration:
        if raw_duration.isdigit() and int(raw_duration) in DURATIONS:
            duration = int(raw_duration)
        else:
            notices.append(f"Sessions last 30, 45, 60 or 90 minutes; showing {DEFAULT_DURATION} minutes.")

    raw_start = (get("start") or "").strip()
    start = _parse_instant(raw_start) if raw_start else None
    start_unreadable = bool(raw_start) and start is None

    raw_date = (get("date") or "").strip()
    date: dt.date | None = None
    if raw_date:
        date = _parse_date(raw_date)
        if date is None:
            notices.append("That date could not be read; showing today.")
            date = today
        elif not today <= date <= last_day:
            notices.append(f"This coach takes bookings {bookable}; showing today.")
            date = today
    elif start is not None:
        local_day = start.astimezone(zone).date()
        date = local_day if today <= local_day <= last_day else today

    raw_month = (get("month") or "").strip()
    first_month, last_month = today.replace(day=1), last_day.replace(day=1)
    if date is not None:
        month = date.replace(day=1)
    elif raw_month:
        parsed = _parse_month(raw_month)
        if parsed is None:
            notices.append("That month could not be read; showing this month.")
            month = first_month
        elif not first_month <= parsed <= last_month:
            notices.append(f"This coach takes bookings {bookable}; showing this month.")
            month = first_month
        else:
            month = parsed
    else:
        month = first_month
    return WizardState(
        duration=duration, month=month, date=date, start=start, start_unreadable=start_unreadable, notices=notices
    )


def _parse_date(value: str) -> dt.date | None:
    if len(value) != 10:  # only YYYY-MM-DD, not the other forms fromisoformat accepts
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_month(value: str) -> dt.date | None:
    if len(value) != 7:
        return None
    return _parse_date(f"{value}-01")


def _parse_instant(value: str) -> dt.datetime | None:
    # An unencoded "+01:00" arrives as " 01:00".
    try:
        parsed = dt.datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed.astimezone(dt.UTC)


def _instant_param(instant: dt.datetime) -> str:
    # UTC with a "Z": no "+" to be mangled in a URL.
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _first_free_day(
    coach: User, *, first: dt.date, last: dt.date, duration: dt.timedelta, zone: ZoneInfo, now: dt.datetime
) -> dt.date | None:
    if first > last:
        return None
    last = min(last, first + dt.timedelta(days=MAX_RANGE_DAYS - 1))
    found = free_slots(coach=coach, duration=duration, start_date=first, end_date=last, viewer_tz=zone, now=now)
    return found[0].start.astimezone(zone).date() if found else None


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _part_of_day(local: dt.datetime) -> str:
    if local.hour < 5:
        return "Night"
    if local.hour < 12:
        return "Morning"
    if local.hour < 17:
        return "Afternoon"
    return "Evening"


def _day_label(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"
