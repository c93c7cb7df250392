"""The waitlist's consumer of the booking event stream (``bookings.relay``): a booking
that let go of its seat in a session people wait for — cancelled, declined, a payment
hold that lapsed — frees that seat for the next in line (``services.offer_seats``), after
the change's commit and never inside it. Idempotent: a replayed event finds the seat
already offered (held) and offers nothing twice."""

from __future__ import annotations

from collections.abc import Sequence

from bookings.models import ACTIVE_STATUSES, Booking, BookingEvent
from waitlist import services
from waitlist.models import EntryStatus, WaitlistEntry


def _frees_a_seat(event: BookingEvent) -> bool:
    return event.from_status in ACTIVE_STATUSES and event.to_status not in ACTIVE_STATUSES


def on_booking_events(events: Sequence[BookingEvent]) -> None:
    booking_ids = {event.booking_id for event in events if _frees_a_seat(event)}
    if not booking_ids:
        return
    session_ids = set(Booking.objects.filter(pk__in=booking_ids).values_list("session_id", flat=True))
    waited_for = (
        WaitlistEntry.objects.filter(session_id__in=session_ids, status=EntryStatus.WAITING)
        .order_by("session_id")
        .values_list("session_id", flat=True)
        .distinct()
    )
    services.offer_seats_in(list(waited_for))
