"""Turning booking changes into notifications, and marking them read.

``record_change`` runs inside the transaction of every booking change (the
``booking_recorded`` signal): it writes the notifications the change makes, each with one
delivery per channel the recipient wants — in-app ones already sent, email and SMS ones
queued — and brings the booking's reminders in step. Written in the same commit as the
booking, none of it can be lost; sending happens after the commit (``delivery``), so no
provider call ever runs under the booking's locks.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import GuardianLink, Role, User
from bookings.models import BOOKED_STATUSES
from notifications import messages, reminders
from notifications.compose import Wanted, build, save
from notifications.models import Kind, Notification

logger = logging.getLogger(__name__)

CLIENT, COACH, STAFF = "client", "coach", "staff"

# action -> the kinds it makes, and for whom. Nobody is told about their own action, except
# that a new booking is confirmed to the person who made it.
RULES: dict[str, list[tuple[str, str]]] = {
    "booked": [(Kind.BOOKING_CREATED, CLIENT), (Kind.BOOKING_CREATED, COACH), (Kind.BOOKING_CREATED, STAFF)],
    "seat_taken": [(Kind.BOOKING_CREATED, CLIENT), (Kind.BOOKING_CREATED, COACH), (Kind.BOOKING_CREATED, STAFF)],
    "requested": [(Kind.BOOKING_CREATED, CLIENT), (Kind.REQUEST_RECEIVED, COACH), (Kind.BOOKING_CREATED, STAFF)],
    "approved": [(Kind.CONFIRMED, CLIENT)],
    "alternative_accepted": [(Kind.CONFIRMED, CLIENT), (Kind.CONFIRMED, COACH)],
    "declined": [(Kind.DECLINED, CLIENT)],
    "expired": [(Kind.DECLINED, CLIENT)],
    "alternatives_suggested": [(Kind.ALTERNATIVES_SUGGESTED, CLIENT)],
    "alternatives_declined": [(Kind.CANCELLED, COACH)],
    "information_requested": [(Kind.INFORMATION_REQUESTED, CLIENT)],
    "information_given": [(Kind.INFORMATION_GIVEN, COACH)],
    "cancelled": [(Kind.CANCELLED, CLIENT), (Kind.CANCELLED, COACH), (Kind.CANCELLED, STAFF)],
    "rescheduled": [(Kind.RESCHEDULED, CLIENT), (Kind.RESCHEDULED, COACH), (Kind.RESCHEDULED, STAFF)],
}
TOLD_TO_THE_ACTOR = {"booked", "seat_taken", "requested"}
# Changes after which the coach may be close to their day or week limit.
ADDS_TO_THE_CALENDAR = {"booked", "approved", "alternative_accepted", "rescheduled"}


def _people(booking, *, with_staff: bool) -> tuple[list[User], list[User], User, list[User], dict]:
    """The client side (client, their guardians, whoever booked), the guardians alone, the
    coach, staff, and everyone's saved choices. Two small indexed reads: the client's
    guardian links, then the people by id (and active staff, by role) with their choices
    — never a scan of all users."""
    session = booking.session
    client = booking.client
    guardian_ids = set(
        GuardianLink.objects.filter(dependent=client).order_by().values_list("guardian_id", flat=True)
    ) - {client.pk}
    wanted = Q(pk__in={client.pk, session.coach_id, booking.booked_by_id, *guardian_ids})
    if with_staff:
        wanted |= Q(role=Role.STAFF, is_active=True)
    everyone = {
        user.pk: user for user in User.objects.filter(wanted).order_by().select_related("notification_settings")
    }
    choices = {
        pk: user.notification_settings for pk, user in everyone.items() if hasattr(user, "notification_settings")
    }
    guardians = sorted((everyone[pk] for pk in guardian_ids if pk in everyone), key=lambda user: user.pk)
    clients = [client, *guardians]
    if booking.booked_by_id not in {person.pk for person in clients}:
        clients.append(booking.booked_by)
    on_client_side = {person.pk for person in clients} | {session.coach_id}
    staff = [user for user in everyone.values() if user.role == Role.STAFF and user.pk not in on_client_side]
    return clients, guardians, session.coach, staff, choices


def record_change(booking, event, coach_load=None) -> None:
    """Inside the booking's transaction: the notifications ``event`` makes, and the
    booking's reminders brought in step with it. ``coach_load`` is the coach's day and
    week as the change read them (a ``bookings.rules.CoachLoad``), or None to count."""
    action, actor_id = event.action, event.actor_id
    rules = RULES.get(action, [])
    now = event.created_at or timezone.now()
    clients, guardians, coach, staff, choices = _people(booking, with_staff=any(side == STAFF for _, side in rules))
    previous = (event.data or {}).get("previous_start")
    previous = dt.datetime.fromisoformat(previous) if previous else None
    wanted: list[Wanted] = []
    for kind, side in rules:
        for person in {CLIENT: clients, COACH: [coach], STAFF: staff}[side]:
            if person.pk == actor_id and action not in TOLD_TO_THE_ACTOR:
                continue
            extra = {"previous_when": messages.local_when(previous, person.timezone)} if previous else {}
            wanted.append(Wanted(booking, person, kind, side == STAFF, extra, payload={"action": action}))
    if action in ADDS_TO_THE_CALENDAR and booking.status in BOOKED_STATUSES:
        wanted += _limit_warning(booking, coach_load)
    made = build(wanted, choices=choices)
    queued = save(made, now=now)
    reminders.sync(booking, now=now, guardians=guardians, choices=choices, new=event.from_status == "")
    if queued:
        ids = [delivery.pk for delivery in queued]
        transaction.on_commit(lambda: _send_soon(ids))


def _send_soon(delivery_ids: list[int]) -> None:
    """After the commit: hand the new email and SMS deliveries to the worker now rather
    than at its next minute — when the broker makes that cheap (Redis, or tests running
    tasks inline). The ORM broker would cost a queue row and a reconnection per change, so
    there the minute's scheduled run sends them; so it does if queueing fails."""
    if not settings.NOTIFICATION_SEND_AT_ONCE:
        return
    from django_q.tasks import async_task

    try:
        async_task("notifications.tasks.send_deliveries", delivery_ids, task_name="send notifications")
    except Exception:
        logger.exception("Could not queue deliveries %s; the next scheduled run sends them.", delivery_ids)


