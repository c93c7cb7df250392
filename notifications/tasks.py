"""Background work on the django-q2 cluster (the schedule is made by migration 0002)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from notifications import delivery, reminders


def send_due() -> dict:
    """Every minute: claims left by a worker that stopped are queued again, due reminders
    become notifications, and queued email and SMS (new ones, retries whose wait is over,
    requeued ones) are sent. Safe with several clusters."""
    stale = delivery.requeue_stale()
    done = reminders.dispatch_due()
    sent = delivery.send_deliveries()
    return {"reminders_sent": done.sent, "reminders_skipped": done.skipped, "deliveries_sent": sent, "stale": stale}


def send_deliveries(delivery_ids: list[int]) -> int:
    """Right after a booking change: send its email and SMS."""
    return delivery.send_deliveries(delivery_ids)


def resync_reminders(user_id: int, after_start: str, after_booking_id: int) -> int:
    """The next batch of a person's bookings whose reminders follow their new choices
    (queued by the settings page when one batch wasn't enough; queues the next one)."""
    from accounts.models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    with transaction.atomic():
        return reminders.resync_upcoming(user, after=(dt.datetime.fromisoformat(after_start), after_booking_id))
