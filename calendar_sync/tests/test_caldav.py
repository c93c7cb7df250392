"""A coach's CalDAV account against a real CalDAV server (Radicale on 127.0.0.1): its busy
events (recurring with exceptions across DST, all-day, deleted) block exactly their slots;
the coach's bookings are written into the chosen calendar, moved and deleted with them,
with their details hidden when the coach asks, and never read back as busy; a wrong
password or an unreachable server is said in plain words and loses nothing; the password
is kept encrypted."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.tests.factories import ClientFactory
from availability.models import Allocation, AllocationKind
from availability.selectors import free_slots
from bookings import relay
from bookings import services as booking_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from calendar_sync import dav, services, writer
from calendar_sync.models import CalendarConnection, WrittenEvent
from calendar_sync.tests.fake_calendar import calendar, event
from calendar_sync.tests.radicale_server import PASSWORD, USER
from calendar_sync.tests.test_ics import WEEKLY
from config import crypto

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)
EVERY_HOUR = list(range(9, 17))


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris", hours=(9, 17), booking_window_days=120)


@pytest.fixture
def talk(coach):
    return SessionTypeFactory(coach=coach, title="Talk", duration_minutes=60)


def hours_free(coach, talk, day: dt.date) -> list[int]:
    slots = free_slots(coach=coach, start_date=day, end_date=day, viewer_tz=PARIS, session_type=talk, now=NOW)
    return [slot.start.astimezone(PARIS).hour for slot in slots]


def connect(radicale, coach, **options) -> CalendarConnection:
    return services.connect_caldav(
        coach, name="Fastmail", url=radicale.url, username=USER, password=PASSWORD, now=NOW, **options
    )


def write_all():
    relay.relay_pending()
    return writer.write_pending(now=NOW)


def test_busy_events_of_the_account_block_exactly_their_slots_and_deleted_ones_free_theirs(radicale, coach, talk):
    personal = radicale.make_calendar("Personal")
    radicale.add(personal, WEEKLY)
    radicale.add(personal, calendar(event("holiday@example.com", "DTSTART;VALUE=DATE:20261111")))
    dentist = radicale.add(
        personal,
        calendar(
            event(
                "dentist@example.com",
                "DTSTART;TZID=Europe/Paris:20261021T140000",
                "DTEND;TZID=Europe/Paris:20261021T153000",
            )
        ),
    )
    connection = connect(radicale, coach, write=False)
    assert connection.last_error == "" and connection.last_synced_at == NOW
    assert [item["name"] for item in connection.calendars] == ["Personal"]
    # Weekly 10:00 in Paris across the October change of time, the 26th moved to 15:00,
    # 2 November deleted from the series; 11 November all day; the dentist 14:00–15:30.
    assert hours_free(coach, talk, dt.date(2026, 10, 19)) == [h for h in EVERY_HOUR if h != 10]
    assert hours_free(coach, talk, dt.date(2026, 10, 26)) == [h for h in EVERY_HOUR if h != 15]
    assert hours_free(coach, talk, dt.date(2026, 11, 2)) == EVERY_HOUR
    assert hours_free(coach, talk, dt.date(2026, 11, 9)) == [h for h in EVERY_HOUR if h != 10]
    assert hours_free(coach, talk, dt.date(2026, 11, 11)) == []
    assert hours_free(coach, talk, dt.date(2026, 10, 21)) == [h for h in EVERY_HOUR if h not in (14, 15)]

    dentist.delete()
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert outcome.ok and outcome.changed
    assert hours_free(coach, talk, dt.date(2026, 10, 21)) == EVERY_HOUR
    assert hours_free(coach, talk, dt.date(2026, 10, 19)) == [h for h in EVERY_HOUR if h != 10]


def test_only_the_calendars_the_coach_reads_make_them_busy(radicale, coach, talk):
    work, family = radicale.make_calendar("Work"), radicale.make_calendar("Family")
    radicale.add(work, calendar(event("w@example.com", "DTSTART:20261020T080000Z", "DTEND:20261020T090000Z")))
    radicale.add(family, calendar(event("f@example.com", "DTSTART:20261020T120000Z", "DTEND:20261020T130000Z")))
    connection = connect(radicale, coach, write=False)
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == [h for h in EVERY_HOUR if h not in (10, 14)]
    work_url = next(item["url"] for item in connection.calendars if item["name"] == "Work")
    services.set_caldav_calendars(connection, read=[work_url], write_url="", private=False)
    services.sync(connection, now=NOW)
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == [h for h in EVERY_HOUR if h != 10]


def test_bookings_are_written_moved_and_deleted_in_the_coachs_calendar_and_not_read_back(radicale, coach, talk):
    personal = radicale.make_calendar("Personal")
    connection = connect(radicale, coach)
    assert connection.write_url == connection.calendars[0]["url"]
    client = ClientFactory(name="Ana Silva")
    booking = booking_services.book_slot(client=client, session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    assert write_all() == 1

    [written] = radicale.events(personal)
    assert str(written["UID"]).startswith(f"booking-{booking.pk}@")
    assert written["DTSTART"].dt == paris(2026, 10, 20, 10)
    assert "Ana Silva" in str(written["SUMMARY"])
    assert "ORGANIZER" not in written and "ATTENDEE" not in written  # no invitations from the server

    # Read back: the booking's own time is not a second, outside busy time.
    services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert not Allocation.objects.filter(kind=AllocationKind.EXTERNAL).exists()

    booking_services.reschedule(booking=booking, actor=client, start=paris(2026, 10, 22, 15), now=NOW)
    write_all()
    [moved] = radicale.events(personal)
    assert moved["UID"] == written["UID"] and moved["DTSTART"].dt == paris(2026, 10, 22, 15)

    booking.refresh_from_db()
    booking_services.cancel(booking=booking, actor=client, reason="Ill", now=NOW)
    write_all()
    assert radicale.events(personal) == []
    assert WrittenEvent.objects.get().href == ""


def test_hidden_details_and_a_change_of_calendar_rewrite_what_was_written(radicale, coach, talk):
    first, second = radicale.make_calendar("A first"), radicale.make_calendar("B second")
    connection = connect(radicale, coach)
    booking_services.book_slot(
        client=ClientFactory(name="Ana Silva"),
        session_type=talk,
        start=paris(2026, 10, 20, 10),
        now=NOW,
    )
    write_all()
    assert len(radicale.events(first)) == 1
    services.set_caldav_calendars(
        connection,
        read=[],
        write_url=next(c["url"] for c in connection.calendars if c["name"] == "B second"),
        private=True,
    )
    writer.write_pending(now=NOW)
    assert radicale.events(first) == []
    [hidden] = radicale.events(second)
    assert "Ana" not in hidden.to_ical().decode() and str(hidden["SUMMARY"]) == "Busy (booking)"
    assert "LOCATION" not in hidden


def test_a_write_that_fails_waits_and_says_why_then_succeeds(radicale, coach, talk):
    radicale.make_calendar("Personal")
    connection = connect(radicale, coach)
    CalendarConnection.objects.filter(pk=connection.pk).update(password_encrypted=crypto.encrypt("wrong"))
    booking_services.book_slot(client=ClientFactory(), session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    relay.relay_pending()
    assert writer.write_pending(now=NOW) == 0
    item = WrittenEvent.objects.get()
    assert item.pending and item.attempts == 1 and "password" in item.last_error
    assert writer.write_errors(connection) == (1, item.last_error)
    CalendarConnection.objects.filter(pk=connection.pk).update(password_encrypted=crypto.encrypt(PASSWORD))
    assert writer.write_pending(now=NOW) == 0  # not due yet
    assert writer.write_pending(now=NOW + dt.timedelta(minutes=2)) == 1
    item.refresh_from_db()
    assert not item.pending and item.href and item.last_error == ""


def test_a_wrong_password_or_a_dead_server_is_said_plainly_and_keeps_the_busy_times(radicale, coach, talk):
    personal = radicale.make_calendar("Personal")
    radicale.add(personal, calendar(event("x@example.com", "DTSTART:20261020T080000Z", "DTEND:20261020T090000Z")))
    with pytest.raises(dav.DavError) as refused:
        services.connect_caldav(coach, name="X", url=radicale.url, username=USER, password="nope", now=NOW)
    assert "user name or password" in refused.value.message
    assert not CalendarConnection.objects.exists()

    connection = connect(radicale, coach, write=False)
    radicale.stop()
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    connection.refresh_from_db()
    assert not outcome.ok and "could not be reached" in connection.last_error
    assert connection.last_synced_at == NOW
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == [h for h in EVERY_HOUR if h != 10]


def test_the_password_is_kept_encrypted_and_a_private_address_refused(radicale, coach, settings):
    radicale.make_calendar("Personal")
    connection = connect(radicale, coach, write=False)
    assert PASSWORD not in connection.password_encrypted
    assert crypto.decrypt(connection.password_encrypted) == PASSWORD
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(dav.DavError) as refused:
        services.connect_caldav(coach, name="Y", url=radicale.url, username=USER, password=PASSWORD, now=NOW)
    assert "private" in refused.value.message.lower() or "internal" in refused.value.message.lower()


def test_disconnecting_deletes_what_was_written(radicale, coach, talk):
    personal = radicale.make_calendar("Personal")
    connection = connect(radicale, coach)
    booking_services.book_slot(client=ClientFactory(), session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    write_all()
    assert len(radicale.events(personal)) == 1
    services.disconnect(connection)
    assert radicale.events(personal) == []
    assert not WrittenEvent.objects.exists()


def test_the_coach_connects_an_account_and_chooses_its_calendars_from_the_page(radicale, coach, client):
    radicale.make_calendar("Work")
    client.force_login(coach)
    page = "/coach/calendars/"
    refused = client.post(
        page,
        {"dav-name": "Cloud", "dav-url": radicale.url, "dav-username": USER, "dav-password": "nope", "dav-write": "on"},
    )
    assert refused.status_code == 400 and "user name or password" in refused.content.decode()
    assert (
        client.post(
            page,
            {
                "dav-name": "Cloud",
                "dav-url": radicale.url,
                "dav-username": USER,
                "dav-password": PASSWORD,
                "dav-write": "on",
            },
        ).status_code
        == 302
    )
    connection = CalendarConnection.objects.get(coach=coach)
    listing = client.get(page).content.decode()
    assert "Your bookings are written into “Work”." in listing and PASSWORD not in listing
    client.post(
        f"/coach/calendars/{connection.pk}/calendars/",
        {f"c{connection.pk}-write_url": "", f"c{connection.pk}-private": "on"},
    )
    connection.refresh_from_db()
    assert connection.write_url == "" and connection.private_details
    assert connection.calendars[0]["read"] is False  # nothing ticked: no calendar read
    other = open_coach()
    client.force_login(other)
    assert client.post(f"/coach/calendars/{connection.pk}/calendars/", {}).status_code == 404
