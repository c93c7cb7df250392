"""Bookings held while the client pays (``awaiting_payment``).

A booking of a priced type, with payments on, is written like any other — under the same
locks, checks and constraints — but in ``awaiting_payment``: its slot (a tentative
allocation, as a request's) or its seat is held for ``PAYMENT_HOLD_MINUTES``, and
``status_after_payment`` records what the firm/request rule decided. Then one of:

- ``payment_received``: the gateway (its webhook, never the browser) says the money is
  paid, or authorised for a request; the booking becomes firm (its allocation firm too) or
  a request waiting for the coach, with the request's own deadline.
- ``payment_lapsed``: the hold ran out (``expire_payment_holds``, on a schedule) or the
  client gave up; the booking is cancelled and its place freed.

The gateway side (``payments``) calls these; it lives above this layer and hears of every
change through the booking event stream.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from accounts.models import User
from availability.models import Allocation, AllocationKind
from bookings import reasons
from bookings.models import Booking, BookingStatus, SessionType
from bookings.pricing import give_back_promo
from bookings.services.common import _lock_booking, _now, _record, _request_deadline, _work_through
from bookings.services.ledger import _free_seat

# What a paid hold may become.
AFTER_PAYMENT = (BookingStatus.FIRM_BOOKED, BookingStatus.REQUESTED)


def payments_enabled() -> bool:
    return bool(settings.ENABLE_PAYMENT_GATEWAY)


def payment_needed(amount) -> bool:
    """Whether a booking costing ``amount`` (due now) is held for payment."""
    return payments_enabled() and amount > 0


def hold_deadline(start: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When a payment hold made at ``now`` for a session at ``start`` lapses."""
    return min(now + dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES), start)


def held_status(firm: bool) -> str:
    return BookingStatus.FIRM_BOOKED if firm else BookingStatus.REQUESTED


def payment_received(*, booking: Booking, method: str = "gateway", now: dt.datetime | None = None) -> bool:
    """The hold is paid (or authorised, for a request): the booking becomes what the rule
    decided at booking. Returns False, changing nothing, when the booking no longer waits
    for payment (it lapsed first, or was already paid): the caller decides what the money
    does then (a refund). Locks the booking's row."""
    now = _now(now)
    with transaction.atomic():
        booking = _lock_booking(booking)
        if booking.status != BookingStatus.AWAITING_PAYMENT:
            return False
        target = booking.status_after_payment or BookingStatus.FIRM_BOOKED
        booking.status = target
        booking.status_after_payment = ""
        if target == BookingStatus.FIRM_BOOKED:
            booking.confirmed_at = now
            booking.expires_at = None
            Allocation.objects.filter(session=booking.session, is_active=True).update(kind=AllocationKind.SESSION)
        else:
            booking.expires_at = _request_deadline(booking.session.start, now)
        booking.save()
        _record(
            booking,
            actor=None,
            action="paid",
            from_status=BookingStatus.AWAITING_PAYMENT,
            method=method,
        )
    return True


def payment_lapsed(
    *, booking: Booking, actor: User | None = None, reason: str = "", now: dt.datetime | None = None
) -> bool:
    """The hold ends unpaid: cancelled, its place freed, a promotion code's use given back.
    Returns False when the booking no longer waits for payment. Locks the booking's row."""
    now = _now(now)
    with transaction.atomic():
        booking = _lock_booking(booking)
        if booking.status != BookingStatus.AWAITING_PAYMENT:
            return False
        _lapse(booking, actor=actor, reason=reason or reasons.PAYMENT_NOT_COMPLETED, now=now)
    return True


def _lapse(booking: Booking, *, actor: User | None, reason: str, now: dt.datetime) -> None:
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = actor
    booking.cancellation_reason = reason
    booking.expires_at = None
    booking.status_after_payment = ""
    booking.save()
    _free_seat(booking)
    give_back_promo(booking.promo_code_id)
    _record(
        booking,
        actor=actor,
        action="payment_expired" if actor is None else "payment_abandoned",
        from_status=BookingStatus.AWAITING_PAYMENT,
        note=reason,
    )


def expire_payment_holds(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Cancel the holds whose payment did not come in time, freeing their places. Safe with
    several workers: each is claimed under a row lock the others skip."""
    now = _now(now)
    due = (
        Booking.objects.select_related("session", "session__session_type")
        .filter(status=BookingStatus.AWAITING_PAYMENT, expires_at__lte=now)
        .order_by("expires_at")
    )
    reason = reasons.PAYMENT_NOT_COMPLETED
    return _work_through(due, lambda booking: _lapse(booking, actor=None, reason=reason, now=now), limit=limit)


def type_is_priced(session_type: SessionType) -> bool:
    return payments_enabled() and session_type.price > 0
