"""The coach's availability editor: one page at /coach/availability/ with four sections
(weekly hours, days off and exceptions, a preview of the bookable times, booking settings).

Every change is a POST to its own URL that works without JavaScript (redirect back with a
flash message, or the whole page again with status 400 and the errors next to the fields).
With htmx the same views answer with the changed section only (a partial of
``availability/editor.html``) plus out-of-band copies of the preview and a status message;
a form with errors comes back as its section with the errors shown, status 200, so htmx
swaps it in. GETs of the editor with htmx answer with the section named by ``HX-Target``.

Views here parse, authorize and render; every write goes through ``availability.services``
or ``accounts.services.update_coach_settings``.
"""

from __future__ import annotations

import calendar
import copy
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import services as account_services
from accounts.access import role_required
from accounts.forms import CoachSettingsForm
from accounts.models import CoachProfile, Role, User
from availability import hours, services
from availability.forms import (
    DayOverrideForm,
    PreviewForm,
    TimeOffForm,
    WindowForm,
    attach_domain_error,
    repeats_of,
    rule_weekdays,
)
from availability.models import AvailabilityWindow, DateOverride, OverrideWindow, TimeOff, Weekday
from availability.selectors import availability_inputs, free_slots, local_midnight
from availability.slots import Slot, WeeklyWindow
from config.errors import DomainError

TEMPLATE = "availability/editor.html"
DAY_NAMES = dict(Weekday.choices)
DAY_ABBRS = WEEKDAYS_ABBR  # Monday is 0, as in Weekday
ONE_DAY = dt.timedelta(days=1)
PREVIEW_DAYS = 14
MONTHS_AHEAD = 24  # how far the calendar goes
OVERRIDE_AUTO_ID = "id_override_%s"
TIME_OFF_AUTO_ID = "id_timeoff_%s"

# Sections of the page: the id of each section's root element is also its partial's name.
WEEK, CALENDAR, PREVIEW, SETTINGS = "week", "calendar", "preview", "settings"


def _add_auto_id(weekday: int) -> str:
    return f"id_add{weekday}_%s"


def _edit_auto_id(pk: int) -> str:
    return f"id_window{pk}_%s"


# ---------------------------------------------------------------------------------------
# State of the page (query string) and the values the template shows
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditorState:
    """The editor's query string, parsed; a bad value falls back to a default and says so."""

    month: dt.date  # the first of the month the calendar shows
    day: dt.date | None = None  # the day whose form is open
    duration: int = PreviewForm.DEFAULT
    edit_id: int | None = None  # the weekly window being edited (no-JS inline edit)
    add_day: int | None = None  # the weekday whose new window's full form is open (?add=)
    window_id: int | None = None  # the window whose full form is open (?window=)
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class WindowRow:
    """A window as the week shows it: in the column of its weekday, or of each weekday its
    rule names (``primary`` in the first, where its form opens), with short notes on how
    it repeats, its dates, its session types and whether it takes requests only."""

    window: AvailabilityWindow
    spec: services.WindowSpec
    dom_id: str
    primary: bool
    name: str  # "Monday 09:00–12:00", for labels
    notes: tuple[str, ...]

    @property
    def pk(self) -> int:
        return self.window.pk


@dataclass(frozen=True)
class WindowPanel:
    """The full form of one window (how it repeats, its dates, its session types, firm
    booking), below the week: a new window of ``weekday``, or ``row``'s window."""

    form: WindowForm
    action: str
    title: str
    row: WindowRow | None = None


@dataclass
class WeekDay:
    weekday: int
    name: str
    windows: list[WindowRow]
    add_form: WindowForm
    add_open: bool
    has_weekly: bool  # windows that "Clear" removes (those by rule stay)


@dataclass(frozen=True)
class OverrideRow:
    override: DateOverride
    windows: list[OverrideWindow]

    @property
    def is_day_off(self) -> bool:
        return not self.windows


@dataclass(frozen=True)
class CalendarCell:
    date: dt.date
    is_past: bool
    is_today: bool
    selected: bool
    override: OverrideRow | None
    time_off: TimeOff | None
    url: str

    @property
    def mark(self) -> str:
        if self.time_off is not None:
            return "timeoff"
        if self.override is not None:
            return "off" if self.override.is_day_off else "custom"
        return ""


@dataclass(frozen=True)
class PreviewTime:
    label: str
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC
    local_start: dt.datetime  # in the coach's zone
    local_end: dt.datetime

    @property
    def span(self) -> str:
        return f"{self.local_start:%H:%M}–{self.local_end:%H:%M}"

    @property
    def start_iso(self) -> str:
        return self.start.astimezone(dt.UTC).isoformat()


@dataclass
class PreviewDay:
    date: dt.date
    times: list[PreviewTime] = field(default_factory=list)
    note: str = ""
    last_date: dt.date | None = None  # set on the one row that stands for the days past the booking window


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _parse_date(value: str) -> dt.date | None:
    if len(value) != 10:  # only YYYY-MM-DD
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_month(value: str) -> dt.date | None:
    return _parse_date(f"{value}-01") if len(value) == 7 else None


