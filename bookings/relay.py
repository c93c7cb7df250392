"""The booking event stream: every change's ``BookingEvent`` handed to its consumers.

Each booking service writes a ``BookingEvent`` in the same transaction as the change it
records — that row is the outbox. After the commit, the relay claims events not yet
relayed, oldest first, in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number
of relays share the work; SQLite's ``BEGIN IMMEDIATE`` serialises them), hands each batch
to every registered consumer, and marks the events relayed — all in one transaction, so a
relay that dies commits nothing and the batch is simply claimed again. Consumers are
registered in code (``register``, called from the consuming app's ``AppConfig.ready``),
never through signals, and each is idempotent (its own unique keys), so handing it an
event twice writes nothing twice.

A consumer that fails on a batch doesn't hold up the others: its work is rolled back to a
savepoint, it is given the batch's events one at a time to find the ones it fails on, and
each of those gets a ``RelayRetry`` row that the relay works through later (1, 5, 25…
minutes, up to ``RELAY_MAX_ATTEMPTS``, then left for staff with the error).

When it runs: ``wake()`` right after a change's commit queues a relay task, at most once
per ``RELAY_WAKE_SECONDS`` per process; the task keeps relaying until nothing has come for
``RELAY_LINGER_SECONDS`` (longer than the wake interval, so an event whose wake was
skipped is picked up by the task already running). A schedule runs it every minute as
well, for retries and for anything a lost wake left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bookings.models import BookingEvent, RelayRetry

logger = logging.getLogger(__name__)

Consumer = Callable[[Sequence[BookingEvent]], None]

_consumers: dict[str, Consumer] = {}


def register(name: str, consumer: Consumer) -> None:
    """Add a consumer of booking events under a stable ``name`` (its retries carry it)."""
    _consumers[name] = consumer


@dataclass
class Relayed:
    events: int = 0
    failures: int = 0


def _claim(batch: int):
    pending = BookingEvent.objects.filter(relayed_at__isnull=True).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        pending = pending.select_for_update(skip_locked=True)
    return list(pending[:batch])


def _run(name: str, consumer: Consumer, events: Sequence[BookingEvent], *, now: dt.datetime) -> int:
    """Give ``events`` to one consumer inside a savepoint; on failure, one event at a time,
    and a retry row for each event it still fails on. Returns the failures."""
    try:
        with transaction.atomic():
            consumer(events)
        return 0
    except Exception:
        if len(events) == 1:
            _failed(name, events[0], now=now)
            return 1
    failures = 0
    for event in events:
        try:
            with transaction.atomic():
                consumer([event])
        except Exception:
            _failed(name, event, now=now)
            failures += 1
    return failures


def _failed(name: str, event: BookingEvent, *, now: dt.datetime) -> None:
    logger.exception("Booking event %s: consumer %s failed; it will be retried.", event.pk, name)
    RelayRetry.objects.create(
        consumer=name, event=event, attempts=1, next_attempt_at=now + backoff(1), error=traceback.format_exc()[-4000:]
    )


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 1, 5, 25… minutes, at most a day."""
    return min(dt.timedelta(minutes=5 ** max(attempts - 1, 0)), dt.timedelta(days=1))


def relay_batch(*, batch: int | None = None, now: dt.datetime | None = None) -> Relayed:
    """Claim one batch of events, give it to every consumer, mark it relayed."""
    batch = batch or settings.RELAY_BATCH
    with transaction.atomic():
        now = now or timezone.now()
        events = _claim(batch)
        if not events:
            return Relayed()
        failures = sum(_run(name, consumer, events, now=now) for name, consumer in _consumers.items())
        BookingEvent.objects.filter(pk__in=[event.pk for event in events]).update(relayed_at=now)
    return Relayed(events=len(events), failures=failures)


def relay_pending(*, batch: int | None = None) -> Relayed:
    """Relay batch after batch until nothing is left; returns the totals."""
    batch = batch or settings.RELAY_BATCH
    total = Relayed()
    while True:
        done = relay_batch(batch=batch)
        total.events += done.events
        total.failures += done.failures
        if done.events < batch:
            return total


def retry_failed(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Give each due ``RelayRetry`` its event again; returns how many succeeded."""
    now = now or timezone.now()
    succeeded = 0
    with transaction.atomic():
        due = RelayRetry.objects.filter(next_attempt_at__lte=now).select_related("event").order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        for retry in due[:limit]:
            consumer = _consumers.get(retry.consumer)
            if consumer is None:
                continue
            try:
                with transaction.atomic():
                    consumer([retry.event])
            except Exception as exc:
                logger.exception("Booking event %s: consumer %s failed again.", retry.event_id, retry.consumer)
                retry.attempts += 1
                retry.error = f"{type(exc).__name__}: {exc}"[:4000]
                gave_up = retry.attempts >= settings.RELAY_MAX_ATTEMPTS
                retry.next_attempt_at = None if gave_up else now + backoff(retry.attempts)
                retry.save(update_fields=["attempts", "error", "next_attempt_at", "updated_at"])
            else:
                retry.delete()
                succeeded += 1
    return succeeded


def run(*, linger: float | None = None, poll: float = 0.25, budget: float = 45.0) -> int:
    """The relay task: relay what is pending, then keep watching until nothing new has
    come for ``linger`` seconds (at most ``budget`` seconds in all, under the worker's
    timeout). Returns the events relayed."""
    linger = settings.RELAY_LINGER_SECONDS if linger is None else linger
    started = last = time.monotonic()
    relayed = 0
    retry_failed()
    while True:
        done = relay_pending()
        relayed += done.events
        now = time.monotonic()
        if done.events:
            last = now
        if now - last >= linger or now - started >= budget:
            return relayed
        time.sleep(poll)


_last_wake = 0.0
_wake_lock = threading.Lock()


def wake() -> None:
    """After a change's commit: queue a relay task unless this process queued one less
    than ``RELAY_WAKE_SECONDS`` ago (that task is still watching). A queue that fails is
    logged; the every-minute schedule relays the event."""
    global _last_wake
    if not settings.RELAY_WAKE:
        return
    interval = settings.RELAY_WAKE_SECONDS
    with _wake_lock:
        now = time.monotonic()
        if interval and now - _last_wake < interval:
            return
        _last_wake = now
    from django_q.tasks import async_task

    try:
        async_task("bookings.tasks.relay_events", task_name="relay booking events")
    except Exception:
        logger.exception("Could not queue the booking event relay; the scheduled run will relay.")
