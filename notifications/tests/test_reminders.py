"""Reminders: planned with the booking, moved by a reschedule, dropped by a cancellation,
sent once when due — by the q2 schedule itself, and by two workers at once — skipped when
too late, and email retried with backoff."""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections import Counter

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core import mail
from django.db import connections
from django.db.models import F
from django_q.models import Schedule
from django_q.scheduler import scheduler

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from notifications import delivery, reminders
from notifications.models import Channel, Delivery, DeliveryStatus, Kind, Notification, Reminder, ReminderStatus

schedule_migration = importlib.import_module("notifications.migrations.0002_schedules")
UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 10:00 in Paris; cancellation notice 24 h

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def planned(booking, status=ReminderStatus.PENDING) -> list[tuple[str, str, dt.datetime]]:
    return sorted(
        (row.recipient.email, row.kind, row.due_at)
        for row in Reminder.objects.filter(booking=booking, status=status).select_related("recipient")
    )


def book(client=None, *, coach=None, start=START, **kwargs):
    coach = coach or open_coach()
    session_type = SessionTypeFactory(coach=coach, title="Consultation")
    client = client or ClientFactory()
    return services.book_slot(client=client, session_type=session_type, start=start, **kwargs)


def test_a_booking_plans_the_usual_reminders_for_both_sides(clock):
    booking = book()
    client, coach = booking.client.email, booking.session.coach.email
    hours = dt.timedelta(hours=1)
    assert planned(booking) == sorted(
        [
            (client, Kind.SESSION_REMINDER, START - 24 * hours),
            (client, Kind.SESSION_REMINDER, START - 2 * hours),
            (client, Kind.SESSION_REMINDER, START - dt.timedelta(minutes=30)),
            # Free cancellation ends 24 h before; told 6 h before that.
            (client, Kind.CANCELLATION_WINDOW, START - 30 * hours),
            # An hour after the end.
            (client, Kind.FEEDBACK_REQUEST, START + 2 * hours),
            (coach, Kind.SESSION_REMINDER, START - 24 * hours),
            (coach, Kind.SESSION_REMINDER, START - 2 * hours),
            (coach, Kind.SESSION_REMINDER, START - dt.timedelta(minutes=30)),
        ]
    )


def test_the_wizard_checkbox_off_means_no_reminders_for_the_client_and_a_type_can_have_its_own(clock):
    coach = open_coach()
    booking = book(coach=coach, reminders=False)
    kinds = {(email, kind) for email, kind, _ in planned(booking)}
    assert kinds == {(coach.email, Kind.SESSION_REMINDER), (booking.client.email, Kind.FEEDBACK_REQUEST)}

    special = SessionTypeFactory(coach=coach, reminder_minutes=[60])
    other = services.book_slot(client=ClientFactory(), session_type=special, start=START + dt.timedelta(hours=3))
    reminders_due = [due for _, kind, due in planned(other) if kind == Kind.SESSION_REMINDER]
    assert reminders_due == [other.session.start - dt.timedelta(hours=1)] * 2  # client and coach


def test_a_booking_made_late_plans_only_what_is_still_useful(clock):
    soon = NOW + dt.timedelta(hours=3)  # 24 h and cancellation warnings already passed
    booking = book(start=soon)
    assert [(kind, due) for email, kind, due in planned(booking) if email == booking.client.email] == [
        (Kind.FEEDBACK_REQUEST, soon + dt.timedelta(hours=2)),
        (Kind.SESSION_REMINDER, soon - dt.timedelta(hours=2)),
        (Kind.SESSION_REMINDER, soon - dt.timedelta(minutes=30)),
    ]


def test_a_reschedule_moves_the_reminders_and_a_cancellation_removes_them(clock):
    booking = book()
    before = planned(booking)
    new_start = START + dt.timedelta(days=1, hours=2)
    booking = services.reschedule(booking=booking, actor=booking.session.coach, start=new_start)
    shift = new_start - START
    assert planned(booking) == sorted((email, kind, due + shift) for email, kind, due in before)
    assert len(planned(booking, ReminderStatus.CANCELLED)) == len(before)

    services.cancel(booking=booking, actor=booking.client, reason="")
    assert planned(booking) == []
    # Nothing goes out when they would have been due.
    mail.outbox.clear()
    clock.move_to(new_start - dt.timedelta(minutes=29))
    done = reminders.dispatch_due()
    assert (done.sent, done.skipped) == (0, 0)
    assert not Notification.objects.filter(kind=Kind.SESSION_REMINDER).exists()
    assert mail.outbox == []


def test_moving_back_to_the_first_time_plans_the_same_reminders_again(clock):
    booking = book()
    before = planned(booking)
    coach = booking.session.coach
    booking = services.reschedule(booking=booking, actor=coach, start=START + dt.timedelta(hours=2))
    booking = services.reschedule(booking=booking, actor=coach, start=START)
    assert planned(booking) == before


def test_due_reminders_are_sent_once_and_late_ones_skipped(clock):
    booking = book(ClientFactory(name="Cleo", timezone="America/New_York"))
    mail.outbox.clear()
    clock.move_to(START - dt.timedelta(hours=24) + dt.timedelta(seconds=30))
    done = reminders.dispatch_due()
    # The two 24-hour reminders go; the cancellation warning (due 6 h ago, window 3 h) is skipped.
    assert (done.sent, done.skipped) == (2, 1)
    note = Notification.objects.get(recipient=booking.client, kind=Kind.SESSION_REMINDER)
    assert note.title == "Reminder: Consultation in 24 hours"
    assert "Thu 3 Dec 2026, 04:00 (America/New_York)" in note.body
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [booking.client.email, booking.session.coach.email]
    )
    client_mail = next(message for message in mail.outbox if message.to == [booking.client.email])
    assert client_mail.subject == "Reminder: Consultation in 24 hours"
    assert "Your session starts in 24 hours." in client_mail.body
    skipped = Reminder.objects.get(booking=booking, kind=Kind.CANCELLATION_WINDOW)
    assert skipped.status == ReminderStatus.SKIPPED and skipped.notification is None
    # Running again sends nothing more.
    assert reminders.dispatch_due().sent == 0
    assert len(mail.outbox) == 2


