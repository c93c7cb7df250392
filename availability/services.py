"""Every write to a coach's availability: windows, date overrides, time off.

Each function validates like the editor does and raises ``DomainError`` with a message a
coach can act on. One validation serves the editor and the API (``clean_window`` for a
window, ``check_overlaps`` for a set of them), and every write runs in one transaction
holding the coach's row, so two changes of one calendar can't interleave.

A window (``AvailabilityWindow``) applies either every ``weekday`` or on the days of its
``rrule`` (never both), between the inclusive dates ``valid_from`` and ``valid_until``,
for every session type or only ``session_type_ids``, and takes firm bookings or, with
``allow_firm_booking`` off, requests only. A rule whose days depend on where it starts
(an ``INTERVAL``, a ``COUNT``, a weekly rule without ``BYDAY``, a monthly one without
``BYDAY`` or ``BYMONTHDAY``) starts on ``valid_from``; without one it starts on its first
day from the coach's today, and that day is stored as ``valid_from`` (the slot engine
reads the phase from it: see ``availability.slots.WeeklyWindow``).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from zoneinfo import ZoneInfo

import recurrence
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from recurrence import exceptions as recurrence_errors

from accounts.models import User
from availability import slots as engine
from availability.models import AvailabilityWindow, DateOverride, OverrideWindow, TimeOff, Weekday
from config.errors import DomainError, NotAllowed
from config.inputs import SHORT_TEXT, canonical_zone, clean_text, in_range_day, out_of_range_message

WEEKDAY_NAMES = dict(Weekday.choices)
# The fields of a window besides its times; a spec with an id may keep any of them.
OPTION_FIELDS = frozenset({"weekday", "rrule", "valid_from", "valid_until", "session_type_ids", "allow_firm_booking"})
MAX_RULE_LENGTH = 300
RULE_FREQUENCIES = {recurrence.DAILY: "DAILY", recurrence.WEEKLY: "WEEKLY", recurrence.MONTHLY: "MONTHLY"}
# How far a rule is looked at when finding its first day, or whether it has one.
RULE_HORIZON = dt.timedelta(days=5 * 366)


@dataclass(frozen=True)
class WindowSpec:
    """A window as a coach (or a program) gives it. ``id`` names a stored window to change
    (None: a new one); ``keep`` names the fields of ``OPTION_FIELDS`` this spec doesn't
    set, which keep the stored window's values (with an id; a new window takes the
    defaults). ``session_type_ids`` empty: every session type."""

    weekday: int | None
    start: dt.time
    end: dt.time
    rrule: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    session_type_ids: frozenset[int] = frozenset()
    allow_firm_booking: bool = True
    id: int | None = None
    keep: frozenset[str] = frozenset()

    @classmethod
    def of(cls, window: AvailabilityWindow) -> WindowSpec:
        """A stored window as a spec (its session types from ``window.session_types.all()``,
        prefetched or not)."""
        return cls(
            id=window.pk,
            weekday=window.weekday,
            start=window.start,
            end=window.end,
            rrule=rule_text(window.recurrence),
            valid_from=window.valid_from,
            valid_until=window.valid_until,
            session_type_ids=frozenset(t.pk for t in window.session_types.all()),
            allow_firm_booking=window.allow_firm_booking,
        )

    def merged(self, stored: WindowSpec | None) -> WindowSpec:
        """This spec with the fields it keeps taken from ``stored``."""
        if stored is None or not self.keep:
            return dataclasses.replace(self, keep=frozenset())
        kept = {name: getattr(stored, name) for name in self.keep & OPTION_FIELDS}
        return dataclasses.replace(self, keep=frozenset(), **kept)


@dataclass(frozen=True)
class OverrideSpec:
    date: dt.date
    windows: tuple[tuple[dt.time, dt.time], ...]
    reason: str = ""


def _label(start: dt.time, end: dt.time) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def check_windows(windows: Sequence[tuple[dt.time, dt.time]], *, day_label: str) -> None:
    """End after start, and no two windows of one day overlapping (the message names both)."""
    for start, end in windows:
        if end <= start:
            raise DomainError(
                _("%(day)s: the window %(window)s ends before it starts.")
                % {"day": day_label, "window": _label(start, end)},
                code="window_end_before_start",
            )
    ordered = sorted(windows)
    for (a_start, a_end), (b_start, b_end) in pairwise(ordered):
        if b_start < a_end:
            raise DomainError(
                _("%(day)s: %(first)s overlaps %(second)s.")
                % {"day": day_label, "first": _label(a_start, a_end), "second": _label(b_start, b_end)},
                code="windows_overlap",
            )


def _require_coach(coach: User, actor: User) -> None:
    if not coach.is_coach:
        raise DomainError(_("Only coaches have availability."), code="not_a_coach")
    if actor.pk != coach.pk and not actor.is_staff_member:
        raise NotAllowed(_("You can only change your own availability."))


def _check_weekday(weekday: int, *, field: str = "") -> None:
    if weekday not in WEEKDAY_NAMES:
        raise DomainError(
            _("Weekday %(weekday)s does not exist (0 is Monday, 6 is Sunday).") % {"weekday": weekday},
            code="bad_weekday",
            field=field,
        )


def _check_weekly(windows: Iterable[WindowSpec]) -> None:
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for window in windows:
        _check_weekday(window.weekday)
        by_day.setdefault(window.weekday, []).append((window.start, window.end))
    for weekday, day_windows in by_day.items():
        check_windows(day_windows, day_label=WEEKDAY_NAMES[weekday])


def _lock_coach(coach: User) -> None:
    """Hold the coach's row until the transaction ends: changes of one calendar queue."""
    User.objects.select_for_update().filter(pk=coach.pk).first()


