"""Every figure of the reports, for a date range in the viewer's zone, read from the
rollups (``reports.rollups``): a handful of grouped queries whatever the range, each
grouping done by the database in the viewer's zone (whole quarter-hour buckets, so days,
weeks and weekday × hour cells are exact in every zone, across DST changes).

Definitions (the pages say them in plain words beside each figure):

- A booking belongs to the day its session starts, in the viewer's zone.
- *Cancellation rate*: cancelled ÷ bookings that weren't declined. *Late*: cancelled inside
  the cancellation notice, ÷ the same. *Lead time*: from the cancellation to the start.
- *No-show rate*: no-shows ÷ (completed + no-shows). *Completion rate*: completed ÷
  (completed + no-shows + cancelled).
- *Utilisation*: booked hours ÷ available hours per week. Booked hours: the length of each
  session with a booking that held or used the coach's time (counted once for a group),
  in the week it starts; available hours: the coach's weekly windows or a day's own hours,
  less time off (``availability.hours.working_time``). Rooms: ``availability.rooms``.
- *Revenue*: the price of sessions booked, completed or missed (no-show), plus the share a
  late cancellation keeps; per currency. *Forecast*: for each of the next 4 weeks, what is
  already booked for it, or the average week of the last 8 when that is higher.
- *Clients*: those with a session booked, completed or missed in the range; *new* when
  their first such session (with this coach, when one is chosen) is in it; *repeat*:
  two or more in the range.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, DateField, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, Trunc

from accounts.models import Role, User
from availability.hours import working_time
from availability.selectors import availability_inputs_for
from bookings.models import BookingStatus
from config import sql
from reports.models import (
    BookingFact,
    BookingRollup,
    DemandRollup,
    FunnelRollup,
    FunnelStep,
    PracticeDemand,
    PracticeFunnel,
    PracticeRollup,
)
from reports.rollups import EARNING, MEASURES

ONE_DAY = dt.timedelta(days=1)
MAX_DAYS = 3 * 366
FORECAST_WEEKS = 4
RUN_RATE_WEEKS = 8
FUNNEL = [
    FunnelStep.PAGE_VIEW,
    FunnelStep.ST_SELECTED,
    FunnelStep.DATE_SELECTED,
    FunnelStep.TIME_SELECTED,
    FunnelStep.BOOKING_ATTEMPTED,
    FunnelStep.BOOKING_SUCCESS,
]
STATUS_ORDER = [
    BookingStatus.COMPLETED,
    BookingStatus.CONFIRMED,
    BookingStatus.FIRM_BOOKED,
    BookingStatus.REQUESTED,
    BookingStatus.AWAITING_PAYMENT,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
    BookingStatus.DECLINED,
]
SEEN = (BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
# How often whole_hours looks at the zone's offset: every offset a zone has ever kept lasted
# far longer.
OFFSET_STEP = dt.timedelta(hours=6)


@functools.lru_cache(maxsize=512)
def whole_hours(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``zone`` stays a whole number of hours from UTC from ``start`` to ``end``:
    then its days, weeks and hours there are whole UTC hours, and the practice-wide hourly
    rollups give its figures exactly."""
    moment = start
    while True:
        if moment.astimezone(zone).utcoffset() % dt.timedelta(hours=1):
            return False
        if moment >= end:
            return True
        moment = min(moment + OFFSET_STEP, end)


