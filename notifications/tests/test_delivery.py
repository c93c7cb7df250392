"""Email and SMS delivery when workers die: claims taken a few at a time, each result
recorded at once, a stopped worker's claims queued again (marked possibly duplicated when
the provider call may have started), and two workers never sending the same delivery."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
import time_machine
from django.core import mail
from django.db import connections

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import delivery, reminders, tasks
from notifications.models import Channel, Delivery, DeliveryStatus, Kind, Notification, Reminder, ReminderStatus

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def timeout(settings) -> dt.timedelta:
    settings.NOTIFICATION_CLAIM_TIMEOUT_SECONDS = 120
    return dt.timedelta(seconds=120)


def book(*, start=START):
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach, title="Consultation")
    return services.book_slot(client=ClientFactory(), session_type=session_type, start=start)


def queued_emails(count: int) -> list[Delivery]:
    """``count`` queued reminder emails to one client, due now (the booking's own messages
    are out of the way)."""
    booking = book()
    Delivery.objects.all().delete()
    notes = Notification.objects.bulk_create(
        Notification(
            recipient=booking.client,
            booking=booking,
            kind=Kind.SESSION_REMINDER,
            title="Reminder",
            due_at=NOW - dt.timedelta(minutes=index),
            payload={"extra": {"lead": "24 hours"}},
        )
        for index in range(count)
    )
    Delivery.objects.bulk_create(
        Delivery(notification=note, channel=Channel.EMAIL, status=DeliveryStatus.QUEUED, next_attempt_at=NOW)
        for note in notes
    )
    mail.outbox.clear()
    return list(Delivery.objects.filter(notification__in=notes).order_by("next_attempt_at", "pk"))


def sends() -> Counter:
    """How many times each delivery's email went out."""
    return Counter(int(message.extra_headers["X-Delivery-ID"]) for message in mail.outbox)


def states() -> dict[int, tuple]:
    return {
        row.pk: (row.status, row.attempts, row.call_started_at is not None, row.possibly_duplicated)
        for row in Delivery.objects.all()
    }


class Killed(BaseException):
    """The worker process dying (nothing in the sending code catches it)."""


class DyingBackend:
    """Takes messages like the in-memory backend; the worker dies on message number
    ``die_on`` — after the provider took it (``taken``) or before it reached it."""

    die_on = 0
    taken = True
    count = 0

    def __init__(self, *args, **kwargs) -> None:
        pass

    def open(self):
        return True

    def close(self):
        return None

    def send_messages(self, messages):
        DyingBackend.count += 1
        if DyingBackend.count == DyingBackend.die_on:
            if DyingBackend.taken:
                mail.outbox.extend(messages)
            raise Killed
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def dying(settings):
    settings.EMAIL_BACKEND = f"{__name__}.DyingBackend"
    DyingBackend.count, DyingBackend.die_on, DyingBackend.taken = 0, 0, True
    yield DyingBackend
    DyingBackend.count, DyingBackend.die_on = 0, 0


def test_each_result_is_recorded_at_once_and_a_killed_worker_loses_nothing(clock, timeout, dying):
    first, second, third = queued_emails(3)
    dying.count, dying.die_on = 0, 2
    with pytest.raises(Killed):
        delivery.send_deliveries(worker="w-killed")
    # The first is recorded sent; the second was in the provider's hands; the third was
    # claimed but not started.
    assert states() == {
        first.pk: (DeliveryStatus.SENT, 1, True, False),
        second.pk: (DeliveryStatus.SENDING, 1, True, False),
        third.pk: (DeliveryStatus.SENDING, 1, False, False),
    }
    # Not before the claim times out.
    clock.move_to(NOW + timeout)
    assert delivery.requeue_stale() == 0
    clock.move_to(NOW + timeout + dt.timedelta(seconds=1))
    dying.die_on = 0
    assert tasks.send_due()["stale"] == 2
    assert states() == {
        first.pk: (DeliveryStatus.SENT, 1, True, False),
        second.pk: (DeliveryStatus.SENT, 2, True, True),
        third.pk: (DeliveryStatus.SENT, 1, True, False),
    }
    # Only the message in flight went out twice; nothing is left unsent or queued again.
    assert sends() == {first.pk: 1, second.pk: 2, third.pk: 1}
    clock.move_to(NOW + 3 * timeout)
    assert delivery.requeue_stale() == 0 and delivery.send_deliveries() == 0


def test_a_stale_claim_whose_call_never_started_is_simply_sent_by_the_next_worker(clock, timeout):
    (item,) = queued_emails(1)
    assert [row.pk for row in delivery.claim(now=NOW, worker="w-gone")] == [item.pk]
    clock.move_to(NOW + timeout + dt.timedelta(seconds=1))
    assert delivery.requeue_stale() == 1
    item.refresh_from_db()
    # Queued again at once, the claim not counted as an attempt, nothing marked.
    assert (item.status, item.attempts, item.claimed_by, item.possibly_duplicated, item.error) == (
        DeliveryStatus.QUEUED,
        0,
        "",
        False,
        "",
    )
    assert delivery.send_deliveries() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts) == (DeliveryStatus.SENT, 1)
    assert sends() == {item.pk: 1}


