"""Reading a coach's calendar over HTTP into the scheduling ledger, against calendars served
on 127.0.0.1: busy events block exactly their slots (recurring ones with their exceptions,
across DST) and a booking over them is refused; an unchanged calendar is asked with its
ETag and costs nothing; a deleted event frees its time; a broken calendar (slow, too big,
not a calendar, gone) keeps the busy times read before and says why; addresses inside a
private network are refused; a booking the calendar now contradicts is told to the coach
once; due calendars and their back-off."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection as db

from accounts.tests.factories import ClientFactory
from availability.models import Allocation, AllocationKind
from availability.selectors import free_slots
from bookings import services as booking_services
from bookings.services.common import BookingRefused
from bookings.tests.factories import SessionTypeFactory, open_coach
from calendar_sync import services, tasks
from calendar_sync.models import CalendarConnection
from calendar_sync.tests.fake_calendar import calendar, event
from calendar_sync.tests.test_ics import WEEKLY
from notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)


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


def connect(coach, url: str, **options) -> CalendarConnection:
    made = CalendarConnection.objects.create(coach=coach, name="Personal", url=url, **options)
    outcome = services.sync(made, now=NOW)
    made.refresh_from_db()
    assert outcome.ok, outcome.message
    return made


def test_busy_events_block_exactly_their_slots_and_a_booking_over_them(calendars, coach, talk):
    every_hour = list(range(9, 17))
    connection = connect(coach, calendars.put("/weekly.ics", WEEKLY))
    assert connection.events == 3 and connection.last_error == ""
    # Monday 19 October 10:00 (summer time); 26 October moved to 15:00 (winter time);
    # 2 November deleted from the series; 9 November 10:00.
    assert hours_free(coach, talk, dt.date(2026, 10, 19)) == [h for h in every_hour if h != 10]
    assert hours_free(coach, talk, dt.date(2026, 10, 26)) == [h for h in every_hour if h != 15]
    assert hours_free(coach, talk, dt.date(2026, 11, 2)) == every_hour
    assert hours_free(coach, talk, dt.date(2026, 11, 9)) == [h for h in every_hour if h != 10]
    with pytest.raises(BookingRefused) as refused:
        booking_services.book_slot(client=ClientFactory(), session_type=talk, start=paris(2026, 10, 19, 10), now=NOW)
    assert refused.value.code == "slot_taken"
    # The hour after is free, and bookable.
    booking_services.book_slot(client=ClientFactory(), session_type=talk, start=paris(2026, 10, 19, 11), now=NOW)


def test_an_all_day_event_blocks_the_day_unless_the_coach_leaves_those_free(calendars, coach, talk):
    url = calendars.put("/holiday.ics", calendar(event("h@example.com", "DTSTART;VALUE=DATE:20261111")))
    connection = connect(coach, url)
    assert hours_free(coach, talk, dt.date(2026, 11, 11)) == []
    assert hours_free(coach, talk, dt.date(2026, 11, 12)) == list(range(9, 17))
    assert services.set_options(connection, all_day_busy=False, free_busy=False, now=NOW).changed
    assert hours_free(coach, talk, dt.date(2026, 11, 11)) == list(range(9, 17))


def test_an_unchanged_calendar_is_asked_with_its_etag_and_writes_nothing(calendars, coach):
    url = calendars.put("/weekly.ics", WEEKLY)
    connection = connect(coach, url)
    ids = set(Allocation.objects.filter(calendar=connection).values_list("pk", flat=True))
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert (outcome.ok, outcome.changed) == (True, False)
    assert calendars.requests[-1][1].get("If-None-Match", "").startswith('"')
    assert set(Allocation.objects.filter(calendar=connection).values_list("pk", flat=True)) == ids
    connection.refresh_from_db()
    assert connection.last_synced_at == NOW + dt.timedelta(minutes=5)


def test_a_server_without_etags_is_read_but_an_unchanged_calendar_writes_nothing(calendars, coach):
    url = calendars.put("/weekly.ics", WEEKLY, etag=False)
    connection = connect(coach, url)
    ids = set(Allocation.objects.filter(calendar=connection).values_list("pk", flat=True))
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert (outcome.ok, outcome.changed) == (True, False)
    assert "If-None-Match" not in calendars.requests[-1][1]
    assert set(Allocation.objects.filter(calendar=connection).values_list("pk", flat=True)) == ids


def test_a_deleted_or_cancelled_event_frees_its_time_at_the_next_sync(calendars, coach, talk):
    dentist = event("dentist@example.com", "DTSTART;TZID=Europe/Paris:20261020T140000", "DURATION:PT1H")
    gym = event("gym@example.com", "DTSTART;TZID=Europe/Paris:20261020T160000", "DURATION:PT1H")
    url = calendars.put("/me.ics", calendar(dentist, gym))
    connection = connect(coach, url)
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == [9, 10, 11, 12, 13, 15]
    calendars.put("/me.ics", calendar(gym.replace("DURATION:PT1H", "DURATION:PT1H\r\nSTATUS:CANCELLED")))
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert outcome.changed
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == list(range(9, 17))
    assert Allocation.objects.filter(calendar=connection).count() == 0


def test_the_same_time_in_two_events_is_one_busy_time(calendars, coach):
    twice = [event(uid, "DTSTART:20261020T090000Z", "DTEND:20261020T100000Z") for uid in ("a@x", "b@x")]
    connection = connect(coach, calendars.put("/twice.ics", calendar(*twice)))
    assert Allocation.objects.filter(calendar=connection).count() == 1


@pytest.mark.parametrize(
    ("page", "options", "said"),
    [
        ("/slow.ics", {"delay": 2.5}, "took too long"),
        ("/huge.ics", {"endless": 6_000_000}, "larger than 5.0 MB"),
        ("/page.ics", {"body": "<html>Sign in to continue</html>"}, "not iCalendar data"),
        ("/gone.ics", {"status": 404}, "no calendar at this address any more"),
        ("/locked.ics", {"status": 403}, "refused access"),
        ("/broken.ics", {"status": 503}, "had a problem (HTTP 503)"),
    ],
)
def test_a_broken_calendar_keeps_what_was_read_and_says_why(calendars, coach, talk, settings, page, options, said):
    settings.CALENDAR_FETCH_TIMEOUT_SECONDS = 1
    connection = connect(coach, calendars.put(page, WEEKLY))
    before = set(Allocation.objects.filter(calendar=connection).values_list("start", "end"))
    assert len(before) == 3
    body = options.pop("body", WEEKLY + "X-CHANGED:1\r\n" if options.get("status") else WEEKLY)
    calendars.put(page, body, **options)
    outcome = services.sync(connection, now=NOW + dt.timedelta(days=2))
    assert not outcome.ok
    assert said in outcome.message
    connection.refresh_from_db()
    assert said in connection.last_error
    assert connection.failures == 1
    assert connection.last_synced_at == NOW  # the last success
    assert set(Allocation.objects.filter(calendar=connection).values_list("start", "end")) == before
    assert 10 not in hours_free(coach, talk, dt.date(2026, 10, 19))
    # Mended: read again, the error gone.
    calendars.put(page, WEEKLY)
    assert services.sync(connection, now=NOW + dt.timedelta(days=2, minutes=5)).ok
    connection.refresh_from_db()
    assert (connection.last_error, connection.failures) == ("", 0)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/calendar.ics",
        "http://localhost/calendar.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/cal.ics",
        "http://192.168.0.10/cal.ics",
        "http://[::1]/cal.ics",
        "http://0.0.0.0/cal.ics",
    ],
)
def test_an_address_inside_a_private_network_is_refused(coach, settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    connection = CalendarConnection.objects.create(coach=coach, name="Inside", url=url)
    outcome = services.sync(connection, now=NOW)
    assert not outcome.ok
    assert "private network" in outcome.message


def test_a_redirect_into_a_private_network_is_refused(calendars, coach, settings):
    url = calendars.put("/moved.ics", "", status=302, headers={"Location": "http://10.0.0.7/cal.ics"}, etag=False)
    connection = CalendarConnection.objects.create(coach=coach, name="Moved", url=url)
    # The first hop is allowed here (the test's own server); the redirect's target is checked too.
    from config import outbound

    real = outbound.check_address

    def check(address: str) -> str:
        settings.OUTBOUND_ALLOW_PRIVATE = "10.0.0.7" not in address
        return real(address)

    outbound.check_address = check
    try:
        outcome = services.sync(connection, now=NOW)
    finally:
        outbound.check_address = real
    assert not outcome.ok and "private network" in outcome.message


def test_a_booking_the_calendar_now_contradicts_is_told_to_the_coach_once(calendars, coach, talk):
    client = ClientFactory()
    booking = booking_services.book_slot(client=client, session_type=talk, start=paris(2026, 10, 21, 14), now=NOW)
    url = calendars.put("/me.ics", calendar())
    connection = connect(coach, url)
    assert services.clashes(coach, now=NOW) == []
    calendars.put(
        "/me.ics", calendar(event("school@example.com", "DTSTART;TZID=Europe/Paris:20261021T143000", "DURATION:PT2H"))
    )
    assert services.sync(connection, now=NOW + dt.timedelta(minutes=5)).changed
    assert services.clashes(coach, now=NOW) == [booking]
    told = Notification.objects.filter(recipient=coach, kind=Kind.CALENDAR_CLASH)
    assert told.count() == 1
    assert told.get().booking == booking
    assert client.display_name in told.get().body
    # The event moves a little; the booking is still contradicted: not told again.
    calendars.put(
        "/me.ics", calendar(event("school@example.com", "DTSTART;TZID=Europe/Paris:20261021T141500", "DURATION:PT2H"))
    )
    assert services.sync(connection, now=NOW + dt.timedelta(minutes=10)).changed
    assert told.count() == 1
    # The busy time overlaps the session in the ledger, which PostgreSQL's exclusion
    # constraint allows for a coach's own events only.
    assert Allocation.objects.filter(staff=coach, is_active=True, kind=AllocationKind.EXTERNAL).count() == 1


def test_a_long_event_blocks_every_day_it_covers(calendars, coach, talk):
    url = calendars.put(
        "/trip.ics",
        calendar(
            event(
                "trip@example.com",
                "DTSTART;TZID=Europe/Paris:20261102T120000",
                "DTEND;TZID=Europe/Paris:20261106T120000",
            )
        ),
    )
    connect(coach, url)
    assert hours_free(coach, talk, dt.date(2026, 11, 2)) == [9, 10, 11]
    assert hours_free(coach, talk, dt.date(2026, 11, 4)) == []
    assert hours_free(coach, talk, dt.date(2026, 11, 6)) == [12, 13, 14, 15, 16]


def test_the_scheduled_read_says_why_it_failed_in_the_coachs_language(calendars, coach):
    coach.language = "fr"
    coach.save(update_fields=["language"])
    failing = CalendarConnection.objects.create(coach=coach, name="Broken", url=calendars.url("/missing.ics"))
    assert tasks.sync_due() == 1
    failing.refresh_from_db()
    assert failing.last_error.startswith("Il n'y a plus d'agenda à cette adresse (HTTP 404)")


def test_due_calendars_and_the_back_off_of_a_failing_one(calendars, coach, settings):
    settings.CALENDAR_SYNC_MINUTES = 5
    fine = connect(coach, calendars.put("/fine.ics", WEEKLY))
    failing = CalendarConnection.objects.create(coach=coach, name="Broken", url=calendars.url("/missing.ics"))
    new = CalendarConnection.objects.create(coach=coach, name="New", url=calendars.url("/fine.ics"))
    assert {c.pk for c in services.due(NOW)} == {failing.pk, new.pk}
    for _ in range(3):
        services.sync(CalendarConnection.objects.get(pk=failing.pk), now=NOW)
    assert CalendarConnection.objects.get(pk=failing.pk).failures == 3
    later = NOW + dt.timedelta(minutes=6)
    due = {c.pk for c in services.due(later)}
    assert fine.pk in due and failing.pk not in due  # 3 failures: every 40 minutes
    assert failing.pk in {c.pk for c in services.due(NOW + dt.timedelta(minutes=41))}
    CalendarConnection.objects.filter(pk=fine.pk).update(is_active=False)
    assert fine.pk not in {c.pk for c in services.due(later)}


def test_removing_a_calendar_frees_its_busy_times(calendars, coach, talk):
    connection = connect(coach, calendars.put("/weekly.ics", WEEKLY))
    services.disconnect(connection)
    assert not Allocation.objects.filter(kind=AllocationKind.EXTERNAL).exists()
    assert hours_free(coach, talk, dt.date(2026, 10, 19)) == list(range(9, 17))


def test_the_exclusion_constraint_still_keeps_sessions_apart(calendars, coach, talk):
    connect(coach, calendars.put("/weekly.ics", WEEKLY))
    if db.vendor != "postgresql":
        pytest.skip("PostgreSQL's exclusion constraint")
    from django.db import IntegrityError, transaction

    start = paris(2026, 10, 22, 9)
    row = dict(staff=coach, kind=AllocationKind.SESSION, start=start, end=start + dt.timedelta(hours=1))
    Allocation.objects.create(**row, blocked_start=row["start"], blocked_end=row["end"])
    with pytest.raises(IntegrityError, match="alloc_no_overlap_staff"), transaction.atomic():
        Allocation.objects.create(**row, blocked_start=row["start"], blocked_end=row["end"])


def test_the_connection_in_hand_is_up_to_date_after_a_read(calendars, coach):
    made = CalendarConnection.objects.create(coach=coach, name="Personal", url=calendars.put("/w.ics", WEEKLY))
    assert services.sync(made, now=NOW).changed
    assert made.etag and made.events == 3 and made.last_synced_at == NOW
    assert not services.sync(made, now=NOW + dt.timedelta(minutes=5)).changed
    assert calendars.requests[-1][1].get("If-None-Match") == made.etag
