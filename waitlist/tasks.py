"""Background work on the django-q2 cluster (schedule created by migration 0002)."""

from __future__ import annotations


def sweep() -> int:
    """Every minute: offers not answered in time pass to the next in line, free seats of
    sessions people wait for are offered, and waitlists of sessions that began close."""
    from waitlist.services import sweep as run

    return run()