def _parse_state(query: QueryDict, *, today: dt.date) -> EditorState:
    notices: list[str] = []
    first_month, last_month = _month_start(today), _add_months(_month_start(today), MONTHS_AHEAD)

    day: dt.date | None = None
    raw_day = (query.get("day") or "").strip()
    if raw_day:
        day = _parse_date(raw_day)
        if day is None:
            notices.append(_("That date could not be read. Pick a day in the calendar."))
        elif day < today:
            notices.append(
                _("%(day)s is in the past; pick today or a later day.") % {"day": date_format(day, "l j F Y")}
            )
            day = None
        elif day >= last_month:
            notices.append(_("That day is too far ahead for the calendar."))
            day = None

    raw_month = (query.get("month") or "").strip()
    month = first_month
    if day is not None:
        month = _month_start(day)
    elif raw_month:
        parsed = _parse_month(raw_month)
        if parsed is None:
            notices.append(_("That month could not be read; showing this month."))
        elif first_month <= parsed <= last_month:
            month = parsed

    raw_edit = (query.get("edit") or "").strip()
    raw_add = (query.get("add") or "").strip()
    raw_window = (query.get("window") or "").strip()
    return EditorState(
        month=month,
        day=day,
        duration=PreviewForm.duration_from(query),
        edit_id=int(raw_edit) if raw_edit.isdigit() else None,
        add_day=int(raw_add) if raw_add in ("0", "1", "2", "3", "4", "5", "6") else None,
        window_id=int(raw_window) if raw_window.isdigit() else None,
        notices=tuple(notices),
    )


def _editor_url(*, month: dt.date | None = None, day: dt.date | None = None, duration: int | None = None) -> str:
    query: dict[str, str | int] = {}
    if month is not None:
        query["month"] = month.strftime("%Y-%m")
    if day is not None:
        query["day"] = day.isoformat()
    if duration is not None and duration != PreviewForm.DEFAULT:
        query["duration"] = duration
    base = reverse("availability_editor")
    return f"{base}?{urlencode(query)}" if query else base


# ---------------------------------------------------------------------------------------
# One context per section; the full page is all of them
# ---------------------------------------------------------------------------------------


def _session_type_choices(coach: User, *, used: set[int]) -> list[tuple[int, str]]:
    """The session types a window may be limited to: the coach's active ones and those they
    co-host, and any inactive one a window already names (so editing doesn't drop it)."""
    session_type = AvailabilityWindow.session_types.field.related_model
    rows = (
        session_type.objects.filter(Q(coach=coach) | Q(co_hosts=coach))
        .filter(Q(is_active=True) | Q(pk__in=used))
        .distinct()
        .values_list("pk", "title", "is_active", "coach_id", "position")
    )
    choices = []
    # The coach's own types in their order, then those they co-host.
    for pk, title, active, owner, _position in sorted(
        rows, key=lambda row: (row[3] != coach.pk, row[4], row[1], row[0])
    ):
        label = title
        if owner != coach.pk:
            label = _("%(title)s (co-hosted)") % {"title": title}
        if not active:
            label = _("%(title)s (inactive)") % {"title": label}
        choices.append((pk, label))
    return choices


def _short_date(day: dt.date, today: dt.date) -> str:
    return date_format(day, "j M" if day.year == today.year else "j M Y")


def _repeats_note(spec: services.WindowSpec, today: dt.date) -> str:
    """How a window with a rule repeats, in a few words: "every other week from 5 Jan",
    "1st Monday monthly", "custom rule"."""
    assert spec.rrule is not None
    repeats, weekday = repeats_of(spec.weekday, spec.rrule)
    if repeats in ("2w", "3w", "4w"):
        every = {
            "2w": _("every other week"),
            "3w": _("every 3rd week"),
            "4w": _("every 4th week"),
        }[repeats]
        if spec.valid_from is None:
            return every
        days = services.rule_days(
            spec.rrule, start=spec.valid_from, first=spec.valid_from, last=spec.valid_from + dt.timedelta(days=62)
        )
        first = days[0] if days else spec.valid_from
        return _("%(every)s from %(date)s") % {"every": every, "date": _short_date(first, today)}
    if repeats.startswith("m") and weekday is not None:
        ordinal = {
            "m1": _("1st"),
            "m2": _("2nd"),
            "m3": _("3rd"),
            "m4": _("4th"),
            "m-1": _("last"),
        }[repeats]
        return _("%(ordinal)s %(day)s monthly") % {"ordinal": ordinal, "day": DAY_NAMES[weekday]}
    if spec.rrule == "FREQ=DAILY":
        return _("every day")
    if match := re.fullmatch(r"FREQ=MONTHLY;BYMONTHDAY=(-?\d+)", spec.rrule):
        day = int(match.group(1))
        if day == -1:
            return _("last day of the month")
        return _("monthly on day %(day)d") % {"day": day} if day > 0 else _("custom rule")
    if match := re.fullmatch(r"FREQ=WEEKLY;BYDAY=([A-Z,]+)", spec.rrule):
        names = [str(DAY_ABBRS[day]) for day in rule_weekdays(spec.rrule)]
        return _("weekly on %(days)s") % {"days": ", ".join(names)}
    return _("custom rule")