# ---------------------------------------------------------------------------------------
# Rules (RRULE)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A window's rule, checked: ``text`` is its RRULE as stored and shown (without the
    ``RRULE:`` prefix, parameters in django-recurrence's order); ``needs_start`` says
    whether its days depend on the day it starts (then ``valid_from`` pins them)."""

    text: str
    needs_start: bool


def rule_text(value: recurrence.Recurrence | None) -> str | None:
    """A stored recurrence as the API shows it: its one RRULE without the prefix, or (for
    anything else the field may hold, say from the back office) its whole text; None
    when there is no rule."""
    if value is None:
        return None
    text = recurrence.serialize(value)
    if not text:
        return None
    lines = text.splitlines()
    if len(lines) == 1 and lines[0].startswith("RRULE:"):
        return lines[0].removeprefix("RRULE:")
    return text


def _rule_error(message: str, field: str) -> DomainError:
    return DomainError(message, code="invalid", field=field)


def parse_rule(text: str, *, field: str = "rrule") -> Rule:
    """Check an RFC 5545 RRULE (``FREQ=WEEKLY;INTERVAL=2;BYDAY=MO``, with or without the
    ``RRULE:`` prefix) for a window: one rule, daily, weekly or monthly, read by
    django-recurrence and by dateutil as the slot engine reads it."""
    raw = text.strip()
    if raw[:6].upper() == "RRULE:":
        raw = raw[6:].strip()
    if not raw:
        raise _rule_error(_("Write a rule, for example FREQ=WEEKLY;INTERVAL=2;BYDAY=MO."), field)
    if len(raw) > MAX_RULE_LENGTH:
        raise _rule_error(_("A rule has at most %(limit)d characters.") % {"limit": MAX_RULE_LENGTH}, field)
    if "\n" in raw or "\r" in raw or ":" in raw:
        raise _rule_error(
            _(
                "Give one RRULE line only (DTSTART, EXDATE and RDATE are not used here: "
                "the window's From date starts the rule, and date overrides change single days)."
            ),
            field,
        )
    try:
        parsed = recurrence.deserialize(f"RRULE:{raw.upper()}")
        serialized = recurrence.serialize(parsed)
    except (recurrence_errors.RecurrenceError, ValueError, TypeError) as error:
        detail = error.args[0] if error.args else str(error)
        raise _rule_error(_("This rule can't be read: %(detail)s.") % {"detail": detail}, field) from error
    (rule,) = parsed.rrules
    if rule.freq not in RULE_FREQUENCIES:
        raise _rule_error(
            _("Use FREQ=DAILY, WEEKLY or MONTHLY (for a yearly day: MONTHLY with BYMONTH)."),
            field,
        )
    if rule.byhour or rule.byminute or rule.bysecond:
        raise _rule_error(
            _("Leave out BYHOUR, BYMINUTE and BYSECOND: the window's start and end give its hours."), field
        )
    if rule.byyearday or rule.byweekno:
        raise _rule_error(_("BYYEARDAY and BYWEEKNO belong to yearly rules; use BYMONTH with BYDAY."), field)
    if rule.freq != recurrence.MONTHLY and any(day.index for day in rule.byday):
        raise _rule_error(
            _("A numbered weekday such as 1MO (first Monday) only goes with FREQ=MONTHLY."),
            field,
        )
    normalized = serialized.removeprefix("RRULE:")
    try:
        engine.WeeklyWindow(start=dt.time(0), end=dt.time(1), rrule=normalized)
    except ValueError as error:
        raise _rule_error(_("This rule can't be read: %(detail)s.") % {"detail": error}, field) from error
    needs_start = (
        rule.interval > 1
        or rule.count is not None
        or (rule.freq == recurrence.WEEKLY and not rule.byday)
        or (rule.freq == recurrence.MONTHLY and not rule.byday and not rule.bymonthday)
    )
    return Rule(text=normalized, needs_start=needs_start)


def rule_days(text: str, *, start: dt.date, first: dt.date, last: dt.date) -> list[dt.date]:
    """The days ``first``..``last`` (inclusive) a window's rule falls on, read as the slot
    engine reads it, with the rule starting on ``start`` (the window's ``valid_from``)."""
    window = engine.WeeklyWindow(start=dt.time(0), end=dt.time(1), rrule=text, valid_from=start)
    return sorted(engine._rrule_days(window, anchor=start, first=first, last=last))


def _first_day(text: str, *, start: dt.date, last: dt.date) -> dt.date | None:
    days = rule_days(text, start=start, first=start, last=last)
    return days[0] if days else None


def _first_day_from(rule: Rule, today: dt.date) -> dt.date:
    """Where a rule that needs a start starts when none is given: its first day from today
    as though it had no INTERVAL and no COUNT (so every other Monday starts on the next
    Monday, not two weeks later), today when it has none."""
    plain = copy.copy(recurrence.deserialize(f"RRULE:{rule.text}").rrules[0])
    plain.interval, plain.count = 1, None
    text = recurrence.serialize(recurrence.Recurrence(rrules=[plain])).removeprefix("RRULE:")
    return _first_day(text, start=today, last=today + RULE_HORIZON) or today


# ---------------------------------------------------------------------------------------
# One window, and a set of them
# ---------------------------------------------------------------------------------------


BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY_PART = re.compile(r"(?:^|;)BYDAY=([^;]*)", re.IGNORECASE)


def rule_weekdays(rule: str) -> list[int]:
    """The weekdays an RRULE's BYDAY names (``1MO`` counts as Monday), in week order."""
    match = _BYDAY_PART.search(rule)
    if not match:
        return []
    codes = {re.sub(r"^[+-]?\d+", "", part.strip().upper()) for part in match.group(1).split(",")}
    return [index for index, code in enumerate(BYDAY) if code in codes]


def window_label(spec: WindowSpec) -> str:
    """The day(s) a window is on, for messages: "Monday", "Tuesday, Thursday", "Window"."""
    if spec.weekday is not None and spec.rrule is None:
        return str(WEEKDAY_NAMES[spec.weekday])
    days = rule_weekdays(spec.rrule or "")
    return ", ".join(str(WEEKDAY_NAMES[day]) for day in days) if days else _("Window")


def session_type_ids_for(coach: User) -> frozenset[int]:
    """The session types a coach's windows may be limited to: the coach's own and those
    they co-host (active or not, so a window keeps a type that was paused)."""
    session_type = AvailabilityWindow.session_types.field.related_model
    return frozenset(
        session_type.objects.filter(Q(coach=coach) | Q(co_hosts=coach)).values_list("pk", flat=True).distinct()
    )


def clean_window(
    spec: WindowSpec,
    *,
    stored: WindowSpec | None,
    session_types: frozenset[int],
    today: dt.date,
    field_prefix: str = "",
) -> WindowSpec:
    """The window ``spec`` describes, checked and in its stored form (the fields it keeps
    taken from ``stored``, its rule normalized, a rule's start filled in), or a
    ``DomainError`` whose ``field`` (after ``field_prefix``) names the input at fault.

    ``session_types`` are the ids the window may be limited to; ``today`` is the coach's."""
    spec = spec.merged(stored)
    if spec.weekday is not None:
        _check_weekday(spec.weekday, field=f"{field_prefix}weekday")
    if spec.end <= spec.start:
        raise DomainError(
            _("%(day)s: the window %(window)s ends before it starts.")
            % {"day": window_label(spec), "window": _label(spec.start, spec.end)},
            code="window_end_before_start",
            field=f"{field_prefix}end",
        )
    if spec.weekday is None and spec.rrule is None:
        raise DomainError(
            _("Give the window a weekday (0 is Monday, 6 is Sunday) or a rule (rrule)."),
            code="invalid",
            field=f"{field_prefix}weekday",
        )
    if spec.weekday is not None and spec.rrule is not None:
        raise DomainError(
            _("Give a weekday or a rule, not both: the rule's BYDAY says which days."),
            code="invalid",
            field=f"{field_prefix}rrule",
        )
    for name in ("valid_from", "valid_until"):
        value = getattr(spec, name)
        if value is not None and not in_range_day(value):
            raise DomainError(out_of_range_message(), code="invalid", field=f"{field_prefix}{name}")
    rule = parse_rule(spec.rrule, field=f"{field_prefix}rrule") if spec.rrule is not None else None
    valid_from = spec.valid_from
    if rule is not None and rule.needs_start and valid_from is None:
        unchanged = stored is not None and stored.rrule == rule.text and stored.valid_from is None
        if not unchanged:  # a stored window is never changed behind the coach's back
            valid_from = _first_day_from(rule, today)
    if spec.valid_until is not None and valid_from is not None and spec.valid_until < valid_from:
        raise DomainError(
            _("The window ends (%(until)s) before it starts (%(start)s).")
            % {"until": spec.valid_until.isoformat(), "start": valid_from.isoformat()},
            code="invalid",
            field=f"{field_prefix}valid_until",
        )
    if rule is not None:
        start = valid_from or today - dt.timedelta(days=400)
        last = spec.valid_until or start + RULE_HORIZON
        if _first_day(rule.text, start=start, last=min(last, start + RULE_HORIZON)) is None:
            raise DomainError(
                _("This rule never falls on a day between %(first)s and %(last)s.")
                % {"first": start.isoformat(), "last": min(last, start + RULE_HORIZON).isoformat()},
                code="invalid",
                field=f"{field_prefix}rrule",
            )
    unknown = spec.session_type_ids - session_types
    if unknown:
        raise DomainError(
            _("Session type %(ids)s is not one of yours.") % {"ids": ", ".join(str(pk) for pk in sorted(unknown))},
            code="unknown_session_type",
            field=f"{field_prefix}session_types",
        )
    return dataclasses.replace(
        spec,
        rrule=rule.text if rule is not None else None,
        valid_from=valid_from,
        session_type_ids=frozenset(spec.session_type_ids),
    )


def _meet(a: WindowSpec, b: WindowSpec) -> bool:
    """Whether two weekly windows of one weekday could serve the same booking: their times
    overlap, their validity periods share a day and their session types one type."""
    if not (a.start < b.end and b.start < a.end):
        return False
    if a.valid_until is not None and b.valid_from is not None and a.valid_until < b.valid_from:
        return False
    if b.valid_until is not None and a.valid_from is not None and b.valid_until < a.valid_from:
        return False
    return not (a.session_type_ids and b.session_type_ids and not a.session_type_ids & b.session_type_ids)


def check_overlaps(windows: Sequence[WindowSpec], *, changed: WindowSpec | None = None) -> None:
    """No two weekly windows of one weekday may serve the same booking (``_meet``); with
    ``changed``, only the pairs holding it are checked (the others stood before). Windows
    with a rule are not compared: their days are the rule's."""
    by_day: dict[int, list[WindowSpec]] = {}
    for window in windows:
        if window.weekday is not None and window.rrule is None:
            by_day.setdefault(window.weekday, []).append(window)
    for weekday, day_windows in sorted(by_day.items()):
        ordered = sorted(day_windows, key=lambda w: (w.start, w.end))
        for a, b in combinations(ordered, 2):
            if (changed is None or changed in (a, b)) and _meet(a, b):
                raise DomainError(
                    f"{WEEKDAY_NAMES[weekday]}: {_label(a.start, a.end)} overlaps {_label(b.start, b.end)}.",
                    code="windows_overlap",
                )


def _stored_windows(coach: User) -> dict[int, WindowSpec]:
    windows = AvailabilityWindow.objects.filter(coach=coach).prefetch_related("session_types").order_by("pk")
    return {window.pk: WindowSpec.of(window) for window in windows}


def _recurrence_of(text: str | None) -> recurrence.Recurrence | None:
    return recurrence.deserialize(f"RRULE:{text}") if text is not None else None


def _write_window(coach: User, spec: WindowSpec, stored: WindowSpec | None) -> int:
    """Create the window, or change what differs from ``stored`` (nothing when nothing
    does); returns its id."""
    values = {
        "weekday": spec.weekday,
        "start": spec.start,
        "end": spec.end,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "allow_firm_booking": spec.allow_firm_booking,
    }
    if stored is None:
        window = AvailabilityWindow.objects.create(coach=coach, recurrence=_recurrence_of(spec.rrule), **values)
        if spec.session_type_ids:
            window.session_types.set(sorted(spec.session_type_ids))
        return window.pk
    assert stored.id is not None
    changes = {name: value for name, value in values.items() if getattr(stored, name) != value}
    if stored.rrule != spec.rrule:
        changes["recurrence"] = _recurrence_of(spec.rrule)
    if changes:
        AvailabilityWindow.objects.filter(pk=stored.id).update(**changes)
    if stored.session_type_ids != spec.session_type_ids:
        AvailabilityWindow(pk=stored.id, coach=coach).session_types.set(sorted(spec.session_type_ids))
    return stored.id


def save_window(
    *, coach: User, actor: User, spec: WindowSpec, today: dt.date | None = None
) -> tuple[AvailabilityWindow, WindowSpec]:
    """Add a window (``spec.id`` None) or change one of the coach's (what the spec keeps
    stays as stored), refusing one that would serve a booking another window of its day
    serves. Returns the window and its stored form."""
    _require_coach(coach, actor)
    with transaction.atomic():
        _lock_coach(coach)
        stored_windows = _stored_windows(coach)
        stored = None
        if spec.id is not None:
            stored = stored_windows.get(spec.id)
            if stored is None:
                raise DomainError(_("That window is not one of yours."), code="not_found", status=404)
        clean = clean_window(
            spec,
            stored=stored,
            session_types=session_type_ids_for(coach),
            today=today or today_for(coach),
        )
        others = [window for pk, window in stored_windows.items() if pk != spec.id]
        check_overlaps([*others, clean], changed=clean)
        pk = _write_window(coach, clean, stored)
    return AvailabilityWindow.objects.get(pk=pk), dataclasses.replace(clean, id=pk)


def add_window(*, coach: User, actor: User, weekday: int, start: dt.time, end: dt.time) -> AvailabilityWindow:
    """Add a weekly window, refusing one that overlaps another window of the same day."""
    _check_weekday(weekday)
    window, _spec = save_window(coach=coach, actor=actor, spec=WindowSpec(weekday, start, end))
    return window


def update_window(*, window: AvailabilityWindow, actor: User, start: dt.time, end: dt.time) -> AvailabilityWindow:
    """Change a window's hours; everything else about it stays."""
    spec = WindowSpec(window.weekday, start, end, id=window.pk, keep=OPTION_FIELDS)
    saved, _spec = save_window(coach=window.coach, actor=actor, spec=spec)
    return saved


def delete_window(*, window: AvailabilityWindow, actor: User) -> None:
    _require_coach(window.coach, actor)
    window.delete()


def set_day_windows(
    *, coach: User, actor: User, weekday: int, windows: Sequence[tuple[dt.time, dt.time]]
) -> list[AvailabilityWindow]:
    """Replace one weekday's weekly windows (empty clears the day); windows that follow a
    rule stay."""
    _require_coach(coach, actor)
    _check_weekly([WindowSpec(weekday, s, e) for s, e in windows])
    with transaction.atomic():
        _lock_coach(coach)
        AvailabilityWindow.objects.filter(coach=coach, weekday=weekday, recurrence__isnull=True).delete()
        return AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(coach=coach, weekday=weekday, start=s, end=e) for s, e in sorted(windows)
        )


