"""Background work on the django-q2 cluster (the schedule is made by migration 0002)."""

from __future__ import annotations

from notifications import delivery, reminders


def send_due() -> dict:
    """Every minute: due reminders become notifications, and queued email and SMS
    (new ones, and retries whose wait is over) are sent. Safe with several clusters."""
    stale = delivery.fail_stale()
    done = reminders.dispatch_due()
    sent = delivery.send_deliveries()
    return {"reminders_sent": done.sent, "reminders_skipped": done.skipped, "deliveries_sent": sent, "stale": stale}


def send_deliveries(delivery_ids: list[int]) -> int:
    """Right after a booking change: send its email and SMS."""
    return delivery.send_deliveries(delivery_ids)
