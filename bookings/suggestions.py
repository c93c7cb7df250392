"""Suggested times for one client with one coach and session type: the free slots over a
window around the anchor (the slot engine, once), the client's history with the coach
(one query), ranked by the pure ``availability.suggest.rank``, with the words each
suggestion is shown with.

Used where a time can't be had: the wizard when the chosen time is gone or the chosen day
is full, a declined request's page ("Book one of these instead"), and the coach's "Suggest
times" form, which starts filled with the best few.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext

from accounts.models import User
from availability import suggest
from availability.rules import TagRuleView, rules_for
from availability.selectors import free_slots, tag_rules_for
from availability.slots import Slot
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, SessionType

# Sessions that show a client's habit: held or done, not cancelled, declined or missed.
HISTORY_STATUSES = (BookingStatus.COMPLETED, BookingStatus.CONFIRMED, BookingStatus.FIRM_BOOKED)
HISTORY_LIMIT = 52  # about a year of weekly sessions; older ones weigh little anyway
WINDOW_DAYS = 14  # days either side of the anchor's day the suggestions come from
PREFILL_COUNT = 3  # how many of the coach's "Suggest times" boxes start filled
INSTANT = "%Y-%m-%dT%H:%M:%SZ"  # a UTC start in a wizard URL, as the wizard writes it


@dataclass(frozen=True)
class SuggestedTime:
    """A suggestion as pages show it: the slot (UTC), why (``suggest.NEAREST`` or
    ``suggest.PATTERN``) and the words for it."""

    start: dt.datetime
    end: dt.datetime
    kind: str
    reason: str


def client_history(client: User | None, coach: User, *, limit: int = HISTORY_LIMIT) -> list[dt.datetime]:
    """The starts of ``client``'s sessions with ``coach`` that show their habits (completed,
    or booked — past or ahead), latest first: one query (none for a visitor)."""
    if client is None or client.pk is None:
        return []
    return list(
        Booking.objects.filter(client=client, session__coach=coach, status__in=HISTORY_STATUSES)
        .order_by("-session__start")
        .values_list("session__start", flat=True)[:limit]
    )


def _without_clients_own(slots: Sequence[Slot], client: User | None, *, ignore_session_id: int | None) -> list[Slot]:
    """The slots that don't overlap a session the client already has (booked, requested or
    held; one query): a suggestion they could not take is no suggestion."""
    if client is None or client.pk is None or not slots:
        return list(slots)
    taken = list(
        Booking.objects.filter(
            client=client,
            status__in=ACTIVE_STATUSES,
            session__start__lt=max(slot.end for slot in slots),
            session__end__gt=min(slot.start for slot in slots),
        )
        .exclude(session_id=ignore_session_id)
        .values_list("session__start", "session__end")
    )
    return [slot for slot in slots if not any(start < slot.end and slot.start < end for start, end in taken)]


def window(anchor: dt.datetime, *, zone: ZoneInfo, today: dt.date, last_day: dt.date) -> tuple[dt.date, dt.date] | None:
    """The local days (in ``zone``) the suggestions come from: ``WINDOW_DAYS`` either side
    of the anchor's day, from today at the earliest and to ``last_day`` (the booking
    window's) at the latest; None when nothing is left."""
    day = anchor.astimezone(zone).date()
    first = max(today, day - dt.timedelta(days=WINDOW_DAYS))
    last = min(last_day, max(day, today) + dt.timedelta(days=WINDOW_DAYS))
    return None if first > last else (first, last)


def wizard_url(session_type: SessionType, start: dt.datetime, zone: ZoneInfo) -> str:
    """The wizard's time step for ``session_type`` with ``start`` chosen (its day read in
    ``zone``, the viewer's), as the day's own time links are."""
    query = {"date": f"{start.astimezone(zone):%Y-%m-%d}", "start": start.astimezone(dt.UTC).strftime(INSTANT)}
    return f"{reverse('book_type', args=[session_type.coach_id, session_type.pk])}?{urlencode(query)}"


def _pattern_text(habit: suggest.Habit, *, client: User, viewer: User | None, zone: ZoneInfo) -> str:
    when = {"day": WEEKDAYS[habit.weekday], "time": f"{habit.start:%H:%M}"}
    if viewer is not None and viewer.pk != client.pk:
        text = gettext("%(name)s's usual %(day)s %(time)s") % {**when, "name": client.display_name}
    else:
        text = gettext("Your usual %(day)s %(time)s") % when
    if client.timezone != zone.key:
        text = gettext("%(text)s (%(zone)s)") % {"text": text, "zone": client.timezone}
    return text


def suggested_times(
    *,
    coach: User,
    session_type: SessionType,
    client: User | None,
    anchor: dt.datetime,
    zone: ZoneInfo,
    nearest_text: str,
    viewer: User | None = None,
    now: dt.datetime | None = None,
    limit: int = suggest.DEFAULT_LIMIT,
    last_day: dt.date | None = None,
    loaded: tuple[dt.date, dt.date, Sequence[Slot]] | None = None,
    tag_rules: list[TagRuleView] | None = None,
    ignore_session_id: int | None = None,
    exclude: Sequence[dt.datetime] = (),
) -> list[SuggestedTime]:
    """Up to ``limit`` free times of ``session_type`` to offer ``client`` instead of
    ``anchor``, best first (``availability.suggest.rank``), the reasons in words: a nearest
    time says ``nearest_text`` ("Closest to the time you chose"), a usual one names the
    client's habit (as ``viewer`` reads it: "Your usual …" for the client).

    ``zone`` is the viewer's: the window's days are read in it. ``loaded`` is
    (first day, last day, free slots) the caller already has; when they cover the window
    no more is read. Otherwise the slot engine runs once over the window. The history is
    one query. A slot starting at one of ``exclude`` is not offered."""
    now = now or timezone.now()
    today = now.astimezone(zone).date()
    if tag_rules is None:
        tag_rules = tag_rules_for(client, coach)
    if last_day is None:
        rules = rules_for(coach.coach_profile, session_type, tag_rules=tag_rules)
        last_day = (now + rules.booking_window).astimezone(zone).date()
    days = window(anchor, zone=zone, today=today, last_day=last_day)
    if days is None:
        return []
    first, last = days
    if loaded is not None and loaded[0] <= first and last <= loaded[1]:
        slots = [slot for slot in loaded[2] if first <= slot.start.astimezone(zone).date() <= last]
    else:
        slots = free_slots(
            coach=coach,
            session_type=session_type,
            start_date=first,
            end_date=last,
            viewer_tz=zone,
            now=now,
            client=client,
            tag_rules=tag_rules,
            ignore_session_id=ignore_session_id,
        )
    slots = _without_clients_own(slots, client, ignore_session_id=ignore_session_id)
    if not slots:
        return []
    client_zone = ZoneInfo(client.timezone) if client is not None and client.pk is not None else zone
    ranked = suggest.rank(
        slots,
        anchor=anchor,
        now=now,
        history=client_history(client, coach),
        zone=client_zone,
        limit=limit,
        exclude=exclude,
    )
    return [
        SuggestedTime(
            start=item.start,
            end=item.end,
            kind=item.reason,
            reason=(
                _pattern_text(item.habit, client=client, viewer=viewer, zone=zone)
                if item.habit is not None and client is not None
                else nearest_text
            ),
        )
        for item in ranked
    ]