def copy_day_to_weekdays(*, coach: User, actor: User, source_weekday: int = Weekday.MONDAY) -> None:
    """Give Tuesday to Friday the same weekly windows as ``source_weekday`` (Monday by
    default), each with its dates, session types and firm booking setting; windows that
    follow a rule stay as they are."""
    _require_coach(coach, actor)
    with transaction.atomic():
        _lock_coach(coach)
        sources = list(
            AvailabilityWindow.objects.filter(coach=coach, weekday=source_weekday, recurrence__isnull=True)
            .prefetch_related("session_types")
            .order_by("start", "pk")
        )
        targets = [day for day in range(Weekday.MONDAY, Weekday.SATURDAY) if day != source_weekday]
        AvailabilityWindow.objects.filter(coach=coach, weekday__in=targets, recurrence__isnull=True).delete()
        for weekday in targets:
            for source in sources:
                copy = AvailabilityWindow.objects.create(
                    coach=coach,
                    weekday=weekday,
                    start=source.start,
                    end=source.end,
                    valid_from=source.valid_from,
                    valid_until=source.valid_until,
                    allow_firm_booking=source.allow_firm_booking,
                )
                types = [t.pk for t in source.session_types.all()]
                if types:
                    copy.session_types.set(types)


DEFAULT_PATTERN = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 0)))


