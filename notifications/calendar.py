"""Calendar data for bookings (RFC 5545): one booking as an event, invitations for email
(``METHOD:REQUEST`` / ``METHOD:CANCEL``), private feeds and add-to-calendar links.

Each event is first described as plain data (``EventData``) from the viewer's side: their
time zone, the other party's name, the status. From that data ``to_component`` makes an
``icalendar.Event`` (single bookings and invitations), and ``_event_lines`` writes the
same properties straight to text for feeds, which must render 1,000 events quickly; the
tests parse both back with ``icalendar``.

Identity and versions:

- a booking's UID is ``booking-<id>@<site host>``, the same in feeds, downloads and
  invitations, whoever looks at it; a coach's group session or workshop is one event per
  session (``session-<id>@<site host>``) with an attendee per seat;
- a session with several hosts is in every host's feed (the coach is its ORGANIZER, each
  co-host an ATTENDEE, and its DESCRIPTION names them all); a session with a room has the
  room and where it is as its LOCATION ("Room 2, 12 rue X");
- ``SEQUENCE`` counts the booking's recorded changes (its history is append-only, and
  every approval, reschedule or cancellation adds to it), so it only ever rises;
- a feed holds active bookings, past ones of the last 90 days, and cancelled or declined
  ones for 30 days after the change (so calendar apps see them cancelled, then they go).
  The windows are counted from the start of the current UTC day, so a feed's content is
  a function of the database and the date, and ``feed_version`` can name it cheaply.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, DateTimeField, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from icalendar import Calendar, Event, vCalAddress

from accounts.language import language_of
from accounts.models import GuardianLink, Role, User
from bookings import selectors, video
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    Session,
    SessionKind,
    SessionStatus,
)
from config import stored_text
from notifications.vtimezone import vtimezone

PRODID = "-//Session booking//Calendar 1.0//EN"
FEED_FORMAT = "4"  # part of every feed's ETag: change it when the feed's layout changes
CANCELLED_KEPT = dt.timedelta(days=30)
PAST_KEPT = dt.timedelta(days=90)
REFRESH = "PT30M"
UTC = dt.UTC
UTC_ZONE = ZoneInfo("UTC")

STATUS_FOR = {
    BookingStatus.REQUESTED: "TENTATIVE",
    BookingStatus.AWAITING_PAYMENT: "TENTATIVE",
    BookingStatus.FIRM_BOOKED: "CONFIRMED",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.DECLINED: "CANCELLED",
}
PARTSTAT_FOR = {
    BookingStatus.REQUESTED: "TENTATIVE",
    BookingStatus.AWAITING_PAYMENT: "TENTATIVE",
    BookingStatus.CANCELLED: "DECLINED",
    BookingStatus.DECLINED: "DECLINED",
}
# An event's title with its booking's state in front: “Request: Coaching with Ana Diaz”.
SUMMARY_PREFIX = {
    BookingStatus.REQUESTED: _("Request: %(title)s"),
    BookingStatus.AWAITING_PAYMENT: _("Awaiting payment: %(title)s"),
    BookingStatus.CANCELLED: _("Cancelled: %(title)s"),
    BookingStatus.DECLINED: _("Declined: %(title)s"),
}
ENDED = (BookingStatus.CANCELLED, BookingStatus.DECLINED)
# Who has a place in a group session's event: active seats, and those the session was held for.
SEATED = (*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
GROUP_KINDS = (SessionKind.GROUP, SessionKind.WORKSHOP)


# ---------------------------------------------------------------------------------------
# Small pieces
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return UTC_ZONE


def zone_of(user: User) -> ZoneInfo:
    """The user's own time zone (UTC if it can't be read)."""
    return _zone_named(user.timezone or "UTC")


def _site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def _site_host() -> str:
    return urlsplit(_site_url()).hostname or "localhost"


def booking_uid(booking: Booking | BookingFacts) -> str:
    """The booking's UID, the same in every feed, download and invitation."""
    return f"booking-{booking.pk}@{_site_host()}"


def session_uid(session: Session | SessionFacts) -> str:
    """The UID of a group session or workshop in its coach's calendar."""
    return f"session-{session.pk}@{_site_host()}"


def booking_url(booking: Booking) -> str:
    return _site_url() + reverse("booking_detail", args=[booking.reference])


def _booking_url_maker() -> Callable[[str], str]:
    """``booking_url`` for many bookings: one ``reverse`` for the whole feed."""
    marker = "BK-0000-000000"
    path = reverse("booking_detail", args=[marker])
    head, tail = path.split(marker, 1)
    prefix = _site_url() + head
    return lambda reference: f"{prefix}{reference}{tail}"


def sequence_for(booking: Booking) -> int:
    """How many times the booking changed since it was made: its recorded history minus one
    (append-only, so this only rises). Feeds annotate ``event_count``; otherwise one query."""
    count = getattr(booking, "event_count", None)
    if count is None:
        count = booking.events.count()
    return max(count - 1, 0)


