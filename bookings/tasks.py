"""Background work on the django-q2 cluster (schedules created by migration 0005)."""

from __future__ import annotations

from bookings import services


def expire_requests() -> int:
    """Every minute: requests nobody answered before their deadline are declined."""
    return services.expire_requests()


def complete_past_sessions() -> int:
    """Every minute: sessions past their end are completed."""
    return services.complete_past_sessions()
