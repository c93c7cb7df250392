"""Making notifications: from "this person should hear this about that booking" to
stored notifications and their deliveries. Used by the booking-event consumer
(``services``) and by the reminder dispatcher (``reminders``) alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from accounts.language import in_language_of
from accounts.models import User
from notifications import messages, preferences
from notifications.models import Channel, Delivery, DeliveryStatus, Notification


@dataclass
class Wanted:
    """One message to make: about ``booking``, for ``person``, of ``kind``."""

    booking: object
    person: User
    kind: str
    as_staff: bool = False
    extra: dict = field(default_factory=dict)
    due_at: dt.datetime | None = None
    payload: dict = field(default_factory=dict)
    event: object | None = None


def build(
    wanted: list[Wanted], *, choices: dict | None = None, custom: dict | None = None
) -> list[tuple[Notification, list[str]]]:
    """Unsaved notifications, each with the channels it goes out on (by the recipient's
    choices; none at all → no notification). Two queries however many (none when the
    choices and staff's templates are given)."""
    if not wanted:
        return []
    if choices is None:
        choices = preferences.settings_of(item.person for item in wanted)
    if custom is None:
        custom = messages.custom_templates({item.kind for item in wanted})
    made = []
    for item in wanted:
        person, kind = item.person, item.kind
        if not person.is_active:
            continue  # an inactive account (switched off, or erased) is told nothing
        channels = preferences.channels_for(person, kind, choices.get(person.pk), as_staff=item.as_staff)
        if not channels:
            continue
        with in_language_of(person):  # the in-app text in the recipient's language
            context = messages.booking_context(item.booking, person, **item.extra)
            words = messages.render(kind, Channel.IN_APP, context, custom=custom.get((kind, Channel.IN_APP)))
        note = Notification(
            recipient=person,
            kind=kind,
            booking=item.booking,
            title=words.subject,
            body=words.text,
            due_at=item.due_at,
            event=item.event,
            payload={"reference": item.booking.reference, **item.payload, "extra": item.extra, "staff": item.as_staff},
        )
        made.append((note, channels))
    return made


def save(made: list[tuple[Notification, list[str]]], *, now: dt.datetime) -> list[Delivery]:
    """Write the notifications and their deliveries: in-app delivered at once, the others
    queued for the worker. Returns the queued deliveries."""
    if not made:
        return []
    Notification.objects.bulk_create([note for note, _ in made])
    deliveries = []
    for note, channels in made:
        for channel in channels:
            if channel == Channel.IN_APP:
                deliveries.append(Delivery(notification=note, channel=channel, status=DeliveryStatus.SENT, sent_at=now))
            else:
                deliveries.append(
                    Delivery(notification=note, channel=channel, status=DeliveryStatus.QUEUED, next_attempt_at=now)
                )
    Delivery.objects.bulk_create(deliveries)
    return [delivery for delivery in deliveries if delivery.status == DeliveryStatus.QUEUED]