def last_modified_for(booking: Booking) -> dt.datetime:
    """The booking's last change: its own row, its session's, or its last recorded event."""
    return booking_facts(booking).last_modified


# ---------------------------------------------------------------------------------------
# What an event is made of, read from models or (for feeds) straight from query rows
# ---------------------------------------------------------------------------------------


def _name(name: str, email: str) -> str:
    return name or email  # User.display_name


@dataclass(frozen=True, slots=True)
class Host:
    """A co-host of a session: a session's hosts beside its coach."""

    pk: int
    name: str
    email: str


@dataclass(slots=True)
class SessionFacts:
    pk: int
    start: dt.datetime
    end: dt.datetime
    status: str
    capacity: int
    updated_at: dt.datetime | None  # None in a booking's row: its ``changed_at`` covers it
    location: str
    meeting_link: str
    coach_id: int
    coach_name: str
    coach_email: str
    title: str
    kind: str
    type_location: str
    type_meeting_link: str
    room_name: str | None = None
    room_location: str | None = None
    co_hosts: tuple[Host, ...] = ()  # the hosts beside the coach, by name

    @property
    def link(self) -> str:
        # A type's link is only ever its fixed one (``bookings.video``): the fallback of a
        # session made before it had a link of its own.
        return self.meeting_link or self.type_meeting_link

    @property
    def host_ids(self) -> set[int]:
        return {self.coach_id, *(host.pk for host in self.co_hosts)}

    @property
    def hosts_text(self) -> str:
        """“Ana Diaz and Ben Ito”: the coach, then the co-hosts."""
        return selectors.names_text([self.coach_name, *(host.name for host in self.co_hosts)])

    def place(self, *, with_link: bool) -> str:
        """Where: the room and its address ("Room 2, 12 rue X"; the session's address when
        the room gives none), else the address; then the video link (``with_link``)."""
        location = self.location or self.type_location
        if self.room_name:
            location = ", ".join(part for part in (self.room_name, self.room_location or location) if part)
        link = self.link if with_link else ""
        if location and link:
            return f"{location} · {link}"
        return location or link


@dataclass(slots=True)
class BookingFacts:
    pk: int
    reference: str
    status: str
    client_id: int
    client_name: str
    client_email: str
    decline_reason: str
    cancellation_reason: str
    event_count: int
    changed_at: dt.datetime  # the latest of the booking's row, its last recorded event (and its session)
    session: SessionFacts | None = None

    @property
    def sequence(self) -> int:
        return max(self.event_count - 1, 0)

    @property
    def last_modified(self) -> dt.datetime:
        session_changed = self.session.updated_at if self.session else None
        changed = max(self.changed_at, session_changed) if session_changed else self.changed_at
        return changed.astimezone(UTC)


# Attribute → path from Session, and from Booking: the columns feeds read (``values()``).
SESSION_PATHS = {
    "pk": "id",
    "start": "start",
    "end": "end",
    "status": "status",
    "capacity": "capacity",
    "updated_at": "updated_at",
    "location": "location",
    "meeting_link": "meeting_link",
    "coach_id": "coach_id",
    "coach_name": "coach__name",
    "coach_email": "coach__email",
    "title": "session_type__title",
    "kind": "session_type__kind",
    "type_location": "session_type__location",
    "type_meeting_link": "session_type__meeting_link",
    "room_name": "resource__name",
    "room_location": "resource__location",
}
BOOKING_PATHS = {
    "pk": "id",
    "reference": "reference",
    "status": "status",
    "client_id": "client_id",
    "client_name": "client__name",
    "client_email": "client__email",
    "decline_reason": "decline_reason",
    "cancellation_reason": "cancellation_reason",
    "event_count": "event_count",
    "changed_at": "changed_at",
}
# A booking's row reads its session without ``updated_at``: its ``changed_at`` includes it.
# (Every timestamp costs a conversion per row; a feed reads three per booking.)
BOOKING_SESSION_PATHS = {attr: path for attr, path in SESSION_PATHS.items() if attr != "updated_at"}


def _session_from_row(row: dict, prefix: str = "") -> SessionFacts:
    facts = SessionFacts(
        **{attr: row[prefix + path] for attr, path in BOOKING_SESSION_PATHS.items()},
        updated_at=row.get(prefix + "updated_at"),
    )
    facts.coach_name = _name(facts.coach_name, facts.coach_email)
    return facts


def _booking_from_row(row: dict, session: SessionFacts | None) -> BookingFacts:
    facts = BookingFacts(**{attr: row[path] for attr, path in BOOKING_PATHS.items()}, session=session)
    facts.client_name = _name(facts.client_name, facts.client_email)
    facts.event_count = facts.event_count or 0
    return facts


