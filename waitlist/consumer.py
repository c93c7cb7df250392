"""The waitlist's consumer of the booking event stream (``bookings.relay``): a booking
that let go of its seat in a session people wait for — cancelled, declined, a payment
hold that lapsed — frees that seat for the next in line (``services.offer_seats``), and a
one-on-one booking let go frees its time for people waiting for one (``times``), after
the change's commit and never inside it. Idempotent: a replayed event finds the seat
already offered (held) and offers nothing twice."""

from __future__ import annotations

from collections.abc import Sequence

from bookings.models import ACTIVE_STATUSES, Booking, BookingEvent, SessionKind, SessionType
from waitlist import services, times
from waitlist.models import EntryStatus, WaitlistEntry


def _frees_a_seat(event: BookingEvent) -> bool:
    return event.from_status in ACTIVE_STATUSES and event.to_status not in ACTIVE_STATUSES


def on_booking_events(events: Sequence[BookingEvent]) -> None:
    booking_ids = {event.booking_id for event in events if _frees_a_seat(event)}
    if not booking_ids:
        return
    freed = list(
        Booking.objects.filter(pk__in=booking_ids).values_list(
            "session_id", "session__session_type_id", "session__session_type__kind", "session__start"
        )
    )
    session_ids = {session_id for session_id, _type, kind, _start in freed if kind != SessionKind.ONE_ON_ONE}
    waited_for = (
        WaitlistEntry.objects.filter(session_id__in=session_ids, status=EntryStatus.WAITING)
        .order_by("session_id")
        .values_list("session_id", flat=True)
        .distinct()
    )
    services.offer_seats_in(list(waited_for))
    # A one-on-one time let go: offered to people waiting for a time of that type.
    times_freed = {(type_id, start) for _session, type_id, kind, start in freed if kind == SessionKind.ONE_ON_ONE}
    wanted_types = set(
        WaitlistEntry.objects.filter(
            session_type_id__in={type_id for type_id, _start in times_freed},
            session__isnull=True,
            status=EntryStatus.WAITING,
        ).values_list("session_type_id", flat=True)
    )
    types = {st.pk: st for st in SessionType.objects.filter(pk__in=wanted_types).select_related("coach__coach_profile")}
    for type_id, start in sorted(times_freed, key=lambda pair: (pair[1], pair[0])):
        if type_id in types:
            times.offer_time(types[type_id], start)
