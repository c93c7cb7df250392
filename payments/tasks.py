"""Background work on the django-q2 cluster (schedule created by migration 0002)."""

from __future__ import annotations

from payments import credits


def expire_credits() -> int:
    """Every 15 minutes: what is left of grants past their expiry is written off."""
    return credits.expire_due()


def send_pending() -> int:
    """Every minute: refunds, captures and voids not yet taken by the gateway are sent."""
    from payments.services import send_pending as send

    return send()


def remind_balances() -> int:
    """Every 15 minutes: the clients whose balance after a deposit is coming due are
    reminded (three days before, and on the day), each reminder once."""
    from payments.reminders import remind_balances as remind

    return remind()