def session_facts(session: Session) -> SessionFacts:
    session_type, coach = session.session_type, session.coach
    resource = session.resource if session.resource_id else None
    return SessionFacts(
        room_name=resource.name if resource else None,
        room_location=resource.location if resource else None,
        co_hosts=tuple(Host(host.pk, host.display_name, host.email) for host in selectors.hosts_of(session)[1:]),
        pk=session.pk,
        start=session.start,
        end=session.end,
        status=session.status,
        capacity=session.capacity,
        updated_at=session.updated_at,
        location=session.location,
        meeting_link=session.meeting_link,
        coach_id=session.coach_id,
        coach_name=coach.display_name,
        coach_email=coach.email,
        title=session_type.title,
        kind=session_type.kind,
        type_location=session_type.location,
        type_meeting_link=session_type.meeting_link,
    )


def booking_facts(booking: Booking, *, with_session: bool = True) -> BookingFacts:
    """A booking's facts; its history's size and last time are read (one query) unless the
    booking was annotated with ``event_count`` and ``changed_at`` (``_with_history``)."""
    count = getattr(booking, "event_count", None)
    changed = getattr(booking, "changed_at", None)
    if count is None or changed is None:
        history = booking.events.aggregate(count=Count("pk"), last=Max("created_at"))
        count = history["count"]
        changed = max(filter(None, [booking.updated_at, history["last"]]))
    return BookingFacts(
        pk=booking.pk,
        reference=booking.reference,
        status=booking.status,
        client_id=booking.client_id,
        client_name=booking.client.display_name,
        client_email=booking.client.email,
        decline_reason=booking.decline_reason,
        cancellation_reason=booking.cancellation_reason,
        event_count=count or 0,
        changed_at=changed,
        session=session_facts(booking.session) if with_session else None,
    )


# ---------------------------------------------------------------------------------------
# Events as data
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    email: str
    partstat: str = "ACCEPTED"


@dataclass(slots=True)
class EventData:
    """One calendar event, from one viewer's side; ``start``/``end`` in the viewer's zone."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str
    location: str
    url: str
    status: str
    sequence: int
    last_modified: dt.datetime
    organizer: Party
    attendees: list[Party] = field(default_factory=list)
    # The summary without the state in front (a cancelling invitation puts its own).
    title: str = ""


STATUS_LABELS = dict(BookingStatus.choices)
KIND_LABELS = dict(SessionKind.choices)


def _title(facts: BookingFacts, viewer: User) -> str:
    session = facts.session
    if viewer.pk in session.host_ids:
        return gettext("%(title)s with %(name)s") % {"title": session.title, "name": facts.client_name}
    if viewer.pk == facts.client_id:
        return gettext("%(title)s with %(name)s") % {"title": session.title, "name": session.hosts_text}
    return gettext("%(title)s: %(client)s with %(hosts)s") % {
        "title": session.title,
        "client": facts.client_name,
        "hosts": session.hosts_text,
    }


def _prefixed(status: str, title: str) -> str:
    prefix = SUMMARY_PREFIX.get(status)
    return str(prefix) % {"title": title} if prefix else title


def _summary(facts: BookingFacts, viewer: User) -> str:
    return _prefixed(facts.status, _title(facts, viewer))


def _cancel(data: EventData) -> None:
    """``data`` as a cancelling invitation shows it."""
    if data.status != "CANCELLED":  # not already cancelled or declined
        data.summary = _prefixed(BookingStatus.CANCELLED, data.title or data.summary)
    data.status = "CANCELLED"


def _hosts_line(session: SessionFacts) -> str:
    return gettext("Hosts: %(hosts)s") % {"hosts": session.hosts_text}


def _shows_link(facts: BookingFacts, viewer: User) -> bool:
    """Whether ``viewer``'s event carries the session's video link: its hosts and staff
    while it is on, the client's side once the booking is firm or confirmed."""
    session = facts.session
    hosting = viewer.pk in session.host_ids or viewer.is_staff_member
    return video.may_join(booking_status=facts.status, session_status=session.status, hosting=hosting)


def _description(facts: BookingFacts, viewer: User, url: str) -> str:
    session = facts.session
    lines = [
        gettext("Booking %(reference)s · %(status)s")
        % {"reference": facts.reference, "status": STATUS_LABELS.get(facts.status, facts.status)}
    ]
    if session.co_hosts:
        lines.append(_hosts_line(session))
    elif viewer.pk != session.coach_id:
        lines.append(gettext("Coach: %(name)s") % {"name": session.coach_name})
    if viewer.pk != facts.client_id:
        lines.append(gettext("Client: %(name)s") % {"name": facts.client_name})
    if session.link and _shows_link(facts, viewer):
        lines.append(gettext("Video call: %(link)s") % {"link": session.link})
    if facts.status == BookingStatus.DECLINED and facts.decline_reason:
        lines.append(gettext("Reason: %(reason)s") % {"reason": stored_text.display(facts.decline_reason)})
    if facts.status == BookingStatus.CANCELLED and facts.cancellation_reason:
        lines.append(gettext("Reason: %(reason)s") % {"reason": stored_text.display(facts.cancellation_reason)})
    lines.append(gettext("Details and changes: %(url)s") % {"url": url})
    return "\n".join(lines)


