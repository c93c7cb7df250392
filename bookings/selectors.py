"""Reads about sessions and bookings that the pages and the API share.

Access follows accounts.access: a booking is visible to its client, whoever booked it,
the client's guardians, the session's hosts (its coach and co-hosts), and staff; anything
else is 404. Co-hosts see a session and its bookings as the coach does; answering requests
and changing bookings stay with the session's coach (and staff), as the services decide.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext

from accounts.models import GuardianLink, User
from accounts.selectors import coaches_visible_to
from availability.models import Resource
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


def co_hosting(user: User, session_ref: str = "pk") -> Exists:
    """Whether ``user`` co-hosts the session ``session_ref`` names (an ``OuterRef`` path):
    a subquery, so a session with several co-hosts never comes back twice."""
    return Exists(Session.co_hosts.through.objects.filter(session=OuterRef(session_ref), user=user))


def hosted_by(user: User) -> Q:
    """Sessions ``user`` hosts: as their coach, or as a co-host."""
    return Q(coach=user) | Q(co_hosting(user))


def bookings_visible_to(user: User) -> QuerySet[Booking]:
    bookings = Booking.objects.select_related(*BOOKING_RELATED)
    if user.is_staff_member:
        return bookings
    guardian = Exists(GuardianLink.objects.filter(guardian=user, dependent=OuterRef("client")))
    return bookings.filter(
        Q(client=user) | Q(booked_by=user) | Q(session__coach=user) | guardian | Q(co_hosting(user, "session"))
    )


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
    """Sessions ``user`` may see: any for staff; those they host (coach or co-host); one with
    a booking they may see; a group session or workshop of a coach whose calendar they see."""
    sessions = Session.objects.select_related("session_type", "coach")
    if user.is_staff_member:
        return sessions
    booked = Exists(bookings_visible_to(user).filter(session=OuterRef("pk")))
    open_group = Q(
        session_type__kind__in=[SessionKind.GROUP, SessionKind.WORKSHOP],
        coach__in=coaches_visible_to(user).values("pk"),
    )
    return sessions.filter(hosted_by(user) | booked | open_group)


def history(booking: Booking) -> QuerySet[BookingEvent]:
    return booking.events.select_related("actor").order_by("created_at", "pk")


def client_bookings(client: User, *, now: dt.datetime | None = None) -> dict[str, list[Booking]]:
    """The client's (and their dependents') bookings: upcoming active ones soonest first,
    and past or ended ones newest first."""
    now = now or timezone.now()
    dependents = GuardianLink.objects.filter(guardian=client).values("dependent")
    mine = (
        Booking.objects.select_related(*BOOKING_RELATED)
        .filter(Q(client=client) | Q(booked_by=client) | Q(client__in=dependents))
        .annotate(co_hosted=Exists(Session.co_hosts.through.objects.filter(session=OuterRef("session"))))
    )
    upcoming = list(mine.filter(status__in=ACTIVE_STATUSES, session__end__gt=now).order_by("session__start"))
    past = list(mine.exclude(pk__in=[b.pk for b in upcoming]).order_by("-session__start")[:50])
    # Every host's name on the dashboard: one more read, only when a session has co-hosts.
    for booking in (*upcoming, *past):
        booking.session.has_co_hosts = booking.co_hosted
    attach_co_hosts([booking.session for booking in (*upcoming, *past)])
    return {"upcoming": upcoming, "past": past}


def plans_of(client: User) -> QuerySet[PlannedSession]:
    return PlannedSession.objects.filter(client=client, closed_at__isnull=True).select_related(
        "session_type", "session_type__coach"
    )


def coach_agenda(coach: User, *, start: dt.datetime, end: dt.datetime) -> list[Session]:
    """The live sessions ``coach`` hosts (as coach or co-host) starting in [start, end),
    with their active bookings, flagged ``has_co_hosts`` (see ``attach_co_hosts``)."""
    active = Booking.objects.filter(status__in=ACTIVE_STATUSES).select_related("client").order_by("created_at")
    return list(
        with_co_host_flag(Session.objects.filter(hosted_by(coach), start__gte=start, start__lt=end))
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("session_type", "resource", "coach")
        .prefetch_related(Prefetch("bookings", queryset=active, to_attr="active_bookings"))
        .order_by("start")
    )


def local_day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def requests_queue(coach: User) -> QuerySet[Booking]:
    """Requests waiting for ``coach``'s answer, the most urgent first. Only the session's
    coach answers (its co-hosts see the request on their agenda and calendar): with hosts
    "all together" that is the type's coach, with "any one of a team" the host it went to."""
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
    *,
    coach: User | None = None,
    host: User | None = None,
    session_type: SessionType | None = None,
    kind: str | None = None,
    now=None,
) -> QuerySet[Session]:
    """Published group sessions and workshops still to come, with their seats: of
    ``coach`` (their coach), or that ``host`` hosts (as coach or co-host)."""
    now = now or timezone.now()
    sessions = with_co_host_flag(
        Session.objects.filter(
            status=SessionStatus.SCHEDULED, start__gt=now, session_type__kind__in=["group", "workshop"]
        ).select_related("session_type", "coach", "resource")
    )
    if coach is not None:
        sessions = sessions.filter(coach=coach)
    if host is not None:
        sessions = sessions.filter(hosted_by(host))
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
    """The sessions ``coach`` hosts (as coach or co-host) starting in [start, end) that
    were not called off, each with its bookings that still stand or took place
    (``calendar_bookings``) and its co-hosts: two queries whatever the range, and one more
    when some of them have co-hosts."""
    shown = Booking.objects.filter(status__in=CALENDAR_STATUSES).select_related("client").order_by("created_at")
    sessions = list(
        with_co_host_flag(Session.objects.filter(hosted_by(coach), start__gte=start, start__lt=end))
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("session_type", "coach", "resource")
        .prefetch_related(Prefetch("bookings", queryset=shown, to_attr="calendar_bookings"))
        .order_by("start", "pk")
    )
    return attach_co_hosts(sessions)