def _limit_warning(booking, load=None) -> list[Wanted]:
    """The coach is told when a day (or ISO week) of theirs has one session left, or none.
    Counts the coach's sessions unless the change already did (``load``)."""
    from availability.models import Allocation
    from availability.rules import rules_for

    session = booking.session
    coach = session.coach
    limits = rules_for(coach.coach_profile, session.session_type)
    if limits.max_per_day is None and limits.max_per_week is None:
        return []
    zone = ZoneInfo(coach.timezone)
    day = session.start.astimezone(zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    week_start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    if load is not None and load.day == day:
        in_day, in_week = load.in_day, load.in_week
    else:
        week_end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
        starts = list(
            Allocation.objects.filter(
                staff=coach, is_active=True, counts_toward_limits=True, start__gte=week_start, start__lt=week_end
            ).values_list("start", flat=True)
        )
        in_week = len(starts)
        in_day = sum(day_start <= start < day_start + dt.timedelta(days=1) for start in starts)
    label = f"{day:%a} {day.day} {day:%b}"
    if limits.max_per_day is not None and in_day >= limits.max_per_day - 1:
        text, key = f"{in_day} of {limits.max_per_day} sessions on {label}", day_start
    elif limits.max_per_week is not None and in_week >= limits.max_per_week - 1:
        text, key = (
            f"{in_week} of {limits.max_per_week} sessions in the week of {monday:%a} {monday.day} {monday:%b}",
            (week_start),
        )
    else:
        return []
    return [Wanted(booking, coach, Kind.SESSION_LIMIT_WARNING, extra={"limit_text": text}, due_at=key)]


def on_booking_recorded(sender, *, booking, event, coach_load=None, **kwargs) -> None:
    record_change(booking, event, coach_load)


# ---------------------------------------------------------------------------------------
# Reading and marking read
# ---------------------------------------------------------------------------------------


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