def apply_default_pattern(*, coach: User, actor: User) -> None:
    """Monday to Friday, 09:00–12:00 and 13:00–17:00; weekends off."""
    with transaction.atomic():
        for weekday in Weekday.values:
            windows = DEFAULT_PATTERN if weekday < Weekday.SATURDAY else ()
            set_day_windows(coach=coach, actor=actor, weekday=weekday, windows=windows)


# ---------------------------------------------------------------------------------------
# Overrides and time off
# ---------------------------------------------------------------------------------------


def set_override(
    *,
    coach: User,
    actor: User,
    date: dt.date,
    windows: Sequence[tuple[dt.time, dt.time]],
    reason: str = "",
    today: dt.date | None = None,
) -> DateOverride:
    """Make ``date`` a day off (no windows) or give it its own windows."""
    _require_coach(coach, actor)
    today = today or timezone.localdate(timezone=coach_zone(coach))
    if date < today:
        raise DomainError(_("%(date)s is in the past.") % {"date": format_date(date, "d M Y")}, code="date_in_past")
    check_windows(windows, day_label=format_date(date, "D d M"))
    with transaction.atomic():
        override, _created = DateOverride.objects.update_or_create(
            coach=coach, date=date, defaults={"reason": clean_text(reason, SHORT_TEXT, field="reason")[:120]}
        )
        override.windows.all().delete()
        OverrideWindow.objects.bulk_create(OverrideWindow(override=override, start=s, end=e) for s, e in windows)
    return override


