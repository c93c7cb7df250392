"""Every write to a coach's availability: weekly windows, date overrides, time off.

Each function validates like the editor does and raises ``DomainError`` with a message a
coach can act on; ``replace_availability`` swaps the whole set in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from availability.models import AvailabilityWindow, DateOverride, OverrideWindow, TimeOff, Weekday
from config.errors import DomainError, NotAllowed
from config.inputs import SHORT_TEXT, canonical_zone, clean_text

WEEKDAY_NAMES = dict(Weekday.choices)


@dataclass(frozen=True)
class WindowSpec:
    """A window as typed by a coach: a weekday and local start/end times."""

    weekday: int
    start: dt.time
    end: dt.time


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
                f"{day_label}: the window {_label(start, end)} ends before it starts.", code="window_end_before_start"
            )
    ordered = sorted(windows)
    for (a_start, a_end), (b_start, b_end) in pairwise(ordered):
        if b_start < a_end:
            raise DomainError(
                f"{day_label}: {_label(a_start, a_end)} overlaps {_label(b_start, b_end)}.", code="windows_overlap"
            )


def _require_coach(coach: User, actor: User) -> None:
    if not coach.is_coach:
        raise DomainError("Only coaches have availability.", code="not_a_coach")
    if actor.pk != coach.pk and not actor.is_staff_member:
        raise NotAllowed("You can only change your own availability.")


def _check_weekly(windows: Iterable[WindowSpec]) -> None:
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for window in windows:
        if window.weekday not in WEEKDAY_NAMES:
            raise DomainError(
                f"Weekday {window.weekday} does not exist (0 is Monday, 6 is Sunday).", code="bad_weekday"
            )
        by_day.setdefault(window.weekday, []).append((window.start, window.end))
    for weekday, day_windows in by_day.items():
        check_windows(day_windows, day_label=WEEKDAY_NAMES[weekday])


def add_window(*, coach: User, actor: User, weekday: int, start: dt.time, end: dt.time) -> AvailabilityWindow:
    """Add a weekly window, refusing one that overlaps another window of the same day."""
    _require_coach(coach, actor)
    with transaction.atomic():
        existing = list(
            AvailabilityWindow.objects.select_for_update()
            .filter(coach=coach, weekday=weekday, recurrence__isnull=True)
            .values_list("start", "end")
        )
        _check_weekly([WindowSpec(weekday, s, e) for s, e in existing] + [WindowSpec(weekday, start, end)])
        return AvailabilityWindow.objects.create(coach=coach, weekday=weekday, start=start, end=end)


def update_window(*, window: AvailabilityWindow, actor: User, start: dt.time, end: dt.time) -> AvailabilityWindow:
    _require_coach(window.coach, actor)
    with transaction.atomic():
        others = list(
            AvailabilityWindow.objects.select_for_update()
            .filter(coach=window.coach, weekday=window.weekday, recurrence__isnull=True)
            .exclude(pk=window.pk)
            .values_list("start", "end")
        )
        if window.weekday is not None:
            _check_weekly(
                [WindowSpec(window.weekday, s, e) for s, e in others] + [WindowSpec(window.weekday, start, end)]
            )
        else:
            check_windows([(start, end)], day_label="Window")
        window.start, window.end = start, end
        window.save(update_fields=["start", "end"])
    return window


def delete_window(*, window: AvailabilityWindow, actor: User) -> None:
    _require_coach(window.coach, actor)
    window.delete()


def set_day_windows(
    *, coach: User, actor: User, weekday: int, windows: Sequence[tuple[dt.time, dt.time]]
) -> list[AvailabilityWindow]:
    """Replace one weekday's windows (empty clears the day)."""
    _require_coach(coach, actor)
    _check_weekly([WindowSpec(weekday, s, e) for s, e in windows])
    with transaction.atomic():
        AvailabilityWindow.objects.filter(coach=coach, weekday=weekday, recurrence__isnull=True).delete()
        return AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(coach=coach, weekday=weekday, start=s, end=e) for s, e in sorted(windows)
        )


