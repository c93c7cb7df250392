"""``VTIMEZONE`` definitions (RFC 5545 3.6.5) that every calendar parser reads the same way.

Calendar apps disagree on how much of a ``VTIMEZONE`` they read: Google and Apple mostly
trust the ``TZID`` name, Outlook and the ical.js-based clients (Thunderbird, Nextcloud) and
libical (Evolution) compute every time from the definition. So the definition is written
in the plainest form all of them read alike:

- where the zone follows a yearly rule — the rule tzdata gives for the zone's future (the
  POSIX TZ string at the end of its TZif file, e.g. ``CET-1CEST,M3.5.0,M10.5.0/3``) and
  the zone's actual changes match it — one ``STANDARD`` and one ``DAYLIGHT`` observance,
  each with a yearly ``RRULE`` (``FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU``), as Apple, Google and
  tzurl write them;
- every other change (Casablanca's around Ramadan, São Paulo's last before DST was
  abolished, any change of a zone's rule) as single-valued ``RDATE`` lines, one change per
  line, the ``DTSTART``'s own included (ical.js reads only the first value of an ``RDATE``
  and skips ``DTSTART`` when an ``RDATE`` is present);
- every onset in the local time of its ``TZOFFSETFROM``, as RFC 5545 says (02:00 for
  Paris's spring change, 03:00 for its autumn one);
- from the zone's last change at or before the document's first time (or 1970, a zone that
  has not changed since gets one observance) to a year past its last time: every event of
  the document, past ones included, falls inside the definition, and a year's changes past
  it show the rule (so one winter event still carries the summer rule, for an app that
  moves the event or copies the zone).

The changes themselves are read from ``zoneinfo`` (the same zone the product converts with),
day by day, each pinned to the second; the TZif file only supplies the rule's shape.
"""

from __future__ import annotations

import calendar as gregorian
import datetime as dt
import functools
import importlib.resources
import os
import re
import zoneinfo
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
SECOND = dt.timedelta(seconds=1)
YEAR_AFTER = dt.timedelta(days=367)  # how far past a document's last day its definition goes
WEEKDAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX numbers them from Sunday = 0


@dataclass(frozen=True, slots=True)
class State:
    """What a zone says at an instant."""

    offset: dt.timedelta
    name: str
    dst: dt.timedelta


@dataclass(frozen=True, slots=True)
class Change:
    """The zone going from ``before`` to ``after`` at the UTC instant ``at``."""

    at: dt.datetime
    before: State
    after: State

    @property
    def onset(self) -> dt.datetime:
        """The change's local time in the offset it leaves (RFC 5545's ``DTSTART``)."""
        return (self.at + self.before.offset).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Rule:
    """One yearly change of a POSIX TZ string: ``Mmonth.week.weekday/time``, ``week`` 5 = last."""

    month: int
    week: int
    weekday: int  # 0 = Sunday
    time: dt.timedelta  # local time in the offset the change leaves
    before: dt.timedelta
    after: dt.timedelta

    def onset(self, year: int) -> dt.datetime:
        first_weekday, days = gregorian.monthrange(year, self.month)  # Monday = 0
        first = 1 + (self.weekday - (first_weekday + 1) % 7) % 7
        day = first + 7 * (self.week - 1)
        while day > days:
            day -= 7
        return dt.datetime(year, self.month, day) + self.time

    def matches(self, change: Change) -> bool:
        return (change.before.offset, change.after.offset) == (self.before, self.after) and self.onset(
            change.onset.year
        ) == change.onset

    @property
    def rrule(self) -> str:
        week = -1 if self.week == 5 else self.week
        return f"FREQ=YEARLY;BYMONTH={self.month};BYDAY={week}{WEEKDAYS[self.weekday]}"


# ---------------------------------------------------------------------------------------
# The zone's changes, from zoneinfo
# ---------------------------------------------------------------------------------------


def _state(zone: ZoneInfo, at: dt.datetime) -> State:
    local = at.astimezone(zone)
    return State(local.utcoffset(), local.tzname() or "", local.dst() or dt.timedelta(0))