def remove_override(*, override: DateOverride, actor: User) -> None:
    _require_coach(override.coach, actor)
    override.delete()


def add_time_off(
    *, coach: User, actor: User, start_date: dt.date, end_date: dt.date, reason: str = "", today: dt.date | None = None
) -> TimeOff:
    _require_coach(coach, actor)
    today = today or timezone.localdate(timezone=coach_zone(coach))
    if end_date < start_date:
        raise DomainError(_("The time off ends before it starts."), code="time_off_end_before_start")
    if start_date < today:
        raise DomainError(
            _("%(date)s is in the past.") % {"date": format_date(start_date, "d M Y")}, code="date_in_past"
        )
    return TimeOff.objects.create(
        coach=coach,
        start_date=start_date,
        end_date=end_date,
        reason=clean_text(reason, SHORT_TEXT, field="reason")[:120],
    )


def remove_time_off(*, time_off: TimeOff, actor: User) -> None:
    _require_coach(time_off.coach, actor)
    time_off.delete()


# ---------------------------------------------------------------------------------------
# Everything at once (the API's PUT)
# ---------------------------------------------------------------------------------------


def _override_state(override: DateOverride) -> tuple[str, tuple[tuple[dt.time, dt.time], ...]]:
    return override.reason, tuple(sorted((w.start, w.end) for w in override.windows.all()))


