"""Writing and releasing the busy ledger (``Allocation``) and seats, and choosing the room."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from availability import slots as engine
from availability.models import Allocation, Resource
from availability.rules import BookingRules
from availability.selectors import allowed_resources, resource_calendars
from bookings.models import Booking, Session, SessionStatus, SessionType
from bookings.services.common import BookingRefused
from config import sql


def _pick_resource(
    session_type: SessionType,
    *,
    start: dt.datetime,
    end: dt.datetime,
    seats: int = 1,
    ignore_session_id: int | None = None,
) -> Resource:
    """The room (or equipment) for a session of ``session_type`` over [start, end), by the
    stated rule: of the type's rooms (or every active resource of its kind) that hold
    ``seats`` people and are open and free for the whole session, the smallest, then by
    name. Locks the candidate resources' rows (in id order), after the people's."""
    candidates = allowed_resources(session_type, seats=seats)
    if not candidates:
        raise BookingRefused(
            _("No room that holds %(seats)s people is set up for this session type.") % {"seats": seats}
            if seats > 1
            else _("No room is set up for this session type."),
            code="slot_taken",
        )
    locked = set(
        Resource.objects.select_for_update(no_key=True)
        .filter(pk__in=[resource.pk for resource in candidates], is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    calendars = resource_calendars(
        [resource for resource in candidates if resource.pk in locked],
        start=start,
        end=end,
        ignore_session_id=ignore_session_id,
    )
    by_id = {resource.pk: resource for resource in candidates}
    for calendar in calendars:
        if engine.resource_free(calendar, start=start, end=end):
            return by_id[calendar.resource_id]
    raise BookingRefused(_("No room is free at this time. Select another."), code="slot_taken")


def _allocate(
    session: Session,
    *,
    rules: BookingRules,
    kind: str,
    resource: Resource | None,
    co_hosts: Sequence[tuple[User, BookingRules]] = (),
) -> list[Allocation]:
    """The session's allocations: its coach's (with the coach's buffers), each co-host's
    (with theirs) and its room's (the session's own time)."""
    hosts = [(session.coach, rules), *co_hosts]
    rows = [
        Allocation(
            session=session,
            staff=host,
            kind=kind,
            start=session.start,
            end=session.end,
            blocked_start=session.start - host_rules.buffer_before,
            blocked_end=session.end + host_rules.buffer_after,
        )
        for host, host_rules in hosts
    ]
    if resource is not None:
        rows.append(
            Allocation(
                session=session,
                resource=resource,
                kind=kind,
                start=session.start,
                end=session.end,
                blocked_start=session.start,
                blocked_end=session.end,
                counts_toward_limits=False,
            )
        )
    for row in rows:
        sql.insert(row)
    if co_hosts:
        Session.co_hosts.through.objects.bulk_create(
            Session.co_hosts.through(session_id=session.pk, user_id=host.pk) for host, _rules in co_hosts
        )
    return rows


def _release(session: Session) -> None:
    Allocation.objects.filter(session=session, is_active=True).update(is_active=False)


def _free_seat(booking: Booking) -> None:
    session = booking.session
    if session.session_type.is_group:
        Session.objects.filter(pk=session.pk, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    else:
        Session.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED, seats_taken=0)
        _release(session)
