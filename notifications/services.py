"""Turning booking changes into notifications, and marking them read.

``on_booking_changed`` listens to ``bookings.services.booking_changed`` (sent after each
commit) and tells the people concerned: the client and their guardians, or the coach,
depending on who acted. Each notification gets its in-app delivery at once; other
channels are added by the delivery code.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import GuardianLink, User
from notifications.models import Channel, Delivery, DeliveryStatus, Kind, Notification

CLIENT, COACH = "client", "coach"

# action -> (kind, who is told, title for them); "other" = the side that didn't act.
RULES: dict[str, list[tuple[str, str, str]]] = {
    "booked": [
        (Kind.BOOKING_CREATED, CLIENT, "Session booked: {title} with {coach}"),
        (Kind.BOOKING_CREATED, COACH, "New booking: {title} with {client}"),
    ],
    "seat_taken": [
        (Kind.BOOKING_CREATED, CLIENT, "Seat booked: {title} with {coach}"),
        (Kind.BOOKING_CREATED, COACH, "New attendee: {client} in {title}"),
    ],
    "requested": [
        (Kind.BOOKING_CREATED, CLIENT, "Request sent: {title} with {coach}"),
        (Kind.REQUEST_RECEIVED, COACH, "Booking request from {client}: {title}"),
    ],
    "approved": [(Kind.CONFIRMED, CLIENT, "Confirmed: {title} with {coach}")],
    "alternative_accepted": [
        (Kind.CONFIRMED, CLIENT, "Confirmed at the new time: {title} with {coach}"),
        (Kind.CONFIRMED, COACH, "{client} took one of your suggested times"),
    ],
    "declined": [(Kind.DECLINED, CLIENT, "Declined: {title} with {coach}")],
    "expired": [(Kind.DECLINED, CLIENT, "Not answered in time: {title} with {coach}")],
    "alternatives_suggested": [(Kind.ALTERNATIVES_SUGGESTED, CLIENT, "{coach} suggested other times")],
    "alternatives_declined": [(Kind.CANCELLED, COACH, "{client} declined your suggested times")],
    "information_requested": [(Kind.INFORMATION_REQUESTED, CLIENT, "{coach} has a question about your request")],
    "information_given": [(Kind.INFORMATION_GIVEN, COACH, "{client} answered your question")],
    "cancelled": [
        (Kind.CANCELLED, CLIENT, "Cancelled: {title} with {coach}"),
        (Kind.CANCELLED, COACH, "Cancelled: {title} with {client}"),
    ],
    "rescheduled": [
        (Kind.RESCHEDULED, CLIENT, "Moved: {title} with {coach}"),
        (Kind.RESCHEDULED, COACH, "Moved: {title} with {client}"),
    ],
}


# A new booking is confirmed to whoever made it too; other changes only to the others.
TOLD_TO_THE_ACTOR = {"booked", "seat_taken", "requested"}


def _when(start, user: User) -> str:
    local = timezone.localtime(start, ZoneInfo(user.timezone))
    return f"{local:%a %d %b %Y, %H:%M} ({user.timezone})"


def notifications_for(booking, *, action: str, actor_id: int | None) -> list[Notification]:
    """The notifications a change makes (unsaved). Nobody is told about their own action,
    except that a new booking is confirmed to the person who made it."""
    session = booking.session
    coach, client = session.coach, booking.client
    clients = [
        client,
        *(link.guardian for link in GuardianLink.objects.filter(dependent=client).select_related("guardian")),
    ]
    if booking.booked_by_id not in {person.pk for person in clients}:
        clients.append(booking.booked_by)
    values = {"title": session.session_type.title, "coach": coach.display_name, "client": client.display_name}
    made = []
    for kind, side, title in RULES.get(action, []):
        for person in clients if side == CLIENT else [coach]:
            if person.pk == actor_id and action not in TOLD_TO_THE_ACTOR:
                continue
            body = f"{_when(session.start, person)} · {booking.reference}"
            if kind == Kind.DECLINED and booking.decline_reason:
                body += f"\nReason: {booking.decline_reason}"
            if kind == Kind.CANCELLED and booking.cancellation_reason:
                body += f"\nReason: {booking.cancellation_reason}"
            if kind == Kind.INFORMATION_REQUESTED:
                body += f"\n“{booking.info_request}”"
            made.append(
                Notification(
                    recipient=person,
                    kind=kind,
                    booking=booking,
                    title=title.format(**values)[:200],
                    body=body,
                    payload={"action": action, "reference": booking.reference},
                )
            )
    return made


def on_booking_changed(sender, *, booking_id: int, action: str, actor_id: int | None, **kwargs) -> None:
    from bookings.models import Booking

    booking = (
        Booking.objects.select_related("session", "session__coach", "session__session_type", "client", "booked_by")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        return
    made = notifications_for(booking, action=action, actor_id=actor_id)
    if not made:
        return
    with transaction.atomic():
        Notification.objects.bulk_create(made)
        Delivery.objects.bulk_create(
            Delivery(notification=note, channel=Channel.IN_APP, status=DeliveryStatus.SENT, sent_at=timezone.now())
            for note in made
        )


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of ``user``'s notifications read; False when it isn't theirs."""
    found = Notification.objects.filter(recipient=user, pk=notification_id)
    if not found.exists():
        return False
    found.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
