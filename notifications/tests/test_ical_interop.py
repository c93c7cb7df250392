"""What the product serves, read by real calendar parsers: every event at the database's
instant, whatever the parser and the time zone.

Readers (each given the document as served, nothing registered beforehand):

- ical.js (npm, pinned in ``tests_interop/package-lock.json``), the parser inside Thunderbird's
  calendar and Nextcloud Calendar: it reads the document's ``VTIMEZONE``;
- libical (Evolution's library, Debian's ``gir1.2-ical-3.0`` through the system Python): it
  reads the document's ``VTIMEZONE`` too;
- ``icalendar`` twice: as parsed (it trusts the ``TZID`` name, as Google and Apple mostly
  do) and through the document's ``VTIMEZONE`` alone (``to_tz(lookup_tzid=False)``, dateutil's
  reader), as a client that does not know the zone's name would.

The world, built once for the module (one node and one libical process for all documents):
a coach in each of eight zones — Europe/Paris, America/New_York, Australia/Sydney (southern
DST), Asia/Kolkata (none), America/Sao_Paulo (abolished in 2019), Europe/Dublin (negative
DST in tzdata), Pacific/Chatham (+12:45) and Africa/Casablanca (Ramadan) — with one-on-one
sessions over 2026, 2027 and 2028 (every other month, and the first morning after each of
the zone's offset changes), booked by a client in the next zone of the list. Bookings are made
on 2 January 2026; documents are read on 20 March 2026, when January's and February's
sessions are past but still in the feeds. Then each coach's and client's feed, every
booking's ``.ics`` download for both sides, every confirmation email's invitation, and a
booking booked, moved and cancelled (its emails and its downloads at each step).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import calendar, feeds

UTC = dt.UTC
ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Europe/Dublin",
    "Pacific/Chatham",
    "Africa/Casablanca",
]
BOOKED_AT = dt.datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
READ_AT = dt.datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
YEARS = (2026, 2027, 2028)
H = dt.timedelta(hours=1)
PARIS_AUGUST_2027 = dt.datetime(2027, 8, 7, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 07:00 UTC

# The documents are made once for the module (``world``); each test only reads them. The mark
# has the test database set up (and each test's own transaction rolled back, with nothing in it).
pytestmark = pytest.mark.django_db

INTEROP = Path(settings.BASE_DIR) / "tests_interop"
NODE = shutil.which("node") or "/usr/bin/node"
SYSTEM_PYTHON = "/usr/bin/python3"


# --- the readers ------------------------------------------------------------------------------


def _ical_js_ready() -> Path:
    """``tests_interop/node_modules`` installed from the lock file (``npm ci``) if missing."""
    if not (INTEROP / "node_modules" / "ical.js" / "package.json").exists():
        npm = shutil.which("npm") or "/usr/bin/npm"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=INTEROP,
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "npm_config_cache": str(INTEROP / ".npm-cache")},
        )
    return INTEROP / "read_ical.mjs"


def _run(command: list[str], documents: dict[str, bytes]) -> dict:
    payload = json.dumps({name: body.decode() for name, body in documents.items()})
    done = subprocess.run(command, input=payload, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _reader_missing(what: str, install: str) -> None:
    """In CI every reader must run (``.ci/run`` installs them); on a machine that lacks one,
    ``make test`` still runs with nothing but Python, and says which reader it left out."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{what} is missing: {install}")
    pytest.skip(f"{what} is not installed here ({install}); CI runs it")


def read_with_ical_js(documents: dict[str, bytes]) -> dict:
    if not (Path(NODE).exists() and (shutil.which("npm") or Path("/usr/bin/npm").exists())):
        _reader_missing("node and npm (for ical.js)", "apt-get install nodejs npm")
    return _run([NODE, str(_ical_js_ready())], documents)


def read_with_libical(documents: dict[str, bytes]) -> dict:
    probe = [SYSTEM_PYTHON, "-c", 'import gi; gi.require_version("ICalGLib", "3.0")']
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        _reader_missing("libical's Python bindings", "apt-get install python3-gi gir1.2-ical-3.0")
    return _run([SYSTEM_PYTHON, str(INTEROP / "read_ical_libical.py")], documents)


