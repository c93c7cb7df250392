"""Booking one-on-one time, and "schedule later"."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.access import can_book_for
from accounts.models import User
from availability.models import Allocation, AllocationKind
from availability.rules import rules_for
from availability.selectors import tag_rules_for
from bookings.models import Booking, BookingStatus, HostMode, PlannedSession, Session, SessionKind, SessionType
from bookings.pricing import Quote, find_promo, quote, use_promo
from bookings.services.checks import (
    _check_in_availability,
    _check_may_book,
    _check_timing,
)
from bookings.services.common import (
    BookingRefused,
    _assign_reference,
    _aware,
    _integrity_as_taken,
    _lock_users,
    _now,
    _record,
    _request_deadline,
    _reserve_booking,
)
from bookings.services.enrollment import check_enrollment
from bookings.services.holds import take_hold
from bookings.services.hosts import HostPlan, check_offered, claim_hosts, plan_hosts
from bookings.services.ledger import _allocate, _pick_resource
from bookings.services.payment import held_status, hold_deadline, payment_needed
from bookings.throttle import open_requests_limit
from bookings.video import new_meeting_link
from config import sql
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, clean_text


def book_slot(
    *,
    client: User,
    session_type: SessionType,
    start: dt.datetime,
    booked_by: User | None = None,
    notes: str = "",
    reminders: bool = True,
    now: dt.datetime | None = None,
    promo_code: str = "",
    hold_for_payment: bool | None = None,
    held: Allocation | None = None,
) -> Booking:
    """Book a one-on-one ``session_type`` at ``start``: firm or a request, by the rules
    (the coach's, the type's, the client's tags', the window's). A type with co-hosts
    allocates every host, a team type the fairest free member (``services.hosts``), a type
    that needs a room the smallest free room that fits (``ledger._pick_resource``).
    A priced booking with payments on is held ``awaiting_payment`` (``services.payment``);
    ``hold_for_payment`` forces the hold (paying with a credit) or its absence. ``held``: the
    time the waitlist held for this client (``services.holds``), taken over by the booking.
    Locks the user rows of the client and every host (in id order), then the rooms, then a
    promotion code's row."""
    actor = booked_by or client
    now = _now(now)
    start = _aware(start)
    notes = clean_text(notes, LONG_TEXT, field="notes")
    if session_type.kind != SessionKind.ONE_ON_ONE:
        raise DomainError(gettext("Take a seat in one of this type's published sessions instead."), code="invalid")
    if not session_type.is_active:
        raise BookingRefused(gettext("This session type is no longer offered."), code="outside_availability")
    coach = session_type.coach
    standing = _check_may_book(actor=actor, client=client, coach=coach, session_type=session_type)
    tag_rules = tag_rules_for(client, coach) if standing.tagged else []
    if session_type.host_mode == HostMode.SINGLE and session_type.required_subject_id is None:
        # The common case, without the hosts' reads: the coach alone.
        rules = rules_for(coach.coach_profile, session_type, tag_rules=tag_rules)
        _check_timing(rules, coach=coach, start=start, now=now)
        plan = HostPlan(session_type=session_type, mode=HostMode.SINGLE, rules=rules, hosts=[coach])
        plan.host_rules[coach.pk] = rules
        plan.firm_window[coach.pk] = _check_in_availability(coach, session_type, rules, start)
    else:
        plan = plan_hosts(session_type, tag_rules=tag_rules)
        _check_timing(plan.rules, coach=coach, start=start, now=now)
        check_offered(plan, start=start)
    rules = plan.rules
    end = start + rules.duration
    booking_id, reference = _reserve_booking()
    try:
        with transaction.atomic():
            _lock_users(client, *plan.hosts)
            if held is not None:
                take_hold(held)
            hosts, load = claim_hosts(plan, start=start, end=end, client=client)
            host = hosts[0]
            window_firm = plan.firm_window[host.pk]
            firm = rules.is_firm(start=start, now=now, connected=standing.connected, window_allows_firm=window_firm)
            decided_by = rules.decided_by(
                start=start, now=now, connected=standing.connected, window_allows_firm=window_firm
            )
            if not firm:
                # Counted under the client's lock: two requests at once can't both be the last.
                open_requests_limit(client, host, now=now)
            enrollment = check_enrollment(client, session_type, now=now)
            price = _price(session_type, start=start, now=now, standing=standing, promo_code=promo_code)
            hold = payment_needed(price.due_now) if hold_for_payment is None else hold_for_payment
            if enrollment is not None:
                price, hold = None, False
            status = BookingStatus.AWAITING_PAYMENT if hold else held_status(firm)
            resource = _pick_resource(session_type, start=start, end=end) if session_type.resource_kind else None
            session = sql.insert(
                Session(
                    session_type=session_type,
                    coach=host,
                    start=start,
                    end=end,
                    capacity=1,
                    seats_taken=1,
                    resource=resource,
                    meeting_link=new_meeting_link(session_type),
                    location=session_type.location or (resource.location if resource else ""),
                )
            )
            _allocate(
                session,
                rules=plan.host_rules[host.pk],
                kind=AllocationKind.SESSION if firm and not hold else AllocationKind.REQUEST,
                resource=resource,
                co_hosts=plan.co_hosts(hosts),
            )
            booking = sql.insert(
                Booking(
                    session=session,
                    client=client,
                    booked_by=actor,
                    id=booking_id,
                    reference=reference,
                    status=status,
                    status_after_payment=held_status(firm) if hold else "",
                    client_notes=notes.strip(),
                    expires_at=hold_deadline(start, now) if hold else None if firm else _request_deadline(start, now),
                    confirmed_at=now if firm and not hold else None,
                    **_price_fields(session_type, price),
                    enrollment=enrollment,
                    late_refund_percent=session_type.late_cancellation_refund_percent,
                    reminders_enabled=reminders,
                )
            )
            if booking_id is None:
                _assign_reference(booking)
            _record(
                booking,
                actor=actor,
                action="held_for_payment" if hold else "booked" if firm else "requested",
                from_status="",
                coach_load=load.plus_one(),
                decided_by=decided_by,
                **({"then": booking.status_after_payment} if hold else {}),
            )
            if standing.planning:
                _close_plan(client, session_type, booking, now)
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    return booking


def _price(session_type: SessionType, *, start, now, standing, promo_code: str) -> Quote:
    """The booking's quote, in its transaction: a promotion code is locked and its use
    counted here (after the people's and the rooms' locks)."""
    promo = find_promo(promo_code, session_type, now=now, lock=True) if promo_code.strip() else None
    profile = getattr(session_type.coach, "coach_profile", None)
    result = quote(
        session_type,
        start=start,
        now=now,
        connected=standing.connected,
        discount_percent=getattr(profile, "connected_discount_percent", 0),
        promo=promo,
    )
    if promo is not None:
        use_promo(promo)
    return result


def _price_fields(session_type: SessionType, price: Quote | None) -> dict:
    """A booking's price fields from its quote (``None``: covered by an enrollment)."""
    if price is None:
        return {"price": 0, "currency": session_type.currency, "price_note": gettext("Included in your programme")}
    return {
        "price": price.price,
        "currency": price.currency,
        "price_note": price.note,
        "deposit": price.deposit,
        "balance_due_at": price.balance_due_at,
        "promo_code": price.promo,
    }


def _close_plan(client: User, session_type: SessionType, booking: Booking, now: dt.datetime) -> None:
    PlannedSession.objects.filter(client=client, session_type=session_type, closed_at__isnull=True).update(
        booking=booking, closed_at=now
    )


def schedule_later(
    *, client: User, session_type: SessionType, booked_by: User | None = None, notes: str = ""
) -> PlannedSession:
    """Record that the client wants ``session_type`` without choosing a time yet.
    Locks nothing: one plan per client and type (get or create)."""
    actor = booked_by or client
    _check_may_book(actor=actor, client=client, coach=session_type.coach)
    if not session_type.is_active:
        raise BookingRefused(gettext("This session type is no longer offered."), code="outside_availability")
    plan, _ = PlannedSession.objects.get_or_create(
        client=client,
        session_type=session_type,
        closed_at__isnull=True,
        defaults={"booked_by": actor, "notes": clean_text(notes, LONG_TEXT, field="notes")},
    )
    return plan


def drop_plan(*, plan: PlannedSession, actor: User) -> None:
    """The client (or whoever recorded it) drops a "schedule later" plan. Locks nothing."""
    if not (
        actor.pk in (plan.client_id, plan.booked_by_id)
        or can_book_for(actor, plan.client, coach=plan.session_type.coach)
    ):
        raise NotAllowed()
    if plan.closed_at is None:
        plan.closed_at = timezone.now()
        plan.save(update_fields=["closed_at"])