def booking_event_data(
    booking: Booking | BookingFacts, *, viewer: User, url: str | None = None, zone: ZoneInfo | None = None
) -> EventData:
    """The booking as ``viewer`` sees it: their zone, the other party's name."""
    facts = booking if isinstance(booking, BookingFacts) else booking_facts(booking)
    session = facts.session
    zone = zone or zone_of(viewer)
    url = url or _booking_url_maker()(facts.reference)
    title = _title(facts, viewer)
    return EventData(
        uid=booking_uid(facts),
        start=session.start.astimezone(zone),
        end=session.end.astimezone(zone),
        summary=_prefixed(facts.status, title),
        title=title,
        description=_description(facts, viewer, url),
        location=session.place(with_link=_shows_link(facts, viewer)),
        url=url,
        status=STATUS_FOR.get(facts.status, "CONFIRMED"),
        sequence=facts.sequence,
        last_modified=facts.last_modified,
        organizer=Party(session.coach_name, session.coach_email),
        attendees=[
            Party(facts.client_name, facts.client_email, PARTSTAT_FOR.get(facts.status, "ACCEPTED")),
            *_co_host_parties(session),
        ],
    )


def _co_host_parties(session: SessionFacts) -> list[Party]:
    return [Party(host.name, host.email) for host in session.co_hosts]


def session_event_data(
    session: Session | SessionFacts,
    seats: list[BookingFacts] | None = None,
    *,
    viewer: User,
    zone: ZoneInfo | None = None,
) -> EventData:
    """A group session or workshop as its coach sees it: one event with an attendee per
    seat. ``seats`` are all the session's bookings (each one's history counts toward
    ``SEQUENCE``); read (one query) when not given."""
    if seats is None:
        seats = [booking_facts(b, with_session=False) for b in _with_history(session.bookings.select_related("client"))]
    if isinstance(session, Session):
        session = session_facts(session)
    zone = zone or zone_of(viewer)
    cancelled = session.status == SessionStatus.CANCELLED
    seated = [seat for seat in seats if seat.status in SEATED]
    kind = KIND_LABELS.get(session.kind, session.kind)
    lines = [
        gettext("%(kind)s · %(taken)d of %(capacity)d seats taken")
        % {"kind": kind, "taken": len(seated), "capacity": session.capacity}
    ]
    if session.co_hosts:
        lines.append(_hosts_line(session))
    lines += [f"{seat.client_name} ({seat.reference})" for seat in seated]
    if session.link and not cancelled:
        lines.append(gettext("Video call: %(link)s") % {"link": session.link})
    url = _site_url() + reverse("dashboard")
    lines.append(gettext("Your sessions: %(url)s") % {"url": url})
    stamps = [session.updated_at, *(seat.changed_at for seat in seats)]
    # Every change of every seat, plus the session's own cancellation: only ever rises.
    sequence = sum(seat.event_count for seat in seats) + (1 if cancelled else 0)
    return EventData(
        uid=session_uid(session),
        start=session.start.astimezone(zone),
        end=session.end.astimezone(zone),
        summary=_prefixed(BookingStatus.CANCELLED, session.title) if cancelled else session.title,
        title=session.title,
        description="\n".join(lines),
        location=session.place(with_link=not cancelled),
        url=url,
        status="CANCELLED" if cancelled else "CONFIRMED",
        sequence=sequence,
        last_modified=max(stamps).astimezone(UTC),
        organizer=Party(session.coach_name, session.coach_email),
        attendees=[
            *(Party(seat.client_name, seat.client_email, PARTSTAT_FOR.get(seat.status, "ACCEPTED")) for seat in seated),
            *_co_host_parties(session),
        ],
    )


# ---------------------------------------------------------------------------------------
# icalendar components
# ---------------------------------------------------------------------------------------


def _address(party: Party, *, attendee: bool) -> vCalAddress:
    address = vCalAddress(f"mailto:{party.email}")
    address.params["CN"] = _param(party.name)
    if attendee:
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = party.partstat
        address.params["RSVP"] = "FALSE"
    return address


def to_component(data: EventData, *, stamp: dt.datetime | None = None) -> Event:
    """The event as an ``icalendar.Event``; ``stamp`` is DTSTAMP (default: its last change)."""
    event = Event()
    event.add("uid", data.uid)
    event.add("dtstamp", (stamp or data.last_modified).astimezone(UTC))
    event.add("dtstart", data.start)
    event.add("dtend", data.end)
    event.add("summary", data.summary)
    event.add("description", data.description)
    if data.location:
        event.add("location", data.location)
    event.add("url", data.url)
    event.add("status", data.status)
    event.add("sequence", data.sequence)
    event.add("last-modified", data.last_modified.astimezone(UTC))
    event.add("organizer", _address(data.organizer, attendee=False))
    for party in data.attendees:
        event.add("attendee", _address(party, attendee=True))
    return event


def _vtimezone(events: list[EventData]) -> str:
    """The VTIMEZONE of the events' zone (one zone per document: the viewer's) from the
    first event's day to the last one's, written by ``notifications.vtimezone`` for feeds,
    downloads and invitations alike; empty for UTC (times end in Z) or no event."""
    key = getattr(events[0].start.tzinfo, "key", "UTC") if events else "UTC"
    if key == "UTC":
        return ""
    first = min(event.start for event in events).astimezone(UTC).date()
    last = max(event.end for event in events).astimezone(UTC).date()
    return vtimezone(key, first, last)