@dataclass(frozen=True)
class Filters:
    """Local days ``first_day``..``last_day`` in ``zone``, for one coach, type or room."""

    first_day: dt.date
    last_day: dt.date
    zone: ZoneInfo
    coach_id: int | None = None
    session_type_id: int | None = None
    resource_id: int | None = None

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last_day + ONE_DAY, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def period(self) -> str:
        """How the volume is grouped: days for a month, weeks up to half a year, months beyond."""
        if self.days <= 31:
            return "day"
        if self.days <= 183:
            return "week"
        return "month"

    def rollups(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None, *, per_coach: bool = False
    ) -> QuerySet[BookingRollup] | QuerySet[PracticeRollup]:
        """The rollup rows of the range (or of ``start``..``end``): the practice-wide hourly
        ones when nothing narrows them, the figure needs no coach, type or room
        (``per_coach``) and the viewer's hours are whole UTC hours; else the quarter hours."""
        start, end = start or self.start, end or self.end
        narrowed = per_coach or self.coach_id or self.session_type_id or self.resource_id
        if not narrowed and whole_hours(self.zone, start, end):
            return PracticeRollup.objects.filter(bucket__gte=start, bucket__lt=end)
        return self._narrow(BookingRollup.objects.filter(bucket__gte=start, bucket__lt=end))

    def funnel_rows(self, fine: type[FunnelRollup | DemandRollup], practice: type[PracticeFunnel | PracticeDemand]):
        """The funnel's rollup rows of the range, the same way (a room narrows nothing there)."""
        if not (self.coach_id or self.session_type_id) and whole_hours(self.zone, self.start, self.end):
            return practice.objects.filter(bucket__gte=self.start, bucket__lt=self.end).order_by()
        rows = fine.objects.filter(bucket__gte=self.start, bucket__lt=self.end)
        if self.coach_id:
            rows = rows.filter(coach_id=self.coach_id)
        if self.session_type_id:
            rows = rows.filter(session_type_id=self.session_type_id)
        return rows.order_by()

    def facts(self) -> QuerySet[BookingFact]:
        return self._narrow(BookingFact.objects.filter(bucket__gte=self.start, bucket__lt=self.end))

    def _narrow(self, rows):
        if self.coach_id:
            rows = rows.filter(coach_id=self.coach_id)
        if self.session_type_id:
            rows = rows.filter(session_type_id=self.session_type_id)
        if self.resource_id:
            rows = rows.filter(resource_id=self.resource_id)
        return rows


def ratio(part: float, whole: float) -> float | None:
    return None if not whole else part / whole