def test_the_q2_schedule_sends_what_is_due(clock):
    booking = book()
    schedule_migration.create_schedules(django_apps, None)  # test databases are emptied between tests
    schedule = Schedule.objects.get(name="Send due notifications")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "notifications.tasks.send_due",
        Schedule.MINUTES,
        1,
    )
    clock.move_to(START - dt.timedelta(minutes=29))
    Schedule.objects.filter(pk=schedule.pk).update(next_run=START - dt.timedelta(minutes=30))
    mail.outbox.clear()
    scheduler()  # what the cluster runs; tasks run inline in the test settings
    sent = Reminder.objects.filter(booking=booking, status=ReminderStatus.SENT)
    assert sorted((row.recipient_id, row.due_at) for row in sent) == sorted(
        [
            (booking.client_id, START - dt.timedelta(minutes=30)),
            (booking.session.coach_id, START - dt.timedelta(minutes=30)),
        ]
    )
    # The earlier ones were too late by then.
    assert Reminder.objects.filter(booking=booking, status=ReminderStatus.SKIPPED).count() == 5
    assert len(mail.outbox) == 2 and all("in 30 minutes" in m.subject for m in mail.outbox)
    schedule.refresh_from_db()
    assert schedule.next_run > START - dt.timedelta(minutes=30)


def test_a_group_session_reminds_the_coach_once_whoever_leaves(clock):
    coach = open_coach()
    group = GroupTypeFactory(coach=coach)
    session = services.publish_session(actor=coach, session_type=group, start=START)
    seats = [services.take_seat(client=ClientFactory(), session=session) for _ in range(3)]

    def coach_reminders():
        return Reminder.objects.filter(
            booking__session=session, recipient=coach, kind=Kind.SESSION_REMINDER, status=ReminderStatus.PENDING
        )

    assert coach_reminders().count() == 3
    assert {row.booking_id for row in coach_reminders()} == {seats[0].pk}
    services.cancel(booking=seats[0], actor=seats[0].client, reason="")
    assert coach_reminders().count() == 3
    assert {row.booking_id for row in coach_reminders()} == {seats[1].pk}


def test_two_workers_at_once_send_every_due_reminder_exactly_once(clock):
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    for day in range(2, 4):
        for hour in range(8, 14):
            services.book_slot(client=ClientFactory(), session_type=session_type, start=NOW.replace(day=day, hour=hour))
    # Every planned session reminder falls due (three days early, with room to be sent).
    Reminder.objects.exclude(kind=Kind.SESSION_REMINDER).delete()
    Reminder.objects.update(due_at=F("due_at") - dt.timedelta(days=3), window=dt.timedelta(days=30))
    expected = Reminder.objects.count()
    assert expected == 12 * 3 * 2
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def work(name: str) -> None:
        try:
            barrier.wait()
            results[name] = reminders.dispatch_due(worker=name, batch=7)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("worker-a", "worker-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(result.sent for result in results.values()) == expected
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == expected
    by_reminder = Counter(note.payload["reminder"] for note in Notification.objects.filter(kind=Kind.SESSION_REMINDER))
    assert len(by_reminder) == expected and max(by_reminder.values()) == 1
    emails = Counter((message.to[0], message.body) for message in mail.outbox)
    assert sum(emails.values()) == expected and max(emails.values()) == 1
    assert Delivery.objects.filter(channel=Channel.EMAIL, status=DeliveryStatus.SENT).count() >= expected


class FlakyBackend:
    """An email backend that fails its first ``fails`` sends."""

    fails = 0

    def __init__(self, *args, **kwargs) -> None:
        pass

    def open(self):
        return True

    def close(self):
        return None

    def send_messages(self, messages):
        if FlakyBackend.fails > 0:
            FlakyBackend.fails -= 1
            raise ConnectionRefusedError("mail server down")
        mail.outbox.extend(messages)
        return len(messages)


def test_a_failed_email_is_retried_with_backoff_then_marked_failed(clock, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    FlakyBackend.fails = 1
    booking = book()
    item = Delivery.objects.get(notification__recipient=booking.client, channel=Channel.EMAIL)
    assert (item.status, item.attempts) == (DeliveryStatus.QUEUED, 1)
    assert item.next_attempt_at == NOW + dt.timedelta(minutes=1)
    assert "mail server down" in item.error
    # Not before its time; then it goes.
    assert delivery.send_deliveries() == 0
    clock.move_to(NOW + dt.timedelta(minutes=1))
    mail.outbox.clear()
    assert delivery.send_deliveries() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts, item.error) == (DeliveryStatus.SENT, 2, "")
    assert [message.to for message in mail.outbox] == [[booking.client.email]]

    FlakyBackend.fails = 99
    other = book(start=START + dt.timedelta(hours=2), coach=booking.session.coach)
    item = Delivery.objects.get(notification__recipient=other.client, channel=Channel.EMAIL)
    waits = []
    while item.status == DeliveryStatus.QUEUED:
        waits.append(item.next_attempt_at - dt.datetime.now(UTC))
        clock.move_to(item.next_attempt_at)
        delivery.send_deliveries()
        item.refresh_from_db()
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=5)]
    assert (item.status, item.attempts) == (DeliveryStatus.FAILED, 3)
