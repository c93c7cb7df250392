"""What a booking change is called on the wire, and what its message says.

``event_types(event)`` maps a ``BookingEvent`` to the webhook event types it makes (most
make one, a payment that confirms a booking makes two, a question asked makes none);
``payload(...)`` is the JSON body: ``{"type", "timestamp", "data"}`` as Standard Webhooks
recommends, every instant in UTC ISO 8601 (``2026-12-03T09:00:00Z``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse

from bookings.models import BOOKED_STATUSES, Booking, BookingEvent, BookingStatus
from webhooks.models import PING, EventType

# The changes that end a payment hold unpaid: the clock's expiry, or the client giving up.
PAYMENT_LAPSED = ("payment_expired", "payment_abandoned")


def event_types(event: BookingEvent) -> list[str]:
    """The webhook event types of one booking change, in the order they are sent."""
    before, after, action = event.from_status, event.to_status, event.action
    found: list[str] = []
    if not before:
        found.append(EventType.BOOKING_CREATED)
    elif action == "rescheduled":
        # A move keeps its one type, whatever status it leaves (``status`` says it).
        found.append(EventType.BOOKING_RESCHEDULED)
    elif after in BOOKED_STATUSES and before in (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT):
        found.append(EventType.BOOKING_CONFIRMED)
    elif before != after and after == BookingStatus.DECLINED:
        found.append(EventType.BOOKING_DECLINED)
    elif before != after and after == BookingStatus.CANCELLED:
        found.append(EventType.BOOKING_CANCELLED)
    elif before != after and after == BookingStatus.COMPLETED:
        found.append(EventType.BOOKING_COMPLETED)
    elif before != after and after == BookingStatus.NO_SHOW:
        found.append(EventType.BOOKING_NO_SHOW)
    if action == "paid":
        found.append(EventType.PAYMENT_RECEIVED)
    elif action in PAYMENT_LAPSED:
        found.append(EventType.PAYMENT_EXPIRED)
    return found


def message_id(event: BookingEvent, event_type: str) -> str:
    """The ``webhook-id``: one per booking event and type, so a replay is the same message."""
    return f"msg_{event.pk}_{event_type.replace('.', '_')}"


def utc(instant: dt.datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _person(user, *, contact: bool = True) -> dict[str, Any] | None:
    if user is None:
        return None
    person: dict[str, Any] = {"id": user.pk, "name": user.display_name}
    if contact:
        person.update({"email": user.email, "phone": user.phone or None, "timezone": user.timezone})
    return person


def payload(event: BookingEvent, booking: Booking, event_type: str, *, co_hosts: list | None = None) -> dict:
    """The body of one message: the change (``action``, the status before and after, who
    acted, the note) and the booking as it is when the delivery is written. ``booking``
    needs its session, session type, coach, client and booked_by."""
    session = booking.session
    session_type = session.session_type
    data = event.data or {}
    body: dict[str, Any] = {
        "event_id": event.pk,
        "action": event.action,
        "reference": booking.reference,
        "status": event.to_status,
        "previous_status": event.from_status or None,
        "booking_status_now": booking.status,
        "url": settings.SITE_URL + reverse("booking_detail", args=[booking.reference]),
        "start": utc(session.start),
        "end": utc(session.end),
        "previous_start": data.get("previous_start") and utc(dt.datetime.fromisoformat(data["previous_start"])),
        "session_type": {
            "id": session_type.pk,
            "title": session_type.title,
            "kind": session_type.kind,
            "duration_minutes": session_type.duration_minutes,
            "modality": session_type.modality,
        },
        "session_id": session.pk,
        "coach": _person(session.coach),
        "co_hosts": [_person(host) for host in (co_hosts or [])],
        "client": _person(booking.client),
        "booked_by": _person(booking.booked_by),
        "actor": _person(event.actor, contact=False),
        "note": event.note,
        "late_cancellation": bool(data.get("late")) if event_type == EventType.BOOKING_CANCELLED else None,
        "price": str(booking.price),
        "currency": booking.currency,
        "series_id": booking.series_id,
        "client_notes": booking.client_notes,
        "created_at": utc(booking.created_at),
    }
    if event_type == EventType.PAYMENT_RECEIVED:
        body["payment_method"] = data.get("method") or None
    return {"type": event_type, "timestamp": utc(event.created_at), "data": body}


def ping_payload(endpoint_id: int, now: dt.datetime) -> dict:
    return {"type": PING, "timestamp": utc(now), "data": {"endpoint_id": endpoint_id, "message": "It works."}}