def _pin(zone: ZoneInfo, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    """The first second in (low, high] whose state differs from ``low``'s."""
    before = _state(zone, low)
    while high - low > SECOND:
        middle = low + ((high - low) // 2 // SECOND) * SECOND
        if _state(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _changes(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[Change]:
    """The zone's changes in (start, end], looked for day by day (zones change a few times
    a year at most, never twice in a day)."""
    changes = []
    at, state = start, _state(zone, start)
    while at < end:
        step = min(at + DAY, end)
        next_state = _state(zone, step)
        if next_state != state:
            instant = _pin(zone, at, step)
            changes.append(Change(instant, _state(zone, instant - SECOND), _state(zone, instant)))
        at, state = step, next_state
    return changes


def _last_change(zone: ZoneInfo, at: dt.datetime) -> dt.datetime | None:
    """The instant of the zone's last change at or before ``at``, back to 1970 (None if none)."""
    state = _state(zone, at)
    low = at
    while low > EPOCH:
        low = max(low - WEEK, EPOCH)
        if _state(zone, low) != state:
            return _changes(zone, low, low + WEEK)[-1].at
    return None


# ---------------------------------------------------------------------------------------
# The zone's yearly rule, from the POSIX TZ string ending its TZif file
# ---------------------------------------------------------------------------------------

_NAME = r"(?:<[^>]+>|[A-Za-z]+)"
_OFFSET = r"[+-]?\d{1,3}(?::\d{2}){0,2}"
_TZ_STRING = re.compile(
    rf"(?P<std>{_NAME})(?P<std_offset>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dst_offset>{_OFFSET})?"
    rf",M(?P<m1>\d+)\.(?P<w1>\d)\.(?P<d1>\d)(?:/(?P<t1>{_OFFSET}))?"
    rf",M(?P<m2>\d+)\.(?P<w2>\d)\.(?P<d2>\d)(?:/(?P<t2>{_OFFSET}))?)?"
)


def _duration(text: str | None, default: dt.timedelta) -> dt.timedelta:
    if text is None:
        return default
    sign = -1 if text.startswith("-") else 1
    parts = [int(part) for part in text.lstrip("+-").split(":")] + [0, 0]
    return sign * dt.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def _tz_string(key: str) -> str:
    """The POSIX TZ string of the TZif file ``ZoneInfo(key)`` reads (system zones first,
    then the ``tzdata`` package, as ``zoneinfo`` looks); empty if there is none."""
    data = b""
    for root in zoneinfo.TZPATH:
        path = os.path.join(root, key)
        if os.path.isfile(path):
            with open(path, "rb") as tzif:
                data = tzif.read()
            break
    else:
        try:
            data = importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes()
        except (ModuleNotFoundError, OSError):
            return ""
    if not data.startswith(b"TZif") or not data.endswith(b"\n"):
        return ""
    return data.rsplit(b"\n", 2)[-2].decode("ascii", "replace")


def _rules(key: str) -> tuple[Rule, Rule] | None:
    """The zone's two yearly changes (into and out of its DST) if its TZ string has them as
    ``M`` rules at a time of day RRULE can say (0:00 to 23:59:59); None otherwise."""
    match = _TZ_STRING.fullmatch(_tz_string(key))
    if not match or not match["m1"]:
        return None
    # POSIX offsets count west of Greenwich as positive.
    standard = -_duration(match["std_offset"], dt.timedelta(0))
    daylight = -_duration(match["dst_offset"], -standard - dt.timedelta(hours=1))
    rules = []
    for n, before, after in (("1", standard, daylight), ("2", daylight, standard)):
        time = _duration(match["t" + n], dt.timedelta(hours=2))
        month, week, weekday = int(match["m" + n]), int(match["w" + n]), int(match["d" + n])
        if not (dt.timedelta(0) <= time < DAY and 1 <= month <= 12 and 1 <= week <= 5 and weekday <= 6):
            return None
        rules.append(Rule(month, week, weekday, time, before, after))
    return rules[0], rules[1]


# ---------------------------------------------------------------------------------------
# The definition
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Observance:
    daylight: bool
    start: dt.datetime  # local, in ``offset_from``
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    rrule: str = ""
    rdates: list[dt.datetime] | None = None

    def lines(self) -> list[str]:
        kind = "DAYLIGHT" if self.daylight else "STANDARD"
        lines = [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(self.start)}",
            f"TZOFFSETFROM:{_utc_offset(self.offset_from)}",
            f"TZOFFSETTO:{_utc_offset(self.offset_to)}",
        ]
        if self.name:
            lines.append(f"TZNAME:{_text(self.name)}")
        if self.rrule:
            lines.append(f"RRULE:{self.rrule}")
        lines += [f"RDATE:{_local(onset)}" for onset in self.rdates or ()]
        lines.append(f"END:{kind}")
        return lines


def _local(value: dt.datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def _utc_offset(value: dt.timedelta) -> str:
    sign = "-" if value < dt.timedelta(0) else "+"
    seconds = abs(int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def _daylight_judge(states: list[State]):
    """Which states are summer time. tzdata writes a few zones with negative DST (Dublin's
    winter, Casablanca's Ramadan): there the other offset is the summer one, as calendar
    apps and Windows expect (one STANDARD winter, one DAYLIGHT summer)."""
    raised = {state.offset - state.dst for state in states if state.dst < dt.timedelta(0)}
    return lambda state: state.dst > dt.timedelta(0) or (state.dst == dt.timedelta(0) and state.offset in raised)


def _rule_suffix(changes: list[Change], rules: tuple[Rule, Rule] | None, end: dt.datetime) -> int:
    """The index from which every change follows the zone's yearly rules, each year's up to
    ``end`` present, with at least one of each rule; ``len(changes)`` if none does."""
    if not rules:
        return len(changes)
    k = len(changes)
    while k > 0 and any(rule.matches(changes[k - 1]) for rule in rules):
        k -= 1
    while k < len(changes):
        suffix = changes[k:]
        expected = sorted(
            onset - rule.before
            for rule in rules
            for year in range(suffix[0].onset.year, end.year + 2)
            for onset in [rule.onset(year)]
            if suffix[0].at <= (onset - rule.before).replace(tzinfo=UTC) <= end
        )
        found = [change.at.replace(tzinfo=None) for change in suffix]
        if found == expected and all(any(rule.matches(c) for c in suffix) for rule in rules):
            return k
        k += 1
    return k


def observances(key: str, first: dt.datetime, last: dt.datetime) -> list[Observance]:
    """The observances of zone ``key`` from its last change at or before ``first`` to
    ``last`` (UTC instants), oldest first."""
    zone = ZoneInfo(key)
    anchor = _last_change(zone, first)
    changes = _changes(zone, anchor - SECOND, last) if anchor else _changes(zone, first, last)
    initial = _state(zone, first if anchor is None else anchor - SECOND)
    is_daylight = _daylight_judge([initial, *(change.after for change in changes)])
    result = []
    if anchor is None:  # no change since 1970: one observance from then on
        result.append(
            Observance(is_daylight(initial), dt.datetime(1970, 1, 1), initial.offset, initial.offset, initial.name)
        )
    rules = _rules(zone.key)
    k = _rule_suffix(changes, rules, last)
    groups: dict[tuple, Observance] = {}
    for change in changes[:k]:
        group = (change.before.offset, change.after, is_daylight(change.after))
        if group not in groups:
            groups[group] = Observance(
                group[2], change.onset, change.before.offset, change.after.offset, change.after.name, rdates=[]
            )
            result.append(groups[group])
        groups[group].rdates.append(change.onset)
    for rule in rules if k < len(changes) else ():
        change = next(change for change in changes[k:] if rule.matches(change))
        result.append(
            Observance(
                is_daylight(change.after),
                change.onset,
                rule.before,
                rule.after,
                change.after.name,
                rrule=rule.rrule,
            )
        )
    return sorted(result, key=lambda observance: observance.start)


@functools.lru_cache(maxsize=256)
def vtimezone(key: str, first: dt.date, last: dt.date) -> str:
    """The ``VTIMEZONE`` of zone ``key`` (CRLF lines, the last one ended) covering the days
    ``first`` to ``last`` (UTC dates) with a day's margin before and a year's after; empty
    for an unknown zone. Feeds, downloads and invitations all take theirs from here."""
    try:
        zone = ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ""
    begin = dt.datetime(first.year, first.month, first.day, tzinfo=UTC) - DAY
    end = dt.datetime(last.year, last.month, last.day, tzinfo=UTC) + YEAR_AFTER
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone.key}"]
    for observance in observances(zone.key, begin, end):
        lines += observance.lines()
    lines.append("END:VTIMEZONE")
    return "\r\n".join(lines) + "\r\n"
