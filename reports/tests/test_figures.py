"""Every figure of the reports against a direct count of the bookings, on a data set with
known answers, made through the booking services and relayed to the reports' consumer:
two coaches (Paris, New York), four clients, two weeks around Europe's March DST change,
with completions, a no-show, cancellations (one late), a declined request, an approved
one and a reschedule. The same data then rebuilt from scratch gives the same rollups."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.models import Booking, BookingEvent, BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach
from reports import figures, visits
from reports.models import AnalyticsEvent, BookingFact, BookingRollup, FunnelStep, PracticeFunnel, PracticeRollup
from reports.rollups import rebuild
from reports.tests.practice import BOOKED_AT, FIRST, LAST, NEW_YORK, PARIS, UTC, at, rollup_rows

pytestmark = pytest.mark.django_db


def in_range(zone: ZoneInfo, **narrow) -> list[Booking]:
    """The direct count: bookings whose session starts on the range's local days."""
    start = dt.datetime.combine(FIRST, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(LAST + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    rows = Booking.objects.filter(session__start__gte=start, session__start__lt=end, **narrow)
    return list(rows.select_related("session"))


def test_the_statuses_came_out_as_planned(practice):
    assert practice["ana_mon"].status == BookingStatus.COMPLETED
    assert practice["ben_tue"].status == BookingStatus.NO_SHOW
    assert practice["ana_sat"].status == BookingStatus.CANCELLED and practice["ana_sat"].is_late_cancellation
    assert practice["cleo_sun"].status == BookingStatus.COMPLETED
    assert practice["ben_wed"].status == BookingStatus.CANCELLED and not practice["ben_wed"].is_late_cancellation
    assert practice["dan_thu"].status == BookingStatus.DECLINED
    assert practice["ben_ny"].status == BookingStatus.COMPLETED


@pytest.mark.parametrize("zone", [PARIS, NEW_YORK])
def test_summary_equals_direct_counts(practice, zone):
    rows = in_range(zone)
    summary = figures.summary(figures.Filters(FIRST, LAST, zone))
    count = {status: sum(1 for b in rows if b.status == status) for status in BookingStatus.values}
    assert summary["bookings"] == len(rows) == 8
    assert {k: v for k, v in summary["by_status"].items() if v} == {k: v for k, v in count.items() if v}
    not_declined = len(rows) - count["declined"]
    assert summary["cancellation_rate"] == pytest.approx(count["cancelled"] / not_declined) == 2 / 7
    late = sum(1 for b in rows if b.status == BookingStatus.CANCELLED and b.is_late_cancellation)
    assert summary["late_cancellation_rate"] == pytest.approx(late / not_declined) == 1 / 7
    assert summary["no_show_rate"] == pytest.approx(count["no_show"] / (count["completed"] + count["no_show"]))
    assert summary["completion_rate"] == pytest.approx(4 / 7)
    assert summary["cancelled_by"] == {"client": 1, "coach": 1, "staff": 0, "system": 0}
    # Lead times: 7 h (Ana) and 72 h (the coach) — averaged.
    assert summary["cancellation_lead_hours"] == pytest.approx((7 + 72) / 2)
    assert summary["requests"] == 2 and summary["firm"] == 6
    assert summary["approval_hours"] == pytest.approx(1.5)
    assert summary["average_rating"] == pytest.approx(4.0)
    assert summary["average_actual_minutes"] == pytest.approx(53)
    # Revenue: Ana's and Ben's Talks (80 each, the no-show included) and the late cancellation
    # (no late refund on this type: 80 kept); two Lessons in USD.
    assert summary["revenue"] == {"EUR": 24000, "USD": 10000}
    assert summary["clients"] == 3 and summary["new_clients"] == 2 and summary["returning_clients"] == 1
    assert summary["repeat_rate"] == pytest.approx(2 / 3)


def test_a_coach_and_a_type_narrow_every_figure(practice):
    paris = practice["paris"]
    summary = figures.summary(figures.Filters(FIRST, LAST, PARIS, coach_id=paris.pk))
    assert summary["bookings"] == len(in_range(PARIS, session__coach=paris)) == 6
    lesson = figures.summary(figures.Filters(FIRST, LAST, PARIS, session_type_id=practice["lesson"].pk))
    assert lesson["bookings"] == 2 and lesson["revenue"] == {"USD": 10000}


def direct_grid(rows: list[Booking], zone: ZoneInfo) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for booking in rows:
        if booking.status != BookingStatus.DECLINED:
            local = booking.session.start.astimezone(zone)
            grid[local.weekday()][local.hour] += 1
    return grid


def test_popular_times_in_two_zones(practice):
    for zone in (PARIS, NEW_YORK):
        grid = figures.heatmap(figures.Filters(FIRST, LAST, zone))
        assert grid == direct_grid(in_range(zone), zone)
    paris = figures.heatmap(figures.Filters(FIRST, LAST, PARIS))
    new_york = figures.heatmap(figures.Filters(FIRST, LAST, NEW_YORK))
    # Ana's New York lesson: Monday 14:00 in Paris, Monday 09:00 in New York.
    assert paris[0][14] == 1 and new_york[0][9] == 1
    # Ben's moved lesson: Friday 22:00 in Paris, Friday 16:00 in New York (not Thursday).
    assert paris[4][22] == 1 and new_york[4][16] == 1 and new_york[3][10] == 0
    # Cleo's Sunday session after the change: 10:00 in Paris, 04:00 in New York.
    assert paris[6][10] == 1 and new_york[6][4] == 1


def test_volume_per_day_in_the_viewer_zone(practice):
    for zone in (PARIS, NEW_YORK):
        volume = figures.volume(figures.Filters(FIRST, LAST, zone))
        direct: dict[dt.date, int] = {}
        for booking in in_range(zone):
            day = booking.session.start.astimezone(zone).date()
            direct[day] = direct.get(day, 0) + 1
        assert {day: sum(counts.values()) for day, counts in volume.items() if counts} == direct
    assert len(figures.volume(figures.Filters(FIRST, LAST, PARIS))) == 14


def test_utilisation_counts_the_dst_week(practice):
    paris = practice["paris"]
    weeks = figures.utilisation(figures.Filters(FIRST, LAST, PARIS), [paris])[paris.pk]
    assert [week.monday for week in weeks] == [dt.date(2026, 3, 23), dt.date(2026, 3, 30)]
    # 00:00–12:00 every day: 12 hours, 11 on the Sunday the clocks go forward.
    assert weeks[0].available_hours == pytest.approx(6 * 12 + 11)
    assert weeks[1].available_hours == pytest.approx(7 * 12)
    # Held: Ana's Monday, Ben's no-show, Cleo's Sunday (cancelled and declined hold nothing).
    assert weeks[0].booked_hours == pytest.approx(3)
    assert weeks[1].booked_hours == 0
    assert weeks[0].utilisation == pytest.approx(3 / 83)


def test_a_group_session_holds_its_time_once():
    coach = open_coach(timezone="Europe/Paris")
    group = SessionTypeFactory(coach=coach, kind="group", capacity=5, duration_minutes=90)
    session = services.publish_session(actor=coach, session_type=group, start=at(PARIS, 3, 24, 10), now=BOOKED_AT)
    for _ in range(3):
        services.take_seat(client=ClientFactory(), session=session, now=BOOKED_AT, hold_for_payment=False)
    relay.relay_pending()
    weeks = figures.utilisation(figures.Filters(FIRST, LAST, PARIS), [coach])[coach.pk]
    assert weeks[0].booked_hours == pytest.approx(1.5)
    assert figures.summary(figures.Filters(FIRST, LAST, PARIS))["bookings"] == 3


def test_funnel_and_demand(practice):
    paris, talk = practice["paris"], practice["talk"]
    moment = dt.datetime(2026, 3, 25, 9, tzinfo=UTC)  # Wednesday 10:00 Paris, 05:00 New York
    rows = []
    for visitor, last in [("a" * 32, 6), ("b" * 32, 4), ("c" * 32, 2)]:
        for step in figures.FUNNEL[:last]:
            data = {"time": moment.isoformat()} if step == FunnelStep.TIME_SELECTED else {}
            rows.append(
                AnalyticsEvent(
                    name=step, visitor=visitor, coach_id=paris.pk, session_type_id=talk.pk, data=data, created_at=moment
                )
            )
    rows.append(AnalyticsEvent(name=FunnelStep.BOOKING_FAILED, coach_id=paris.pk, data={}, created_at=moment))
    AnalyticsEvent.objects.bulk_create(rows)
    assert visits.fold() == len(rows)
    steps, failed, later = figures.funnel(figures.Filters(FIRST, LAST, PARIS))
    assert [row.visitors for row in steps] == [3, 3, 2, 2, 1, 1]
    assert steps[2].of_previous == pytest.approx(2 / 3) and steps[-1].of_first == pytest.approx(1 / 3)
    assert failed == 1 and later == 0
    assert figures.demand(figures.Filters(FIRST, LAST, PARIS))[2][10] == 2
    assert figures.demand(figures.Filters(FIRST, LAST, NEW_YORK))[2][5] == 2
    other = figures.funnel(figures.Filters(FIRST, LAST, PARIS, coach_id=practice["new_york"].pk))[0]
    assert [row.visitors for row in other] == [0] * 6


def test_forecast_is_what_is_booked_or_the_run_rate(practice):
    # Seen from Monday 30 March: the last 8 weeks earned 240 EUR (Talks) and 50 USD (Ana's
    # lesson); the coming weeks hold Ben's moved lesson (50 USD, week of 30 March).
    weeks, average = figures.forecast(figures.Filters(FIRST, LAST, PARIS), today=dt.date(2026, 3, 30))
    assert average == {"EUR": round(24000 / 8), "USD": round(5000 / 8)}
    assert weeks[0].booked == {"USD": 5000}
    assert weeks[0].forecast == {"EUR": 3000, "USD": 5000}
    assert weeks[1].forecast == {"EUR": 3000, "USD": 625}


def test_rollups_equal_a_rebuild(practice):
    kept = rollup_rows()
    facts = BookingFact.objects.count()
    assert all(kept) and facts == Booking.objects.count()
    rebuild()
    assert rollup_rows() == kept
    assert BookingFact.objects.count() == facts


def test_the_consumer_is_idempotent(practice):
    kept = rollup_rows()
    events = list(BookingEvent.objects.all())
    from reports.rollups import on_booking_events

    on_booking_events(events)
    on_booking_events(events[:3])
    assert rollup_rows() == kept


def test_the_practice_rows_are_the_quarter_hours_summed_per_hour(practice):
    measures = [f.name for f in PracticeRollup._meta.fields if f.name not in ("id", "bucket", "status", "currency")]
    summed: dict[tuple, list[int]] = {}
    for row in BookingRollup.objects.all():
        key = (row.bucket.replace(minute=0), row.status, row.currency)
        totals = summed.setdefault(key, [0] * len(measures))
        for index, name in enumerate(measures):
            totals[index] += getattr(row, name)
    expected = sorted((*key, *values) for key, values in summed.items())
    got = sorted(
        (row.bucket, row.status, row.currency, *[getattr(row, name) for name in measures])
        for row in PracticeRollup.objects.all()
    )
    assert got == expected and got


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Paris", True),
        ("America/New_York", True),
        ("UTC", True),
        ("Asia/Kolkata", False),  # +05:30
        ("Asia/Kathmandu", False),  # +05:45
        ("Australia/Lord_Howe", False),  # +10:30, and +11 in its summer
    ],
)
def test_whole_hours(name, expected):
    filters = figures.Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31), ZoneInfo(name))
    assert figures.whole_hours(filters.zone, filters.start, filters.end) is expected


