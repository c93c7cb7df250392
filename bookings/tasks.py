"""Background work on the django-q2 cluster (schedules created by migrations 0005, 0008 and 0011)."""

from __future__ import annotations

from bookings import idempotency, services


def expire_requests() -> int:
    """Every minute: requests nobody answered before their deadline are declined, and
    bookings whose payment did not come in time are cancelled (their places freed)."""
    from bookings.services.payment import expire_payment_holds

    return services.expire_requests() + expire_payment_holds()


def complete_past_sessions() -> int:
    """Every minute: sessions past their end are completed."""
    return services.complete_past_sessions()


def relay_events() -> int:
    """Right after a change (and every minute): booking events to their consumers."""
    from bookings import relay

    return relay.run()


def prune_idempotency_records() -> int:
    """Every hour: idempotency keys and form tokens older than 24 hours are deleted."""
    return idempotency.prune()


def settle_workshops() -> int:
    """Every five minutes: workshops whose confirmation deadline has come are confirmed, or
    called off below their minimum number of participants."""
    from bookings.services.workshops import settle_due

    confirmed, called_off = settle_due()
    return confirmed + called_off