def _window_notes(spec: services.WindowSpec, type_names: list[str], today: dt.date) -> tuple[str, ...]:
    notes = []
    # "every other week from 5 Jan" already says where it starts.
    dated_by_rule = (
        spec.rrule is not None
        and spec.valid_from is not None
        and repeats_of(spec.weekday, spec.rrule)[0] in ("2w", "3w", "4w")
    )
    if spec.rrule is not None:
        notes.append(_repeats_note(spec, today))
    dates = []
    if spec.valid_from is not None and not dated_by_rule:
        dates.append(_("from %(date)s") % {"date": _short_date(spec.valid_from, today)})
    if spec.valid_until is not None:
        dates.append(_("until %(date)s") % {"date": _short_date(spec.valid_until, today)})
    if dates:
        notes.append(" ".join(dates))
    if type_names:
        notes.append(_("only %(types)s") % {"types": ", ".join(type_names)})
    if not spec.allow_firm_booking:
        notes.append(_("requests only"))
    return tuple(notes)


def _window_name(spec: services.WindowSpec) -> str:
    """The window in a few words for labels and messages: "Monday 09:00–12:00", "Tuesday
    14:00–17:00, every other week from 1 Dec", "09:00–10:00, custom rule"."""
    times = f"{spec.start:%H:%M}–{spec.end:%H:%M}"
    if spec.rrule is None:
        return f"{DAY_NAMES[spec.weekday]} {times}" if spec.weekday is not None else times
    _repeats, weekday = repeats_of(spec.weekday, spec.rrule)
    return f"{DAY_NAMES[weekday]} {times}" if weekday is not None else times


PANEL_AUTO_ID = "id_panel_%s"


def _edit_form(spec: services.WindowSpec, session_types: list[tuple[int, str]]) -> WindowForm:
    """The week's quick form of a window: its hours (the rest stays as it is)."""
    assert spec.id is not None
    initial, weekday = WindowForm.initial_for(spec)
    return WindowForm(initial=initial, weekday=weekday, session_types=session_types, auto_id=_edit_auto_id(spec.id))


def _panel_form(spec: services.WindowSpec, session_types: list[tuple[int, str]]) -> WindowForm:
    initial, weekday = WindowForm.initial_for(spec)
    return WindowForm(
        initial=initial, weekday=weekday, session_types=session_types, with_options=True, auto_id=PANEL_AUTO_ID
    )


def _panel(
    *,
    state_add: int | None,
    state_window: int | None,
    rows: dict[int, WindowRow],
    session_types: list[tuple[int, str]],
    form: WindowForm | None,
) -> WindowPanel | None:
    if state_window is not None and state_window in rows:
        row = rows[state_window]
        form = form or _panel_form(row.spec, session_types)
        form.fields["start"].widget.attrs["autofocus"] = True
        action = reverse("availability_window_edit", args=[row.pk])
        return WindowPanel(form, action, _("Change %(window)s") % {"window": _described(row.spec, row.notes)}, row)
    if state_add is not None:
        form = form or WindowForm(
            weekday=state_add, session_types=session_types, with_options=True, auto_id=PANEL_AUTO_ID
        )
        form.fields["start"].widget.attrs["autofocus"] = True
        action = reverse("availability_window_add", args=[state_add])
        return WindowPanel(form, action, _("New %(day)s window") % {"day": DAY_NAMES[state_add]})
    return None


def _week_context(
    coach: User,
    *,
    add_forms: dict[int, WindowForm] | None = None,
    edit_id: int | None = None,
    edit_form: WindowForm | None = None,
    add_day: int | None = None,
    window_id: int | None = None,
    panel_form: WindowForm | None = None,
) -> dict[str, Any]:
    add_forms = add_forms or {}
    today = services.today_for(coach)
    windows = list(
        AvailabilityWindow.objects.filter(coach=coach).prefetch_related("session_types").order_by("start", "end", "pk")
    )
    used_types = {t.pk for window in windows for t in window.session_types.all()}
    type_choices = _session_type_choices(coach, used=used_types)
    by_day: dict[int, list[WindowRow]] = {weekday: [] for weekday in DAY_NAMES}
    weekly_days: set[int] = set()
    by_rule: list[WindowRow] = []
    editing: WindowRow | None = None
    primary_rows: dict[int, WindowRow] = {}
    for window in windows:
        spec = services.WindowSpec.of(window)
        type_names = sorted(t.title for t in window.session_types.all())
        notes = _window_notes(spec, type_names, today)
        name = _window_name(spec)
        if spec.rrule is None and spec.weekday is not None:
            days = [spec.weekday]
            weekly_days.add(spec.weekday)
        else:
            days = rule_weekdays(spec.rrule) if spec.rrule else []
        if not days:
            row = WindowRow(window, spec, f"window-{window.pk}", True, name, notes)
            by_rule.append(row)
        for index, weekday in enumerate(days):
            dom_id = f"window-{window.pk}" if index == 0 else f"window-{window.pk}-{weekday}"
            row = WindowRow(window, spec, dom_id, index == 0, name, notes)
            by_day[weekday].append(row)
        primary_rows[window.pk] = WindowRow(window, spec, f"window-{window.pk}", True, name, notes)
        if window.pk == edit_id:
            editing = primary_rows[window.pk]
    if editing is not None and edit_form is None:
        edit_form = _edit_form(editing.spec, type_choices)
    days = [
        WeekDay(
            weekday=weekday,
            name=name,
            windows=by_day[weekday],
            add_form=add_forms.get(weekday)
            or WindowForm(weekday=weekday, session_types=type_choices, auto_id=_add_auto_id(weekday)),
            add_open=weekday in add_forms or not by_day[weekday],
            has_weekly=weekday in weekly_days,
        )
        for weekday, name in DAY_NAMES.items()
    ]
    panel = _panel(
        state_add=add_day, state_window=window_id, rows=primary_rows, session_types=type_choices, form=panel_form
    )
    return {
        "days": days,
        "panel": panel,
        "rule_windows": by_rule,
        "edit_id": editing.pk if editing else None,
        "edit_form": edit_form,
        "monday_has_windows": Weekday.MONDAY in weekly_days,
        "week_is_empty": not windows,
    }


