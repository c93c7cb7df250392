"""The occurrences of a recurring booking (issue 17): every one at the same wall-clock time
in the coach's zone, so 10:00 in New York stays 10:00 across the March change and its UTC
instant moves.

The rule is an RFC 5545 RRULE (weekly, every N weeks, monthly on the Nth weekday or the
same date, or custom), expanded on naive local times from the first start's local time,
then each local time turned into an instant by the slot engine's rule
(``availability.slots._instant``): a time that does not exist that day (inside a
spring-forward gap) is skipped — it is not offered as a slot either — and an ambiguous
one (the repeated hour of a fall-back) is its first occurrence. A series is bounded by its
``until`` or ``count``, by ``MAX_SERIES_OCCURRENCES`` and by the horizon, whichever comes
first; the first start always counts as the first occurrence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.conf import settings
from django.utils.translation import gettext as _

from availability.slots import _instant, _wall
from config.errors import DomainError

UTC = dt.UTC


@dataclass(frozen=True)
class Occurrence:
    local: dt.datetime  # naive, the coach's wall clock
    start: dt.datetime  # aware, UTC


def _rule(rrule: str, first_local: dt.datetime):
    text = (rrule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise DomainError(
            _("Give the repetition as one RRULE, e.g. FREQ=WEEKLY;COUNT=8."), code="invalid", field="rrule"
        )
    try:
        return rrulestr(text, dtstart=first_local, ignoretz=True)
    except (ValueError, TypeError, OverflowError):
        raise DomainError(_("This repetition rule is not valid."), code="invalid", field="rrule") from None


def occurrences(
    *,
    first_start: dt.datetime,
    rrule: str,
    zone: ZoneInfo,
    horizon_end: dt.datetime | None = None,
    limit: int | None = None,
) -> list[Occurrence]:
    """The occurrences of ``rrule`` from ``first_start`` (aware), at its wall-clock time in
    ``zone``, before ``horizon_end`` (aware; default: ``SERIES_HORIZON_DAYS`` after the
    first start) and at most ``limit`` (default ``MAX_SERIES_OCCURRENCES``)."""
    if first_start.tzinfo is None:
        raise DomainError(_("The start needs a time zone."), code="invalid", field="start")
    limit = settings.MAX_SERIES_OCCURRENCES if limit is None else limit
    if horizon_end is None:
        horizon_end = first_start + dt.timedelta(days=settings.SERIES_HORIZON_DAYS)
    first_local = _wall(first_start.astimezone(UTC), zone)
    rule = _rule(rrule, first_local)
    last_local = _wall(horizon_end.astimezone(UTC), zone) + dt.timedelta(days=1)
    found: list[Occurrence] = []
    for local in rule.xafter(first_local, count=None, inc=True):
        if local > last_local or len(found) >= limit:
            break
        start, exists = _instant(local, zone)
        if not exists or start >= horizon_end:
            continue
        found.append(Occurrence(local=local, start=start))
    if not found or found[0].local != first_local:
        raise DomainError(
            _("The first session must be one of the repetition's own dates."), code="invalid", field="rrule"
        )
    return found
