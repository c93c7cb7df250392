"""Writing and releasing the busy ledger (``Allocation``) and seats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import F

from availability.models import Allocation, Resource
from availability.rules import BookingRules
from bookings.models import Booking, Session, SessionStatus
from bookings.services.checks import _overlapping
from bookings.services.common import BookingRefused
from config import sql


def _free_resource(kind: str, *, start: dt.datetime, end: dt.datetime, exclude: Iterable[int] = ()) -> Resource:
    resources = list(Resource.objects.select_for_update().filter(kind=kind, is_active=True).order_by("pk"))
    exclude = list(exclude)
    for resource in resources:
        if not _overlapping(
            Allocation.objects.filter(resource=resource), blocked_start=start, blocked_end=end, exclude=exclude
        ):
            return resource
    raise BookingRefused(f"No {kind.replace('_', ' ')} is free at this time. Select another.", code="slot_taken")


def _allocate(session: Session, *, rules: BookingRules, kind: str, resource: Resource | None) -> list[Allocation]:
    rows = [
        Allocation(
            session=session,
            staff=session.coach,
            kind=kind,
            start=session.start,
            end=session.end,
            blocked_start=session.start - rules.buffer_before,
            blocked_end=session.end + rules.buffer_after,
        )
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