def test_the_practice_wide_rows_give_the_quarter_hours_figures(practice, monkeypatch):
    """What an unnarrowed page reads in a whole-hour zone (the practice-wide hourly rows)
    equals what the quarter-hour rows give for the same range."""
    AnalyticsEvent.objects.bulk_create(
        AnalyticsEvent(
            name=step,
            visitor=f"{n:032d}",
            coach_id=practice["paris"].pk,
            session_type_id=practice["talk"].pk,
            data={"time": at(PARIS, 3, 26, 9 + n % 3).isoformat()} if step == FunnelStep.TIME_SELECTED else {},
            created_at=dt.datetime(2026, 3, 24, 8, tzinfo=UTC) + dt.timedelta(minutes=47 * n),
        )
        for n in range(30)
        for step in figures.FUNNEL[: 2 + n % 5]
    )
    visits.fold(now=dt.datetime(2026, 4, 10, tzinfo=UTC))

    def every_figure(zone):
        filters = figures.Filters(FIRST, LAST, zone)
        return (
            figures.summary(filters),
            figures.volume(filters),
            figures.heatmap(filters),
            figures.demand(filters),
            figures.funnel(filters),
            figures.forecast(filters, today=dt.date(2026, 3, 30)),
        )

    for zone in (PARIS, NEW_YORK):
        assert PracticeRollup.objects.exists() and PracticeFunnel.objects.exists()
        hourly = every_figure(zone)
        with monkeypatch.context() as patch:
            patch.setattr(figures, "whole_hours", lambda *args: False)
            quarter_hours = every_figure(zone)
        assert hourly == quarter_hours
        assert hourly[0]["bookings"] == 8 and sum(row.visitors for row in hourly[4][0]) > 0


