"""The booking event relay: events wait for it, reach every consumer once, in order; a
relay that dies commits nothing; a failing consumer holds up nobody and is retried; two
relays at once share the work without overlap."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connections
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.models import BookingEvent, RelayRetry
from bookings.tests.factories import SessionTypeFactory, open_coach

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seen(monkeypatch, settings):
    """Only a recording consumer, and no relay run after each commit: the test runs it."""
    settings.RELAY_WAKE = False
    got: list[int] = []
    lock = threading.Lock()

    def record(events):
        with lock:
            got.extend(event.pk for event in events)

    monkeypatch.setattr(relay, "_consumers", {"recorder": record})
    return got


def book(count: int) -> list:
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    return [
        services.book_slot(
            client=ClientFactory(), session_type=session_type, start=START + dt.timedelta(days=n // 6, hours=n % 6)
        )
        for n in range(count)
    ]


def pending() -> list[int]:
    return list(BookingEvent.objects.filter(relayed_at__isnull=True).order_by("pk").values_list("pk", flat=True))


@pytest.mark.django_db
def test_events_wait_for_the_relay_then_reach_each_consumer_once_in_order(seen):
    booking = book(3)[0]
    services.cancel(booking=booking, actor=booking.client)
    waiting = pending()
    assert len(waiting) == 4
    assert seen == []

    done = relay.relay_pending(batch=3)

    assert (done.events, done.failures) == (4, 0)
    assert seen == waiting
    assert pending() == []
    assert relay.relay_pending().events == 0
    assert seen == waiting


@pytest.mark.django_db
def test_a_relay_that_dies_mid_batch_commits_nothing_and_the_batch_is_claimed_again(monkeypatch, seen):
    book(2)
    waiting = pending()

    def dies(events):
        BookingEvent.objects.filter(pk=events[0].pk).update(note="half done")
        raise SystemExit("the worker was killed")  # not an Exception: nothing catches it

    monkeypatch.setattr(relay, "_consumers", {"dies": dies})
    with pytest.raises(SystemExit):
        relay.relay_batch()
    assert pending() == waiting
    assert not BookingEvent.objects.filter(note="half done").exists()

    monkeypatch.setattr(relay, "_consumers", {"recorder": lambda events: seen.extend(e.pk for e in events)})
    assert relay.relay_pending().events == 2
    assert seen == waiting


@pytest.mark.django_db
def test_a_failing_consumer_holds_up_nobody_and_is_retried_until_it_gives_up(monkeypatch, settings, seen, frozen):
    settings.RELAY_MAX_ATTEMPTS = 3
    book(3)
    waiting = pending()
    poison = waiting[1]
    handled: list[int] = []

    def fussy(events):
        for event in events:
            BookingEvent.objects.filter(pk=event.pk).update(note="fussy saw it")  # rolled back on failure
            if event.pk == poison:
                raise ValueError("can't handle this one")
            handled.append(event.pk)

    consumers = {"fussy": fussy, "recorder": relay._consumers["recorder"]}
    monkeypatch.setattr(relay, "_consumers", consumers)

    done = relay.relay_pending()

    assert (done.events, done.failures) == (3, 1)
    assert pending() == []
    assert seen == waiting  # the other consumer got everything
    assert poison not in handled and set(handled) == set(waiting) - {poison}
    assert set(BookingEvent.objects.filter(note="fussy saw it").values_list("pk", flat=True)) == set(handled)
    retry = RelayRetry.objects.get()
    assert (retry.consumer, retry.event_id, retry.attempts) == ("fussy", poison, 1)
    assert "can't handle this one" in retry.error

    assert relay.retry_failed() == 0  # not due yet: a minute later
    frozen.shift(dt.timedelta(minutes=1, seconds=1))
    assert relay.retry_failed() == 0
    retry.refresh_from_db()
    assert retry.attempts == 2 and retry.next_attempt_at == NOW + dt.timedelta(minutes=1, seconds=1) + dt.timedelta(
        minutes=5
    )
    frozen.shift(dt.timedelta(minutes=5))
    relay.retry_failed()
    retry.refresh_from_db()
    assert retry.attempts == 3 and retry.next_attempt_at is None  # given up, kept for staff

    frozen.shift(dt.timedelta(days=2))
    assert relay.retry_failed() == 0
    # Once the consumer is fixed, a retry still due succeeds and goes away.
    RelayRetry.objects.filter(pk=retry.pk).update(next_attempt_at=NOW)
    poison = None
    assert relay.retry_failed() == 1
    assert not RelayRetry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_take_each_event_once(seen):
    book(12)
    waiting = pending()
    barrier = threading.Barrier(2)
    totals: list[int] = []

    def run() -> None:
        barrier.wait()
        try:
            totals.append(relay.relay_pending(batch=2).events)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(totals) == len(waiting) == 12
    assert sorted(seen) == waiting  # each event once, none twice
    assert pending() == []


@pytest.mark.django_db(transaction=True)
def test_the_commit_wakes_the_relay(monkeypatch, settings):
    """Tasks run inline in tests, so the relay queued after the commit runs at once."""
    settings.RELAY_WAKE = True
    got: list[str] = []
    monkeypatch.setattr(relay, "_consumers", {"recorder": lambda events: got.extend(e.action for e in events)})
    booking = book(1)[0]
    assert got == ["booked"]
    services.cancel(booking=booking, actor=booking.client)
    assert got == ["booked", "cancelled"]
    assert pending() == []


@pytest.mark.django_db
def test_a_refused_change_leaves_no_event(seen):
    [booking] = book(1)
    with pytest.raises(services.BookingRefused):
        services.book_slot(client=ClientFactory(), session_type=booking.session.session_type, start=START)
    assert len(pending()) == 1


@pytest.mark.django_db
def test_staff_see_the_events_a_consumer_gave_up_on_and_try_them_again(as_role, seen):
    book(1)
    event = BookingEvent.objects.get()
    retry = RelayRetry.objects.create(consumer="recorder", event=event, attempts=5, error="ValueError: boom")
    http = as_role("staff")
    listing = reverse("admin:bookings_relayretry_changelist")

    page = http.get(listing)
    assert page.status_code == 200
    assert "given up" in page.content.decode()

    response = http.post(listing, {"action": "try_again_now", "_selected_action": [retry.pk]})
    assert response.status_code == 302
    retry.refresh_from_db()
    assert retry.next_attempt_at == NOW
    assert relay.retry_failed() == 1
    assert seen == [event.pk]
    assert not RelayRetry.objects.exists()