def _read_with_icalendar(body: bytes, *, definition_only: bool) -> dict:
    parsed = Calendar.from_ical(body)
    zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in parsed.walk("VTIMEZONE")}

    def instant(event, name):
        value = event.decoded(name)
        tzid = event[name].params.get("TZID")
        if definition_only and tzid:
            value = value.replace(tzinfo=None).replace(tzinfo=zones[tzid])
        return int(value.timestamp())

    events = [
        {
            "uid": str(event["UID"]),
            "start": instant(event, "DTSTART"),
            "end": instant(event, "DTEND"),
            "sequence": int(event["SEQUENCE"]),
            "status": str(event["STATUS"]),
            "tzid": event["DTSTART"].params.get("TZID"),
        }
        for event in parsed.walk("VEVENT")
    ]
    method = parsed.get("METHOD")
    return {"method": str(method) if method else None, "events": events}


def read_with_icalendar(documents: dict[str, bytes]) -> dict:
    return {name: _read_with_icalendar(body, definition_only=False) for name, body in documents.items()}


def read_with_icalendar_definition(documents: dict[str, bytes]) -> dict:
    return {name: _read_with_icalendar(body, definition_only=True) for name, body in documents.items()}


READERS = {
    "ical.js": read_with_ical_js,
    "libical": read_with_libical,
    "icalendar": read_with_icalendar,
    "icalendar-vtimezone": read_with_icalendar_definition,
}


# --- the world --------------------------------------------------------------------------------


def _session_starts(zone_name: str) -> list[dt.datetime]:
    """09:00 or 15:00 local on the 7th of every other month of 2026–2028, and 09:00 on the
    first day after each of the zone's offset changes in that span (day by day in zoneinfo)."""
    zone = ZoneInfo(zone_name)
    starts = []
    for year in YEARS:
        for n, month in enumerate(range(1, 13, 2)):
            starts.append(dt.datetime(year, month, 7, 15 if n % 2 else 9, tzinfo=zone))
    day = dt.datetime(2026, 1, 3, 12, tzinfo=UTC)
    while day.year < 2029:
        after = day + dt.timedelta(days=1)
        if after.astimezone(zone).utcoffset() != day.astimezone(zone).utcoffset():
            local = after.astimezone(zone).date() + dt.timedelta(days=1)
            starts.append(dt.datetime(local.year, local.month, local.day, 9, tzinfo=zone))
        day = after
    if zone_name == "Europe/Paris":
        starts += [dt.datetime(2026, 12, 3, 9, tzinfo=zone), PARIS_AUGUST_2027]
    return sorted({start.astimezone(UTC) for start in starts if start.astimezone(UTC) > BOOKED_AT})


def _ics_attachments(messages) -> list[tuple[str, bytes]]:
    found = []
    for message in messages:
        for name, content, _mimetype in message.attachments:
            if name.endswith(".ics"):
                body = content if isinstance(content, bytes) else content.encode()
                found.append((message.to[0], body))
    return found


def _download(user, booking: Booking) -> bytes:
    browser = Client()
    browser.force_login(user)
    response = browser.get(reverse("booking_ics", args=[booking.reference]))
    assert response.status_code == 200
    return response.content