def event_for_booking(booking: Booking, *, viewer: User) -> Event:
    """The booking as an ``icalendar.Event`` in ``viewer``'s zone. Put it in a calendar and
    call ``add_missing_timezones`` (as ``invitation`` does) for its VTIMEZONE."""
    return to_component(booking_event_data(booking, viewer=viewer))


def _viewer_event_data(booking: Booking, viewer: User) -> EventData:
    """What ``viewer``'s own calendar holds for this booking: for a host (coach or co-host)
    of a group session, the session's event (the UID their feed uses); otherwise the
    booking's."""
    session = booking.session
    if session.session_type.kind in GROUP_KINDS and _hosts(viewer, session):
        return session_event_data(session, viewer=viewer)
    return booking_event_data(booking, viewer=viewer)


def _calendar(method: str | None, *, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _with_event(calendar: Calendar, data: EventData, *, stamp: dt.datetime | None = None) -> bytes:
    """The calendar with the event, its VTIMEZONE written before it."""
    calendar.add_component(to_component(data, stamp=stamp))
    head, event = calendar.to_ical().split(b"BEGIN:VEVENT\r\n", 1)
    return head + _vtimezone([data]).encode() + b"BEGIN:VEVENT\r\n" + event


def _hosts(person: User, session: Session) -> bool:
    return person.pk in {host.pk for host in selectors.hosts_of(session)}


def invitation_method(booking: Booking, *, recipient: User, cancel: bool = False) -> str:
    """``"REQUEST"`` or ``"CANCEL"``: the METHOD of ``invitation`` with the same arguments,
    for the attachment's content type (``text/calendar; method=...``). One seat cancelled
    in a group session is an update (REQUEST) of the coach's session event, not its end."""
    session = booking.session
    if cancel and session.session_type.kind in GROUP_KINDS and _hosts(recipient, session):
        return "CANCEL" if session.status == SessionStatus.CANCELLED else "REQUEST"
    return "CANCEL" if cancel else "REQUEST"


def invitation(booking: Booking, *, recipient: User, cancel: bool = False) -> bytes:
    """An email invitation (iTIP): ``METHOD:REQUEST`` with the booking's event, or
    ``METHOD:CANCEL`` with ``STATUS:CANCELLED``; the UID is the one in ``recipient``'s feed,
    times in their zone with the matching VTIMEZONE."""
    method = invitation_method(booking, recipient=recipient, cancel=cancel)
    data = _viewer_event_data(booking, recipient)
    if method == "CANCEL":
        _cancel(data)
    return _with_event(_calendar(method), data, stamp=timezone.now())


def series_invitation(bookings: list[Booking], *, recipient: User, cancel: bool = False) -> bytes:
    """One invitation for several sessions of a series changed together (a series booked,
    confirmed, cancelled or moved at once): one VEVENT per booking, each with its own UID
    (the one in ``recipient``'s feed), in their zone with one VTIMEZONE for them all."""
    method = invitation_method(bookings[0], recipient=recipient, cancel=cancel)
    calendar = _calendar(method)
    stamp = timezone.now()
    events = []
    for booking in bookings:
        data = _viewer_event_data(booking, recipient)
        if method == "CANCEL":
            _cancel(data)
        events.append(data)
        calendar.add_component(to_component(data, stamp=stamp))
    head, rest = calendar.to_ical().split(b"BEGIN:VEVENT\r\n", 1)
    return head + _vtimezone(events).encode() + b"BEGIN:VEVENT\r\n" + rest


def series_bookings(ids) -> list[Booking]:
    """The bookings ``ids`` (a series message's), by start, with what ``series_invitation``
    needs — their histories annotated, so two queries however many."""
    return list(
        _with_history(Booking.objects.filter(pk__in=list(ids)))
        .select_related("session__session_type", "session__coach", "session__resource", "client")
        .prefetch_related("session__co_hosts")
        .order_by("session__start", "pk")
    )


def calendar_copy_data(booking: Booking, *, host: User, private: bool = False) -> EventData:
    """The event a host's own calendar holds for this booking, to write into it (CalDAV,
    Google's or Microsoft's API): the one of their feed (a group session's event for a
    group session), in their zone, without organizer and attendees — a calendar server
    would mail invitations to the people named — and, when ``private``, saying only that
    the time is booked."""
    data = _viewer_event_data(booking, host)
    data.organizer = Party("", "")
    data.attendees = []
    if private:
        data.summary = gettext("Busy (booking)")
        data.description = gettext("Details: %(url)s") % {"url": data.url}
        data.location = ""
    return data


def calendar_copy(booking: Booking, *, host: User, private: bool = False) -> bytes:
    """``calendar_copy_data`` as an iCalendar document (a VCALENDAR for CalDAV)."""
    return calendar_copy_document(calendar_copy_data(booking, host=host, private=private))


def calendar_copy_document(data: EventData) -> bytes:
    """A ``calendar_copy_data`` event as a VCALENDAR with its VTIMEZONE, no ORGANIZER."""
    event = to_component(data)
    del event["organizer"]
    head, rest = _calendar(None).to_ical().split(b"END:VCALENDAR", 1)
    return head + _vtimezone([data]).encode() + event.to_ical() + b"END:VCALENDAR" + rest


def booking_ics(booking: Booking, *, viewer: User) -> bytes:
    """The booking as an ``.ics`` file to download (``METHOD:PUBLISH``), in the viewer's zone."""
    return _with_event(_calendar("PUBLISH"), _viewer_event_data(booking, viewer))


def bookings_ics(ids, *, viewer: User, name: str | None = None) -> bytes:
    """The bookings ``ids`` as one ``.ics`` file to download (``METHOD:PUBLISH``): each
    booking's own event as ``viewer`` sees it, in their zone with one VTIMEZONE for them
    all, soonest first — every one, whatever its age (a feed keeps recent ones only). Read
    in a fixed number of queries (``series_bookings``)."""
    calendar = _calendar("PUBLISH", name=name)
    events = [booking_event_data(booking, viewer=viewer) for booking in series_bookings(ids)]
    if not events:
        return calendar.to_ical()
    for data in events:
        calendar.add_component(to_component(data))
    head, rest = calendar.to_ical().split(b"BEGIN:VEVENT\r\n", 1)
    return head + _vtimezone(events).encode() + b"BEGIN:VEVENT\r\n" + rest


# ---------------------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------------------


def _day_start(now: dt.datetime | None = None) -> dt.datetime:
    now = (now or timezone.now()).astimezone(UTC)
    return dt.datetime(now.year, now.month, now.day, tzinfo=UTC)


def _client_side_q(user: User) -> Q:
    """Bookings ``user`` has as the client, made themself for someone, or has as guardian."""
    dependents = GuardianLink.objects.filter(guardian=user).values("dependent")
    return Q(client=user) | Q(booked_by=user) | Q(client__in=dependents)


def _kept_q(cutoff: dt.datetime) -> Q:
    """Live bookings, and cancelled/declined ones changed since ``cutoff``."""
    ended_recently = Q(status__in=ENDED) & (
        Q(cancelled_at__gte=cutoff) | Q(cancelled_at__isnull=True, updated_at__gte=cutoff)
    )
    return Q(status__in=SEATED) | ended_recently


def _with_history(bookings: QuerySet[Booking], *, with_session: bool = False) -> QuerySet[Booking]:
    """Each booking with its history's size (``event_count``) and its last change
    (``changed_at``: its row, its last event and, ``with_session``, its session's row),
    as subqueries, so no GROUP BY."""
    events = BookingEvent.objects.filter(booking=OuterRef("pk")).order_by().values("booking")
    last_event = Subquery(events.annotate(last=Max("created_at")).values("last"))
    stamps = [F("updated_at"), Coalesce(last_event, F("updated_at"))]
    if with_session:
        stamps.append(F("session__updated_at"))
    return bookings.annotate(
        event_count=Coalesce(Subquery(events.annotate(n=Count("pk")).values("n")), 0),
        changed_at=Greatest(*stamps, output_field=DateTimeField()),
    )


def _hosting_q(user: User) -> Q:
    """Bookings of sessions ``user`` hosts: as their coach, or as a co-host."""
    return Q(session__coach=user) | Q(selectors.co_hosting(user, "session"))


def feed_bookings(user: User, *, day: dt.datetime) -> QuerySet[Booking]:
    """The bookings shown as events of their own in ``user``'s feed: their own, those they
    made for someone or have as guardian, and (a coach) those of the one-on-one sessions
    they host (as coach or co-host). Each says whether its session has co-hosts
    (``session_has_co_hosts``), so the feed reads co-hosts only when there are some."""
    scope = _client_side_q(user)
    hosting = Q(pk__in=[])
    if user.role == Role.COACH:
        hosting = _hosting_q(user)
        scope |= hosting & Q(session__session_type__kind=SessionKind.ONE_ON_ONE)
    bookings = (
        Booking.objects.filter(scope, session__start__gte=day - PAST_KEPT)
        .filter(_kept_q(day - CANCELLED_KEPT))
        .exclude(hosting & Q(session__session_type__kind__in=GROUP_KINDS))
        .annotate(session_has_co_hosts=_has_co_hosts("session"))
        .order_by("session__start", "pk")
    )
    return _with_history(bookings, with_session=True)


def _has_co_hosts(session_ref: str) -> Exists:
    return Exists(Session.co_hosts.through.objects.filter(session=OuterRef(session_ref)))


def feed_sessions(user: User, *, day: dt.datetime) -> QuerySet[Session]:
    """The group sessions and workshops ``user`` hosts (as coach or co-host) that their
    feed shows."""
    kept = ~Q(status=SessionStatus.CANCELLED) | Q(updated_at__gte=day - CANCELLED_KEPT)
    return (
        Session.objects.filter(selectors.hosted_by(user))
        .filter(session_type__kind__in=GROUP_KINDS, start__gte=day - PAST_KEPT)
        .filter(kept)
        .annotate(has_co_hosts=_has_co_hosts("pk"))
        .order_by("start", "pk")
    )


def _co_hosts_by_session(session_ids: set[int]) -> dict[int, tuple[Host, ...]]:
    """The co-hosts of these sessions, by session, each list by name: one query (none for
    no session)."""
    found: dict[int, list[Host]] = {}
    if session_ids:
        rows = Session.co_hosts.through.objects.filter(session_id__in=session_ids).values_list(
            "session_id", "user_id", "user__name", "user__email"
        )
        for session_id, pk, name, email in rows:
            found.setdefault(session_id, []).append(Host(pk, _name(name, email), email))
    return {
        session_id: tuple(sorted(hosts, key=lambda host: (host.name.casefold(), host.pk)))
        for session_id, hosts in found.items()
    }


def feed_events(user: User, *, now: dt.datetime | None = None) -> list[EventData]:
    """Every event of ``user``'s feed, soonest first, in their zone. Read as plain rows (no
    model instances) in a fixed number of queries: one, and two more for a coach; one more
    when some of the sessions have co-hosts."""
    day = _day_start(now)
    zone = zone_of(user)
    url_for = _booking_url_maker()
    session_columns = ["session__" + path for path in BOOKING_SESSION_PATHS.values()]
    booked: list[BookingFacts] = []
    with_co_hosts: set[int] = set()  # the sessions to read co-hosts of
    for row in feed_bookings(user, day=day).values(*BOOKING_PATHS.values(), *session_columns, "session_has_co_hosts"):
        booked.append(_booking_from_row(row, _session_from_row(row, "session__")))
        if row["session_has_co_hosts"]:
            with_co_hosts.add(row["session__id"])
    hosted: list[SessionFacts] = []
    seats: dict[int, list[BookingFacts]] = {}
    if user.role == Role.COACH:
        sessions = feed_sessions(user, day=day)
        rows = _with_history(Booking.objects.filter(session__in=sessions.values("pk")))
        for row in rows.order_by("created_at", "pk").values(*BOOKING_PATHS.values(), "session_id"):
            seats.setdefault(row["session_id"], []).append(_booking_from_row(row, None))
        for row in sessions.values(*SESSION_PATHS.values(), "has_co_hosts"):
            hosted.append(_session_from_row(row))
            if row["has_co_hosts"]:
                with_co_hosts.add(row["id"])
    co_hosts = _co_hosts_by_session(with_co_hosts)
    events = []
    for facts in booked:
        facts.session.co_hosts = co_hosts.get(facts.session.pk, ())
        events.append(booking_event_data(facts, viewer=user, url=url_for(facts.reference), zone=zone))
    for session in hosted:
        session.co_hosts = co_hosts.get(session.pk, ())
        events.append(session_event_data(session, seats.get(session.pk, []), viewer=user, zone=zone))
    if user.role == Role.COACH:
        events.sort(key=lambda e: (e.start, e.uid))
    return events


def feed_name(user: User) -> str:
    return gettext("Sessions · %(name)s") % {"name": user.display_name}


def feed_for(user: User, *, now: dt.datetime | None = None) -> bytes:
    """``user``'s private feed: a VCALENDAR with their events and the VTIMEZONE of their zone."""
    events = feed_events(user, now=now)
    zone = zone_of(user)
    out = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        _line("PRODID", _text(PRODID)),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        _line("X-WR-CALNAME", _text(feed_name(user))),
        _line("NAME", _text(feed_name(user))),
        _line("X-WR-TIMEZONE", _text(zone.key)),
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
        f"X-PUBLISHED-TTL:{REFRESH}",
    ]
    body = "\r\n".join(out) + "\r\n"
    body += _vtimezone(events)
    body += "".join(_event_lines(event) for event in events)
    body += "END:VCALENDAR\r\n"
    return body.encode()


