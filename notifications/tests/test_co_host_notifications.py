"""Every host hears of the session: the booking messages that go to the coach go to each
co-host too (once each, however often the relay hands the change over), with their own
reminders; the messages, invitations and feeds name every host and give the room with
where it is ("Room 2, 12 rue X")."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from accounts.tests.factories import ClientFactory
from availability.models import Resource
from bookings import services
from bookings.models import BookingEvent, Session
from bookings.tests.factories import open_coach
from notifications import calendar
from notifications.models import Kind, Notification, Reminder, ReminderStatus
from notifications.services import on_booking_events

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wed 10:00 in Paris
DAY = dt.timedelta(days=1)

pytestmark = pytest.mark.django_db(transaction=True)  # notifications are made after the commit


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def named(name: str, **settings):
    coach = open_coach(timezone="Europe/Paris", **settings)
    coach.name = name
    coach.email = f"{name.split()[0].lower()}@example.com"
    coach.save()
    return coach


@pytest.fixture
def ana():
    return named("Ana Coach")


@pytest.fixture
def ben():
    return named("Ben Ito")


@pytest.fixture
def cleo():
    return ClientFactory(name="Cleo Client", email="cleo@example.com", timezone="Europe/Paris")


@pytest.fixture
def room_2():
    return Resource.objects.create(name="Room 2", kind="room", capacity=6, location="12 rue X")


def together(ana, ben, room=None, *, kind: str = "one_on_one", capacity: int | None = None, **fields):
    return services.create_session_type(
        actor=ana,
        coach=ana,
        title="Supervision" if kind == "one_on_one" else "Co-led workshop",
        kind=kind,
        capacity=capacity,
        host_mode="all",
        co_hosts=[ben],
        resource_kind="room" if room else "",
        resources=[room] if room else [],
        **{"video": "none", **fields},  # met in the room: no video link beside it
    )


def told(user) -> list[tuple[str, str]]:
    return [(n.kind, n.title) for n in Notification.objects.filter(recipient=user).order_by("pk")]


def mail_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def invitation_of(message) -> tuple[str, Calendar]:
    [(_name, content, mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    return mimetype, Calendar.from_ical(content)


def mailtos(values) -> list[str]:
    values = values if isinstance(values, list) else [values]
    return sorted(str(value).removeprefix("mailto:") for value in values)


def vevents(body: bytes) -> dict[str, object]:
    return {str(event["UID"]): event for event in Calendar.from_ical(body).walk("VEVENT")}


# --- messages -------------------------------------------------------------------------------------


def test_a_booking_tells_every_host_and_names_them_all_with_the_room(ana, ben, cleo, room_2):
    booking = services.book_slot(client=cleo, session_type=together(ana, ben, room_2), start=START)

    for host in (ana, ben):
        assert told(host) == [(Kind.BOOKING_CREATED, "New booking: Supervision with Cleo Client")]
    assert told(cleo) == [(Kind.BOOKING_CREATED, "Booked: Supervision with Ana Coach and Ben Ito")]

    [message] = mail_to(cleo)
    assert "Supervision with Ana Coach and Ben Ito" in message.body
    assert "Room 2, 12 rue X" in message.body
    for host in (ana, ben):
        [host_mail] = mail_to(host)
        assert host_mail.subject == "New booking: Supervision with Cleo Client"
        assert "Cleo Client booked a session with Ana Coach and Ben Ito." in host_mail.body
        _, invite = invitation_of(host_mail)
        [event] = invite.walk("VEVENT")
        assert str(event["UID"]) == calendar.booking_uid(booking)
        assert str(event["LOCATION"]) == "Room 2, 12 rue X"
        assert "Hosts: Ana Coach and Ben Ito" in str(event["DESCRIPTION"])
        assert mailtos(event["ORGANIZER"]) == ["ana@example.com"]
        assert mailtos(event["ATTENDEE"]) == ["ben@example.com", "cleo@example.com"]
        assert str(event["SUMMARY"]) == "Supervision with Cleo Client"


def test_a_request_goes_to_every_host_and_the_co_host_reads_who_answers_it(ana, ben, cleo):
    booking = services.book_slot(client=cleo, session_type=together(ana, ben, approval="always"), start=START)

    title = "Booking request from Cleo Client: Supervision"
    assert told(ana) == [(Kind.REQUEST_RECEIVED, title)]
    assert told(ben) == [(Kind.REQUEST_RECEIVED, title)]
    ana_note = Notification.objects.get(recipient=ana)
    ben_note = Notification.objects.get(recipient=ben)
    assert "Approve, decline or suggest another time." in ana_note.body
    assert ben_note.body == f"Wed 2 Dec 2026, 10:00 (Europe/Paris). Ana Coach answers it.\n{booking.reference}"
    [ben_mail] = mail_to(ben)
    assert "Ana Coach answers it; you host it with them once it is confirmed." in ben_mail.body
    assert "Approve it" not in ben_mail.body


def test_a_cancellation_reaches_every_host_once_even_when_handed_over_twice(ana, ben, cleo, room_2):
    booking = services.book_slot(client=cleo, session_type=together(ana, ben, room_2), start=START)
    client_uid = str(next(iter(invitation_of(mail_to(cleo)[0])[1].walk("VEVENT")))["UID"])
    mail.outbox.clear()

    services.cancel(booking=booking, actor=cleo, reason="Ill")

    for host in (ana, ben):
        assert [kind for kind, _ in told(host)] == [Kind.BOOKING_CREATED, Kind.CANCELLED]
        [message] = mail_to(host)
        assert message.subject == "Cancelled: Supervision with Cleo Client"
        mimetype, invite = invitation_of(message)
        assert "method=CANCEL" in mimetype
        [event] = invite.walk("VEVENT")
        assert (str(event["UID"]), str(event["STATUS"])) == (client_uid, "CANCELLED")
    # The relay may hand the same changes over again (a crash, a retry): nothing is made twice.
    before = Notification.objects.count()
    on_booking_events(list(BookingEvent.objects.filter(booking=booking).order_by("pk")))
    assert Notification.objects.count() == before


def test_each_host_gets_their_own_reminders_and_they_die_with_the_cancellation(ana, ben, cleo):
    booking = services.book_slot(client=cleo, session_type=together(ana, ben), start=START + DAY)

    def reminders_of(person, status=ReminderStatus.PENDING) -> int:
        return Reminder.objects.filter(
            booking=booking, recipient=person, kind=Kind.SESSION_REMINDER, status=status
        ).count()

    assert reminders_of(ana) > 0
    assert reminders_of(ben) == reminders_of(ana)
    services.cancel(booking=booking, actor=ana, reason="Away")
    assert reminders_of(ben) == 0
    assert reminders_of(ben, ReminderStatus.CANCELLED) == reminders_of(ana, ReminderStatus.CANCELLED) > 0


def test_a_co_host_is_warned_of_their_own_day_limit(ana, cleo):
    ben = named("Ben Ito", max_sessions_per_day=2)
    services.book_slot(client=cleo, session_type=together(ana, ben), start=START)

    [warning] = Notification.objects.filter(recipient=ben, kind=Kind.SESSION_LIMIT_WARNING)
    assert warning.title == "Nearly fully booked: 1 of 2 sessions on Wed 2 Dec"
    assert not Notification.objects.filter(recipient=ana, kind=Kind.SESSION_LIMIT_WARNING).exists()


def test_a_seat_in_a_co_hosted_workshop_tells_every_host(ana, ben, cleo, room_2):
    session = services.publish_session(
        actor=ana, session_type=together(ana, ben, room_2, kind="workshop", capacity=5), start=START
    )
    services.take_seat(client=cleo, session=session)

    for host in (ana, ben):
        assert told(host) == [(Kind.BOOKING_CREATED, "New booking: Co-led workshop with Cleo Client")]
        _, invite = invitation_of(mail_to(host)[0])
        [event] = invite.walk("VEVENT")
        # A host's calendar holds the workshop as one event, its seats and co-hosts attending.
        assert str(event["UID"]) == calendar.session_uid(session)
        assert mailtos(event["ATTENDEE"]) == ["ben@example.com", "cleo@example.com"]
        assert str(event["LOCATION"]) == "Room 2, 12 rue X"
    assert told(cleo) == [(Kind.BOOKING_CREATED, "Booked: Co-led workshop with Ana Coach and Ben Ito")]


# --- feeds ----------------------------------------------------------------------------------------


def test_every_hosts_feed_holds_the_session_with_the_hosts_and_the_room(ana, ben, cleo, room_2):
    booking = services.book_slot(client=cleo, session_type=together(ana, ben, room_2), start=START)
    uid = calendar.booking_uid(booking)

    for host in (ana, ben):
        event = vevents(calendar.feed_for(host))[uid]
        assert str(event["SUMMARY"]) == "Supervision with Cleo Client"
        assert str(event["LOCATION"]) == "Room 2, 12 rue X"
        assert "Hosts: Ana Coach and Ben Ito" in str(event["DESCRIPTION"])
        assert mailtos(event["ORGANIZER"]) == ["ana@example.com"]
        assert mailtos(event["ATTENDEE"]) == ["ben@example.com", "cleo@example.com"]
    client_event = vevents(calendar.feed_for(cleo))[uid]
    assert str(client_event["SUMMARY"]) == "Supervision with Ana Coach and Ben Ito"
    assert str(client_event["LOCATION"]) == "Room 2, 12 rue X"
    # The download and the feed agree.
    [download] = Calendar.from_ical(calendar.booking_ics(booking, viewer=ben)).walk("VEVENT")
    assert (str(download["UID"]), str(download["SUMMARY"])) == (uid, "Supervision with Cleo Client")


def test_a_co_hosted_workshop_is_one_event_in_each_hosts_feed(ana, ben, cleo, room_2):
    session = services.publish_session(
        actor=ana, session_type=together(ana, ben, room_2, kind="workshop", capacity=5), start=START
    )
    seat = services.take_seat(client=cleo, session=session)

    for host in (ana, ben):
        events = vevents(calendar.feed_for(host))
        assert calendar.booking_uid(seat) not in events
        event = events[calendar.session_uid(session)]
        assert "Hosts: Ana Coach and Ben Ito" in str(event["DESCRIPTION"])
        assert mailtos(event["ATTENDEE"]) == ["ben@example.com", "cleo@example.com"]


@pytest.mark.parametrize("count", [2, 12])
def test_a_co_hosts_feed_reads_one_more_query_whatever_the_number_of_sessions(
    ana, ben, room_2, count, django_assert_num_queries
):
    st = together(ana, ben)
    for n in range(count):
        services.book_slot(client=ClientFactory(), session_type=st, start=START + n * DAY)
    services.publish_session(
        actor=ana,
        session_type=together(ana, ben, room_2, kind="workshop", capacity=5),
        start=START + 2 * dt.timedelta(hours=3),
    )
    ben.refresh_from_db()
    with django_assert_num_queries(4):  # the coach's three, and the co-hosts of the sessions that have some
        body = calendar.feed_for(ben)
    assert len(vevents(body)) == count + 1
    with django_assert_num_queries(2):
        calendar.feed_version(ben)


def test_the_feeds_version_follows_the_co_hosts(ana, ben, cleo):
    booking = services.book_slot(client=cleo, session_type=together(ana, ben), start=START)
    before = calendar.feed_version(ana)[0]
    dora = named("Dora Lee")
    Session.co_hosts.through.objects.create(session_id=booking.session_id, user_id=dora.pk)

    assert calendar.feed_version(ana)[0] != before
    assert calendar.booking_uid(booking) in vevents(calendar.feed_for(dora))