# ---------------------------------------------------------------------------------------
# Hosts and rooms, as every page, message and calendar file shows them
# ---------------------------------------------------------------------------------------


def with_co_host_flag(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Sessions annotated with whether they have co-hosts (``has_co_hosts``), in the same
    query: ``attach_co_hosts`` then reads the co-hosts of only those that have some."""
    return sessions.annotate(has_co_hosts=Exists(Session.co_hosts.through.objects.filter(session=OuterRef("pk"))))


def attach_co_hosts(sessions: list[Session]) -> list[Session]:
    """Give each session its co-hosts (``co_host_list``) for ``hosts_of``: one query for
    all of them, and none when no session has co-hosts (read ``with_co_host_flag``)."""
    wanted = [s for s in sessions if getattr(s, "has_co_hosts", True) and not hasattr(s, "co_host_list")]
    by_session: dict[int, list[User]] = {}
    if wanted:
        rows = Session.co_hosts.through.objects.filter(session_id__in={s.pk for s in wanted}).select_related("user")
        for row in rows:
            by_session.setdefault(row.session_id, []).append(row.user)
    for session in sessions:
        if not hasattr(session, "co_host_list"):
            session.co_host_list = by_session.get(session.pk, [])
    return sessions


def hosts_of(session: Session) -> list[User]:
    """Everyone who hosts ``session``: its coach first, then its co-hosts by name — from
    ``attach_co_hosts`` or a ``prefetch_related("co_hosts")`` when the session was read
    with them, else one query."""
    listed = getattr(session, "co_host_list", None)
    if listed is None:
        listed = [] if getattr(session, "has_co_hosts", True) is False else list(session.co_hosts.all())
    co_hosts = sorted(listed, key=lambda user: (user.display_name.casefold(), user.pk))
    return [session.coach, *(user for user in co_hosts if user.pk != session.coach_id)]


def names_text(names: list[str]) -> str:
    """“Ana”, “Ana and Ben”, “Ana, Ben and Cleo”."""
    return str(get_text_list([str(name) for name in names], gettext("and")))


def hosts_text(session: Session) -> str:
    return names_text([host.display_name for host in hosts_of(session)])


def other_hosts_text(session: Session, person: User | None) -> str:
    """The hosts besides ``person``, in words ("with Ana and Ben"); empty when none."""
    person_id = getattr(person, "pk", None)
    others = [host.display_name for host in hosts_of(session) if host.pk != person_id]
    return gettext("with %(names)s") % {"names": names_text(others)} if others else ""


def room_text(resource: Resource | None, address: str = "") -> str:
    """The room as people read it: “Room 2, 12 rue X” (its name, and where it is: its own
    location, else ``address``)."""
    if resource is None:
        return ""
    return ", ".join(part for part in (resource.name, resource.location or address) if part)


def session_room_text(session: Session) -> str:
    """The session's room on every page, message and calendar file: “Room 2, 12 rue X”,
    the address being the room's own, else the session's or its type's; empty without a room."""
    if not session.resource_id:
        return ""
    return room_text(session.resource, session.location or session.session_type.location)