def feed_version(user: User, *, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """``(etag, last_modified)`` of ``user``'s feed without rendering it: one aggregate
    query (two for a coach) over what the feed is made of, the user's own settings and the
    date (the windows move with it). The ETag is a quoted strong validator."""
    day = _day_start(now)
    since = day - PAST_KEPT
    bookings = Booking.objects.filter(_client_side_q(user), session__start__gte=since)
    if user.role == Role.COACH:
        bookings = Booking.objects.filter(_client_side_q(user) | _hosting_q(user), session__start__gte=since)
    facts: list[object] = list(
        bookings.aggregate(
            booking_count=Count("pk"),
            booking_changed=Max("updated_at"),
            booking_session_changed=Max("session__updated_at"),
            booking_type_changed=Max("session__session_type__updated_at"),
        ).values()
    )
    if user.role == Role.COACH:
        # The sessions they host, and who co-hosts them (a co-host added or removed
        # changes the count or the sum of their ids).
        facts += list(
            Session.objects.filter(selectors.hosted_by(user), start__gte=since)
            .aggregate(
                session_count=Count("pk", distinct=True),
                session_changed=Max("updated_at"),
                type_changed=Max("session_type__updated_at"),
                co_host_count=Count("co_hosts"),
                co_host_sum=Sum("co_hosts"),
            )
            .values()
        )
    stamps = [fact for fact in facts if isinstance(fact, dt.datetime)]
    last_modified = max([day, *stamps]).astimezone(UTC).replace(microsecond=0)
    basis = repr(
        (FEED_FORMAT, day.date(), user.pk, user.role, user.timezone, user.name, language_of(user), _site_url(), facts)
    )
    etag = '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'
    return etag, last_modified


# ---------------------------------------------------------------------------------------
# Writing content lines (feeds)
# ---------------------------------------------------------------------------------------

# Control characters other than tab and newlines are not allowed in content lines.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value: str) -> str:
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


def _text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (
        _clean(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(value: str) -> str:
    """A parameter value's text: no control characters, newlines or double quotes (RFC 5545)."""
    return _clean(value).replace("\r", " ").replace("\n", " ").replace('"', "'")


def _uri(value: str) -> str:
    return _clean(value).replace("\r", "").replace("\n", "")


def _line(name: str, value: str) -> str:
    """One content line, folded at 75 octets without splitting a UTF-8 character."""
    line = f"{name}:{value}"
    if len(line) <= 75 and line.isascii():
        return line
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts = []
    start, limit = 0, 75
    while len(raw) - start > limit:
        cut = start + limit
        while raw[cut] & 0xC0 == 0x80:  # never inside a multi-byte character
            cut -= 1
        parts.append(raw[start:cut])
        start, limit = cut, 74  # continuation lines start with a space
    parts.append(raw[start:])
    return b"\r\n ".join(parts).decode()


def _utc_stamp(value: dt.datetime) -> str:
    v = value.astimezone(UTC)
    return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}Z"


def _local_time(name: str, value: dt.datetime) -> str:
    key = getattr(value.tzinfo, "key", "UTC")
    if key == "UTC":
        return f"{name}:{_utc_stamp(value)}"
    stamp = f"{value.year:04d}{value.month:02d}{value.day:02d}T{value.hour:02d}{value.minute:02d}{value.second:02d}"
    return f"{name};TZID={key}:{stamp}"


def _party_line(name: str, party: Party, *, attendee: bool) -> str:
    params = f';CN="{_param(party.name)}"'
    if attendee:
        params += f";ROLE=REQ-PARTICIPANT;PARTSTAT={party.partstat};RSVP=FALSE"
    return _line(f"{name}{params}", f"mailto:{_uri(party.email)}")


def _event_lines(data: EventData) -> str:
    modified = _utc_stamp(data.last_modified)
    lines = [
        "BEGIN:VEVENT",
        _line("UID", _text(data.uid)),
        f"DTSTAMP:{modified}",
        _local_time("DTSTART", data.start),
        _local_time("DTEND", data.end),
        _line("SUMMARY", _text(data.summary)),
        _line("DESCRIPTION", _text(data.description)),
    ]
    if data.location:
        lines.append(_line("LOCATION", _text(data.location)))
    lines += [
        _line("URL", _uri(data.url)),
        f"STATUS:{data.status}",
        f"SEQUENCE:{data.sequence}",
    ]
    lines += [
        f"LAST-MODIFIED:{modified}",
        _party_line("ORGANIZER", data.organizer, attendee=False),
        *(_party_line("ATTENDEE", party, attendee=True) for party in data.attendees),
        "END:VEVENT",
        "",
    ]
    return "\r\n".join(lines)


# ---------------------------------------------------------------------------------------
# Add-to-calendar links
# ---------------------------------------------------------------------------------------


def _link_data(booking: Booking | EventData, viewer: User) -> EventData:
    return booking if isinstance(booking, EventData) else booking_event_data(booking, viewer=viewer, zone=UTC_ZONE)


def google_calendar_url(booking: Booking | EventData, viewer: User) -> str:
    """A Google Calendar "new event" link: the booking's UTC times, summary, details, place."""
    data = _link_data(booking, viewer)
    query = {
        "action": "TEMPLATE",
        "text": data.summary,
        "dates": f"{_utc_stamp(data.start)}/{_utc_stamp(data.end)}",
        "details": data.description,
        "location": data.location,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query, quote_via=quote)


def outlook_calendar_url(booking: Booking | EventData, viewer: User) -> str:
    """An Outlook.com "new event" link: the booking's UTC times, summary, details, place."""
    data = _link_data(booking, viewer)
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": data.summary,
        "startdt": data.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": data.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": data.description,
        "location": data.location,
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query, quote_via=quote)


def calendar_links(booking: Booking, viewer: User) -> dict[str, str]:
    """Both add-to-calendar links for ``viewer`` (the booking read once)."""
    data = _link_data(booking, viewer)
    return {"google": google_calendar_url(data, viewer), "outlook": outlook_calendar_url(data, viewer)}
