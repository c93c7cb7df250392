"""A series' occurrences against an expansion written independently here (calendar
arithmetic and zoneinfo, no dateutil, no slot engine): for random weekly, every-N-weeks and
monthly rules in zones with DST both ways and with half-hour offsets, each occurrence is at
the first start's wall-clock time; a time missing that day (spring forward) is skipped, a
repeated one (fall back) is its first instant."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from availability.series import occurrences
from config.errors import DomainError

UTC = dt.UTC
ZONES = ["America/New_York", "Europe/London", "Australia/Adelaide", "Asia/Kolkata", "Europe/Paris"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
FAR = dt.datetime(2035, 1, 1, tzinfo=UTC)  # past every generated series


def exists(naive: dt.datetime, zone: ZoneInfo) -> bool:
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def instant(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date | None:
    days = [day for day in range(1, calendar.monthrange(year, month)[1] + 1)
            if dt.date(year, month, day).weekday() == weekday]  # fmt: skip
    if nth == -1:
        return dt.date(year, month, days[-1])
    return dt.date(year, month, days[nth - 1]) if nth <= len(days) else None


def months_from(first: dt.date):
    year, month = first.year, first.month
    while True:
        yield year, month
        month += 1
        if month == 13:
            year, month = year + 1, 1


def expected(kind: str, first: dt.datetime, count: int, interval: int, nth: int, zone: ZoneInfo) -> list[dt.datetime]:
    dates: list[dt.date] = []
    if kind == "weekly":
        dates = [first.date() + dt.timedelta(weeks=interval * i) for i in range(count)]
    else:
        for year, month in months_from(first.date()):
            if len(dates) == count:
                break
            if kind == "monthly_weekday":
                day = nth_weekday(year, month, first.weekday(), nth)
            else:
                day = dt.date(year, month, first.day) if first.day <= calendar.monthrange(year, month)[1] else None
            if day is not None and day >= first.date():
                dates.append(day)
    local = [dt.datetime.combine(day, first.time()) for day in dates]
    return [instant(naive, zone) for naive in local if exists(naive, zone)]


def rule_text(kind: str, count: int, interval: int, nth: int, first: dt.datetime) -> str:
    if kind == "weekly":
        return f"FREQ=WEEKLY;INTERVAL={interval};COUNT={count}"
    if kind == "monthly_weekday":
        return f"FREQ=MONTHLY;BYDAY={nth:+d}{WEEKDAYS[first.weekday()]};COUNT={count}"
    return f"FREQ=MONTHLY;BYMONTHDAY={first.day};COUNT={count}"


@settings(max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    day=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2027, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    kind=st.sampled_from(["weekly", "monthly_weekday", "monthly_date"]),
    count=st.integers(1, 40),
    interval=st.integers(1, 4),
)
def test_occurrences_match_an_independent_expansion(zone_name, day, hour, minute, kind, count, interval):
    zone = ZoneInfo(zone_name)
    first = dt.datetime.combine(day, dt.time(hour, minute))
    if not exists(first, zone):
        return  # a first start is an instant: its wall time exists
    nth = -1 if (day.day + 6) // 7 == 5 else (day.day + 6) // 7
    if kind == "monthly_weekday" and nth_weekday(day.year, day.month, day.weekday(), nth) != day:
        nth = -1
    got = occurrences(
        first_start=instant(first, zone), rrule=rule_text(kind, count, interval, nth, first), zone=zone,
        horizon_end=FAR, limit=60,
    )  # fmt: skip
    assert [occurrence.start for occurrence in got] == expected(kind, first, count, interval, nth, zone)
    assert all(occurrence.start.astimezone(zone).time() == first.time() for occurrence in got)


def test_ten_in_new_york_stays_ten_across_the_march_change():
    zone = ZoneInfo("America/New_York")
    first = dt.datetime(2027, 3, 2, 10, 0, tzinfo=zone)  # a Tuesday; clocks go forward on 14 March
    got = occurrences(first_start=first, rrule="FREQ=WEEKLY;COUNT=4", zone=zone, horizon_end=FAR)
    assert [o.start.strftime("%d %H:%M") for o in got] == ["02 15:00", "09 15:00", "16 14:00", "23 14:00"]


def test_a_time_missing_on_the_change_day_is_skipped_and_a_repeated_one_is_its_first():
    zone = ZoneInfo("America/New_York")
    spring = occurrences(
        first_start=dt.datetime(2027, 3, 7, 2, 30, tzinfo=zone), rrule="FREQ=WEEKLY;COUNT=3", zone=zone, horizon_end=FAR
    )
    assert [o.local.day for o in spring] == [7, 21]  # 14 March 02:30 does not exist
    fall = occurrences(
        first_start=dt.datetime(2026, 10, 25, 1, 30, tzinfo=zone),
        rrule="FREQ=WEEKLY;COUNT=2",
        zone=zone,
        horizon_end=FAR,
    )
    assert fall[1].start == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first of the two


def test_the_limits_and_a_bad_rule(settings):
    settings.MAX_SERIES_OCCURRENCES = 5
    settings.SERIES_HORIZON_DAYS = 21
    zone = ZoneInfo("Europe/Paris")
    first = dt.datetime(2026, 12, 1, 18, 0, tzinfo=zone)
    assert len(occurrences(first_start=first, rrule="FREQ=WEEKLY", zone=zone)) == 3  # the horizon
    assert len(occurrences(first_start=first, rrule="FREQ=DAILY", zone=zone)) == 5  # the limit
    for bad in ("", "FREQ=SOMETIMES", "DTSTART:20261201T180000\nRRULE:FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=WE"):
        with pytest.raises(DomainError) as refused:
            occurrences(first_start=first, rrule=bad, zone=zone)
        assert refused.value.field == "rrule"
