"""Reminders that the balance of a booking paid by deposit is coming due.

A booking whose client paid a deposit owes the rest by ``balance_due_at``, as does each
occurrence of a paid series (paid occurrence by occurrence). While some of it
is unpaid (``services.balance_minor``), the client is reminded twice: three days before
(``LEAD``), and on the due day — at 09:00 in their time zone, or an hour before the balance
is due when that is earlier. ``remind_balances`` runs on a schedule (every 15 minutes,
``payments.tasks.remind_balances``) and sends the latest reminder that is due and not sent
yet; one whose time came while another was due is not sent late. Each reminder is a
notification unique per booking, kind and due time, so two workers running at once, or a
run repeated, make it once.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from bookings.models import BOOKED_STATUSES, Booking
from payments import notify
from payments.services import balance_minor

LEAD = dt.timedelta(days=3)
MORNING = dt.time(9, 0)
BEFORE_DUE = dt.timedelta(hours=1)


def reminder_times(booking: Booking) -> list[dt.datetime]:
    """When the reminders of ``booking``'s balance are due: three days before it, then on
    the due day (in the client's zone)."""
    due = booking.balance_due_at
    zone = ZoneInfo(booking.client.timezone)
    day = due.astimezone(zone).date()
    day_starts = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    on_the_day = max(day_starts, min(dt.datetime.combine(day, MORNING, tzinfo=zone), due - BEFORE_DUE))
    return [due - LEAD, on_the_day.astimezone(dt.UTC)]


def remind_balances(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send the balance reminders that are due; returns how many were made."""
    now = now or timezone.now()
    bookings = (
        Booking.objects.filter(
            status__in=BOOKED_STATUSES,
            balance_due_at__gt=now,
            balance_due_at__lte=now + LEAD,
        )
        .select_related(
            "session__session_type", "session__coach__coach_profile", "session__resource", "client", "booked_by"
        )
        .prefetch_related("session__co_hosts")
        .order_by("balance_due_at", "pk")[:limit]
    )
    made = 0
    for booking in bookings:
        due = [moment for moment in reminder_times(booking) if moment <= now]
        if not due:
            continue
        left = balance_minor(booking)
        if left <= 0:
            continue
        if notify.balance_due(booking, balance_minor=left, due_at=max(due), now=now) is not None:
            made += 1
    return made
