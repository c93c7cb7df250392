"""A session's hosts and room in words, for templates that show a session without a view
of their own to prepare them (``{% load booking_hosts %}``):

- ``{{ session|hosts_text }}``: "Ana Coach and Ben Coach" (its coach, then its co-hosts);
- ``{% with hosts=session|hosts %}`` the same people as a list, and ``{{ hosts|names }}``
  (people, rooms or subjects by name: "Ana, Ben and Cleo");
- ``{{ session|other_hosts:request.user }}``: "with Ben Coach" (the hosts besides that
  person; empty when there are none);
- ``{{ session|room_text }}``: "Room 2, 12 rue X" (empty without a room).

Sessions read with ``prefetch_related("co_hosts")`` cost no query here.
"""

from __future__ import annotations

from django import template

from bookings import selectors
from bookings.models import Session

register = template.Library()


@register.filter
def hosts(session: Session | None) -> list:
    return selectors.hosts_of(session) if isinstance(session, Session) else []


@register.filter
def names(people) -> str:
    return selectors.names_text([_name(item) for item in people or []])


def _name(item) -> str:
    """A person's display name, a room's (or a subject's) name, or the text itself."""
    return getattr(item, "display_name", None) or getattr(item, "name", None) or str(item)


@register.filter
def hosts_text(session: Session | None) -> str:
    return selectors.hosts_text(session) if isinstance(session, Session) else ""


@register.filter
def other_hosts(session: Session | None, person) -> str:
    return selectors.other_hosts_text(session, person) if isinstance(session, Session) else ""


@register.filter
def room_text(session: Session | None) -> str:
    return selectors.session_room_text(session) if isinstance(session, Session) else ""