@dataclass
class Totals:
    """The rollup sums of one group (a coach, a type, everything)."""

    by_status: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    approved: int = 0
    approval_minutes: int = 0
    cancelled_by: dict[str, int] = field(default_factory=lambda: {"client": 0, "coach": 0, "staff": 0, "system": 0})
    late: int = 0
    cancel_lead_minutes: int = 0
    held_minutes: int = 0
    value: dict[str, int] = field(default_factory=dict)
    ratings: int = 0
    rating_sum: int = 0
    timed: int = 0
    actual_minutes: int = 0
    booked_minutes: int = 0

    def add(self, row: dict) -> None:
        status = row["status"]
        self.by_status[status] = self.by_status.get(status, 0) + row["bookings"]
        self.requests += row["requests"]
        self.approved += row["approved"]
        self.approval_minutes += row["approval_minutes"]
        for who in self.cancelled_by:
            self.cancelled_by[who] += row[f"cancelled_{who}"]
        self.late += row["late"]
        self.cancel_lead_minutes += row["cancel_lead_minutes"]
        self.held_minutes += row["held_minutes"]
        if row["value_minor"]:
            self.value[row["currency"]] = self.value.get(row["currency"], 0) + row["value_minor"]
        self.ratings += row["ratings"]
        self.rating_sum += row["rating_sum"]
        self.timed += row["timed"]
        self.actual_minutes += row["actual_minutes"]
        if status in SEEN:
            self.booked_minutes += row["minutes"]

    def count(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def bookings(self) -> int:
        return sum(self.by_status.values())

    @property
    def cancelled(self) -> int:
        return self.count(BookingStatus.CANCELLED)

    @property
    def not_declined(self) -> int:
        return self.bookings - self.count(BookingStatus.DECLINED)

    @property
    def cancellation_rate(self) -> float | None:
        return ratio(self.cancelled, self.not_declined)

    @property
    def late_cancellation_rate(self) -> float | None:
        return ratio(self.late, self.not_declined)

    @property
    def no_show_rate(self) -> float | None:
        done = self.count(BookingStatus.COMPLETED) + self.count(BookingStatus.NO_SHOW)
        return ratio(self.count(BookingStatus.NO_SHOW), done)

    @property
    def completion_rate(self) -> float | None:
        due = self.count(BookingStatus.COMPLETED) + self.count(BookingStatus.NO_SHOW) + self.cancelled
        return ratio(self.count(BookingStatus.COMPLETED), due)

    @property
    def firm(self) -> int:
        return self.bookings - self.requests

    @property
    def approval_hours(self) -> float | None:
        return None if not self.approved else self.approval_minutes / self.approved / 60

    @property
    def cancel_lead_hours(self) -> float | None:
        return None if not self.cancelled else self.cancel_lead_minutes / self.cancelled / 60

    @property
    def average_rating(self) -> float | None:
        return None if not self.ratings else self.rating_sum / self.ratings

    @property
    def actual_duration(self) -> float | None:
        return None if not self.timed else self.actual_minutes / self.timed


SUMMED = {name: Sum(name) for name in MEASURES}


@dataclass
class Groups:
    """The range's totals, and the same per coach and per session type (one query)."""

    total: Totals
    by_coach: dict[int, Totals]
    by_type: dict[int, Totals]


def _summed(rows: QuerySet, *keys: str) -> Iterable[dict]:
    for row in rows.order_by().values(*keys, "status", "currency").annotate(**SUMMED):
        yield {key: value or 0 for key, value in row.items()} | {"status": row["status"], "currency": row["currency"]}


def totals(filters: Filters) -> Totals:
    """The range's totals (one query)."""
    total = Totals()
    for row in _summed(filters.rollups()):
        total.add(row)
    return total


def groups(filters: Filters) -> Groups:
    total, by_coach, by_type = Totals(), defaultdict(Totals), defaultdict(Totals)
    for row in _summed(filters.rollups(per_coach=True), "coach_id", "session_type_id"):
        total.add(row)
        by_coach[row["coach_id"]].add(row)
        by_type[row["session_type_id"]].add(row)
    return Groups(total=total, by_coach=dict(by_coach), by_type=dict(by_type))


def _local_date(value: dt.datetime | dt.date, zone: ZoneInfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).date() if value.tzinfo else value.date()
    return value


def periods(filters: Filters) -> list[dt.date]:
    """The first day of each day, ISO week or month the volume chart shows."""
    kind, day = filters.period, filters.first_day
    if kind == "week":
        day -= dt.timedelta(days=day.weekday())
    elif kind == "month":
        day = day.replace(day=1)
    found = []
    while day <= filters.last_day:
        found.append(day)
        if kind == "day":
            day += ONE_DAY
        elif kind == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return found


def volume(filters: Filters) -> dict[dt.date, dict[str, int]]:
    """Bookings per period (day, week or month of the viewer) and status."""
    counts: dict[dt.date, dict[str, int]] = {day: {} for day in periods(filters)}
    rows = (
        filters.rollups()
        .annotate(period=Trunc("bucket", filters.period, output_field=DateField(), tzinfo=filters.zone))
        .order_by()
        .values("period", "status")
        .annotate(n=Sum("bookings"))
    )
    for row in rows:
        day = _local_date(row["period"], filters.zone)
        counts.setdefault(day, {})
        counts[day][row["status"]] = counts[day].get(row["status"], 0) + row["n"]
    return counts


def heatmap(filters: Filters) -> list[list[int]]:
    """Bookings (declined requests left out) per weekday (Monday first) × hour of the
    viewer's day, by the session's start."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        filters.rollups()
        .exclude(status=BookingStatus.DECLINED)
        .annotate(
            weekday=ExtractIsoWeekDay("bucket", tzinfo=filters.zone), hour=ExtractHour("bucket", tzinfo=filters.zone)
        )
        .order_by()
        .values("weekday", "hour")
        .annotate(n=Sum("bookings"))
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] += row["n"]
    return grid


def demand(filters: Filters) -> list[list[int]]:
    """Times chosen on the booking pages for times in the range, per weekday × hour of the
    viewer's day of the time chosen (``reports.visits`` folds them every minute)."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        filters.funnel_rows(DemandRollup, PracticeDemand)
        .annotate(
            weekday=ExtractIsoWeekDay("bucket", tzinfo=filters.zone), hour=ExtractHour("bucket", tzinfo=filters.zone)
        )
        .values("weekday", "hour")
        .annotate(n=Sum("chosen"))
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] += row["n"]
    return grid


@dataclass(frozen=True)
class FunnelRow:
    step: str
    label: str
    visitors: int
    of_previous: float | None
    of_first: float | None


def funnel(filters: Filters) -> tuple[list[FunnelRow], int, int]:
    """Visits (a browser session's steps of one kind on one UTC day; a request without a
    session counts alone) that reached each step in the range; and refusals and "schedule
    later" clicks."""
    counts = dict(filters.funnel_rows(FunnelRollup, PracticeFunnel).values_list("step").annotate(n=Sum("visits")))
    rows, previous, first = [], None, None
    labels = dict(FunnelStep.choices)
    for step in FUNNEL:
        visitors = counts.get(step, 0)
        first = visitors if first is None else first
        rows.append(
            FunnelRow(
                step=step,
                label=str(labels[step]),
                visitors=visitors,
                of_previous=None if previous is None else ratio(visitors, previous),
                of_first=ratio(visitors, first),
            )
        )
        previous = visitors
    return rows, counts.get(FunnelStep.BOOKING_FAILED, 0), counts.get(FunnelStep.SCHEDULE_LATER, 0)


