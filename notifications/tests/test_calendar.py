"""Calendar data parsed back with icalendar, event by event: times and zones, status,
SEQUENCE, group sessions, what a feed keeps and for how long, invitations, add-to-calendar
links, and the feed's fixed number of queries.

The clock is frozen at Tuesday 1 December 2026, 06:00 UTC. The coach is in America/New_York
(UTC−5 in December) and open 09:00–17:00 there; the client is in Asia/Kolkata (UTC+5:30).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar

from accounts.tests.factories import ClientFactory, GuardianLinkFactory, StaffFactory
from bookings import services
from bookings.models import Booking, BookingStatus, SessionStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from notifications import calendar, vtimezone

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, 20:30 in Kolkata
H = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
LINK = "https://meet.example.com/room-42"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    coach = open_coach(timezone="America/New_York")
    coach.name = "Nora Coach"
    coach.save()
    return coach


@pytest.fixture
def client_user():
    return ClientFactory(name="Arjun Client", timezone="Asia/Kolkata")


@pytest.fixture
def session_type(coach):
    return SessionTypeFactory(coach=coach, title="Career consultation", meeting_link=LINK)


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def vevents(body: bytes) -> dict[str, object]:
    return {str(event["UID"]): event for event in parse(body).walk("VEVENT")}


def only_event(body: bytes):
    events = list(parse(body).walk("VEVENT"))
    assert len(events) == 1, [str(e.get("SUMMARY")) for e in events]
    return events[0]


def tzids(body: bytes) -> set[str]:
    return {str(tz["TZID"]) for tz in parse(body).walk("VTIMEZONE")}


def mailto(value) -> str:
    return str(value).removeprefix("mailto:")


def attendees(event) -> list:
    value = event.get("ATTENDEE", [])
    return value if isinstance(value, list) else [value]


# --- one booking in each side's feed ---------------------------------------------------------


def test_client_and_coach_feeds_show_the_booking_in_their_own_zones(coach, client_user, session_type):
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)

    client_feed = calendar.feed_for(client_user)
    event = only_event(client_feed)
    assert b"DTSTART;TZID=Asia/Kolkata:20261202T203000" in client_feed
    assert event["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 2, 20, 30, tzinfo=KOLKATA)
    assert event.decoded("DTSTART").astimezone(UTC) == START
    assert event.decoded("DTEND").astimezone(UTC) == START + H
    assert tzids(client_feed) == {"Asia/Kolkata"}
    assert str(event["SUMMARY"]) == "Career consultation with Nora Coach"
    assert str(parse(client_feed)["X-WR-TIMEZONE"]) == "Asia/Kolkata"

    coach_feed = calendar.feed_for(coach)
    coach_event = only_event(coach_feed)
    assert b"DTSTART;TZID=America/New_York:20261202T100000" in coach_feed
    assert coach_event.decoded("DTSTART") == dt.datetime(2026, 12, 2, 10, 0, tzinfo=NY)
    assert coach_event.decoded("DTSTART").astimezone(UTC) == START
    assert tzids(coach_feed) == {"America/New_York"}
    assert str(coach_event["SUMMARY"]) == "Career consultation with Arjun Client"

    # One UID for the booking wherever it appears.
    assert str(event["UID"]) == str(coach_event["UID"]) == calendar.booking_uid(booking)
    assert str(event["UID"]) == f"booking-{booking.pk}@127.0.0.1"
    for each in (event, coach_event):
        assert booking.reference in str(each["DESCRIPTION"])
        assert f"http://127.0.0.1:8000/bookings/{booking.reference}/" in str(each["DESCRIPTION"])
        assert str(each["URL"]) == f"http://127.0.0.1:8000/bookings/{booking.reference}/"
        assert str(each["LOCATION"]) == LINK
        assert str(each["STATUS"]) == "CONFIRMED"
        assert each["SEQUENCE"] == 0
        assert mailto(each["ORGANIZER"]) == coach.email
        assert each["ORGANIZER"].params["CN"] == "Nora Coach"
        assert mailto(each["ATTENDEE"]) == client_user.email
        assert each["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
        assert each.decoded("DTSTAMP") == NOW
        assert each.decoded("LAST-MODIFIED") == NOW


def test_the_vtimezone_knows_new_york_summer_time(coach, client_user, session_type):
    services.book_slot(client=client_user, session_type=session_type, start=START)
    zone = next(iter(parse(calendar.feed_for(coach)).walk("VTIMEZONE")))
    offsets = {
        str(part["TZNAME"]): part["TZOFFSETTO"].td for part in zone.walk() if part.name in ("STANDARD", "DAYLIGHT")
    }
    assert offsets == {"EST": -5 * H, "EDT": -4 * H}
    # The zone the calendar app rebuilds from it puts a July instant at UTC−4.
    tz = zone.to_tz()
    assert dt.datetime(2027, 7, 1, 12, tzinfo=tz).utcoffset() == -4 * H
    assert dt.datetime(2027, 1, 15, 12, tzinfo=tz).utcoffset() == -5 * H


PARIS_VTIMEZONE = (
    b"BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"
    b"BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    b"TZNAME:CET\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    b"BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    b"TZNAME:CEST\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    b"END:VTIMEZONE\r\n"
)


def test_the_feed_download_and_invitation_carry_one_paris_vtimezone_with_yearly_rules(client_user):
    """Europe/Paris as Apple and Google write it: a yearly RRULE per observance, each onset
    in the local time it leaves (02:00 in March, 03:00 in October), from the last change
    before the first event; the same bytes in the feed, the download and the invitation."""
    coach = open_coach(timezone="Europe/Paris")
    booking = services.book_slot(client=client_user, session_type=SessionTypeFactory(coach=coach), start=START)
    for body in (
        calendar.feed_for(coach),
        calendar.booking_ics(booking, viewer=coach),
        calendar.invitation(booking, recipient=coach),
    ):
        assert PARIS_VTIMEZONE in body
        assert body.count(b"BEGIN:VTIMEZONE") == 1
        assert body.index(b"BEGIN:VTIMEZONE") < body.index(b"BEGIN:VEVENT")


def _definition(key: str, first: dt.date, last: dt.date):
    text = vtimezone.vtimezone(key, first, last)
    [component] = Calendar.from_ical("BEGIN:VCALENDAR\r\n" + text + "END:VCALENDAR\r\n").walk("VTIMEZONE")
    return text, component


@pytest.mark.parametrize(
    "key",
    [
        "Europe/Paris",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Europe/Dublin",
        "Pacific/Chatham",
        "Africa/Casablanca",
        "Asia/Tehran",
        "America/Asuncion",
    ],
)
def test_the_definition_gives_zoneinfos_offset_at_every_moment_it_covers(key):
    """Read back by dateutil from the definition alone (not the zone's name), the offset
    from the first day to a year after the last equals zoneinfo's: every 3 hours, and every
    15 minutes on the days the zone changes (so an onset an hour off is caught)."""
    first, last = dt.date(2026, 1, 7), dt.date(2028, 11, 30)
    text, component = _definition(key, first, last)
    assert b"," not in b"".join(line for line in text.encode().split(b"\r\n") if line.startswith(b"RDATE"))
    read = component.to_tz(lookup_tzid=False)
    zone = ZoneInfo(key)
    moments = []
    day = dt.datetime(2026, 1, 7, tzinfo=UTC)
    while day < dt.datetime(2029, 11, 30, tzinfo=UTC):
        changes = (day + DAY).astimezone(zone).utcoffset() != day.astimezone(zone).utcoffset()
        step = dt.timedelta(minutes=15 if changes else 180)
        moments += [day + n * step for n in range(DAY // step)]
        day += DAY
    wrong = [at for at in moments if at.astimezone(read).utcoffset() != at.astimezone(zone).utcoffset()]
    assert wrong == []
    assert len(moments) > 8 * 3 * 365


def test_zones_without_a_yearly_rule_get_single_rdates_with_their_dtstart():
    """Casablanca's changes follow Ramadan: no RRULE, one RDATE a line, the DTSTART's own
    included (ical.js reads only an RDATE's first value and skips DTSTART when there are
    RDATEs)."""
    text, component = _definition("Africa/Casablanca", dt.date(2026, 1, 7), dt.date(2027, 6, 30))
    assert "RRULE" not in text
    observances = component.walk("STANDARD") + component.walk("DAYLIGHT")
    assert {str(o["TZNAME"]) for o in observances} == {"+00", "+01"}
    for observance in observances:
        rdates = observance["RDATE"] if isinstance(observance["RDATE"], list) else [observance["RDATE"]]
        assert all(len(rdate.dts) == 1 for rdate in rdates)
        assert observance.decoded("DTSTART") in [rdate.dts[0].dt for rdate in rdates]
    # 2026: to +00 on 15 February (Ramadan), back to +01 on 22 March.
    assert "DTSTART:20260215T030000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000" in text
    assert "RDATE:20260322T020000" in text


def test_a_zone_without_dst_gets_one_standard_observance():
    kolkata, _ = _definition("Asia/Kolkata", dt.date(2026, 1, 7), dt.date(2028, 11, 30))
    assert kolkata == (
        "BEGIN:VTIMEZONE\r\nTZID:Asia/Kolkata\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nTZNAME:IST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    # São Paulo's DST was abolished in 2019: its last change, once.
    sao_paulo, _ = _definition("America/Sao_Paulo", dt.date(2026, 1, 7), dt.date(2028, 11, 30))
    assert sao_paulo.count("BEGIN:STANDARD") == 1 and "DAYLIGHT" not in sao_paulo
    assert "DTSTART:20190217T000000\r\nTZOFFSETFROM:-0200\r\nTZOFFSETTO:-0300" in sao_paulo
    assert "RDATE:20190217T000000" in sao_paulo


def test_dublins_negative_dst_is_written_as_a_summer_daylight():
    text, _ = _definition("Europe/Dublin", dt.date(2026, 1, 7), dt.date(2026, 12, 30))
    assert "BEGIN:DAYLIGHT\r\nDTSTART:20260329T010000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100" in text
    assert "TZNAME:IST\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" in text
    assert "BEGIN:STANDARD\r\nDTSTART:20251026T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000" in text


def test_a_location_wins_over_the_link_and_text_is_escaped_and_folded(coach, client_user):
    title = "Résumé review, part 1; with notes — " + "long " * 12  # 120 characters at most
    session_type = SessionTypeFactory(
        coach=coach, title=title, location="Room 3, 12 Main St; 2nd floor", meeting_link="", modality="in_person"
    )
    services.book_slot(client=client_user, session_type=session_type, start=START)
    body = calendar.feed_for(client_user)
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "lines are folded at 75 octets"
    event = only_event(body)
    assert str(event["SUMMARY"]) == f"{title} with Nora Coach"
    assert str(event["LOCATION"]) == "Room 3, 12 Main St; 2nd floor"
    assert "Video call" not in str(event["DESCRIPTION"])


def test_feed_and_icalendar_event_agree(coach, client_user, session_type):
    """The feed's own writer and ``event_for_booking`` (icalendar) say the same things."""
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    from_feed = only_event(calendar.feed_for(client_user))
    built = calendar.event_for_booking(booking, viewer=client_user)
    round_trip = only_event(calendar.booking_ics(booking, viewer=client_user))
    for name in ("UID", "SUMMARY", "DESCRIPTION", "LOCATION", "URL", "STATUS", "SEQUENCE"):
        assert str(from_feed[name]) == str(built[name]) == str(round_trip[name]), name
    for name in ("DTSTART", "DTEND", "LAST-MODIFIED"):
        assert from_feed.decoded(name) == built.decoded(name) == round_trip.decoded(name), name
    assert built["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert mailto(round_trip["ATTENDEE"]) == client_user.email


# --- status and sequence --------------------------------------------------------------------


def test_a_request_is_tentative_then_confirmed_with_a_higher_sequence(client_user):
    coach = open_coach(timezone="America/New_York", require_approval_unconnected=True)
    session_type = SessionTypeFactory(coach=coach)
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    assert booking.status == BookingStatus.REQUESTED
    event = only_event(calendar.feed_for(coach))
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["SUMMARY"]).startswith("Request: ")
    assert event["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"
    assert event["SEQUENCE"] == 0

    services.approve(booking=booking, actor=coach)
    approved = only_event(calendar.feed_for(coach))
    assert str(approved["STATUS"]) == "CONFIRMED"
    assert approved["SEQUENCE"] == 1
    assert str(approved["UID"]) == str(event["UID"])


def test_declined_and_cancelled_bookings_are_cancelled_events(coach, client_user, session_type):
    other = ClientFactory(timezone="Asia/Kolkata")
    kept = services.book_slot(client=client_user, session_type=session_type, start=START)
    cancelled = services.book_slot(client=other, session_type=session_type, start=START + 2 * H)
    services.cancel(booking=cancelled, actor=other, reason="Travelling")
    strict = open_coach(timezone="America/New_York", require_approval_unconnected=True)
    declined = services.book_slot(client=client_user, session_type=SessionTypeFactory(coach=strict), start=START + DAY)
    services.decline(booking=declined, actor=strict, reason="Away that week")

    events = vevents(calendar.feed_for(coach))
    assert {uid: str(e["STATUS"]) for uid, e in events.items()} == {
        calendar.booking_uid(kept): "CONFIRMED",
        calendar.booking_uid(cancelled): "CANCELLED",
    }
    gone = events[calendar.booking_uid(cancelled)]
    assert gone["SEQUENCE"] == 1
    assert str(gone["SUMMARY"]).startswith("Cancelled: ")
    assert "Reason: Travelling" in str(gone["DESCRIPTION"])
    assert "LOCATION" not in gone, "no meeting link for a cancelled session"

    client_events = vevents(calendar.feed_for(client_user))
    assert str(client_events[calendar.booking_uid(declined)]["STATUS"]) == "CANCELLED"
    assert str(client_events[calendar.booking_uid(declined)]["SUMMARY"]).startswith("Declined: ")
    assert str(client_events[calendar.booking_uid(kept)]["STATUS"]) == "CONFIRMED"


def test_a_cancelled_booking_stays_30_days_then_leaves_the_feed(coach, client_user, session_type, frozen):
    kept = services.book_slot(client=client_user, session_type=session_type, start=START)
    cancelled = services.book_slot(client=client_user, session_type=session_type, start=START + DAY)
    services.cancel(booking=cancelled, actor=client_user)

    frozen.move_to(NOW + 29 * DAY)
    for user in (client_user, coach):
        events = vevents(calendar.feed_for(user))
        assert str(events[calendar.booking_uid(cancelled)]["STATUS"]) == "CANCELLED"
        assert calendar.booking_uid(kept) in events

    frozen.move_to(NOW + 31 * DAY)
    for user in (client_user, coach):
        assert set(vevents(calendar.feed_for(user))) == {calendar.booking_uid(kept)}, "the past session stays"


def test_past_sessions_stay_90_days(coach, client_user, session_type, frozen):
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    frozen.move_to(START + 89 * DAY)
    assert set(vevents(calendar.feed_for(client_user))) == {calendar.booking_uid(booking)}
    frozen.move_to(START + 92 * DAY)
    assert vevents(calendar.feed_for(client_user)) == {}


def test_a_reschedule_moves_the_event_and_raises_its_sequence(coach, client_user, session_type):
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    before = only_event(calendar.feed_for(client_user))
    assert calendar.sequence_for(booking) == 0

    moved = services.reschedule(booking=booking, actor=client_user, start=START + DAY + 2 * H)
    assert calendar.sequence_for(moved) == 1
    for user, zone, local in (
        (client_user, "Asia/Kolkata", b"DTSTART;TZID=Asia/Kolkata:20261203T223000"),
        (coach, "America/New_York", b"DTSTART;TZID=America/New_York:20261203T120000"),
    ):
        body = calendar.feed_for(user)
        after = only_event(body)  # the old time isn't a second event
        assert str(after["UID"]) == str(before["UID"])
        assert after["SEQUENCE"] == before["SEQUENCE"] + 1
        assert after.decoded("DTSTART").astimezone(UTC) == START + DAY + 2 * H
        assert local in body
        assert after["DTSTART"].params["TZID"] == zone


# --- group sessions -------------------------------------------------------------------------


def test_a_group_session_is_one_event_with_its_attendees(coach):
    group = GroupTypeFactory(coach=coach, title="Interview practice", capacity=5, location="Studio B")
    session = services.publish_session(actor=coach, session_type=group, start=START)
    people = [ClientFactory(name=f"Person {n}", timezone="Asia/Kolkata") for n in range(3)]
    seats = [services.take_seat(client=person, session=session) for person in people]

    event = only_event(calendar.feed_for(coach))
    assert str(event["UID"]) == calendar.session_uid(session) == f"session-{session.pk}@127.0.0.1"
    assert str(event["SUMMARY"]) == "Interview practice"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Studio B"
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 2, 10, tzinfo=NY)
    assert sorted(mailto(a) for a in attendees(event)) == sorted(p.email for p in people)
    assert {a.params["CN"] for a in attendees(event)} == {"Person 0", "Person 1", "Person 2"}
    assert "3 of 5 seats taken" in str(event["DESCRIPTION"])
    first_sequence = event["SEQUENCE"]

    services.cancel(booking=seats[1], actor=people[1])
    event = only_event(calendar.feed_for(coach))
    assert sorted(mailto(a) for a in attendees(event)) == sorted([people[0].email, people[2].email])
    assert event["SEQUENCE"] > first_sequence
    second_sequence = event["SEQUENCE"]

    # Each attendee's own feed has their seat as a booking of its own, in their zone.
    own = only_event(calendar.feed_for(people[0]))
    assert str(own["UID"]) == calendar.booking_uid(seats[0])
    assert own.decoded("DTSTART") == dt.datetime(2026, 12, 2, 20, 30, tzinfo=KOLKATA)
    assert str(own["SUMMARY"]) == "Interview practice with Nora Coach"

    services.cancel_session(session=session, actor=coach, reason="Studio flooded")
    event = only_event(calendar.feed_for(coach))
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] > second_sequence
    assert str(only_event(calendar.feed_for(people[0]))["STATUS"]) == "CANCELLED"