def copy_day_to_weekdays(*, coach: User, actor: User, source_weekday: int = Weekday.MONDAY) -> None:
    """Give Tuesday to Friday the same windows as ``source_weekday`` (Monday by default)."""
    _require_coach(coach, actor)
    windows = list(
        AvailabilityWindow.objects.filter(coach=coach, weekday=source_weekday, recurrence__isnull=True).values_list(
            "start", "end"
        )
    )
    with transaction.atomic():
        for weekday in range(Weekday.MONDAY, Weekday.SATURDAY):
            if weekday != source_weekday:
                set_day_windows(coach=coach, actor=actor, weekday=weekday, windows=windows)


DEFAULT_PATTERN = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 0)))


def apply_default_pattern(*, coach: User, actor: User) -> None:
    """Monday to Friday, 09:00–12:00 and 13:00–17:00; weekends off."""
    with transaction.atomic():
        for weekday in Weekday.values:
            windows = DEFAULT_PATTERN if weekday < Weekday.SATURDAY else ()
            set_day_windows(coach=coach, actor=actor, weekday=weekday, windows=windows)


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
        raise DomainError(f"{date:%d %b %Y} is in the past.", code="date_in_past")
    check_windows(windows, day_label=f"{date:%a %d %b}")
    with transaction.atomic():
        override, _ = DateOverride.objects.update_or_create(
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
        raise DomainError("The time off ends before it starts.", code="time_off_end_before_start")
    if start_date < today:
        raise DomainError(f"{start_date:%d %b %Y} is in the past.", code="date_in_past")
    return TimeOff.objects.create(
        coach=coach,
        start_date=start_date,
        end_date=end_date,
        reason=clean_text(reason, SHORT_TEXT, field="reason")[:120],
    )


def remove_time_off(*, time_off: TimeOff, actor: User) -> None:
    _require_coach(time_off.coach, actor)
    time_off.delete()


def replace_availability(
    *,
    coach: User,
    actor: User,
    weekly: Sequence[WindowSpec],
    overrides: Sequence[OverrideSpec],
    timezone_name: str | None = None,
) -> None:
    """Replace the weekly windows and the overrides from today on, all or nothing; with
    ``timezone_name``, the coach's zone changes in the same transaction.

    Everything is validated before anything is written; past overrides are kept as history.
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
    _check_weekly(weekly)
    today = timezone.localdate(timezone=ZoneInfo(timezone_name or coach.timezone))
    seen: set[dt.date] = set()
    for override in overrides:
        if override.date in seen:
            raise DomainError(f"{override.date:%Y-%m-%d} is listed twice.", code="duplicate_override")
        seen.add(override.date)
        if override.date < today:
            raise DomainError(f"{override.date:%Y-%m-%d} is in the past.", code="date_in_past")
        check_windows(override.windows, day_label=f"{override.date:%Y-%m-%d}")
    with transaction.atomic():
        # Lock the coach's row so two replacements of one calendar can't interleave.
        User.objects.select_for_update().filter(pk=coach.pk).first()
        if timezone_name is not None and timezone_name != coach.timezone:
            coach.timezone = timezone_name
            coach.save(update_fields=["timezone"])
        AvailabilityWindow.objects.filter(coach=coach, recurrence__isnull=True).delete()
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(coach=coach, weekday=w.weekday, start=w.start, end=w.end) for w in weekly
        )
        DateOverride.objects.filter(coach=coach, date__gte=today).delete()
        for override in overrides:
            created = DateOverride.objects.create(coach=coach, date=override.date, reason=override.reason[:120])
            OverrideWindow.objects.bulk_create(
                OverrideWindow(override=created, start=s, end=e) for s, e in override.windows
            )


def coach_zone(coach: User) -> ZoneInfo:
    return ZoneInfo(coach.timezone)


def today_for(coach: User) -> dt.date:
    """Today's date on the coach's wall clock."""
    return timezone.localdate(timezone=coach_zone(coach))