@dataclass(frozen=True)
class WaitlistFigures:
    offers: int
    accepted: int
    declined: int
    expired: int

    @property
    def conversion(self) -> float | None:
        return ratio(self.accepted, self.offers)


def waitlist(filters: Filters) -> WaitlistFigures:
    """Waitlist offers made in the range and what became of them (those still waiting for
    an answer, withdrawn or taken by someone else count as offers only)."""
    from waitlist.models import OfferStatus, WaitlistOffer

    offers = WaitlistOffer.objects.filter(offered_at__gte=filters.start, offered_at__lt=filters.end)
    if filters.coach_id:
        offers = offers.filter(Q(session__coach_id=filters.coach_id) | Q(hold__staff_id=filters.coach_id))
    if filters.session_type_id:
        offers = offers.filter(
            Q(session__session_type_id=filters.session_type_id) | Q(session_type_id=filters.session_type_id)
        )
    counts = dict(offers.order_by().values_list("status").annotate(n=Count("pk")))
    return WaitlistFigures(
        offers=sum(counts.values()),
        accepted=counts.get(OfferStatus.ACCEPTED, 0),
        declined=counts.get(OfferStatus.DECLINED, 0),
        expired=counts.get(OfferStatus.EXPIRED, 0),
    )


@dataclass(frozen=True)
class Week:
    monday: dt.date
    booked_hours: float
    available_hours: float

    @property
    def utilisation(self) -> float | None:
        return ratio(self.booked_hours, self.available_hours)


def weeks(filters: Filters) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """The viewer's ISO weeks touching the range, each cut to the range: (Monday, start, end)."""
    found = []
    monday = filters.first_day - dt.timedelta(days=filters.first_day.weekday())
    while monday <= filters.last_day:
        first, last = max(monday, filters.first_day), min(monday + dt.timedelta(days=6), filters.last_day)
        found.append(
            (
                monday,
                dt.datetime.combine(first, dt.time(), tzinfo=filters.zone).astimezone(dt.UTC),
                dt.datetime.combine(last + ONE_DAY, dt.time(), tzinfo=filters.zone).astimezone(dt.UTC),
            )
        )
        monday += dt.timedelta(days=7)
    return found


