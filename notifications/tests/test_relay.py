"""Notifications and reminders as a consumer of the booking event stream: made after the
commit when the relay runs, never twice however often an event is replayed, and nothing
at all from a relay that dies half-way."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import relay, services
from bookings.models import BookingEvent
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import reminders
from notifications.models import Delivery, Kind, Notification, Reminder
from notifications.services import on_booking_events

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.RELAY_WAKE = False  # the tests run the relay themselves
    with time_machine.travel(NOW, tick=False):
        yield


def written() -> tuple[int, int, int]:
    return Notification.objects.count(), Delivery.objects.count(), Reminder.objects.count()


def book_and_move():
    coach = open_coach(max_sessions_per_day=2)
    StaffFactory()
    client = ClientFactory()
    session_type = SessionTypeFactory(coach=coach)
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    services.book_slot(client=ClientFactory(), session_type=session_type, start=START + dt.timedelta(hours=2))
    services.reschedule(booking=booking, actor=coach, start=START + dt.timedelta(hours=1))
    return coach, client, booking


@pytest.mark.django_db
def test_a_bookings_messages_and_reminders_appear_when_the_relay_runs():
    coach, client, booking = book_and_move()
    assert written() == (0, 0, 0)  # nothing in the booking's own transaction

    assert relay.relay_pending().events == 3

    assert set(Notification.objects.filter(recipient=client).values_list("kind", flat=True)) == {
        Kind.BOOKING_CREATED,
        Kind.RESCHEDULED,
    }
    assert Notification.objects.filter(recipient=coach, kind=Kind.SESSION_LIMIT_WARNING).exists()
    assert all(note.event_id for note in Notification.objects.all())
    # Reminders follow the booking's time after the move, not the first one.
    dues = set(
        Reminder.objects.filter(
            booking=booking, recipient=client, status="pending", kind=Kind.SESSION_REMINDER
        ).values_list("due_at", flat=True)
    )
    moved = START + dt.timedelta(hours=1)
    assert dues == {moved - dt.timedelta(minutes=m) for m in (24 * 60, 120, 30)}


@pytest.mark.django_db
def test_replaying_events_writes_nothing_twice():
    book_and_move()
    relay.relay_pending()
    before = written()
    assert before[0] > 0 and before[2] > 0

    BookingEvent.objects.update(relayed_at=None)  # as if every mark were lost
    assert relay.relay_pending().events == 3
    assert written() == before
    on_booking_events(list(BookingEvent.objects.order_by("pk")))  # and once more, directly
    assert written() == before


@pytest.mark.django_db
def test_a_relay_killed_mid_batch_leaves_nothing_and_the_next_one_writes_everything_once(monkeypatch):
    book_and_move()

    def killed(plans):
        assert Notification.objects.exists()  # the notifications were already written…
        raise SystemExit("killed")  # …when the worker died

    monkeypatch.setattr(reminders, "save_plans", killed)
    with pytest.raises(SystemExit):
        relay.relay_pending()
    assert written() == (0, 0, 0)
    assert BookingEvent.objects.filter(relayed_at__isnull=True).count() == 3

    monkeypatch.undo()
    relay.relay_pending()
    after = written()
    relay.relay_pending()
    BookingEvent.objects.update(relayed_at=None)
    relay.relay_pending()
    assert written() == after
    # A limit warning per booking that reached the threshold, whichever of its changes did.
    warned = list(Notification.objects.filter(kind=Kind.SESSION_LIMIT_WARNING).values_list("booking_id", flat=True))
    assert len(warned) == len(set(warned)) == 2
