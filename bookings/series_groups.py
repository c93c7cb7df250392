"""A client's dashboard with each recurring series as one entry ("Weekly, Tuesdays 18:00,
7 of 12 left", its next session, a link to the series page) instead of one row per
occurrence; single bookings are left as they are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse

from bookings.models import ACTIVE_STATUSES, Booking, Series
from bookings.services import series as series_services


@dataclass(frozen=True)
class SeriesEntry:
    series: Series
    description: str  # "Weekly, Tuesdays 18:00, 7 of 12 left"
    left: int
    total: int
    url: str


def group_series(upcoming: list[Booking], *, now: dt.datetime) -> list[Booking]:
    """``upcoming`` (soonest first) with only the next occurrence of each series kept, that
    booking carrying ``series_entry``; one read when a series is there, none otherwise."""
    ids = {booking.series_id for booking in upcoming if booking.series_id}
    if not ids:
        return upcoming
    found = Series.objects.filter(pk__in=ids).annotate(
        total=Count("bookings"),
        left=Count("bookings", filter=Q(bookings__status__in=ACTIVE_STATUSES, bookings__session__end__gt=now)),
    )
    entries = {
        series.pk: SeriesEntry(
            series=series,
            description=series_services.describe(series, left=series.left, total=series.total),
            left=series.left,
            total=series.total,
            url=reverse("series_detail", args=[series.pk]),
        )
        for series in found
    }
    grouped, seen = [], set()
    for booking in upcoming:
        if booking.series_id in entries:
            if booking.series_id in seen:
                continue
            seen.add(booking.series_id)
            booking.series_entry = entries[booking.series_id]
        grouped.append(booking)
    return grouped
