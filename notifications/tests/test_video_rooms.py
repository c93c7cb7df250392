"""Video rooms in what is sent and subscribed to: each person's emails, SMS, reminders,
invitations, downloads and calendar feed carry their own session's link — the client's once
the booking is firm or confirmed, the hosts' always — and never another client's.
(Rooms themselves and the booking's page and API: bookings/tests/test_video_rooms.py.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from icalendar import Calendar

from bookings import services
from bookings.models import Booking
from bookings.tests import test_video_rooms as rooms
from bookings.tests.test_video_rooms import START, H, link_of, logged_in
from notifications import calendar, feeds, messages
from notifications.models import Channel, Kind

pytestmark = pytest.mark.django_db

# The same people, type, frozen clock and video server as the rooms' own tests.
frozen, video_server = rooms.frozen, rooms.video_server
coach, therapy, ana, ben = rooms.coach, rooms.therapy, rooms.ana, rooms.ben


def event_texts(body: bytes) -> str:
    """Every event's LOCATION and DESCRIPTION, unfolded (a long link is folded in the file)."""
    parsed = Calendar.from_ical(body)
    return "\n".join(f"{event.get('LOCATION', '')}\n{event.get('DESCRIPTION', '')}" for event in parsed.walk("VEVENT"))


def test_a_clients_feed_has_the_link_once_booked_and_not_after_cancelling(coach, therapy, ana) -> None:
    therapy = services.update_session_type(session_type=therapy, actor=coach, approval="always")
    booking = services.book_slot(client=ana, session_type=therapy, start=START)
    room = link_of(booking)
    assert room not in event_texts(calendar.feed_for(ana))
    assert room in event_texts(calendar.feed_for(coach))  # the host has it while it is a request
    services.approve(booking=booking, actor=coach)
    assert room in event_texts(calendar.feed_for(ana))
    services.cancel(booking=booking, actor=ana)
    for person in (ana, coach):
        assert room not in event_texts(calendar.feed_for(person))


def test_a_group_sessions_room_is_in_its_seats_and_its_hosts_feeds_only(coach, ana, ben) -> None:
    circle = services.create_session_type(
        actor=coach, coach=coach, title="Support circle", kind="group", capacity=6, modality="online"
    )
    session = services.publish_session(actor=coach, session_type=circle, start=START)
    services.take_seat(client=ana, session=session)
    other = services.publish_session(actor=coach, session_type=circle, start=START + 3 * H)
    services.take_seat(client=ben, session=other)
    assert session.meeting_link in event_texts(calendar.feed_for(ana))
    assert session.meeting_link not in event_texts(calendar.feed_for(ben))
    coach_feed = event_texts(calendar.feed_for(coach))  # the coach's event of each session
    assert session.meeting_link in coach_feed and other.meeting_link in coach_feed


def test_a_type_without_video_puts_no_link_in_the_feed(coach, ana) -> None:
    plain = services.create_session_type(actor=coach, coach=coach, title="Call", modality="online", video="none")
    services.book_slot(client=ana, session_type=plain, start=START)
    assert "Video call" not in event_texts(calendar.feed_for(ana))


def test_each_persons_feed_carries_their_own_sessions_room_only(coach, therapy, ana, ben) -> None:
    mine = services.book_slot(client=ana, session_type=therapy, start=START)
    theirs = services.book_slot(client=ben, session_type=therapy, start=START + 2 * H)
    ana_feed = logged_in(ana).get(urlsplit(feeds.feed_url(ana)).path)
    assert ana_feed.status_code == 200
    assert link_of(mine) in event_texts(ana_feed.content)
    assert link_of(theirs) not in event_texts(ana_feed.content)
    ben_feed = Client().get(urlsplit(feeds.feed_url(ben)).path).content
    assert link_of(theirs) in event_texts(ben_feed) and link_of(mine) not in event_texts(ben_feed)
    coach_feed = event_texts(calendar.feed_for(coach))
    assert link_of(mine) in coach_feed and link_of(theirs) in coach_feed
    # The .ics download of the booking: the client's own.
    assert link_of(mine) in event_texts(calendar.booking_ics(mine, viewer=ana))


def test_the_sms_reminder_and_a_hybrid_sessions_email_carry_the_link(coach, ana) -> None:
    hybrid = services.create_session_type(
        actor=coach, coach=coach, title="Hybrid session", modality="hybrid", location="12 rue de la Paix"
    )
    booking = services.book_slot(client=ana, session_type=hybrid, start=START)
    booking = Booking.objects.select_related("session__session_type", "session__coach", "client").get(pk=booking.pk)
    room = link_of(booking)
    context = messages.booking_context(booking, ana, lead="in 2 hours")
    assert context["meeting_link"] == room and context["place"] == "12 rue de la Paix"
    email = messages.render(Kind.CONFIRMED, Channel.EMAIL, context)
    assert "12 rue de la Paix" in email.text and f"Join online: {room}" in email.text
    assert room in messages.render(Kind.SESSION_REMINDER, Channel.EMAIL, context).text
    online = services.book_slot(
        client=ana, session_type=services.create_session_type(actor=coach, coach=coach, title="O"), start=START + 3 * H
    )
    online = Booking.objects.select_related("session__session_type", "session__coach", "client").get(pk=online.pk)
    sms = messages.render(Kind.SESSION_REMINDER, Channel.SMS, messages.booking_context(online, ana, lead="in 1 hour"))
    assert link_of(online) in sms.text
    # A message about a cancelled booking doesn't hand the room out again.
    services.cancel(booking=online, actor=ana)
    online.refresh_from_db()
    cancelled = messages.render(Kind.CANCELLED, Channel.EMAIL, messages.booking_context(online, ana))
    assert link_of(online) not in cancelled.text


def invitation_text(message) -> str:
    [(_name, content, _mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    return event_texts(content if isinstance(content, bytes) else content.encode())


def mails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


@pytest.mark.django_db(transaction=True)
def test_the_emails_and_invitations_of_each_side_carry_their_sessions_room(coach, therapy, ana, ben) -> None:
    mine = services.book_slot(client=ana, session_type=therapy, start=START)
    theirs = services.book_slot(client=ben, session_type=therapy, start=START + 2 * H)
    room, other = link_of(mine), link_of(theirs)
    [to_ana] = mails_to(ana)
    assert room in to_ana.body and room in invitation_text(to_ana)
    assert other not in to_ana.body and other not in invitation_text(to_ana)
    [to_ben] = mails_to(ben)
    assert other in to_ben.body and room not in to_ben.body and room not in invitation_text(to_ben)
    to_coach = mails_to(coach)
    assert any(room in message.body and room in invitation_text(message) for message in to_coach)
    assert any(other in message.body for message in to_coach)

    # Moved (by the client, so the coach is told): the new invitation keeps the same room.
    mail.outbox.clear()
    services.reschedule(booking=mine, actor=ana, start=START + 4 * H)
    [moved] = mails_to(coach)
    assert moved.subject.startswith("Moved") and room in moved.body and room in invitation_text(moved)