def _feed(user) -> bytes:
    response = Client().get(urlsplit(feeds.feed_url(user)).path)
    assert response.status_code == 200
    return response.content


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Everything the product serves for the scenario above, the database's times for each
    UID, and what every reader made of every document. Committed for real (the booking
    emails go out after each commit), and flushed afterwards like a transactional test."""
    with django_db_blocker.unblock():
        try:
            yield _build_world()
        finally:
            call_command("flush", interactive=False, verbosity=0)


def _build_world() -> dict:
    documents: dict[str, bytes] = {}
    people = []
    with time_machine.travel(BOOKED_AT, tick=False) as clock:
        mail.outbox = []
        for i, zone_name in enumerate(ZONES):
            coach = open_coach(timezone=zone_name, booking_window_days=1200)
            client = ClientFactory(timezone=ZONES[(i + 1) % len(ZONES)])
            session_type = SessionTypeFactory(coach=coach, title=f"Session in {zone_name}")
            bookings = [
                services.book_slot(client=client, session_type=session_type, start=start)
                for start in _session_starts(zone_name)
            ]
            people.append((zone_name, coach, client, session_type, bookings))
        for to, body in _ics_attachments(mail.outbox):
            documents[f"confirmation {len(documents)} to {to}"] = body

        # One booking through its life: booked, moved across the end of summer time, cancelled.
        zone_name, coach, client, session_type, _ = people[0]
        paris = ZoneInfo(zone_name)
        mail.outbox = []
        moving = services.book_slot(
            client=client, session_type=session_type, start=dt.datetime(2027, 8, 9, 10, tzinfo=paris)
        )
        lifecycle = {"booked": (_ics_attachments(mail.outbox), _download(client, moving))}
        mail.outbox = []
        moving = services.reschedule(booking=moving, actor=coach, start=dt.datetime(2027, 11, 2, 11, tzinfo=paris))
        lifecycle["moved"] = (_ics_attachments(mail.outbox), _download(client, moving))

        clock.move_to(READ_AT)
        mail.outbox = []
        moving = services.cancel(booking=moving, actor=coach, reason="The room is closed")
        lifecycle["cancelled"] = (_ics_attachments(mail.outbox), _download(client, moving))
        for step, (attachments, download) in lifecycle.items():
            assert attachments, f"no invitation when {step}"
            for to, body in attachments:
                documents[f"lifecycle {step}: email to {to}"] = body
            documents[f"lifecycle {step}: download"] = download

        links = {}
        for zone_name, coach, client, _type, bookings in people:
            documents[f"feed of the coach in {zone_name}"] = _feed(coach)
            documents[f"feed of their client in {client.timezone}"] = _feed(client)
            for booking in bookings:
                for viewer in (coach, client):
                    documents[f"download of {booking.reference} by {viewer.timezone}"] = _download(viewer, booking)
                    links[(booking.reference, viewer.timezone)] = (booking, calendar.calendar_links(booking, viewer))

    truth = {
        calendar.booking_uid(booking): (int(booking.session.start.timestamp()), int(booking.session.end.timestamp()))
        for booking in Booking.objects.select_related("session")
    }
    return {
        "documents": documents,
        "truth": truth,
        "people": [(zone, len(bookings)) for zone, _c, _cl, _t, bookings in people],
        "lifecycle_uid": calendar.booking_uid(moving),
        "links": {key: (truth[calendar.booking_uid(booking)], urls) for key, (booking, urls) in links.items()},
        "read": {name: reader(documents) for name, reader in READERS.items()},
    }


def _documents(world, prefix: str) -> list[str]:
    names = [name for name in world["documents"] if name.startswith(prefix)]
    assert names, prefix
    return names


def _wrong_instants(world, reader: str, names: list[str]) -> list[str]:
    """Every event, in the given documents, whose start or end the reader puts elsewhere
    than the database: one line each, in UTC, to read the failure at a glance."""
    wrong = []
    for name in names:
        for event in world["read"][reader][name]["events"]:
            expected = world["truth"][event["uid"]]
            if (event["start"], event["end"]) != expected:
                at = [dt.datetime.fromtimestamp(s, UTC).isoformat() for s in (event["start"], *expected)]
                wrong.append(f"{name}: {event['uid']} ({event['tzid']}) read at {at[0]}, booked at {at[1]}")
    return wrong


def _event_count(world, reader: str, names: list[str]) -> int:
    return sum(len(world["read"][reader][name]["events"]) for name in names)


# --- the feeds --------------------------------------------------------------------------------


def test_the_world_has_sessions_over_three_years_in_every_zone(world):
    assert [zone for zone, _count in world["people"]] == ZONES
    assert all(count >= 17 for _zone, count in world["people"])
    for zone in ZONES:
        [name] = [n for n in world["documents"] if n == f"feed of the coach in {zone}"]
        years = {dt.datetime.fromtimestamp(e["start"], UTC).year for e in world["read"]["icalendar"][name]["events"]}
        assert years == set(YEARS), zone
        assert f"X-WR-TIMEZONE:{zone}".encode() in world["documents"][name]


@pytest.mark.parametrize("reader", READERS)
def test_every_feed_event_is_at_its_booked_instant(world, reader):
    names = _documents(world, "feed of ")
    assert len(names) == 2 * len(ZONES)
    assert _wrong_instants(world, reader, names) == []
    # Every booking shows in its coach's and its client's feed (the past ones of the last
    # 90 days included); the booked-moved-cancelled one in the Paris coach's and client's.
    assert _event_count(world, reader, names) == 2 * len(world["truth"])


def test_the_august_2027_paris_session_is_at_0900_in_ical_js(world):
    """The hour the issue found: ical.js put this session at 08:00 UTC, one hour late."""
    at = int(PARIS_AUGUST_2027.timestamp())  # 09:00 in Paris, 07:00 UTC
    [uid] = [uid for uid, (start, _end) in world["truth"].items() if start == at]
    for name in ("feed of the coach in Europe/Paris", "feed of their client in America/New_York"):
        [event] = [e for e in world["read"]["ical.js"][name]["events"] if e["uid"] == uid]
        assert dt.datetime.fromtimestamp(event["start"], UTC) == PARIS_AUGUST_2027, name
        assert event["end"] - event["start"] == 3600


@pytest.mark.parametrize("reader", ["ical.js", "libical"])
def test_the_readers_follow_the_documents_definition_not_the_zone_name(reader):
    """The check has teeth: given a VTIMEZONE that says Europe/Paris is always +05:00, ical.js
    and libical place the event by it. So they test the definition the product writes."""
    document = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        b"BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        b"TZOFFSETFROM:+0500\r\nTZOFFSETTO:+0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        b"BEGIN:VEVENT\r\nUID:probe\r\nDTSTAMP:20260101T000000Z\r\n"
        b"DTSTART;TZID=Europe/Paris:20270807T090000\r\nDTEND;TZID=Europe/Paris:20270807T100000\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    [event] = READERS[reader]({"probe": document})["probe"]["events"]
    assert event["start"] == int(dt.datetime(2027, 8, 7, 4, tzinfo=UTC).timestamp())


# --- downloads, invitations, links ------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
def test_every_booking_download_is_at_its_booked_instant_for_both_sides(world, reader):
    names = _documents(world, "download of ")
    assert _wrong_instants(world, reader, names) == []
    assert _event_count(world, reader, names) == len(names) == 2 * sum(n for _z, n in world["people"])


@pytest.mark.parametrize("reader", READERS)
def test_every_confirmation_email_invitation_is_at_its_booked_instant(world, reader):
    names = _documents(world, "confirmation ")
    assert len(names) == 2 * sum(n for _z, n in world["people"])  # the client's and the coach's
    assert _wrong_instants(world, reader, names) == []
    assert {world["read"][reader][name]["method"] for name in names} == {"REQUEST"}


def _query_times(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_google_and_outlook_links_carry_the_booked_instants(world):
    def utc(text: str, fmt: str) -> int:
        return int(dt.datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp())

    assert len(world["links"]) == 2 * sum(n for _z, n in world["people"])
    for (reference, zone), ((start, end), urls) in world["links"].items():
        google = _query_times(urls["google"])["dates"][0].split("/")
        assert [utc(value, "%Y%m%dT%H%M%SZ") for value in google] == [start, end], (reference, zone)
        outlook = _query_times(urls["outlook"])
        assert [utc(outlook[key][0], "%Y-%m-%dT%H:%M:%SZ") for key in ("startdt", "enddt")] == [start, end]


# --- a booking booked, moved and cancelled ----------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
def test_a_moved_then_cancelled_booking_keeps_its_uid_raises_its_sequence_and_cancels(world, reader):
    read = world["read"][reader]
    uid = world["lifecycle_uid"]
    steps = {}
    for step in ("booked", "moved", "cancelled"):
        names = _documents(world, f"lifecycle {step}: ")
        events = [event for name in names for event in read[name]["events"]]
        assert {event["uid"] for event in events} == {uid}
        emails = [name for name in names if "email" in name]
        assert {read[name]["method"] for name in emails} == ({"CANCEL"} if step == "cancelled" else {"REQUEST"})
        steps[step] = events
    # Booked at 10:00 Paris on 9 August 2027 (08:00 UTC), moved to 11:00 on 2 November 2027,
    # after summer time ended (10:00 UTC), then cancelled: each step a higher SEQUENCE.
    booked = int(dt.datetime(2027, 8, 9, 8, tzinfo=UTC).timestamp())
    moved = int(dt.datetime(2027, 11, 2, 10, tzinfo=UTC).timestamp())
    assert {event["start"] for event in steps["booked"]} == {booked}
    assert {event["start"] for event in steps["moved"]} == {moved}
    assert {event["start"] for event in steps["cancelled"]} == {moved}
    assert world["truth"][uid] == (moved, moved + 3600)
    assert all(event["end"] - event["start"] == 3600 for step in steps.values() for event in step)
    sequences = [{event["sequence"] for event in steps[step]} for step in ("booked", "moved", "cancelled")]
    assert all(len(s) == 1 for s in sequences), sequences
    assert sequences[0].pop() < sequences[1].pop() < sequences[2].pop()
    assert {event["status"] for event in steps["cancelled"]} == {"CANCELLED"}
