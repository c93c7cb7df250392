"""The webhooks' schedule (django-q2, every minute, and queued after the relay writes new
deliveries): the due deliveries are sent, and the old log is pruned."""

from __future__ import annotations

from webhooks import services


def send_due() -> int:
    """Send every delivery that is due (within the task's time budget)."""
    sent = services.send_due()
    services.prune()
    return sent
