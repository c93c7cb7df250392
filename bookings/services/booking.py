"""Booking one-on-one time, and "schedule later"."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.access import can_book_for
from accounts.models import User
from availability.models import AllocationKind
from availability.rules import rules_for
from availability.selectors import tag_rules_for
from bookings.models import Booking, BookingStatus, HostMode, PlannedSession, Session, SessionKind, SessionType
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
from bookings.services.hosts import HostPlan, check_offered, claim_hosts, plan_hosts
from bookings.services.ledger import _allocate, _pick_resource
from bookings.throttle import open_requests_limit
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
) -> Booking:
    """Book a one-on-one ``session_type`` at ``start``: firm or a request, by the rules
    (the coach's, the type's, the client's tags', the window's). A type with co-hosts
    allocates every host, a team type the fairest free member (``services.hosts``), a type
    that needs a room the smallest free room that fits (``ledger._pick_resource``).
    Locks the user rows of the client and every host (in id order), then the rooms."""
    actor = booked_by or client
    now = _now(now)
    start = _aware(start)
    notes = clean_text(notes, LONG_TEXT, field="notes")
    if session_type.kind != SessionKind.ONE_ON_ONE:
        raise DomainError("Take a seat in one of this type's published sessions instead.", code="invalid")
    if not session_type.is_active:
        raise BookingRefused("This session type is no longer offered.", code="outside_availability")
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
                    meeting_link=session_type.meeting_link,
                    location=session_type.location or (resource.location if resource else ""),
                )
            )
            _allocate(
                session,
                rules=plan.host_rules[host.pk],
                kind=AllocationKind.SESSION if firm else AllocationKind.REQUEST,
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
                    status=BookingStatus.FIRM_BOOKED if firm else BookingStatus.REQUESTED,
                    client_notes=notes.strip(),
                    expires_at=None if firm else _request_deadline(start, now),
                    confirmed_at=now if firm else None,
                    price=session_type.price,
                    currency=session_type.currency,
                    late_refund_percent=session_type.late_cancellation_refund_percent,
                    reminders_enabled=reminders,
                )
            )
            if booking_id is None:
                _assign_reference(booking)
            _record(
                booking,
                actor=actor,
                action="booked" if firm else "requested",
                from_status="",
                coach_load=load.plus_one(),
                decided_by=decided_by,
            )
            if standing.planning:
                _close_plan(client, session_type, booking, now)
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    return booking


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
        raise BookingRefused("This session type is no longer offered.", code="outside_availability")
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