def test_an_empty_cancelled_group_session_leaves_after_30_days(coach, frozen):
    group = GroupTypeFactory(coach=coach)
    session = services.publish_session(actor=coach, session_type=group, start=START + 3 * DAY)
    services.cancel_session(session=session, actor=coach, reason="No interest")
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    event = only_event(calendar.feed_for(coach))
    assert (str(event["STATUS"]), event["SEQUENCE"]) == ("CANCELLED", 1)
    frozen.move_to(NOW + 31 * DAY)
    assert vevents(calendar.feed_for(coach)) == {}


# --- who sees what ----------------------------------------------------------------------------


def test_a_guardian_sees_the_bookings_of_their_dependent(coach, session_type):
    guardian = ClientFactory(name="Gina Guardian", timezone="Europe/London")
    child = ClientFactory(name="Kid Client", timezone="Asia/Kolkata")
    GuardianLinkFactory(guardian=guardian, dependent=child)
    by_guardian = services.book_slot(client=child, session_type=session_type, start=START, booked_by=guardian)
    by_child = services.book_slot(client=child, session_type=session_type, start=START + DAY)

    events = vevents(calendar.feed_for(guardian))
    assert set(events) == {calendar.booking_uid(by_guardian), calendar.booking_uid(by_child)}
    event = events[calendar.booking_uid(by_guardian)]
    assert str(event["SUMMARY"]) == "Career consultation: Kid Client with Nora Coach"
    assert event["DTSTART"].params["TZID"] == "Europe/London"  # the guardian's own zone
    assert set(vevents(calendar.feed_for(child))) == set(events)


