"""Version stamps that let open pages refresh themselves without a reload.

A page polls (htmx, every few seconds) with the stamp it was rendered with; an unchanged
stamp answers ``204 No Content`` so nothing is re-rendered or sent. A stamp is read, not
written, on the booking path: it is the newest recent history entry (``BookingEvent``)
that concerns the scope (a user as coach, client or booker; or ``"staff"``, everything),
plus a cache token that ``bump`` moves for changes without a history entry (a published
group session). Booking therefore costs no extra write, and two bookings never contend on
a shared counter.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.cache import cache
from django.db.models import Max, Q
from django.utils import timezone

STAFF_SCOPE = "staff"
# Only the recent history is read. When the newest entry of a quiet scope ages out, the
# stamp changes once and the page refreshes once: harmless.
RECENT = dt.timedelta(hours=6)


def _key(scope: str | int) -> str:
    return f"live:v2:{scope}"


def version(scope: str | int) -> str:
    """The current stamp of a user id (or ``"staff"``)."""
    from bookings.models import BookingEvent

    events = BookingEvent.objects.filter(created_at__gte=timezone.now() - RECENT)
    if str(scope) != STAFF_SCOPE:
        user_id = int(scope)
        events = events.filter(
            Q(booking__session__coach_id=user_id)
            | Q(booking__session__co_hosts=user_id)
            | Q(booking__client_id=user_id)
            | Q(booking__booked_by_id=user_id)
        )
    latest = events.aggregate(latest=Max("id"))["latest"] or 0
    return f"{latest}.{cache.get(_key(scope)) or 0}"


def bump(*scopes: str | int) -> None:
    """Move the scopes' stamps on for a change that leaves no booking history."""
    token = uuid.uuid4().hex
    cache.set_many({_key(scope): token for scope in {str(s) for s in scopes if s is not None}}, timeout=None)
