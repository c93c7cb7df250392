"""Messages about recurring series (issue 17): a series booked, requested, approved,
declined, cancelled or moved at once is told once — one message per person, in the
series' words — while every occurrence keeps its own reminders."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.models import Booking, BookingEvent, BookingStatus
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import messages
from notifications.models import Channel, Kind, MessageTemplate, Notification, Reminder

pytestmark = pytest.mark.django_db(transaction=True)  # messages are made after the commit

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)  # a Saturday, three weeks before the March change
FIRST = dt.datetime(2027, 2, 23, 10, 0, tzinfo=NY)  # a Tuesday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people():
    coach = open_coach(timezone="America/New_York", hours=(8, 18))
    coach.name = "Nora Coach"
    coach.save()
    session_type = SessionTypeFactory(coach=coach, title="Coaching", duration_minutes=60)
    client = ClientFactory(name="Cleo Client", timezone="America/New_York")
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    return coach, session_type, client


def book(people, count=8, **kwargs):
    _coach, session_type, client = people
    return series_services.book_series(
        client=client, session_type=session_type, start=FIRST, count=count, now=NOW, **kwargs
    )


def told(user, kind=None):
    notes = Notification.objects.filter(recipient=user).order_by("pk")
    if kind is not None:
        notes = notes.filter(kind=kind)
    return list(notes)


def test_a_series_of_eight_is_told_once_to_the_client_and_once_to_the_coach(people, mailoutbox):
    coach, _session_type, client = people
    series, outcomes = book(people)
    assert len(outcomes) == 8

    [to_client] = told(client)
    [to_coach] = told(coach)
    assert to_client.kind == to_coach.kind == Kind.BOOKING_CREATED
    assert to_client.title == "Series booked: 8 weekly sessions of Coaching with Nora Coach"
    assert to_coach.title == "New series: 8 weekly sessions of Coaching with Cleo Client"
    # Every date, in the person's own clock: 10:00 in New York before and after the change.
    assert to_client.body == (
        "Tuesdays 10:00 (America/New_York), from 23 Feb to 13 Apr 2027\n"
        "Dates: Feb 23 · Mar 2, 9, 16, 23, 30 · Apr 6, 13 2027"
    )
    # The message belongs to the batch's lead event (idempotency stays per event).
    lead = BookingEvent.objects.get(booking__series=series, data__lead=True)
    assert to_client.event_id == to_coach.event_id == lead.pk
    assert set(to_client.payload["series"]["bookings"]) == {o.booking.pk for o in outcomes}

    # One email each, not eight; the client's carries the eight sessions as calendar events.
    assert sorted(len(mail.to) and mail.to[0] for mail in mailoutbox) == sorted([client.email, coach.email])
    [client_mail] = [mail for mail in mailoutbox if mail.to == [client.email]]
    assert client_mail.subject == to_client.title
    assert "Tuesdays 10:00 (America/New_York), from 23 Feb to 13 Apr 2027" in client_mail.body
    [(name, invite, mimetype)] = client_mail.attachments
    assert name == "invite.ics" and "method=REQUEST" in mimetype
    parsed = icalendar.Calendar.from_ical(invite)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 8
    assert len({str(event["UID"]) for event in events}) == 8
    bookings = Booking.objects.filter(series=series).select_related("session")
    assert {event.decoded("DTSTART").astimezone(dt.UTC) for event in events} == {b.session.start for b in bookings}
    assert {event.decoded("DTSTART").astimezone(NY).time() for event in events} == {dt.time(10)}


def test_every_occurrence_keeps_its_own_reminders(people):
    _coach, _session_type, client = people
    series, _outcomes = book(people)
    bookings = list(Booking.objects.filter(series=series).select_related("session"))
    assert len(bookings) == 8
    for booking in bookings:
        reminders = Reminder.objects.filter(booking=booking, recipient=client, kind=Kind.SESSION_REMINDER)
        assert reminders.exists(), booking.session.start
        # Each reminder is due before its own session, not the lead's.
        assert all(reminder.due_at < booking.session.start for reminder in reminders)
    per_booking = {
        booking.pk: Reminder.objects.filter(booking=booking, kind=Kind.SESSION_REMINDER).count() for booking in bookings
    }
    assert len(set(per_booking.values())) == 1  # the same reminders for every occurrence


def test_a_series_request_is_one_request_and_one_answer(people, mailoutbox):
    coach, _session_type, client = people
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    series, outcomes = book(people)
    assert {outcome.status for outcome in outcomes} == {BookingStatus.REQUESTED}

    [received] = told(coach)
    assert received.kind == Kind.REQUEST_RECEIVED
    assert received.title == "New series request from Cleo Client: 8 weekly sessions of Coaching"
    [sent] = told(client)
    assert sent.title == "Series requested: 8 weekly sessions of Coaching with Nora Coach"

    series_services.approve_series(series=series, actor=coach, now=NOW)
    [confirmed] = told(client, Kind.CONFIRMED)
    assert confirmed.title == "Your series is confirmed (8 sessions): Coaching with Nora Coach"
    assert "Dates: Feb 23 · Mar 2, 9, 16, 23, 30 · Apr 6, 13 2027" in confirmed.body
    assert len(told(client)) == 2 and len(told(coach)) == 1


def test_another_time_for_a_series_request_is_suggested_and_accepted_once(people):
    coach, _session_type, client = people
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    series, outcomes = book(people, count=4)
    thursday = outcomes[0].start.astimezone(NY).replace(hour=14) + dt.timedelta(days=2)
    series_services.suggest_series_time(series=series, actor=coach, new_start=thursday, now=NOW)
    [suggested] = told(client, Kind.ALTERNATIVES_SUGGESTED)
    assert suggested.title == "Nora Coach suggested another time for your series: Thursdays 14:00"
    assert suggested.body == (
        "Instead of Tuesdays 10:00: Thursdays 14:00 (America/New_York), from 25 Feb to 18 Mar 2027. "
        "Accept or decline it on the booking's page.\nDates: Feb 25 · Mar 4, 11, 18 2027"
    )
    before = len(told(coach))
    series_services.accept_series_time(series=series, actor=client, now=NOW)
    [confirmed] = told(coach)[before:]
    assert confirmed.kind == Kind.CONFIRMED
    assert confirmed.title == "Series confirmed (4 sessions): Coaching with Cleo Client"
    assert "Dates: Feb 25 · Mar 4, 11, 18 2027" in confirmed.body


def test_a_declined_series_is_told_once(people):
    coach, _session_type, client = people
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    series, _outcomes = book(people, count=4)
    series_services.decline_series(series=series, actor=coach, reason="Fully booked this spring.", now=NOW)
    [declined] = told(client, Kind.DECLINED)
    assert declined.title == "Series declined (4 sessions): Coaching with Nora Coach"
    assert "Reason: Fully booked this spring." in declined.body


def test_cancelling_the_following_makes_one_message_naming_the_count(people, mailoutbox):
    coach, _session_type, client = people
    series, outcomes = book(people)
    mailoutbox.clear()
    before_coach = len(told(coach))
    done = series_services.cancel_series(
        series=series, actor=client, scope="following", start=outcomes[5].start, reason="Moving away.", now=NOW
    )
    assert len(done) == 3

    [to_coach] = told(coach)[before_coach:]
    assert to_coach.kind == Kind.CANCELLED
    assert to_coach.title == "3 sessions of Cleo Client's weekly series were cancelled, from 30 Mar"
    assert to_coach.body == "Coaching with Cleo Client. Reason: Moving away.\nDates: Mar 30 · Apr 6, 13 2027"
    # The coach's one email cancels the three calendar events, each by its UID.
    [coach_mail] = mailoutbox
    assert coach_mail.to == [coach.email]
    [(_name, invite, mimetype)] = coach_mail.attachments
    assert "method=CANCEL" in mimetype
    events = list(icalendar.Calendar.from_ical(invite).walk("VEVENT"))
    assert len(events) == 3
    assert {str(event["STATUS"]) for event in events} == {"CANCELLED"}
    assert len({str(event["UID"]) for event in events}) == 3
    # Their reminders are cancelled; the five left keep theirs.
    cancelled_ids = {booking.pk for booking in done}
    for booking in Booking.objects.filter(series=series):
        pending = Reminder.objects.filter(booking=booking, status="pending", kind=Kind.SESSION_REMINDER).exists()
        assert pending == (booking.pk not in cancelled_ids)

    # The coach cancels the rest: the client hears of the five once.
    before_client = len(told(client))
    series_services.cancel_series(series=series, actor=coach, scope="all", reason="Leaving the practice.", now=NOW)
    [to_client] = told(client)[before_client:]
    assert to_client.title == "5 sessions of your weekly series were cancelled, from 23 Feb"
    assert to_client.body == (
        "Coaching with Nora Coach. Reason: Leaving the practice.\nDates: Feb 23 · Mar 2, 9, 16, 23 2027"
    )


def test_retiming_the_following_says_where_the_series_moves(people):
    coach, _session_type, client = people
    series, outcomes = book(people, count=4)
    before = len(told(client))
    new_start = outcomes[1].start.astimezone(NY).replace(hour=14) + dt.timedelta(days=2)  # Thursday 14:00
    moved = series_services.retime_following(
        series=series, actor=coach, start=outcomes[1].start, new_start=new_start, now=NOW
    )
    assert len(moved) == 3
    [note] = told(client)[before:]
    assert note.kind == Kind.RESCHEDULED
    assert note.title == "Your weekly series moves to Thursdays 14:00 from 4 Mar"
    assert note.body == "3 sessions, were Tuesdays 10:00.\nDates: Mar 4, 11, 18 2027"


def test_a_client_in_another_zone_reads_the_series_in_their_clock(people):
    _coach, session_type, _client = people
    coach = session_type.coach
    paris = ClientFactory(name="Pia Paris", timezone="Europe/Paris")
    Connection.objects.create(client=paris, coach=coach, status=ConnectionStatus.ACCEPTED)
    series_services.book_series(client=paris, session_type=session_type, start=FIRST, count=8, now=NOW)
    [note] = told(paris)
    # New York moves its clocks on 14 March, Paris on 28 March: two Tuesdays are an hour earlier.
    assert note.body == (
        "Tuesdays 16:00 or 15:00 (Europe/Paris), from 23 Feb to 13 Apr 2027\n"
        "Dates: Feb 23 · Mar 2, 9, 16 (15:00), 23 (15:00), 30 · Apr 6, 13 2027"
    )


def test_a_single_booking_is_told_as_before(people, mailoutbox):
    coach, session_type, client = people
    booking = services.book_slot(client=client, session_type=session_type, start=FIRST, now=NOW)
    [to_client] = told(client)
    [to_coach] = told(coach)
    assert to_client.title == "Booked: Coaching with Nora Coach"
    assert to_client.body == f"Tue 23 Feb 2027, 10:00 (America/New_York)\n{booking.reference}"
    assert to_coach.title == "New booking: Coaching with Cleo Client"
    assert "series" not in to_client.payload
    [client_mail] = [mail for mail in mailoutbox if mail.to == [client.email]]
    [(_name, invite, _mimetype)] = client_mail.attachments
    assert len(list(icalendar.Calendar.from_ical(invite).walk("VEVENT"))) == 1


def test_one_occurrence_cancelled_is_told_as_a_single_booking(people):
    coach, _session_type, client = people
    series, outcomes = book(people, count=3)
    before = len(told(client))
    series_services.cancel_series(
        series=series, actor=coach, scope="one", start=outcomes[1].start, reason="Away.", now=NOW
    )
    [note] = told(client)[before:]
    assert note.title == "Cancelled: Coaching with Nora Coach"
    assert note.body.startswith("Tue 2 Mar 2027, 10:00 (America/New_York).")


def test_a_relayed_series_reads_its_batch_in_a_bounded_number_of_queries(people, settings):
    settings.RELAY_WAKE = False  # relay by hand, counting its queries
    _coach, session_type, _client = people
    counts = []
    for count, day in ((2, 0), (10, 1)):
        client = ClientFactory()
        Connection.objects.create(client=client, coach=session_type.coach, status=ConnectionStatus.ACCEPTED)
        start = FIRST + dt.timedelta(days=day, hours=day)
        series_services.book_series(client=client, session_type=session_type, start=start, count=count, now=NOW)
        with CaptureQueriesContext(connection) as queries:
            relay.relay_pending()
        counts.append(len(queries))
        assert len(told(client)) == 1
        assert Reminder.objects.filter(booking__series__client=client, recipient=client).values("booking").distinct()
    # Ten occurrences cost what two do: the batch, its email's calendar and the reminders
    # of every occurrence are each read and written at once.
    assert counts[1] <= counts[0] + 2


def test_staff_templates_for_one_session_give_way_to_the_series_wording():
    custom = MessageTemplate(
        kind=Kind.BOOKING_CREATED, channel=Channel.IN_APP, subject="All set: {{ session_title }}", body="{{ when }}"
    )
    context = {**messages.sample_context(), **messages.series_extra([NOW, NOW + dt.timedelta(weeks=1)], "UTC")}
    words = messages.render(Kind.BOOKING_CREATED, Channel.IN_APP, context, custom=custom)
    assert words.subject == "Series booked: 2 sessions of Career consultation with Nora Haddad and Ben Ito"
    custom.subject = "All set: {{ series_sessions }}"
    words = messages.render(Kind.BOOKING_CREATED, Channel.IN_APP, context, custom=custom)
    assert words.subject == "All set: 2 sessions"
    # A single booking's message still takes staff's template.
    words = messages.render(Kind.BOOKING_CREATED, Channel.IN_APP, messages.sample_context(), custom=custom)
    assert words.subject == "All set:"