@pytest.mark.parametrize("name", ["Asia/Kolkata", "Asia/Kathmandu"])
def test_a_zone_off_the_hour_reads_the_quarter_hours(practice, name):
    zone = ZoneInfo(name)
    rows = in_range(zone)
    filters = figures.Filters(FIRST, LAST, zone)
    assert not figures.whole_hours(zone, filters.start, filters.end)
    summary = figures.summary(filters)
    assert summary["bookings"] == len(rows)
    assert {k: v for k, v in summary["by_status"].items() if v} == {
        status: sum(1 for b in rows if b.status == status) for status in {b.status for b in rows}
    }
    assert figures.heatmap(filters) == direct_grid(rows, zone)
    direct: dict[dt.date, int] = {}
    for booking in rows:
        day = booking.session.start.astimezone(zone).date()
        direct[day] = direct.get(day, 0) + 1
    assert {day: sum(counts.values()) for day, counts in figures.volume(filters).items() if counts} == direct


def test_available_hours_are_kept_and_follow_a_change_of_hours(monkeypatch):
    from availability import services as availability

    coach = open_coach(timezone="Europe/Paris", hours=(9, 17), days=range(5))
    filters = figures.Filters(FIRST, LAST, PARIS)
    first = figures.utilisation(filters, [coach])[coach.pk]
    # Monday 23 March to Sunday 5 April: ten working days of 8 hours.
    assert [week.available_hours for week in first] == [40, 40]
    calls = []
    real = figures.working_time
    monkeypatch.setattr(figures, "working_time", lambda *args: calls.append(args) or real(*args))
    assert figures.utilisation(filters, [coach])[coach.pk] == first
    assert calls == []  # seen again: read from the cache
    availability.add_time_off(
        coach=coach,
        actor=coach,
        start_date=dt.date(2026, 3, 31),
        end_date=dt.date(2026, 4, 1),
        reason="Away",
        today=dt.date(2026, 3, 1),
    )
    changed = figures.utilisation(filters, [coach])[coach.pk]
    assert [week.available_hours for week in changed] == [40, 24] and len(calls) == 1
    summary = figures.summary(filters)
    assert summary["available_hours"] == 64