def test_strangers_and_staff_feeds_hold_nothing_of_others(coach, client_user, session_type):
    services.book_slot(client=client_user, session_type=session_type, start=START)
    stranger = ClientFactory()
    staff = StaffFactory()
    other_coach = open_coach()
    for user in (stranger, staff, other_coach):
        body = calendar.feed_for(user)
        assert vevents(body) == {}
        assert parse(body)["VERSION"] == "2.0"


# --- a fixed number of queries ----------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_the_feed_reads_the_same_number_of_queries_for_3_or_30_bookings(
    coach, session_type, count, django_assert_num_queries
):
    clients = [ClientFactory(timezone="Asia/Kolkata") for _ in range(3)]
    for n in range(count):
        services.book_slot(client=clients[n % 3], session_type=session_type, start=START + n * DAY)
    group = GroupTypeFactory(coach=coach)
    for n in range(count // 3):
        session = services.publish_session(actor=coach, session_type=group, start=START + n * DAY + 3 * H)
        services.take_seat(client=clients[n % 3], session=session)

    coach.refresh_from_db()
    with django_assert_num_queries(3):
        body = calendar.feed_for(coach)
    assert len(vevents(body)) == count + count // 3
    with django_assert_num_queries(1):
        body = calendar.feed_for(clients[0])
    assert len(vevents(body)) == len([n for n in range(count) if n % 3 == 0]) + len(
        [n for n in range(count // 3) if n % 3 == 0]
    )
    with django_assert_num_queries(2):
        calendar.feed_version(coach)
    with django_assert_num_queries(1):
        calendar.feed_version(clients[0])


def test_feed_version_changes_with_the_feed_and_with_the_day(coach, client_user, session_type, frozen):
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    coach_version, client_version = calendar.feed_version(coach), calendar.feed_version(client_user)
    assert calendar.feed_version(coach) == coach_version, "stable while nothing changes"
    assert coach_version[1] == NOW
    assert coach_version[0].startswith('"') and coach_version[0].endswith('"')

    frozen.move_to(NOW + H)
    services.cancel(booking=booking, actor=client_user)
    assert calendar.feed_version(coach)[0] != coach_version[0]
    assert calendar.feed_version(client_user)[0] != client_version[0]
    assert calendar.feed_version(coach)[1] == NOW + H
    changed = calendar.feed_version(coach)

    frozen.move_to(NOW + DAY)
    etag, last_modified = calendar.feed_version(coach)
    assert etag != changed[0], "the windows move with the date"
    assert last_modified == dt.datetime(2026, 12, 2, tzinfo=UTC)


def test_a_changed_time_zone_changes_the_version(coach):
    before = calendar.feed_version(coach)
    coach.timezone = "Europe/Paris"
    coach.save()
    assert calendar.feed_version(coach)[0] != before[0]


# --- invitations ------------------------------------------------------------------------------


def test_invitation_request_and_cancel_share_the_uid(coach, client_user, session_type):
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    request = parse(calendar.invitation(booking, recipient=client_user))
    assert str(request["METHOD"]) == "REQUEST"
    assert calendar.invitation_method(booking, recipient=client_user) == "REQUEST"
    invite = only_event(request.to_ical())
    assert str(invite["STATUS"]) == "CONFIRMED"
    assert invite["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert {str(tz["TZID"]) for tz in request.walk("VTIMEZONE")} == {"Asia/Kolkata"}
    assert request.get_missing_tzids() == set()
    assert mailto(invite["ORGANIZER"]) == coach.email
    assert mailto(invite["ATTENDEE"]) == client_user.email

    services.cancel(booking=booking, actor=client_user)
    booking.refresh_from_db()
    cancel = parse(calendar.invitation(booking, recipient=client_user, cancel=True))
    assert str(cancel["METHOD"]) == "CANCEL"
    assert calendar.invitation_method(booking, recipient=client_user, cancel=True) == "CANCEL"
    cancelled = only_event(cancel.to_ical())
    assert str(cancelled["UID"]) == str(invite["UID"]) == calendar.booking_uid(booking)
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["SEQUENCE"] > invite["SEQUENCE"]

    # The coach's copy: same UID, their own zone.
    coach_copy = only_event(calendar.invitation(booking, recipient=coach, cancel=True))
    assert str(coach_copy["UID"]) == str(invite["UID"])
    assert coach_copy["DTSTART"].params["TZID"] == "America/New_York"


def test_a_seat_cancelled_updates_the_coachs_group_event_instead_of_cancelling_it(coach):
    session = services.publish_session(actor=coach, session_type=GroupTypeFactory(coach=coach), start=START)
    stay, leave = ClientFactory(), ClientFactory()
    services.take_seat(client=stay, session=session)
    seat = services.take_seat(client=leave, session=session)
    services.cancel(booking=seat, actor=leave)
    seat.refresh_from_db()
    assert calendar.invitation_method(seat, recipient=coach, cancel=True) == "REQUEST"
    update = parse(calendar.invitation(seat, recipient=coach, cancel=True))
    assert str(update["METHOD"]) == "REQUEST"
    event = only_event(update.to_ical())
    assert str(event["UID"]) == calendar.session_uid(session)
    assert [mailto(a) for a in attendees(event)] == [stay.email]
    # The client who left gets a cancellation of their own booking.
    theirs = parse(calendar.invitation(seat, recipient=leave, cancel=True))
    assert str(theirs["METHOD"]) == "CANCEL"
    assert str(only_event(theirs.to_ical())["UID"]) == calendar.booking_uid(seat)


# --- add-to-calendar links --------------------------------------------------------------------


def test_google_and_outlook_links_carry_utc_times(coach, client_user, session_type):
    booking = services.book_slot(client=client_user, session_type=session_type, start=START)
    google = urlsplit(calendar.google_calendar_url(booking, client_user))
    assert (google.scheme, google.netloc, google.path) == ("https", "calendar.google.com", "/calendar/render")
    query = parse_qs(google.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == ["20261202T150000Z/20261202T160000Z"]
    assert query["text"] == ["Career consultation with Nora Coach"]
    assert booking.reference in query["details"][0]
    assert query["location"] == [LINK]
    assert " " not in calendar.google_calendar_url(booking, client_user)

    outlook_url = calendar.outlook_calendar_url(booking, client_user)
    outlook = urlsplit(outlook_url)
    assert (outlook.netloc, outlook.path) == ("outlook.live.com", "/calendar/0/deeplink/compose")
    query = parse_qs(outlook.query)
    assert query["path"] == ["/calendar/action/compose"]
    assert query["rru"] == ["addevent"]
    assert query["startdt"] == ["2026-12-02T15:00:00Z"]
    assert query["enddt"] == ["2026-12-02T16:00:00Z"]
    assert query["subject"] == ["Career consultation with Nora Coach"]
    assert f"/bookings/{booking.reference}/" in query["body"][0]
    assert query["location"] == [LINK]
    # The coach's links name the client.
    assert parse_qs(urlsplit(calendar.google_calendar_url(booking, coach)).query)["text"] == [
        "Career consultation with Arjun Client"
    ]


def test_unknown_zone_falls_back_to_utc(coach, client_user, session_type):
    services.book_slot(client=client_user, session_type=session_type, start=START)
    from accounts.models import User

    User.objects.filter(pk=client_user.pk).update(timezone="Mars/Olympus_Mons")
    client_user.refresh_from_db()
    body = calendar.feed_for(client_user)
    event = only_event(body)
    assert b"DTSTART:20261202T150000Z" in body
    assert event.decoded("DTSTART") == START
    assert tzids(body) == set()
    assert Booking.objects.count() == 1
