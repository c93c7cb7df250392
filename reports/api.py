"""The reports over the API, for staff (every coach, or one) and coaches (their own):

- ``GET /api/v1/reports/summary?start&end&coach&session_type&room&tz``: the figures of the
  report page as numbers — bookings, by status, cancellation, late-cancellation, no-show
  and completion rates (0 to 1; null without a denominator), utilisation, revenue, paid
  and refunded (minor units per currency), ratings, clients.
- ``GET /api/v1/reports/bookings.csv`` with the same parameters: the bookings as CSV,
  streamed, times in ``tz`` and in UTC (the page's "Bookings as CSV").

Days are the viewer's (or ``tz``'s) local days, both ends included; without ``start`` and
``end`` the last 90 days up to today. Clients are refused (403 ``forbidden``); a coach asking
for another coach too."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from accounts.models import Role, User
from availability.models import Resource
from bookings.models import SessionType
from config.errors import DomainError, NotAllowed
from config.inputs import Day, Input, canonical_zone
from reports import figures
from reports.views import bookings_download

router = Router(tags=["reports"])

DEFAULT_DAYS = 90


class ReportQuery(Input):
    start: Day | None = Field(
        None, description="First day (inclusive), YYYY-MM-DD, in `tz`; default: 89 days before `end`."
    )
    end: Day | None = Field(None, description="Last day (inclusive), YYYY-MM-DD, in `tz`; default: today.")
    coach: int | None = Field(
        None, description="Staff: one coach's figures (default: every coach). A coach: their own id or nothing."
    )
    session_type: int | None = Field(None, description="Only this session type.")
    room: int | None = Field(None, description="Staff: only sessions in this room.")
    tz: str | None = Field(None, description="IANA zone of the days (and of the CSV's local times); default: yours.")


class SummaryOut(Schema):
    start: dt.date
    end: dt.date
    timezone: str
    coach: int | None
    bookings: int = Field(description="Bookings whose session starts in the range, whatever became of them.")
    by_status: dict[str, int]
    firm: int = Field(description="Booked without the coach's approval.")
    requests: int = Field(description="Bookings the coach had to approve (or decline).")
    approval_hours: float | None = Field(description="Average time from a request to its approval.")
    cancellation_rate: float | None = Field(description="Cancelled ÷ bookings that weren't declined.")
    late_cancellation_rate: float | None = Field(description="Cancelled within the cancellation notice ÷ the same.")
    cancelled_by: dict[str, int] = Field(description="Cancellations by who made them: client, coach, staff, system.")
    cancellation_lead_hours: float | None = Field(description="Average time from a cancellation to the start.")
    no_show_rate: float | None = Field(description="No-shows ÷ (completed + no-shows).")
    completion_rate: float | None = Field(description="Completed ÷ (completed + no-shows + cancelled).")
    utilisation: float | None = Field(description="Booked hours ÷ available hours of the coaches.")
    booked_hours: float
    available_hours: float
    revenue: dict[str, int] = Field(
        description="Price of the sessions held or missed, and of late cancellations that keep it, "
        "in minor units per currency."
    )
    paid: dict[str, int] = Field(description="Money received in the range, minor units per currency.")
    refunded: dict[str, int] = Field(description="Money returned in the range, minor units per currency.")
    average_rating: float | None
    ratings: int
    average_actual_minutes: float | None = Field(
        description="From when the coach started a session to when they closed it."
    )
    clients: int
    new_clients: int = Field(
        description="Clients whose first session (with this coach, when one is chosen) is in the range."
    )
    returning_clients: int
    repeat_rate: float | None = Field(description="Clients with two or more sessions in the range ÷ clients.")


def filters_for(user: User, query: ReportQuery) -> figures.Filters:
    """The filters the query asks for, refused (4xx) where it asks what its user may not see
    or what does not exist."""
    if not (user.is_staff_member or user.is_coach):
        raise NotAllowed(_("Reports are for coaches and staff."))
    zone_name = user.timezone or "UTC"
    if query.tz is not None:
        zone_name = canonical_zone(query.tz) or ""
        if not zone_name:
            raise DomainError(
                _("“%(zone)s” is not a time zone we know. Use an IANA name such as Europe/Paris.") % {"zone": query.tz},
                code="invalid_timezone",
                field="tz",
            )
    zone = ZoneInfo(canonical_zone(zone_name) or "UTC")
    last = query.end or timezone.now().astimezone(zone).date()
    first = query.start or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise DomainError(_("The end is before the start."), code="invalid_range", field="end")
    if (last - first).days + 1 > figures.MAX_DAYS:
        raise DomainError(
            _("A report covers at most %(days)s days.") % {"days": figures.MAX_DAYS}, code="range_too_long", field="end"
        )
    coach_id = query.coach
    if user.is_staff_member:
        if coach_id is not None and not User.objects.filter(pk=coach_id, role=Role.COACH).exists():
            raise DomainError(_("No coach has that id."), code="not_found", status=404, field="coach")
    elif coach_id not in (None, user.pk):
        raise NotAllowed(_("A coach sees their own reports only."))
    else:
        coach_id = user.pk
    if query.session_type is not None:
        types = SessionType.objects.filter(pk=query.session_type)
        if coach_id is not None:
            types = types.filter(coach_id=coach_id)
        if not types.exists():
            raise DomainError(_("No session type has that id."), code="not_found", status=404, field="session_type")
    if query.room is not None:
        if not user.is_staff_member:
            raise NotAllowed(_("Only staff report on rooms."))
        if not Resource.objects.filter(pk=query.room).exists():
            raise DomainError(_("No room has that id."), code="not_found", status=404, field="room")
    return figures.Filters(
        first_day=first,
        last_day=last,
        zone=zone,
        coach_id=coach_id,
        session_type_id=query.session_type,
        resource_id=query.room,
    )


@router.get("/reports/summary", response=SummaryOut, summary="The figures of a date range")
def summary(request: HttpRequest, query: Query[ReportQuery]) -> dict:
    filters = filters_for(request.auth, query)
    return {
        "start": filters.first_day,
        "end": filters.last_day,
        "timezone": filters.zone.key,
        "coach": filters.coach_id,
        **figures.summary(filters),
    }


@router.get(
    "/reports/bookings.csv",
    summary="The bookings of a date range as CSV",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV (UTF-8 with a byte-order mark), one booking per row.",
                "content": {"text/csv": {}},
            }
        }
    },
)
def bookings_csv(request: HttpRequest, query: Query[ReportQuery]) -> StreamingHttpResponse:
    return bookings_download(filters_for(request.auth, query))