def _clean_overrides(
    overrides: Sequence[OverrideSpec], *, stored: Mapping[dt.date, DateOverride], today: dt.date
) -> list[OverrideSpec]:
    """The overrides from today on, checked. A past day may be sent only as it is stored
    (so what a GET showed at 23:59 can be sent back after midnight); it stays as it is."""
    seen: set[dt.date] = set()
    kept: list[OverrideSpec] = []
    for override in overrides:
        if override.date in seen:
            raise DomainError(
                _("%(date)s is listed twice.") % {"date": f"{override.date:%Y-%m-%d}"}, code="duplicate_override"
            )
        seen.add(override.date)
        clean = OverrideSpec(override.date, tuple(sorted(override.windows)), override.reason[:120])
        if override.date < today:
            past = stored.get(override.date)
            if past is None or _override_state(past) != (clean.reason, clean.windows):
                raise DomainError(
                    _("%(date)s is in the past.") % {"date": f"{override.date:%Y-%m-%d}"}, code="date_in_past"
                )
            continue
        check_windows(clean.windows, day_label=f"{override.date:%Y-%m-%d}")
        kept.append(clean)
    return kept


def _write_overrides(
    coach: User, overrides: Sequence[OverrideSpec], *, stored: Mapping[dt.date, DateOverride], today: dt.date
) -> None:
    """Make the overrides from today on the given ones, touching only what differs."""
    wanted = {override.date: override for override in overrides}
    gone = [row.pk for day, row in stored.items() if day >= today and day not in wanted]
    if gone:
        DateOverride.objects.filter(pk__in=gone).delete()
    for day, override in wanted.items():
        row = stored.get(day)
        if row is None:
            row = DateOverride.objects.create(coach=coach, date=day, reason=override.reason)
        else:
            reason, windows = _override_state(row)
            if (reason, windows) == (override.reason, override.windows):
                continue
            if reason != override.reason:
                row.reason = override.reason
                row.save(update_fields=["reason"])
            if windows == override.windows:
                continue
            row.windows.all().delete()
        OverrideWindow.objects.bulk_create(OverrideWindow(override=row, start=s, end=e) for s, e in override.windows)