def _calendar_context(
    coach: User,
    *,
    today: dt.date,
    state: EditorState,
    override_form: DayOverrideForm | None = None,
    time_off_form: TimeOffForm | None = None,
) -> dict[str, Any]:
    month = state.month
    weeks_of_dates = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(month.year, month.month)
    since = min(weeks_of_dates[0][0], today)
    # Two queries (three with the overrides' windows) whatever the month or the history:
    # everything from the shown month (or today) on feeds both the grid and the lists.
    overrides = [
        OverrideRow(override=o, windows=list(o.windows.all()))
        for o in DateOverride.objects.filter(coach=coach, date__gte=since).order_by("date").prefetch_related("windows")
    ]
    time_off = list(TimeOff.objects.filter(coach=coach, end_date__gte=since).order_by("start_date", "pk"))
    override_on = {row.override.date: row for row in overrides}

    def time_off_on(day: dt.date) -> TimeOff | None:
        return next((item for item in time_off if item.start_date <= day <= item.end_date), None)

    weeks = [
        [
            None
            if day.month != month.month
            else CalendarCell(
                date=day,
                is_past=day < today,
                is_today=day == today,
                selected=day == state.day,
                override=override_on.get(day),
                time_off=time_off_on(day),
                url=_editor_url(month=month, day=day, duration=state.duration),
            )
            for day in week
        ]
        for week in weeks_of_dates
    ]

    first_month, last_month = _month_start(today), _add_months(_month_start(today), MONTHS_AHEAD)
    prev_month = _add_months(month, -1) if month > first_month else None
    next_month = _add_months(month, 1) if month < last_month else None

    day = state.day
    day_override = override_on.get(day) if day else None
    if override_form is None and day is not None:
        initial: dict[str, Any] = {"date": day, "kind": DayOverrideForm.DAY_OFF}
        rows = DayOverrideForm.DEFAULT_ROWS
        if day_override is not None:
            initial["reason"] = day_override.override.reason
            if day_override.windows:
                initial["kind"] = DayOverrideForm.CUSTOM
                rows = max(rows, len(day_override.windows) + 1)
            for i, window in enumerate(day_override.windows, start=1):
                initial[f"start_{i}"], initial[f"end_{i}"] = window.start, window.end
        override_form = DayOverrideForm(initial=initial, rows=rows, auto_id=OVERRIDE_AUTO_ID)
        # htmx focuses it after the swap, which also scrolls the opened form into view on phones.
        override_form.fields["date"].widget.attrs["autofocus"] = True

    return {
        "month": month,
        "month_param": month.strftime("%Y-%m"),
        "weekday_abbrs": [WEEKDAYS_ABBR[i] for i in range(7)],
        "weeks": weeks,
        "prev_month": prev_month,
        "next_month": next_month,
        "prev_month_url": _editor_url(month=prev_month, duration=state.duration) if prev_month else None,
        "next_month_url": _editor_url(month=next_month, duration=state.duration) if next_month else None,
        "selected_day": day,
        "day_override": day_override,
        "day_time_off": time_off_on(day) if day else None,
        "override_form": override_form,
        "close_day_url": _editor_url(month=month, duration=state.duration),
        "time_off_form": time_off_form or TimeOffForm(auto_id=TIME_OFF_AUTO_ID),
        "upcoming_overrides": [row for row in overrides if row.override.date >= today],
        "upcoming_time_off": [item for item in time_off if item.end_date >= today],
        "notices": state.notices,
        "today": today,
    }


