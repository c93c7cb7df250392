"""Reads about sessions and bookings that the pages and the API share.

Access follows accounts.access: a booking is visible to its client, whoever booked it,
the client's guardians, the session's coach, and staff; anything else is 404.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import GuardianLink, User
from accounts.selectors import coaches_visible_to
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    PlannedSession,
    Session,
    SessionKind,
    SessionStatus,
    SessionType,
)

UTC_ZONE = ZoneInfo("UTC")
REFERENCE = re.compile(r"BK-\d{4}-\d{6,12}")
BOOKING_RELATED = ("session", "session__session_type", "session__coach", "session__resource", "client", "booked_by")


def bookings_visible_to(user: User) -> QuerySet[Booking]:
    bookings = Booking.objects.select_related(*BOOKING_RELATED)
    if user.is_staff_member:
        return bookings
    guardian = Exists(GuardianLink.objects.filter(guardian=user, dependent=OuterRef("client")))
    return bookings.filter(Q(client=user) | Q(booked_by=user) | Q(session__coach=user) | guardian)


def get_booking_for(user: User, pk: int | str) -> Booking:
    """The booking by id or reference, or 404 if ``user`` may not see it."""
    text = str(pk)
    if text.isascii() and text.isdigit() and len(text) < 19:
        lookup = Q(pk=int(text))
    elif REFERENCE.fullmatch(text):
        lookup = Q(reference=text)
    else:
        raise Http404("No such booking.")
    booking = bookings_visible_to(user).filter(lookup).first()
    if booking is None:
        raise Http404("No such booking.")
    return booking


def sessions_visible_to(user: User) -> QuerySet[Session]:
    """Sessions ``user`` may see: any for staff; their own as coach; one with a booking they
    may see; a group session or workshop of a coach whose calendar they see."""
    sessions = Session.objects.select_related("session_type", "coach")
    if user.is_staff_member:
        return sessions
    booked = Exists(bookings_visible_to(user).filter(session=OuterRef("pk")))
    open_group = Q(
        session_type__kind__in=[SessionKind.GROUP, SessionKind.WORKSHOP],
        coach__in=coaches_visible_to(user).values("pk"),
    )
    return sessions.filter(Q(coach=user) | booked | open_group)


def history(booking: Booking) -> QuerySet[BookingEvent]:
    return booking.events.select_related("actor").order_by("created_at", "pk")


def client_bookings(client: User, *, now: dt.datetime | None = None) -> dict[str, list[Booking]]:
    """The client's (and their dependents') bookings: upcoming active ones soonest first,
    and past or ended ones newest first."""
    now = now or timezone.now()
    dependents = GuardianLink.objects.filter(guardian=client).values("dependent")
    mine = Booking.objects.select_related(*BOOKING_RELATED).filter(
        Q(client=client) | Q(booked_by=client) | Q(client__in=dependents)
    )
    upcoming = list(mine.filter(status__in=ACTIVE_STATUSES, session__end__gt=now).order_by("session__start"))
    past = list(mine.exclude(pk__in=[b.pk for b in upcoming]).order_by("-session__start")[:50])
    return {"upcoming": upcoming, "past": past}


def plans_of(client: User) -> QuerySet[PlannedSession]:
    return PlannedSession.objects.filter(client=client, closed_at__isnull=True).select_related(
        "session_type", "session_type__coach"
    )


def coach_agenda(coach: User, *, start: dt.datetime, end: dt.datetime) -> list[Session]:
    """The coach's live sessions starting in [start, end), with their active bookings."""
    active = Booking.objects.filter(status__in=ACTIVE_STATUSES).select_related("client").order_by("created_at")
    return list(
        Session.objects.filter(coach=coach, start__gte=start, start__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("session_type", "resource")
        .prefetch_related(Prefetch("bookings", queryset=active, to_attr="active_bookings"))
        .order_by("start")
    )


def local_day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def requests_queue(coach: User) -> QuerySet[Booking]:
    """Requests waiting for ``coach``'s answer, the most urgent first."""
    return (
        Booking.objects.filter(session__coach=coach, status=BookingStatus.REQUESTED)
        .select_related(*BOOKING_RELATED)
        .order_by("expires_at", "session__start")
    )


def session_types_of(coach: User, *, active_only: bool = True) -> QuerySet[SessionType]:
    """The coach's types in the coach's order (the wizard's, the API's and the coach's page's)."""
    types = SessionType.objects.filter(coach=coach).order_by("position", "pk")
    return types.filter(is_active=True) if active_only else types


def upcoming_group_sessions(
    *, coach: User | None = None, session_type: SessionType | None = None, kind: str | None = None, now=None
) -> QuerySet[Session]:
    """Published group sessions and workshops still to come, with their seats."""
    now = now or timezone.now()
    sessions = Session.objects.filter(
        status=SessionStatus.SCHEDULED, start__gt=now, session_type__kind__in=["group", "workshop"]
    ).select_related("session_type", "coach", "resource")
    if coach is not None:
        sessions = sessions.filter(coach=coach)
    if session_type is not None:
        sessions = sessions.filter(session_type=session_type)
    if kind is not None:
        sessions = sessions.filter(session_type__kind=kind)
    return sessions.order_by("start")


def staff_sessions(
    *,
    coach_id: int | None = None,
    status: str | None = None,
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
    zone: ZoneInfo = UTC_ZONE,
) -> QuerySet[Booking]:
    """Every booking for the staff overview, filtered by coach, booking status and local days."""
    bookings = Booking.objects.select_related(*BOOKING_RELATED)
    if coach_id:
        bookings = bookings.filter(session__coach_id=coach_id)
    if status:
        bookings = bookings.filter(status=status)
    if day_from:
        bookings = bookings.filter(session__start__gte=local_day_bounds(day_from, zone)[0])
    if day_to:
        bookings = bookings.filter(session__start__lt=local_day_bounds(day_to, zone)[1])
    return bookings.order_by("session__start")


CALENDAR_STATUSES = (*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def coach_calendar_sessions(coach: User, *, start: dt.datetime, end: dt.datetime) -> list[Session]:
    """The coach's sessions starting in [start, end) that were not called off, each with
    its bookings that still stand or took place (``calendar_bookings``): two queries
    whatever the range."""
    shown = Booking.objects.filter(status__in=CALENDAR_STATUSES).select_related("client").order_by("created_at")
    return list(
        Session.objects.filter(coach=coach, start__gte=start, start__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("session_type")
        .prefetch_related(Prefetch("bookings", queryset=shown, to_attr="calendar_bookings"))
        .order_by("start", "pk")
    )