def _overlap(intervals: Sequence[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> float:
    """Hours of the sorted, disjoint ``intervals`` within ``[start, end)``."""
    seconds = 0.0
    index = bisect.bisect_right(intervals, (start, start))
    if index and intervals[index - 1][1] > start:
        index -= 1
    while index < len(intervals) and intervals[index][0] < end:
        opens, closes = intervals[index]
        low, high = max(opens, start), min(closes, end)
        if low < high:
            seconds += (high - low).total_seconds()
        index += 1
    return seconds / 3600


def utilisation(filters: Filters, coaches: Iterable[User]) -> dict[int, list[Week]]:
    """Per coach, per week of the viewer: booked hours (held minutes of the sessions that
    start in it) and available hours (their working time in it)."""
    coaches = list(coaches)
    held: dict[tuple[int, dt.date], int] = defaultdict(int)
    rows = (
        filters.rollups(per_coach=True)
        .filter(coach_id__in=[coach.pk for coach in coaches])
        .annotate(week=Trunc("bucket", "week", output_field=DateField(), tzinfo=filters.zone))
        .order_by()
        .values("coach_id", "week")
        .annotate(minutes=Sum("held_minutes"))
    )
    for row in rows:
        held[(row["coach_id"], _local_date(row["week"], filters.zone))] += row["minutes"] or 0
    spans = weeks(filters)
    available = available_hours(filters, coaches, [(start, end) for _monday, start, end in spans])
    return {
        coach.pk: [
            Week(
                monday=monday,
                booked_hours=held.get((coach.pk, monday), 0) / 60,
                available_hours=hours,
            )
            for (monday, _start, _end), hours in zip(spans, available[coach.pk], strict=True)
        ]
        for coach in coaches
    }


# Available hours are a pure function of a coach's zone, hours, days off and the spans
# asked for: kept in the cache under a digest of all of them, so a change of any gives
# another key (never a stale figure), and a report seen again skips the day-by-day work.
AVAILABLE_CACHE_VERSION = 1
AVAILABLE_CACHE_SECONDS = 24 * 3600


def available_hours(
    filters: Filters, coaches: Sequence[User], spans: Sequence[tuple[dt.datetime, dt.datetime]]
) -> dict[int, list[float]]:
    """Each coach's working time (``availability.hours.working_time``) within each span,
    in hours: their windows, overrides and time off read in one query for every coach."""
    # Every coach's local days that touch the range (a day apart either side for the zones' gap).
    days = {
        coach.pk: (
            filters.start.astimezone(ZoneInfo(coach.timezone)).date() - ONE_DAY,
            filters.end.astimezone(ZoneInfo(coach.timezone)).date() + ONE_DAY,
        )
        for coach in coaches
    }
    inputs = availability_inputs_for(
        coaches,
        first_day=min((first for first, _last in days.values()), default=filters.first_day),
        last_day=max((last for _first, last in days.values()), default=filters.last_day),
    )
    spans = [(start.astimezone(dt.UTC), end.astimezone(dt.UTC)) for start, end in spans]
    keys = {
        coach.pk: "reports-available:"
        + hashlib.sha256(
            repr((AVAILABLE_CACHE_VERSION, coach.timezone, days[coach.pk], inputs[coach.pk], spans)).encode()
        ).hexdigest()
        for coach in coaches
    }
    kept = cache.get_many(list(keys.values()))
    found, made = {}, {}
    for coach in coaches:
        key = keys[coach.pk]
        if key in kept:
            found[coach.pk] = kept[key]
            continue
        working = working_time(coach, *days[coach.pk], inputs[coach.pk])
        found[coach.pk] = made[key] = [_overlap(working, start, end) for start, end in spans]
    if made:
        cache.set_many(made, AVAILABLE_CACHE_SECONDS)
    return found


def hours_booked_and_available(filters: Filters, coaches: Sequence[User], total: Totals) -> tuple[float, float]:
    """The range's booked and available hours of ``coaches`` (the utilisation figures
    summed, without their weeks): booked from the range's ``total``, less what coaches not
    listed (no longer active) held."""
    listed = {coach.pk for coach in coaches}
    held = total.held_minutes
    if filters.coach_id is None and User.objects.filter(role=Role.COACH, is_active=False).exists():
        others = filters.rollups(per_coach=True).exclude(coach_id__in=listed)
        held -= others.aggregate(minutes=Sum("held_minutes"))["minutes"] or 0
    elif filters.coach_id is not None and filters.coach_id not in listed:
        held = 0
    available = sum(hours[0] for hours in available_hours(filters, coaches, [(filters.start, filters.end)]).values())
    return held / 60, available


@dataclass(frozen=True)
class ForecastWeek:
    monday: dt.date
    booked: dict[str, int]
    forecast: dict[str, int]


def forecast(filters: Filters, *, today: dt.date) -> tuple[list[ForecastWeek], dict[str, int]]:
    """The next ``FORECAST_WEEKS`` weeks of the viewer from ``today``'s Monday: what is
    booked for each (its value), and the forecast: that, or the average week of the last
    ``RUN_RATE_WEEKS`` when higher. Returns the weeks and that average, per currency."""
    zone = filters.zone
    monday = today - dt.timedelta(days=today.weekday())

    def instant(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

    ahead_end = monday + dt.timedelta(weeks=FORECAST_WEEKS)
    past_start = monday - dt.timedelta(weeks=RUN_RATE_WEEKS)
    rows = (
        filters.rollups(instant(past_start), instant(ahead_end))
        .filter(status__in=EARNING)
        .annotate(week=Trunc("bucket", "week", output_field=DateField(), tzinfo=zone))
        .order_by()
        .values("week", "currency")
        .annotate(value=Sum("value_minor"))
    )
    by_week: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for row in rows:
        week = _local_date(row["week"], zone)
        by_week[week][row["currency"]] = by_week[week].get(row["currency"], 0) + (row["value"] or 0)
    run_rate: dict[str, int] = defaultdict(int)
    for week, values in by_week.items():
        if week < monday:
            for currency, value in values.items():
                run_rate[currency] += value
    average = {currency: round(value / RUN_RATE_WEEKS) for currency, value in run_rate.items()}
    result = []
    for index in range(FORECAST_WEEKS):
        week = monday + dt.timedelta(weeks=index)
        booked = dict(by_week.get(week, {}))
        currencies = set(booked) | set(average)
        result.append(
            ForecastWeek(
                monday=week,
                booked=booked,
                forecast={c: max(booked.get(c, 0), average.get(c, 0)) for c in sorted(currencies)},
            )
        )
    return result, average


@dataclass(frozen=True)
class Money:
    paid: dict[str, int]
    refunded: dict[str, int]
    refunds: int


def money(filters: Filters) -> Money:
    """Payments received and refunds made in the range (by when they happened), per currency."""
    from payments.models import Payment, PaymentStatus, Refund, RefundStatus

    payments = Payment.objects.filter(
        paid_at__gte=filters.start,
        paid_at__lt=filters.end,
        status__in=[PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED],
    )
    refunds = Refund.objects.filter(
        status=RefundStatus.SUCCEEDED, created_at__gte=filters.start, created_at__lt=filters.end
    )
    if filters.coach_id or filters.session_type_id:
        # The bookings of that coach or type, from the booking facts (indexed by coach),
        # rather than a join through every booking and session.
        booked = BookingFact.objects.all()
        if filters.coach_id:
            booked = booked.filter(coach_id=filters.coach_id)
        if filters.session_type_id:
            booked = booked.filter(session_type_id=filters.session_type_id)
        theirs = sql.among(Payment, "booking", booked.values("booking_id"))
        payments = payments.filter(theirs)
        refunds = refunds.filter(sql.among(Refund, "payment", Payment.objects.filter(theirs).values("pk")))
    paid = dict(payments.order_by().values_list("currency").annotate(total=Sum("amount_minor")))
    refunded, count = {}, 0
    for currency, total, n in (
        refunds.order_by().values_list("currency").annotate(total=Sum("amount_minor"), n=Count("pk"))
    ):
        refunded[currency], count = total, count + n
    return Money(paid=paid, refunded=refunded, refunds=count)


@dataclass(frozen=True)
class Clients:
    clients: int
    new: int
    repeat: int

    @property
    def returning(self) -> int:
        return self.clients - self.new

    @property
    def repeat_rate(self) -> float | None:
        return ratio(self.repeat, self.clients)


def clients(filters: Filters) -> Clients:
    """Two reads of the booking facts (one row per booking): the range's clients with their
    count of sessions, and how many of those had one before the range (an index probe each)."""
    seen = filters.facts().filter(status__in=SEEN)
    per_client = dict(seen.order_by().values_list("client_id").annotate(n=Count("client_id")))
    if not per_client:
        return Clients(0, 0, 0)
    earlier = BookingFact.objects.filter(client_id=OuterRef("pk"), status__in=SEEN, start__lt=filters.start)
    if filters.coach_id:
        earlier = earlier.filter(coach_id=filters.coach_id)
    # Each of the range's clients looked up (not the range read again for a join).
    before = User.objects.filter(sql.among(User, "id", seen.values("client_id"))).filter(Exists(earlier)).count()
    return Clients(
        clients=len(per_client),
        new=len(per_client) - before,
        repeat=sum(1 for n in per_client.values() if n >= 2),
    )


def coaches_for(filters: Filters) -> list[User]:
    coaches = User.objects.filter(role=Role.COACH).order_by("name", "pk")
    coaches = coaches.filter(pk=filters.coach_id) if filters.coach_id else coaches.filter(is_active=True)
    return list(coaches)


def summary(filters: Filters) -> dict:
    """The figures of the summary API: plain numbers, rates from 0 to 1 (None without a
    denominator), money in minor units per currency."""
    total = totals(filters)
    booked, available = hours_booked_and_available(filters, coaches_for(filters), total)
    money_in = money(filters)
    people = clients(filters)
    return {
        "bookings": total.bookings,
        "by_status": {status: total.count(status) for status in STATUS_ORDER},
        "firm": total.firm,
        "requests": total.requests,
        "approval_hours": total.approval_hours,
        "cancellation_rate": total.cancellation_rate,
        "late_cancellation_rate": total.late_cancellation_rate,
        "cancelled_by": dict(total.cancelled_by),
        "cancellation_lead_hours": total.cancel_lead_hours,
        "no_show_rate": total.no_show_rate,
        "completion_rate": total.completion_rate,
        "utilisation": ratio(booked, available),
        "booked_hours": round(booked, 2),
        "available_hours": round(available, 2),
        "revenue": dict(sorted(total.value.items())),
        "paid": dict(sorted(money_in.paid.items())),
        "refunded": dict(sorted(money_in.refunded.items())),
        "average_rating": total.average_rating,
        "ratings": total.ratings,
        "average_actual_minutes": total.actual_duration,
        "clients": people.clients,
        "new_clients": people.new,
        "returning_clients": people.returning,
        "repeat_rate": people.repeat_rate,
    }
