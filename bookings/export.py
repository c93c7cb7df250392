"""Bookings as CSV, for the back office: the admin's export action, the reports pages and
the API all write the same columns through these functions.

The first row is ``COLUMNS``: stable snake_case keys, not translated words, so a
spreadsheet formula or a script that reads the file keeps working whatever language the
person who exported it reads the site in. ``LABELS`` gives each key its translated
words, for a page that explains the columns.

A file may hold a hundred thousand bookings, so nothing is held in memory: the rows are
read in one query (every join in it) in chunks, and written out line by line as the
response is sent. Private words — the client's notes, the coach's notes, feedback — are
never exported.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from bookings.models import Booking, BookingStatus

LABELS = {
    "reference": _("Reference"),
    "status": _("Status"),
    "status_label": _("Status (in words)"),
    "session_type": _("Session type"),
    "session_kind": _("Kind"),
    "modality": _("Modality"),
    "room": _("Room"),
    "coach_name": _("Coach"),
    "coach_email": _("Coach's email"),
    "client_name": _("Client"),
    "client_email": _("Client's email"),
    "booked_by": _("Booked by"),
    "start_local": _("Start"),
    "end_local": _("End"),
    "timezone": _("Time zone"),
    "start_utc": _("Start (UTC)"),
    "end_utc": _("End (UTC)"),
    "duration_minutes": _("Duration (minutes)"),
    "created_at_utc": _("Booked at (UTC)"),
    "confirmed_at_utc": _("Confirmed at (UTC)"),
    "cancelled_at_utc": _("Cancelled at (UTC)"),
    "cancelled_by": _("Cancelled by"),
    "cancelled_by_role": _("Cancelled by (role)"),
    "cancellation_reason": _("Cancellation reason"),
    "late_cancellation": _("Late cancellation"),
    "decline_reason": _("Decline reason"),
    "price": _("Price"),
    "currency": _("Currency"),
    "deposit": _("Deposit"),
    "promo_code": _("Promotion code"),
    "series_id": _("Series"),
    "rating": _("Rating"),
    "rescheduled": _("Rescheduled"),
}
COLUMNS: tuple[str, ...] = tuple(LABELS)

# What one row needs, read in the same query as the bookings (no query per row).
FIELDS = (
    "reference",
    "status",
    "session__session_type__title",
    "session__session_type__kind",
    "session__session_type__modality",
    "session__resource__name",
    "session__coach__name",
    "session__coach__email",
    "client_id",
    "client__name",
    "client__email",
    "booked_by_id",
    "booked_by__email",
    "session__start",
    "session__end",
    "created_at",
    "confirmed_at",
    "cancelled_at",
    "cancelled_by_id",
    "cancelled_by__email",
    "cancelled_by__role",
    "cancelled_by__is_superuser",
    "cancellation_reason",
    "is_late_cancellation",
    "decline_reason",
    "price",
    "currency",
    "deposit",
    "promo_code__code",
    "series_id",
    "rating",
    "rescheduled_from_id",
)
CHUNK_SIZE = 2000

# A cell starting with one of these is read as a formula by spreadsheet apps (OWASP's CSV
# injection list); a leading apostrophe makes it plain text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def bookings_in_range(
    start: dt.datetime,
    end: dt.datetime,
    *,
    coach_id: int | None = None,
    session_type_id: int | None = None,
    resource_id: int | None = None,
) -> QuerySet[Booking]:
    """Bookings whose session starts in ``[start, end)``, in every status, earliest first
    (then by id, so the seats of one group session keep a stable order)."""
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("Give the range as aware datetimes: a naive time means a different instant in every zone.")
    bookings = Booking.objects.filter(session__start__gte=start, session__start__lt=end)
    if coach_id is not None:
        bookings = bookings.filter(session__coach_id=coach_id)
    if session_type_id is not None:
        bookings = bookings.filter(session__session_type_id=session_type_id)
    if resource_id is not None:
        bookings = bookings.filter(session__resource_id=resource_id)
    return bookings.order_by("session__start", "pk")


def rows(queryset: QuerySet[Booking], zone: ZoneInfo) -> Iterator[list[str]]:
    """One row of ``COLUMNS`` per booking of ``queryset``, in its order, times in ``zone``
    and in UTC. One query, read in chunks of ``CHUNK_SIZE``: memory stays the same for ten
    bookings or a hundred thousand."""
    status_labels = {value: str(label) for value, label in BookingStatus.choices}
    zone_name = zone.key
    for row in queryset.values_list(*FIELDS, named=True).iterator(chunk_size=CHUNK_SIZE):
        start, end = row.session__start, row.session__end
        cancelled = row.cancelled_at is not None
        yield [
            row.reference,
            row.status,
            status_labels.get(row.status, row.status),
            _text(row.session__session_type__title),
            row.session__session_type__kind,
            row.session__session_type__modality,
            _text(row.session__resource__name),
            _text(row.session__coach__name),
            _text(row.session__coach__email),
            _text(row.client__name),
            _text(row.client__email),
            "" if row.booked_by_id == row.client_id else _text(row.booked_by__email),
            _local(start, zone),
            _local(end, zone),
            zone_name,
            _utc(start),
            _utc(end),
            str((end - start) // dt.timedelta(minutes=1)),
            _utc(row.created_at),
            _utc(row.confirmed_at),
            _utc(row.cancelled_at),
            _text(row.cancelled_by__email),
            _cancelled_by_role(row) if cancelled else "",
            _text(row.cancellation_reason),
            _yes_no(row.is_late_cancellation),
            _text(row.decline_reason),
            str(row.price),
            row.currency,
            str(row.deposit),
            _text(row.promo_code__code),
            "" if row.series_id is None else str(row.series_id),
            "" if row.rating is None else str(row.rating),
            _yes_no(row.rescheduled_from_id is not None),
        ]


def stream(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """The CSV text, one line at a time, opening with a byte order mark: without it Excel
    reads the file as the machine's legacy encoding and garbles accented names."""
    writer = csv.writer(_Echo())
    yield BOM
    yield writer.writerow([str(cell) for cell in header])
    for row in rows:
        yield writer.writerow(row)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> StreamingHttpResponse:
    """A download of the CSV, sent while it is written. Never cached: it names people."""
    response = StreamingHttpResponse(stream(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    add_never_cache_headers(response)
    return response


class _Echo:
    """What the csv module writes to: hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _text(value: str | None) -> str:
    """Words someone typed (names, titles, reasons, emails, codes), made safe to open in a
    spreadsheet. Numbers and times this module writes itself never pass through here, so a
    negative offset or amount stays a value."""
    if not value:
        return ""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def _local(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def _utc(value: dt.datetime | None) -> str:
    # isoformat, not strftime: a third of the time, on every row of a long export.
    return "" if value is None else value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _cancelled_by_role(row) -> str:
    """Who cancelled, as the back office counts it: the client themself (or their guardian),
    the coach, staff, or the system when nobody did (a payment hold that ran out, a workshop
    called off at its deadline)."""
    if row.cancelled_by_id is None:
        return "system"
    if row.cancelled_by_id == row.client_id:
        return "client"
    if row.cancelled_by__is_superuser or row.cancelled_by__role == Role.STAFF:
        return "staff"
    if row.cancelled_by__role == Role.COACH:
        return "coach"
    return "client"
