"""The webhooks' consumer of the booking event stream (``bookings.relay``): each change an
active endpoint wants, and may see, becomes a ``WebhookDelivery`` row, due at once. It
writes rows and nothing else — the sending is the task's (``webhooks.tasks``), after the
relay's commit, so a slow endpoint never holds up the relay. Idempotent: a delivery is
unique per endpoint and message id, and the message id names the event and the type, so
an event handed over twice makes one delivery.

Which bookings an endpoint sees: all of them for a staff member's (or an admin's); for a
coach's, those of the sessions they host, as the coach or a co-host; none for anyone else
(a coach who became a client keeps their endpoints, which then hear nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingEvent
from webhooks import events as wire
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint


def on_booking_events(batch: Sequence[BookingEvent]) -> None:
    typed = [(event, kind) for event in batch for kind in wire.event_types(event)]
    if not typed:
        return
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).select_related("owner"))
    if not endpoints:
        return
    wanted = {kind for _event, kind in typed}
    endpoints = [endpoint for endpoint in endpoints if wanted & set(endpoint.event_types)]
    if not endpoints:
        return
    bookings = {
        booking.pk: booking
        for booking in Booking.objects.filter(pk__in={event.booking_id for event, _kind in typed})
        .select_related("session__session_type", "session__coach", "client", "booked_by")
        .prefetch_related("session__co_hosts")
    }
    actors = {event.actor_id for event, _kind in typed if event.actor_id}
    if actors:
        # The actor of each event, in one query (a relay batch is many events).
        people = {user.pk: user for user in User.objects.filter(pk__in=actors)}
        for event, _kind in typed:
            if event.actor_id:
                event.actor = people.get(event.actor_id)
    now = timezone.now()
    rows = []
    for event, kind in typed:
        booking = bookings[event.booking_id]
        co_hosts = list(booking.session.co_hosts.all())
        hosts = {booking.session.coach_id, *(host.pk for host in co_hosts)}
        body = None
        for endpoint in endpoints:
            if kind not in endpoint.event_types or not _sees(endpoint, hosts):
                continue
            body = body or wire.payload(event, booking, kind, co_hosts=co_hosts)
            rows.append(
                WebhookDelivery(
                    endpoint=endpoint,
                    event=event,
                    event_type=kind,
                    message_id=wire.message_id(event, kind),
                    payload=body,
                    next_attempt_at=now,
                )
            )
    if not rows:
        return
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(services.send_soon)


def _sees(endpoint: WebhookEndpoint, hosts: set[int]) -> bool:
    owner = endpoint.owner
    if owner.is_staff_member:
        return True
    return owner.is_coach and owner.pk in hosts
