"""Change counters that let open pages refresh themselves without a reload.

After every committed booking change the counters of the people it concerns (the client,
whoever booked, the coach) and of the staff overview move on. A page polls with the
counter it was rendered with (htmx, every few seconds); an unchanged counter answers
``204 No Content`` so nothing is re-rendered or sent.
"""

from __future__ import annotations

from django.core.cache import cache

STAFF_SCOPE = "staff"


def _key(scope: str | int) -> str:
    return f"live:v1:{scope}"


def version(scope: str | int) -> int:
    """The current counter of a user id (or ``"staff"``); 0 before the first change."""
    return int(cache.get(_key(scope)) or 0)


def bump(*scopes: str | int) -> None:
    for scope in {str(scope) for scope in scopes if scope is not None}:
        key = _key(scope)
        if cache.add(key, 1, timeout=None):
            continue
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=None)


def on_booking_changed(sender, booking_id: int, action: str, actor_id: int | None, **kwargs) -> None:
    from bookings.models import Booking

    row = Booking.objects.filter(pk=booking_id).values("client_id", "booked_by_id", "session__coach_id").first()
    if row is None:
        return
    bump(row["client_id"], row["booked_by_id"], row["session__coach_id"], STAFF_SCOPE)
