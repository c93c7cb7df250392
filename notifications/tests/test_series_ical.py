"""A recurring series in calendars (issue 17): every occurrence is its own event at the
right instant, read by a real parser — ``icalendar`` trusting the ``TZID`` name, as Google
and Apple mostly do, and through the document's ``VTIMEZONE`` alone, as a client that
doesn't know the zone's name would.

The series: eight Tuesdays at 10:00 in New York from 23 February 2027, across the United
States' change to summer time on 14 March — the first three at 15:00 UTC, the last five at
14:00 UTC. Each occurrence is a ``Booking`` with its own UID, so the feeds need no RRULE
(which a parser would expand in its own way); a parser must still land every one of them
on 10:00 New York time.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory
from bookings.models import Booking
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import calendar, feeds

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)
FIRST = dt.datetime(2027, 2, 23, 10, 0, tzinfo=NY)
CHANGE = dt.datetime(2027, 3, 14, 7, 0, tzinfo=dt.UTC)  # 02:00 EST, when New York moves to EDT


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def series():
    coach = open_coach(timezone="America/New_York", hours=(8, 18))
    session_type = SessionTypeFactory(coach=coach, title="Coaching", duration_minutes=60)
    client = ClientFactory(timezone="America/New_York")
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    made, outcomes = series_services.book_series(
        client=client, session_type=session_type, start=FIRST, count=8, now=NOW
    )
    assert len(outcomes) == 8
    return made, coach, client


def served_feed(user) -> bytes:
    """The feed as a calendar app fetches it: its secret address, no login."""
    response = Client().get(urlsplit(feeds.feed_url(user)).path)
    assert response.status_code == 200
    return response.content


def read(body: bytes, *, definition_only: bool) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(UID, start, end) of every event, aware: by the TZID's name, or (``definition_only``)
    by the document's own VTIMEZONE, the name ignored."""
    parsed = Calendar.from_ical(body)
    zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in parsed.walk("VTIMEZONE")}

    def instant(event, name):
        value = event.decoded(name)
        tzid = event[name].params.get("TZID")
        if definition_only and tzid:
            value = value.replace(tzinfo=None).replace(tzinfo=zones[tzid])
        assert value.tzinfo is not None, f"{name} is a floating time"
        return value

    return [(str(e["UID"]), instant(e, "DTSTART"), instant(e, "DTEND")) for e in parsed.walk("VEVENT")]


def expected_instants(made) -> list[dt.datetime]:
    return sorted(Booking.objects.filter(series=made).values_list("session__start", flat=True))


def check_series(events, made, *, zone: ZoneInfo, local_times: set[dt.time]) -> None:
    """Eight events, eight UIDs, at the database's instants (an hour apart in UTC across
    the change), each an hour long, at ``local_times`` in ``zone``."""
    assert len(events) == 8
    assert len({uid for uid, _start, _end in events}) == 8
    starts = sorted(start.astimezone(dt.UTC) for _uid, start, _end in events)
    assert starts == expected_instants(made)
    assert all(end - start == dt.timedelta(hours=1) for _uid, start, end in events)
    assert {start.astimezone(zone).time() for _uid, start, _end in events} == local_times
    # New York keeps 10:00; the UTC instant moves by the DST hour on 14 March.
    assert {start.astimezone(NY).timetz().replace(tzinfo=None) for start in starts} == {dt.time(10)}
    before = [start for start in starts if start < CHANGE]
    after = [start for start in starts if start > CHANGE]
    assert len(before) == 3 and len(after) == 5
    assert {start.time() for start in before} == {dt.time(15)}
    assert {start.time() for start in after} == {dt.time(14)}


@pytest.mark.parametrize("definition_only", [False, True], ids=["by-tzid", "by-vtimezone"])
def test_the_clients_and_the_coachs_feeds_hold_eight_events_at_ten_in_new_york(series, definition_only):
    made, coach, client = series
    for user in (client, coach):
        body = served_feed(user)
        assert b"TZID=America/New_York:" in body
        assert b"RRULE" not in body.split(b"BEGIN:VEVENT", 1)[1]  # each occurrence is its own event
        events = read(body, definition_only=definition_only)
        check_series(events, made, zone=NY, local_times={dt.time(10)})


@pytest.mark.parametrize("definition_only", [False, True], ids=["by-tzid", "by-vtimezone"])
def test_a_client_in_paris_sees_the_same_instants_in_their_own_clock(definition_only):
    coach = open_coach(timezone="America/New_York", hours=(8, 18))
    session_type = SessionTypeFactory(coach=coach, duration_minutes=60)
    client = ClientFactory(timezone="Europe/Paris")
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    made, _outcomes = series_services.book_series(
        client=client, session_type=session_type, start=FIRST, count=8, now=NOW
    )
    events = read(served_feed(client), definition_only=definition_only)
    # 16:00 in Paris, but 15:00 on the two Tuesdays between New York's change and Paris's (28 March).
    check_series(events, made, zone=PARIS, local_times={dt.time(16), dt.time(15)})
    fifteen = sorted(start.date() for _uid, start, _end in events if start.astimezone(PARIS).hour == 15)
    assert fifteen == [dt.date(2027, 3, 16), dt.date(2027, 3, 23)]


def test_the_feed_events_are_the_downloads_uids(series):
    made, _coach, client = series
    feed_uids = {uid for uid, _start, _end in read(served_feed(client), definition_only=False)}
    browser = Client()
    browser.force_login(client)
    download_uids = set()
    for booking in Booking.objects.filter(series=made):
        response = browser.get(reverse("booking_ics", args=[booking.reference]))
        assert response.status_code == 200
        [(uid, start, _end)] = read(response.content, definition_only=True)
        assert start.astimezone(dt.UTC) == booking.session.start
        download_uids.add(uid)
    assert download_uids == feed_uids


@pytest.mark.parametrize("definition_only", [False, True], ids=["by-tzid", "by-vtimezone"])
def test_the_series_invitation_holds_every_occurrence_with_the_feeds_uids(series, definition_only):
    made, coach, client = series
    bookings = list(
        Booking.objects.filter(series=made)
        .select_related("session__session_type", "session__coach", "session__resource", "client")
        .order_by("session__start")
    )
    for person in (client, coach):
        invite = calendar.series_invitation(bookings, recipient=person)
        assert b"METHOD:REQUEST" in invite
        assert invite.count(b"BEGIN:VTIMEZONE") == 1
        events = read(invite, definition_only=definition_only)
        check_series(events, made, zone=NY, local_times={dt.time(10)})
        feed_uids = {uid for uid, _start, _end in read(served_feed(person), definition_only=False)}
        assert {uid for uid, _start, _end in events} == feed_uids