def replace_availability(
    *,
    coach: User,
    actor: User,
    weekly: Sequence[WindowSpec],
    overrides: Sequence[OverrideSpec],
    timezone_name: str | None = None,
) -> None:
    """Make the coach's windows exactly ``weekly`` and their overrides from today on
    exactly ``overrides``, all or nothing; with ``timezone_name``, the coach's zone
    changes in the same transaction.

    A spec with an ``id`` changes that window in place (what it keeps stays as stored);
    one without is a new window; a stored window no spec names is removed. Past overrides
    are kept as history. Nothing that is already as given is written, so sending back
    what ``GET /api/v1/availability`` showed changes nothing.
    """
    _require_coach(coach, actor)
    if timezone_name is not None:
        if canonical_zone(timezone_name) is None:
            raise DomainError(
                _("“%(zone)s” is not a time zone we know. Use an IANA name such as Europe/Paris.")
                % {"zone": timezone_name},
                code="invalid_timezone",
                field="timezone",
            )
        timezone_name = canonical_zone(timezone_name)
    today = timezone.localdate(timezone=ZoneInfo(timezone_name or coach.timezone))
    with transaction.atomic():
        _lock_coach(coach)
        stored = _stored_windows(coach)
        session_types = session_type_ids_for(coach)
        named: set[int] = set()
        cleaned: list[WindowSpec] = []
        for index, spec in enumerate(weekly):
            if spec.id is not None:
                if spec.id not in stored:
                    raise DomainError(
                        _("Window %(id)s is not one of yours; leave the id out for a new window.") % {"id": spec.id},
                        code="invalid",
                        field=f"weekly.{index}.id",
                    )
                if spec.id in named:
                    message = _("Window %(id)s is listed twice.") % {"id": spec.id}
                    raise DomainError(message, code="invalid", field=f"weekly.{index}.id")
                named.add(spec.id)
            cleaned.append(
                clean_window(
                    spec,
                    stored=stored.get(spec.id) if spec.id is not None else None,
                    session_types=session_types,
                    today=today,
                    field_prefix=f"weekly.{index}.",
                )
            )
        check_overlaps(cleaned)
        stored_overrides = {
            row.date: row for row in DateOverride.objects.filter(coach=coach).prefetch_related("windows")
        }
        kept_overrides = _clean_overrides(overrides, stored=stored_overrides, today=today)

        if timezone_name is not None and timezone_name != coach.timezone:
            coach.timezone = timezone_name
            coach.save(update_fields=["timezone"])
        gone = [pk for pk in stored if pk not in named]
        if gone:
            AvailabilityWindow.objects.filter(pk__in=gone).delete()
        for spec in cleaned:
            _write_window(coach, spec, stored.get(spec.id) if spec.id is not None else None)
        _write_overrides(coach, kept_overrides, stored=stored_overrides, today=today)


def coach_zone(coach: User) -> ZoneInfo:
    return ZoneInfo(coach.timezone)


def today_for(coach: User) -> dt.date:
    """Today's date on the coach's wall clock."""
    return timezone.localdate(timezone=coach_zone(coach))
