"""Reading busy times from iCalendar documents (no database, no network): recurring events
in their own zones across DST with their exceptions, all-day and free events as the coach
chooses, cancelled ones, long ones cut into days, floating times, the product's own events
left out, and documents that are not calendars."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from calendar_sync.ics import Busy, FeedError, busy_times
from calendar_sync.tests.fake_calendar import calendar, event

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def spans(found: list[Busy]) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(item.start, item.end) for item in found]


def read(document: str, zone=PARIS, **options) -> list[Busy]:
    return busy_times(document.encode(), zone=zone, start=START, end=END, **options)


WEEKLY = calendar(
    event(
        "weekly@example.com",
        "DTSTART;TZID=Europe/Paris:20261019T100000",
        "DTEND;TZID=Europe/Paris:20261019T110000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE;TZID=Europe/Paris:20261102T100000",
    ),
    event(
        "weekly@example.com",
        "RECURRENCE-ID;TZID=Europe/Paris:20261026T100000",
        "DTSTART;TZID=Europe/Paris:20261026T150000",
        "DTEND;TZID=Europe/Paris:20261026T160000",
    ),
)


def test_a_weekly_event_keeps_its_wall_clock_across_dst_with_its_exceptions():
    # 10:00 in Paris is 08:00 UTC before 25 October and 09:00 after; the 26 October one was
    # moved to 15:00, the 2 November one deleted.
    assert spans(read(WEEKLY, zone=NEW_YORK)) == [
        (utc(2026, 10, 19, 8), utc(2026, 10, 19, 9)),
        (utc(2026, 10, 26, 14), utc(2026, 10, 26, 15)),
        (utc(2026, 11, 9, 9), utc(2026, 11, 9, 10)),
    ]


def test_a_recurring_event_in_new_york_across_its_own_dst_change():
    document = calendar(
        event(
            "standup@example.com",
            "DTSTART;TZID=America/New_York:20261030T090000",
            "DURATION:PT30M",
            "RRULE:FREQ=DAILY;COUNT=4",
        )
    )
    # US clocks go back on 1 November 2026: 13:00 UTC, then 14:00 UTC.
    assert spans(read(document)) == [
        (utc(2026, 10, 30, 13), utc(2026, 10, 30, 13, 30)),
        (utc(2026, 10, 31, 13), utc(2026, 10, 31, 13, 30)),
        (utc(2026, 11, 1, 14), utc(2026, 11, 1, 14, 30)),
        (utc(2026, 11, 2, 14), utc(2026, 11, 2, 14, 30)),
    ]


ALL_DAY = calendar(event("holiday@example.com", "DTSTART;VALUE=DATE:20261111", "DTEND;VALUE=DATE:20261112"))


def test_an_all_day_event_is_the_coachs_own_day_unless_they_leave_those_free():
    assert spans(read(ALL_DAY, zone=PARIS)) == [(utc(2026, 11, 10, 23), utc(2026, 11, 11, 23))]
    assert spans(read(ALL_DAY, zone=NEW_YORK)) == [(utc(2026, 11, 11, 5), utc(2026, 11, 12, 5))]
    assert read(ALL_DAY, all_day_busy=False) == []


def test_an_all_day_event_without_an_end_lasts_a_day():
    document = calendar(event("birthday@example.com", "DTSTART;VALUE=DATE:20261111"))
    assert spans(read(document)) == [(utc(2026, 11, 10, 23), utc(2026, 11, 11, 23))]


def test_free_and_cancelled_events():
    document = calendar(
        event("free@example.com", "DTSTART:20261022T090000Z", "DTEND:20261022T100000Z", "TRANSP:TRANSPARENT"),
        event("off@example.com", "DTSTART:20261023T090000Z", "DTEND:20261023T100000Z", "STATUS:CANCELLED"),
        event("busy@example.com", "DTSTART:20261024T090000Z", "DTEND:20261024T100000Z", "TRANSP:OPAQUE"),
    )
    assert spans(read(document)) == [(utc(2026, 10, 24, 9), utc(2026, 10, 24, 10))]
    assert spans(read(document, free_busy=True)) == [
        (utc(2026, 10, 22, 9), utc(2026, 10, 22, 10)),
        (utc(2026, 10, 24, 9), utc(2026, 10, 24, 10)),
    ]


def test_a_long_event_is_cut_into_days_and_kept_within_the_range():
    document = calendar(
        event("trip@example.com", "DTSTART:20261120T120000Z", "DTEND:20261122T180000Z"),
        event("edge@example.com", "DTSTART:20261130T200000Z", "DTEND:20261201T060000Z"),
    )
    assert spans(read(document)) == [
        (utc(2026, 11, 20, 12), utc(2026, 11, 21, 12)),
        (utc(2026, 11, 21, 12), utc(2026, 11, 22, 12)),
        (utc(2026, 11, 22, 12), utc(2026, 11, 22, 18)),
        (utc(2026, 11, 30, 20), utc(2026, 12, 1)),
    ]


def test_a_floating_time_is_read_in_the_coachs_zone():
    document = calendar(event("float@example.com", "DTSTART:20261023T090000", "DTEND:20261023T100000"))
    assert spans(read(document, zone=PARIS)) == [(utc(2026, 10, 23, 7), utc(2026, 10, 23, 8))]
    assert spans(read(document, zone=NEW_YORK)) == [(utc(2026, 10, 23, 13), utc(2026, 10, 23, 14))]


def test_google_calendars_zone_header_applies_to_times_in_utc():
    # Google writes UTC times and names the calendar's zone in X-WR-TIMEZONE; a daily event
    # at 10:00 Paris stays at 10:00 Paris across the DST change.
    document = calendar(
        event("daily@example.com", "DTSTART:20261024T080000Z", "DTEND:20261024T090000Z", "RRULE:FREQ=DAILY;COUNT=2"),
        extra="X-WR-TIMEZONE:Europe/Paris\r\n",
    )
    assert spans(read(document)) == [
        (utc(2026, 10, 24, 8), utc(2026, 10, 24, 9)),
        (utc(2026, 10, 25, 9), utc(2026, 10, 25, 10)),
    ]


def test_the_products_own_events_are_not_read_back():
    document = calendar(
        event("booking-7@booking.example", "DTSTART:20261024T090000Z", "DTEND:20261024T100000Z"),
        event("dentist@example.com", "DTSTART:20261025T090000Z", "DTEND:20261025T100000Z"),
    )
    found = read(document, ours=lambda uid: uid.endswith("@booking.example"))
    assert [item.uid for item in found] == ["dentist@example.com"]


@pytest.mark.parametrize(
    "document",
    [b"", b"<html><body>Sign in</body></html>", b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", b"\x00\xff" * 40],
)
def test_what_is_not_a_calendar_is_said_so(document):
    with pytest.raises(FeedError, match="not iCalendar data"):
        busy_times(document, zone=PARIS, start=START, end=END)
