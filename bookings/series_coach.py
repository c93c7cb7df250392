"""What the coach's pages show of recurring series: the requests queue with a series'
requested occurrences as one item (one decision), and the series still running with how
many of their sessions are left ("Weekly, Tuesdays 18:00, 7 of 12 left").

Read only; the answers go through ``bookings.services.series``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from bookings import selectors
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, Series
from bookings.services import series as series_services
from config.dates import format_when

# How many series the dashboard lists.
SERIES_LIMIT = 20


@dataclass
class SeriesRequest:
    """The requested occurrences of one series, answered once."""

    series: Series
    bookings: list[Booking]  # by start

    is_series = True

    @property
    def pk(self) -> int:
        return self.series.pk

    @property
    def client(self) -> User:
        return self.bookings[0].client

    @property
    def first(self) -> Booking:
        return self.bookings[0]

    @property
    def requested(self) -> list[Booking]:
        return [booking for booking in self.bookings if booking.status == BookingStatus.REQUESTED]

    @property
    def open(self) -> bool:
        return bool(self.requested)

    @property
    def suggested(self) -> list[Booking]:
        """The open requests the coach answered with another time (still the client's turn)."""
        return [booking for booking in self.requested if booking.suggested_alternatives]

    @property
    def suggestion(self) -> str:
        """ "Thursdays 14:00 from 3 Dec" (the series' zone): the time suggested for the
        series, or "" when none is."""
        waiting = self.suggested
        return suggestion_text(waiting[0], ZoneInfo(self.series.timezone)) if waiting else ""

    @property
    def answer_zone(self) -> str:
        """The zone the coach's suggested time is typed in: the coach's."""
        return self.first.session.coach.timezone

    @property
    def first_day(self) -> str:
        """The first open date, YYYY-MM-DD in the coach's zone (the suggest form's start)."""
        waiting = self.requested or self.bookings
        return f"{waiting[0].session.start.astimezone(ZoneInfo(self.answer_zone)):%Y-%m-%d}"

    @property
    def title(self) -> str:
        """ "Weekly, Tuesdays 18:00 from 9 Mar, 8 sessions" (the series' zone)."""
        zone = ZoneInfo(self.series.timezone)
        count = len(self.bookings)
        first = self.first.session.start.astimezone(zone)
        return ngettext(
            "%(rule)s from %(first)s, %(count)d session",
            "%(rule)s from %(first)s, %(count)d sessions",
            count,
        ) % {
            "rule": series_services.describe(self.series),
            "first": format_when(first, "date_short_no_year"),
            "count": count,
        }


def suggested_start(booking: Booking) -> dt.datetime | None:
    """The time the coach suggested for an open request of a series (its first), or None."""
    if booking.status != BookingStatus.REQUESTED or not booking.suggested_alternatives:
        return None
    return dt.datetime.fromisoformat(booking.suggested_alternatives[0])


def suggestion_text(booking: Booking, zone: ZoneInfo) -> str:
    """ "Thursdays 14:00 from 3 Dec": the suggested time of a series whose first open
    request is ``booking``, in ``zone``."""
    start = suggested_start(booking)
    if start is None:
        return ""
    local = start.astimezone(zone)
    return _("%(day)ss %(time)s from %(first)s") % {
        "day": format_when(local, "weekday_long"),
        "time": f"{local:%H:%M}",
        "first": format_when(local, "date_short_no_year"),
    }


def queue_items(requests: Iterable[Booking], *, answered: Iterable[Booking] = ()) -> list[Booking | SeriesRequest]:
    """The queue in its order, each series' requests gathered as one item where its first
    request stood. ``answered``: occurrences just answered, kept in their series' item."""
    items: list[Booking | SeriesRequest] = []
    by_series: dict[int, SeriesRequest] = {}
    for booking in [*requests, *answered]:
        if booking.series_id is None:
            items.append(booking)
            continue
        item = by_series.get(booking.series_id)
        if item is None:
            item = by_series[booking.series_id] = SeriesRequest(series=booking.series, bookings=[])
            items.append(item)
        if all(other.pk != booking.pk for other in item.bookings):
            item.bookings.append(booking)
    for item in by_series.values():
        item.bookings.sort(key=lambda booking: (booking.session.start, booking.pk))
    return items


def series_request(series: Series, *, answered: Iterable[Booking] = ()) -> SeriesRequest | None:
    """The queue item of ``series``: its requests still waiting, with ``answered`` (the
    ones just answered, so the item shows what happened); None when nothing is left."""
    waiting = list(selectors.requests_queue(series.coach).filter(series=series).select_related("series"))
    items = [item for item in queue_items(waiting, answered=answered) if isinstance(item, SeriesRequest)]
    return items[0] if items else None


def queue_count(coach: User) -> int:
    """How many items the queue shows: a single request, or a whole series, is one."""
    return len(queue_items(selectors.requests_queue(coach).select_related("series")))


@dataclass(frozen=True)
class RunningSeries:
    series: Series
    left: int
    total: int
    waiting: int  # occurrences still requested

    @property
    def text(self) -> str:
        return series_services.describe(self.series, left=self.left, total=self.total)


def running_series(coach: User, *, now: dt.datetime | None = None) -> list[RunningSeries]:
    """The series ``coach`` hosts that still have a session to come, the soonest first, with
    how many are left of how many (cancelled and declined occurrences don't count)."""
    now = now or timezone.now()
    coming = Q(bookings__status__in=ACTIVE_STATUSES, bookings__session__start__gt=now)
    rows = (
        Series.objects.filter(coach=coach)
        .annotate(
            left=Count("bookings", filter=coming),
            total=Count(
                "bookings",
                filter=~Q(bookings__status__in=(BookingStatus.CANCELLED, BookingStatus.DECLINED)),
            ),
            waiting=Count(
                "bookings", filter=Q(bookings__status=BookingStatus.REQUESTED, bookings__session__start__gt=now)
            ),
        )
        .filter(left__gt=0)
        .select_related("client", "session_type")
        .order_by("first_start", "pk")[:SERIES_LIMIT]
    )
    return [RunningSeries(row, row.left, row.total, row.waiting) for row in rows]


def decline_one_message(booking: Booking) -> str:
    zone = ZoneInfo(booking.session.coach.timezone)
    return _("Declined %(when)s only; the rest of the series still waits for your answer.") % {
        "when": format_when(booking.session.start.astimezone(zone), "datetime_short_no_year")
    }
