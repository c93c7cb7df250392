"""The connected calendars' schedule (django-q2, every minute): each due connection is read."""

from __future__ import annotations

import logging

from accounts.language import in_language_of
from calendar_sync import services

log = logging.getLogger(__name__)


def sync_due() -> int:
    """Read every connection that is due; one that fails keeps its busy times and says why
    (in the coach's language: the page shows the words stored)."""
    done = 0
    for connection in services.due():
        with in_language_of(connection.coach):
            outcome = services.sync(connection)
        if not outcome.ok:
            log.info("calendar %s not read: %s", connection.pk, outcome.message)
        done += 1
    return done


def write_pending() -> int:
    """Write the coaches' bookings waiting to go into their own calendars (CalDAV, Google,
    Microsoft)."""
    from calendar_sync import writer

    return writer.write_pending()
