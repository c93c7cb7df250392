"""Ways to pay for a booking besides the gateway (credits, …), offered by the apps above
this one: they register here (``register``, from their ``AppConfig.ready``), and the
wizard and the API reach them by name without importing them — the layering's way round.

A method's ``book(service, **kwargs)`` runs a booking service (``book_slot`` or
``take_seat``) with the hold forced on and settles it in the same transaction, so a booking
paid that way is never written without its payment, nor the payment without the booking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking, SessionType
from config.errors import DomainError


@dataclass(frozen=True)
class Offer:
    """A way to pay the client may choose on the confirm step."""

    method: str  # its name, posted back as ``pay_with``
    label: str  # what the button says, e.g. "Use 1 credit (3 left)"
    left: int = 0  # how many the client has (credits)


class Method(Protocol):
    name: str

    def offer(self, client: User, session_type: SessionType, *, now: dt.datetime | None = None) -> Offer | None: ...

    def book(self, service: Callable[..., Booking], **kwargs: Any) -> Booking: ...


_methods: dict[str, Method] = {}


def register(method: Method) -> None:
    _methods[method.name] = method


def offers(client: User, session_type: SessionType, *, now: dt.datetime | None = None) -> list[Offer]:
    """What the client may pay ``session_type`` with, besides the gateway."""
    found = (method.offer(client, session_type, now=now) for method in _methods.values())
    return [offer for offer in found if offer is not None]


def book_with(name: str, service: Callable[..., Booking], **kwargs: Any) -> Booking:
    """Book through ``service`` and pay with the method ``name``."""
    method = _methods.get(name)
    if method is None:
        raise DomainError(_("Unknown way to pay: %(name)s.") % {"name": name}, code="invalid", field="pay_with")
    return method.book(service, **kwargs)
