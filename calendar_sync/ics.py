"""An iCalendar document → the busy times it holds between two instants. Pure: no
database, no network.

Recurring events are expanded by ``recurring-ical-events`` in their own zones (RRULE,
RDATE, EXDATE and RECURRENCE-ID overrides; ``X-WR-TIMEZONE`` as Google writes it). Each
occurrence becomes a busy time unless it is cancelled, marked free (``TRANSP:TRANSPARENT``)
and the coach counts free events as free, or all-day and the coach leaves all-day events
free. An all-day event is busy from midnight to midnight of the coach's own zone; a time
with no zone ("floating") is read in the coach's zone. Busy times longer than a day are
cut into pieces of at most a day (the ledger's reads assume no row is longer)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.utils.translation import gettext as _

PIECE = dt.timedelta(days=1)


class FeedError(Exception):
    """A document that is not a calendar we can read, said in plain words."""


@dataclass(frozen=True, order=True)
class Busy:
    start: dt.datetime  # UTC
    end: dt.datetime
    uid: str


def _instant(value: dt.datetime | dt.date, zone: ZoneInfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def busy_times(
    document: bytes,
    *,
    zone: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
    all_day_busy: bool = True,
    free_busy: bool = False,
    ours: Callable[[str], bool] = lambda uid: False,
) -> list[Busy]:
    """The busy times of ``document`` that touch [start, end), in order; events whose UID
    ``ours`` recognises (this product's own, written into the calendar) are left out."""
    try:
        calendar = icalendar.Calendar.from_ical(document)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise FeedError(_("The address did not give a calendar: what came back is not iCalendar data.")) from error
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise FeedError(_("The address did not give a calendar: what came back is not iCalendar data."))
    try:
        occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).between(start, end)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise FeedError(_("The calendar could not be read: an event in it is malformed.")) from error
    found: set[Busy] = set()
    for event in occurrences:
        uid = str(event.get("UID", ""))
        if ours(uid):
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT" and not free_busy:
            continue
        if "DTSTART" not in event:
            continue
        first = event["DTSTART"].dt
        last = event["DTEND"].dt if "DTEND" in event else None
        all_day = not isinstance(first, dt.datetime)
        if all_day and not all_day_busy:
            continue
        if last is None:
            last = first + dt.timedelta(days=1) if all_day else first
        found.update(pieces(uid, _instant(first, zone), _instant(last, zone), start=start, end=end))
    return sorted(found)


def pieces(uid: str, begins: dt.datetime, ends: dt.datetime, *, start: dt.datetime, end: dt.datetime) -> list[Busy]:
    """The busy time [begins, ends) cut to [start, end) and into pieces of at most a day."""
    found = []
    begins, ends = max(begins, start), min(ends, end)
    while begins < ends:
        piece = min(ends, begins + PIECE)
        found.append(Busy(begins, piece, uid[:255]))
        begins = piece
    return found


def all_day(first: dt.date, last: dt.date | None, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """An all-day event from ``first`` to ``last`` (exclusive; the next day when none):
    midnight to midnight of the coach's zone, in UTC."""
    return _instant(first, zone), _instant(last or first + dt.timedelta(days=1), zone)