def test_a_stale_claim_whose_call_started_is_sent_again_once_and_marked(clock, timeout, dying):
    (item,) = queued_emails(1)
    dying.count, dying.die_on = 0, 1
    with pytest.raises(Killed):
        delivery.send_deliveries(worker="w-gone")
    clock.move_to(NOW + timeout + dt.timedelta(seconds=1))
    dying.die_on = 0
    # Several workers looking for stale claims at once queue it again once.
    assert delivery.requeue_stale() == 1
    assert delivery.requeue_stale() == 0
    item.refresh_from_db()
    assert (item.status, item.possibly_duplicated) == (DeliveryStatus.QUEUED, True)
    assert "may get this message twice" in item.error
    assert delivery.send_deliveries() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts, item.possibly_duplicated, item.error) == (DeliveryStatus.SENT, 2, True, "")
    assert sends() == {item.pk: 2}
    clock.move_to(NOW + 5 * timeout)
    assert delivery.requeue_stale() == 0 and delivery.send_deliveries() == 0
    assert sends() == {item.pk: 2}


def test_a_call_cut_off_again_and_again_is_retried_up_to_the_limit_then_failed(clock, timeout, dying, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    (item,) = queued_emails(1)
    dying.taken = False
    for round_ in range(2):
        dying.count, dying.die_on = 0, 1
        with pytest.raises(Killed):
            delivery.send_deliveries(worker=f"w-{round_}")
        clock.shift(timeout + dt.timedelta(seconds=1))
        assert delivery.requeue_stale() == 1 - round_
    item.refresh_from_db()
    assert (item.status, item.attempts, item.possibly_duplicated) == (DeliveryStatus.FAILED, 2, True)
    assert sends() == {}


def test_a_claim_taken_back_from_a_slow_worker_is_not_sent_by_it(clock, timeout):
    (item,) = queued_emails(1)
    (slow,) = delivery.claim(now=NOW, worker="w-slow")
    clock.move_to(NOW + timeout + dt.timedelta(seconds=1))
    assert delivery.requeue_stale() == 1
    assert delivery.send_deliveries(worker="w-next") == 1
    # The slow worker goes on with its old claim: it finds it gone and calls nobody.
    assert delivery._send_one(slow, custom={}, mail=None, worker="w-slow") is False
    assert sends() == {item.pk: 1}


def test_a_send_that_outlasts_its_claim_is_still_recorded(clock, timeout):
    (item,) = queued_emails(1)

    def slow_send(self, *args, **kwargs):
        clock.shift(timeout + dt.timedelta(seconds=1))
        assert delivery.requeue_stale() == 1  # another worker thinks this one stopped
        return original(self, *args, **kwargs)

    original = delivery.EmailMultiAlternatives.send
    delivery.EmailMultiAlternatives.send = slow_send
    try:
        assert delivery.send_deliveries() == 1
    finally:
        delivery.EmailMultiAlternatives.send = original
    item.refresh_from_db()
    assert item.status == DeliveryStatus.SENT
    assert delivery.send_deliveries() == 0
    assert sends() == {item.pk: 1}


def test_two_workers_never_claim_the_same_delivery(clock):
    items = queued_emails(40)
    barrier = threading.Barrier(2)
    claimed: dict[str, list[int]] = {"w-a": [], "w-b": []}
    errors = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            while batch := delivery.claim(now=NOW, worker=name, limit=3):
                claimed[name] += [row.pk for row in batch]
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert not set(claimed["w-a"]) & set(claimed["w-b"])
    assert sorted(claimed["w-a"] + claimed["w-b"]) == sorted(item.pk for item in items)
    assert dict(Counter(Delivery.objects.values_list("claimed_by", flat=True))) == {
        name: len(pks) for name, pks in claimed.items() if pks
    }


def test_two_workers_sending_at_once_send_each_delivery_once(clock):
    items = queued_emails(30)
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def work(name: str) -> None:
        try:
            barrier.wait()
            results[name] = delivery.send_deliveries(worker=name)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("w-a", "w-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results.values()) == len(items)
    assert sends() == {item.pk: 1 for item in items}


def test_a_worker_killed_after_claiming_reminders_leaves_their_emails_queued(clock):
    booking = book()
    clock.move_to(START - dt.timedelta(hours=24) + dt.timedelta(seconds=30))
    mail.outbox.clear()
    # The claim of the reminders commits with their notifications and deliveries; the
    # worker dies before sending any of them.
    done = reminders.claim_batch(now=dt.datetime.now(UTC), worker="w-gone", batch=200)
    assert done.sent == 2 and len(done.delivery_ids) == 2
    assert set(Delivery.objects.filter(pk__in=done.delivery_ids).values_list("status", flat=True)) == {
        DeliveryStatus.QUEUED
    }
    # The next run sends them (and makes no second notification).
    assert tasks.send_due()["deliveries_sent"] == 2
    assert sorted(sends()) == sorted(done.delivery_ids)
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [booking.client.email, booking.session.coach.email]
    )
    assert Reminder.objects.filter(booking=booking, status=ReminderStatus.SENT).count() == 2
