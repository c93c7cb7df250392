"""Video calls: the link each session meets at, and who may see it.

A session type chooses its ``video`` (``VideoProvider``): ``rooms`` gives every session a
room of its own on the deployment's meeting server (``VIDEO_ROOMS_URL``, a Jitsi Meet-style
server: whoever opens ``<server>/<room name>`` is in that room), so one client never lands
in another's; ``fixed`` is the coach's own link, the same for every session of the type;
``none`` gives no link. The link is written on the ``Session`` when it is created (a group
session's seats share their session's room) and a moved booking's new session keeps it.

The room name is the only secret: anyone who has it can join. It is 160 random bits
(``secrets``) written in lowercase base32 — Jitsi folds room names to lowercase, so a
mixed-case alphabet would not carry the bits it seems to — after a readable prefix from the
site's name. It holds nothing about the client, the coach or the time.

Who sees it (``may_join``): the session's hosts (its coach and co-hosts) and staff while the
booking and the session are on; the client's side (the client, who booked for them, their
guardian) once the booking is firm or confirmed — not while it is a request or awaits
payment, nor after it is cancelled, declined or over. The caller has already established
that the viewer may see the booking (``selectors.get_booking_for``, a feed of their own, a
message to them); this only narrows that down.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.utils.text import slugify

from accounts.models import User
from bookings import selectors
from bookings.models import BOOKED_STATUSES, Booking, BookingStatus, Session, SessionStatus, SessionType, VideoProvider

ROOM_BYTES = 20  # 160 bits: 32 base32 characters
PREFIX_LENGTH = 20
ENDED = (BookingStatus.CANCELLED, BookingStatus.DECLINED)
# The client's side gets the link once these become firm or confirmed.
WAITING_FOR_LINK = (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT)


def rooms_url() -> str:
    """The meeting server rooms are made on, without a trailing slash; empty: no rooms."""
    return (getattr(settings, "VIDEO_ROOMS_URL", "") or "").rstrip("/")


def rooms_enabled() -> bool:
    return bool(rooms_url())


def room_name() -> str:
    """A new unguessable room name: ``<site>-<32 lowercase base32 characters>``."""
    token = base64.b32encode(secrets.token_bytes(ROOM_BYTES)).decode("ascii").lower()
    prefix = slugify(settings.SITE_NAME)[:PREFIX_LENGTH].strip("-_")
    return f"{prefix}-{token}" if prefix else token


def default_video(*, modality: str, meeting_link: str = "") -> str:
    """What a new type gets when its writer doesn't choose: the link given, else a room per
    session for an online or hybrid type when the site has a meeting server, else none."""
    if meeting_link:
        return VideoProvider.FIXED
    if modality != "in_person" and rooms_enabled():
        return VideoProvider.ROOMS
    return VideoProvider.NONE


def new_meeting_link(session_type: SessionType) -> str:
    """The link a new session of ``session_type`` meets at: a room of its own, the type's
    fixed link, or none."""
    if session_type.video == VideoProvider.ROOMS:
        server = rooms_url()
        return f"{server}/{room_name()}" if server else ""
    if session_type.video == VideoProvider.FIXED:
        return session_type.meeting_link
    return ""


def session_link(session: Session) -> str:
    """The session's own link; a session made before it had one follows its type's fixed link."""
    if session.meeting_link:
        return session.meeting_link
    session_type = session.session_type
    return session_type.meeting_link if session_type.video == VideoProvider.FIXED else ""


def may_join(*, booking_status: str, session_status: str, hosting: bool) -> bool:
    """Whether someone who sees a booking is given its session's link: ``hosting`` (a host of
    the session, or staff) while neither the booking nor the session is cancelled; the
    client's side only while the booking is firm or confirmed."""
    if session_status == SessionStatus.CANCELLED or booking_status in ENDED:
        return False
    return hosting or booking_status in BOOKED_STATUSES


def hosts_or_staff(session: Session, viewer: User) -> bool:
    return viewer.is_staff_member or viewer.pk in {host.pk for host in selectors.hosts_of(session)}


def link_given(booking: Booking, *, hosting: bool) -> str:
    """The booking's session link for one of its hosts or staff (``hosting``) or for the
    client's side, or ``""`` when they may not join (``may_join``)."""
    session = booking.session
    link = session_link(session)
    if link and may_join(booking_status=booking.status, session_status=session.status, hosting=hosting):
        return link
    return ""


def meeting_link_for(booking: Booking, viewer: User | None) -> str:
    """The link ``viewer`` (someone who may see ``booking``) is given, or ``""``."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return ""
    return link_given(booking, hosting=hosts_or_staff(booking.session, viewer))


def session_link_for_host(session: Session, viewer: User | None) -> str:
    """A group session's link for its hosts and staff (their session page), else ``""``."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return ""
    if session.status == SessionStatus.CANCELLED or not hosts_or_staff(session, viewer):
        return ""
    return session_link(session)
