"""Background work on the django-q2 cluster (schedules created by migrations 0005 and 0008)."""

from __future__ import annotations

from bookings import services


def expire_requests() -> int:
    """Every minute: requests nobody answered before their deadline are declined."""
    return services.expire_requests()


def complete_past_sessions() -> int:
    """Every minute: sessions past their end are completed."""
    return services.complete_past_sessions()


def relay_events() -> int:
    """Right after a change (and every minute): booking events to their consumers."""
    from bookings import relay

    return relay.run()