def _preview_context(profile: CoachProfile, *, duration: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """The bookable times of the next 14 days, in the coach's zone, grouped by day; an
    empty day says why (time off, a day off, beyond the booking window, no hours...)."""
    coach = profile.user
    zone = ZoneInfo(coach.timezone)
    now = now or timezone.now()
    today = now.astimezone(zone).date()
    last = today + dt.timedelta(days=PREVIEW_DAYS - 1)
    slots: list[Slot] = free_slots(
        coach=coach, duration=dt.timedelta(minutes=duration), start_date=today, end_date=last, viewer_tz=zone, now=now
    )
    windows, overrides, time_off = availability_inputs(coach, first_day=today, last_day=last)
    override_on = {override.day: override for override in overrides}
    last_bookable = (now + dt.timedelta(days=profile.booking_window_days)).astimezone(zone).date()

    covers = _coverage(windows, today=today, last=last)
    days = {today + dt.timedelta(days=i): PreviewDay(date=today + dt.timedelta(days=i)) for i in range(PREVIEW_DAYS)}
    for slot in slots:
        local_start, local_end = slot.start.astimezone(zone), slot.end.astimezone(zone)
        day = days.get(local_start.date())
        if day is not None:
            day.times.append(
                PreviewTime(
                    label=local_start.strftime("%H:%M"),
                    start=slot.start,
                    end=slot.end,
                    local_start=local_start,
                    local_end=local_end,
                )
            )
    for day in days.values():
        # A day whose times straddle a clock change shows each time's zone abbreviation,
        # so 01:30 before and 01:30 after a fall-back can be told apart.
        if len({time.local_start.utcoffset() for time in day.times}) > 1:
            day.times = [replace(time, label=time.local_start.strftime("%H:%M %Z")) for time in day.times]
        midnight = local_midnight(day.date, zone)
        override = override_on.get(day.date)
        if any(item.start <= midnight < item.end for item in time_off):
            day.note = _("Time off")
        elif override is not None and not override.windows:
            day.note = _("Day off")
        elif day.times:
            day.note = _("Own hours") if override is not None else ""
        elif override is None and not covers(day.date, open_to_all=False):
            day.note = _("No hours set")
        elif override is None and not covers(day.date, open_to_all=True):
            day.note = _("Hours only for some session types")
        else:
            day.note = _("Nothing free (booked, too soon, or at your limits)")
    # Nothing starts after the booking window closes: one row stands for those days.
    shown = [day for day in days.values() if day.date <= last_bookable]
    if last_bookable < last:
        later = max(last_bookable + ONE_DAY, today)
        shown.append(
            PreviewDay(
                date=later,
                last_date=last if last > later else None,
                note=ngettext(
                    "Not bookable yet: clients book up to %(days)d day ahead.",
                    "Not bookable yet: clients book up to %(days)d days ahead.",
                    profile.booking_window_days,
                )
                % {"days": profile.booking_window_days},
            )
        )
    return {
        "preview_days": shown,
        "preview_count": len(slots),
        "preview_form": PreviewForm(initial={"duration": duration}, auto_id="preview-%s"),
        "duration": duration,
        "booking_window_days": profile.booking_window_days,
        "last_bookable": last_bookable,
        "preview_first": today,
        "preview_last": last,
    }


def _coverage(windows: list[WeeklyWindow], *, today: dt.date, last: dt.date) -> Any:
    """``covers(day, open_to_all=...)``: whether a window applies on ``day`` (one open to
    every session type, with ``open_to_all``), its rule read as the slot engine reads it
    for a listing from ``today`` (a rule without a start starts there)."""
    rule_days = {
        index: set(services.rule_days(window.rrule, start=window.valid_from or today, first=today, last=last))
        for index, window in enumerate(windows)
        if window.rrule
    }

    def covers(day: dt.date, *, open_to_all: bool) -> bool:
        return any(
            (day in rule_days[index] if window.rrule else day.weekday() in window.weekdays)
            and (window.valid_from is None or window.valid_from <= day)
            and (window.valid_until is None or day <= window.valid_until)
            and (not open_to_all or window.session_type_ids is None)
            for index, window in enumerate(windows)
        )

    return covers


def _coach_profile(request: HttpRequest) -> CoachProfile:
    # An admin passes the role check but has no coach profile: nothing to edit, so 404.
    # select_related also caches the profile on profile.user for free_slots.
    return get_object_or_404(CoachProfile.objects.select_related("user"), user=request.user)


def _section_context(profile: CoachProfile, section: str, state: EditorState, **forms: Any) -> dict[str, Any]:
    coach = profile.user
    if section == WEEK:
        return _week_context(
            coach,
            add_forms=forms.get("add_forms"),
            edit_id=state.edit_id,
            edit_form=forms.get("edit_form"),
            add_day=state.add_day,
            window_id=state.window_id,
            panel_form=forms.get("panel_form"),
        )
    if section == CALENDAR:
        return _calendar_context(
            coach,
            today=services.today_for(coach),
            state=state,
            override_form=forms.get("override_form"),
            time_off_form=forms.get("time_off_form"),
        )
    if section == PREVIEW:
        return _preview_context(profile, duration=state.duration)
    if section == SETTINGS:
        return {"settings_form": forms.get("settings_form") or CoachSettingsForm(instance=profile)}
    raise ValueError(section)


def _base_context(profile: CoachProfile, state: EditorState) -> dict[str, Any]:
    return {"coach": profile.user, "profile": profile, "zone_name": profile.user.timezone, "state": state}


def _render_page(
    request: HttpRequest, profile: CoachProfile, state: EditorState, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = _base_context(profile, state)
    for section in (WEEK, CALENDAR, PREVIEW, SETTINGS):
        context.update(_section_context(profile, section, state, **forms))
    return render(request, TEMPLATE, context, status=status)


def _render_section(
    request: HttpRequest, profile: CoachProfile, section: str, state: EditorState, *, refresh: bool, **forms: Any
) -> HttpResponse:
    """One section for htmx; with ``refresh`` also the preview and the status message,
    out of band, since the change may have moved the bookable times."""
    context = _base_context(profile, state)
    context.update(_section_context(profile, section, state, **forms))
    context["oob"] = True
    if refresh and section != PREVIEW:
        context.update(_section_context(profile, PREVIEW, state))
        context["refresh_preview"] = True
    return render(request, f"{TEMPLATE}#{section}", context)


def _outside_now(profile: CoachProfile) -> set[int]:
    """The coach's sessions to come that lie outside their hours, before a change."""
    return set(hours.sessions_outside_hours(profile.user, now=timezone.now()))


def _left_outside(request: HttpRequest, profile: CoachProfile, before: set[int]) -> HttpResponse | None:
    """When a change of hours leaves sessions outside them that were inside before, the
    coach is taken to the list of those sessions (in ``bookings``, by URL name) to keep,
    cancel or move each one; never silently."""
    newly = [pk for pk in hours.sessions_outside_hours(profile.user, now=timezone.now()) if pk not in before]
    if not newly:
        return None
    url = f"{reverse('outside_hours')}?{urlencode({'sessions': ','.join(map(str, newly))})}"
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _done(
    request: HttpRequest,
    profile: CoachProfile,
    section: str,
    message: str,
    *,
    month: dt.date | None = None,
    outside_before: set[int] | None = None,
) -> HttpResponse:
    """After a change: the section again (htmx), or back to the editor (plain POST); when
    ``outside_before`` is given and the change left sessions outside the coach's hours,
    the list of those sessions instead."""
    messages.success(request, message)
    if outside_before is not None:
        review = _left_outside(request, profile, outside_before)
        if review is not None:
            return review
    today = services.today_for(profile.user)
    state = EditorState(
        month=month or _month_start(today), duration=PreviewForm.duration_from(request.POST), notices=()
    )
    if request.htmx:
        return _render_section(request, profile, section, state, refresh=True)
    return redirect(f"{_editor_url(month=month, duration=state.duration)}#{section}")


def _failed(
    request: HttpRequest, profile: CoachProfile, section: str, state: EditorState, **forms: Any
) -> HttpResponse:
    """A form with errors: its section with the errors (htmx swaps a 200), or the whole page
    with status 400 (plain POST)."""
    if request.htmx:
        return _render_section(request, profile, section, state, refresh=False, **forms)
    return _render_page(request, profile, state, status=400, **forms)


def _posted_state(request: HttpRequest, profile: CoachProfile, **changes: Any) -> EditorState:
    """The page's state as the section a form was posted from shows it (its hidden month)."""
    today = services.today_for(profile.user)
    month = _parse_month((request.POST.get("month") or "").strip())
    first_month = _month_start(today)
    if month is None or not first_month <= month <= _add_months(first_month, MONTHS_AHEAD):
        month = first_month
    values: dict[str, Any] = {"month": month, "duration": PreviewForm.duration_from(request.POST)}
    values.update(changes)
    return EditorState(**values)


def _posted_month(request: HttpRequest, profile: CoachProfile) -> dt.date:
    return _posted_state(request, profile).month


def _day_label(day: dt.date) -> str:
    return date_format(day, "l j F Y")


# ---------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------


@role_required(Role.COACH)
@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request", "HX-Target")
def editor(request: HttpRequest) -> HttpResponse:
    profile = _coach_profile(request)
    state = _parse_state(request.GET, today=services.today_for(profile.user))
    if request.htmx and not request.htmx.history_restore_request:
        section = request.htmx.target
        if section in (WEEK, CALENDAR, PREVIEW):
            context = _base_context(profile, state)
            context.update(_section_context(profile, section, state))
            return render(request, f"{TEMPLATE}#{section}", context)
    return _render_page(request, profile, state)


# ---------------------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------------------


def _weekday_or_404(weekday: int) -> int:
    if weekday not in DAY_NAMES:
        raise Http404(_("No such weekday"))
    return weekday


def _type_choices_for_forms(coach: User) -> list[tuple[int, str]]:
    session_types = AvailabilityWindow.session_types.through.objects.filter(availabilitywindow__coach=coach)
    return _session_type_choices(coach, used=set(session_types.values_list("sessiontype_id", flat=True)))


@role_required(Role.COACH)
@require_POST
def window_add(request: HttpRequest, weekday: int) -> HttpResponse:
    profile = _coach_profile(request)
    weekday = _weekday_or_404(weekday)
    form = WindowForm(
        request.POST,
        weekday=weekday,
        session_types=_type_choices_for_forms(profile.user),
        auto_id=PANEL_AUTO_ID if request.POST.get("options") else _add_auto_id(weekday),
    )
    if form.is_valid():
        try:
            _window, spec = services.save_window(coach=profile.user, actor=request.user, spec=form.spec())
        except DomainError as error:
            attach_domain_error(form, error, WindowForm.ERROR_FIELDS)
        else:
            notes = _window_notes(spec, [], services.today_for(profile.user))
            return _done(request, profile, WEEK, _("Added %(window)s.") % {"window": _described(spec, notes)})
    if form.shows_options:  # the full form below the week
        return _failed(request, profile, WEEK, _posted_state(request, profile, add_day=weekday), panel_form=form)
    return _failed(request, profile, WEEK, _posted_state(request, profile), add_forms={weekday: form})


def _described(spec: services.WindowSpec, notes: tuple[str, ...]) -> str:
    """ "Monday 09:00–12:00", with how it repeats when it doesn't every week."""
    name = _window_name(spec)
    return f"{name}, {notes[0]}" if spec.rrule is not None and notes else name


@role_required(Role.COACH)
@require_http_methods(["GET", "POST"])
def window_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the inline form (htmx) or the editor with it open; POST: change the window.
    What the form doesn't post stays as it was."""
    profile = _coach_profile(request)
    window = get_object_or_404(AvailabilityWindow.objects.prefetch_related("session_types"), pk=pk, coach=profile.user)
    stored = services.WindowSpec.of(window)
    type_choices = _type_choices_for_forms(profile.user)
    if request.method == "GET":
        if not request.htmx:
            return redirect(f"{reverse('availability_editor')}?edit={window.pk}#window-{window.pk}")
        form = _edit_form(stored, type_choices)
        form.fields["start"].widget.attrs["autofocus"] = True
        context = _base_context(profile, _posted_state(request, profile))
        context.update(_edit_context(stored, window, form))
        return render(request, f"{TEMPLATE}#window_edit", context)

    _repeats, weekday = repeats_of(stored.weekday, stored.rrule)
    auto_id = PANEL_AUTO_ID if request.POST.get("options") else _edit_auto_id(window.pk)
    form = WindowForm(request.POST, weekday=weekday, session_types=type_choices, auto_id=auto_id)
    if form.is_valid():
        before = _window_name(stored)
        outside = _outside_now(profile)
        try:
            _window, spec = services.save_window(
                coach=profile.user, actor=request.user, spec=form.spec(window_id=window.pk)
            )
        except DomainError as error:
            attach_domain_error(form, error, WindowForm.ERROR_FIELDS)
        else:
            times = f"{spec.start:%H:%M}–{spec.end:%H:%M}"
            if dataclasses.replace(spec, start=stored.start, end=stored.end) == stored:
                message = _("Changed %(before)s to %(times)s.") % {"before": before, "times": times}
            else:
                notes = _window_notes(spec, [], services.today_for(profile.user))
                message = _("Changed %(before)s: now %(after)s.") % {
                    "before": before,
                    "after": "; ".join([_described(spec, notes), *notes[1 if spec.rrule else 0 :]]),
                }
            return _done(request, profile, WEEK, message, outside_before=outside)
    if form.shows_options:  # the full form below the week
        return _failed(request, profile, WEEK, _posted_state(request, profile, window_id=window.pk), panel_form=form)
    state = _posted_state(request, profile, edit_id=window.pk)
    return _failed(request, profile, WEEK, state, edit_form=form)


def _edit_context(spec: services.WindowSpec, window: AvailabilityWindow, form: WindowForm) -> dict[str, Any]:
    return {
        "window": window,
        "row": WindowRow(window, spec, f"window-{window.pk}", True, _window_name(spec), ()),
        "day_name": _window_name(spec),
        "edit_form": form,
    }


@role_required(Role.COACH)
@require_POST
def window_delete(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _coach_profile(request)
    window = get_object_or_404(AvailabilityWindow, pk=pk, coach=profile.user)
    label = _window_name(services.WindowSpec.of(window))
    outside = _outside_now(profile)
    services.delete_window(window=window, actor=request.user)
    return _done(request, profile, WEEK, _("Removed %(window)s.") % {"window": label}, outside_before=outside)


@role_required(Role.COACH)
@require_POST
def day_clear(request: HttpRequest, weekday: int) -> HttpResponse:
    profile = _coach_profile(request)
    weekday = _weekday_or_404(weekday)
    outside = _outside_now(profile)
    services.set_day_windows(coach=profile.user, actor=request.user, weekday=weekday, windows=[])
    message = _("Cleared %(day)s: no weekly hours that day.") % {"day": DAY_NAMES[weekday]}
    return _done(request, profile, WEEK, message, outside_before=outside)


@role_required(Role.COACH)
@require_POST
def copy_monday(request: HttpRequest) -> HttpResponse:
    profile = _coach_profile(request)
    outside = _outside_now(profile)
    services.copy_day_to_weekdays(coach=profile.user, actor=request.user, source_weekday=Weekday.MONDAY)
    return _done(request, profile, WEEK, _("Tuesday to Friday now have Monday's hours."), outside_before=outside)


@role_required(Role.COACH)
@require_POST
def default_pattern(request: HttpRequest) -> HttpResponse:
    profile = _coach_profile(request)
    outside = _outside_now(profile)
    services.apply_default_pattern(coach=profile.user, actor=request.user)
    message = _("Applied the default pattern: Monday to Friday, 09:00–12:00 and 13:00–17:00.")
    return _done(request, profile, WEEK, message, outside_before=outside)


# ---------------------------------------------------------------------------------------
# Days off and exceptions
# ---------------------------------------------------------------------------------------


@role_required(Role.COACH)
@require_POST
def override_save(request: HttpRequest) -> HttpResponse:
    profile = _coach_profile(request)
    form = DayOverrideForm(request.POST, auto_id=OVERRIDE_AUTO_ID)
    if form.is_valid():
        day, windows = form.cleaned_data["date"], form.cleaned_data["windows"]
        outside = _outside_now(profile)
        try:
            services.set_override(
                coach=profile.user, actor=request.user, date=day, windows=windows, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            attach_domain_error(form, error, DayOverrideForm.ERROR_FIELDS)
        else:
            if windows:
                hours = ", ".join(f"{start:%H:%M}–{end:%H:%M}" for start, end in sorted(windows))
                message = _("%(day)s now has its own hours: %(hours)s.") % {"day": _day_label(day), "hours": hours}
            else:
                message = _("%(day)s is now a day off.") % {"day": _day_label(day)}
            return _done(request, profile, CALENDAR, message, month=_month_start(day), outside_before=outside)
    # The calendar shows the posted day's month (a past day: the month the form came from).
    day = form.cleaned_data.get("date")
    changes: dict[str, Any] = {"day": day}
    if day is not None and day >= services.today_for(profile.user):
        changes["month"] = _month_start(day)
    return _failed(request, profile, CALENDAR, _posted_state(request, profile, **changes), override_form=form)


@role_required(Role.COACH)
@require_POST
def override_delete(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _coach_profile(request)
    override = get_object_or_404(DateOverride, pk=pk, coach=profile.user)
    day = override.date
    services.remove_override(override=override, actor=request.user)
    return _done(
        request,
        profile,
        CALENDAR,
        _("%(day)s follows your weekly hours again.") % {"day": _day_label(day)},
        month=_posted_month(request, profile),
    )


@role_required(Role.COACH)
@require_POST
def time_off_add(request: HttpRequest) -> HttpResponse:
    profile = _coach_profile(request)
    form = TimeOffForm(request.POST, auto_id=TIME_OFF_AUTO_ID)
    if form.is_valid():
        data = form.cleaned_data
        outside = _outside_now(profile)
        try:
            item = services.add_time_off(
                coach=profile.user,
                actor=request.user,
                start_date=data["start_date"],
                end_date=data["end_date"],
                reason=data["reason"],
            )
        except DomainError as error:
            attach_domain_error(form, error, TimeOffForm.ERROR_FIELDS)
        else:
            return _done(
                request,
                profile,
                CALENDAR,
                _("Time off added: %(time_off)s.") % {"time_off": _time_off_label(item)},
                month=_posted_month(request, profile),
                outside_before=outside,
            )
    return _failed(request, profile, CALENDAR, _posted_state(request, profile), time_off_form=form)


@role_required(Role.COACH)
@require_POST
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _coach_profile(request)
    item = get_object_or_404(TimeOff, pk=pk, coach=profile.user)
    label = _time_off_label(item)
    services.remove_time_off(time_off=item, actor=request.user)
    return _done(
        request,
        profile,
        CALENDAR,
        _("Time off removed: %(time_off)s.") % {"time_off": label},
        month=_posted_month(request, profile),
    )


def _time_off_label(item: TimeOff) -> str:
    span = (
        _day_label(item.start_date)
        if item.start_date == item.end_date
        else _("%(first)s to %(last)s") % {"first": _day_label(item.start_date), "last": _day_label(item.end_date)}
    )
    return f"{span} ({item.reason})" if item.reason else span


# ---------------------------------------------------------------------------------------
# Booking settings
# ---------------------------------------------------------------------------------------


@role_required(Role.COACH)
@require_POST
def settings_save(request: HttpRequest) -> HttpResponse:
    profile = _coach_profile(request)
    # The form validates against a copy, so a rejected value never reaches the profile
    # the rest of the page (the preview) is computed from.
    form = CoachSettingsForm(request.POST, instance=copy.copy(profile))
    if form.is_valid():
        try:
            account_services.update_coach_settings(profile=profile, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            profile.refresh_from_db()
            form.add_error(None, error.message)
        else:
            return _done(request, profile, SETTINGS, _("Your booking settings are saved."))
    return _failed(request, profile, SETTINGS, _posted_state(request, profile), settings_form=form)
