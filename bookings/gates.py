"""What a client must agree to before booking with a coach (consent documents, …), as the
apps above this one tell it: they register a gate here from their ``AppConfig.ready`` and
the wizard and the API ask without importing them — the layering's way round, as
``payment_methods`` and ``waiting`` do.

- ``pending(client, coach)``: what ``client`` has yet to accept before booking with
  ``coach``, as ``Item``s. The confirm step shows each with a required checkbox posted back
  as ``accept`` (the item's ``key``); the API lists them in its ``consent_required`` refusal.
- ``missing(items, accepted)``: the items whose key was not sent back.
- ``accept(client, items, …)``: records the acceptance, once the booking is made.

Only a client booking for themself or a dependent is asked (``asks``): staff and a coach
booking for a client are not that client's agreement, so they book as before and the
client is asked at their own next booking. With no gate registered nothing is asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from allauth.core.internal.ratelimit import get_ip
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest

from accounts.models import Role, User
from bookings.models import Booking


@dataclass(frozen=True)
class Item:
    """One thing to accept: a version of a document."""

    gate: str  # the gate's name
    key: str  # posted back as ``accept`` when ticked, e.g. "consent:12"
    ident: int  # the gate's own id for it (a document version's id)
    title: str
    body: str
    label: str  # the checkbox's text: "I have read and accept …"
    version: int = 0


class Gate(Protocol):
    name: str

    def pending(self, client: User, coach: User) -> list[Item]: ...

    def accept(
        self, client: User, items: list[Item], *, by: User, address: str | None, booking: Booking | None
    ) -> None: ...


_gates: dict[str, Gate] = {}


def register(gate: Gate) -> None:
    _gates[gate.name] = gate


def asks(booker: User) -> bool:
    """Whether ``booker`` is asked to accept for the person they book: a client (for
    themself or a dependent), not staff or a coach booking for a client."""
    return bool(booker.is_authenticated and booker.role == Role.CLIENT and not booker.is_superuser)


def pending(client: User, coach: User) -> list[Item]:
    return [item for gate in _gates.values() for item in gate.pending(client, coach)]


def missing(items: Iterable[Item], accepted: Iterable[str]) -> list[Item]:
    ticked = set(accepted)
    return [item for item in items if item.key not in ticked]


def accept(client: User, items: list[Item], *, by: User, address: str | None, booking: Booking | None = None) -> None:
    for name, gate in _gates.items():
        own = [item for item in items if item.gate == name]
        if own:
            gate.accept(client, own, by=by, address=address, booking=booking)


def address_of(request: HttpRequest) -> str | None:
    """The client's address, as the rate limits read it (behind ``TRUSTED_PROXY_COUNT``
    proxies, from X-Forwarded-For), else ``REMOTE_ADDR``."""
    try:
        return get_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        return request.META.get("REMOTE_ADDR") or None


# ---------------------------------------------------------------------------------------
# Questions asked before booking (intake forms), registered the same way
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """A form the person booked for answers before this booking.

    ``ready``: answered and checked, waiting for the booking (a complete draft of the wizard,
    or the API's ``intake_answers``, checked); else the wizard sends the client to ``url``
    (its Questions step) and the API refuses with 409 ``intake_required`` listing
    ``questions`` and, for answers sent but refused, ``errors`` ({question id: message})."""

    asker: str
    ident: int  # the asker's own id: a form
    title: str
    ready: bool
    url: str = ""
    questions: tuple = ()
    errors: tuple = ()  # ((question id, message), …)
    answers: tuple = ()  # the API's checked answers ((question id, value), …)


class Asker(Protocol):
    name: str

    def asked(
        self, client: User, session_type, *, booker: User, answers: dict | None = None, next_url: str = ""
    ) -> list[Asked]: ...

    def attach(self, client: User, items: list[Asked], *, booking: Booking, by: User) -> None: ...


_askers: dict[str, Asker] = {}


def register_asker(asker: Asker) -> None:
    _askers[asker.name] = asker


def asked(client: User, session_type, *, booker: User, answers: dict | None = None, next_url: str = "") -> list[Asked]:
    """The forms ``client`` answers before booking ``session_type`` (none when ``booker`` is
    not asked, see ``asks``). ``answers``: the API's, checked against them; ``next_url``:
    where the wizard's Questions step goes back to."""
    if not asks(booker):
        return []
    return [
        item
        for asker in _askers.values()
        for item in asker.asked(client, session_type, booker=booker, answers=answers, next_url=next_url)
    ]


def attach(client: User, items: list[Asked], *, booking: Booking, by: User) -> None:
    """Submit the answers with ``booking``, once it is made."""
    for name, asker in _askers.items():
        own = [item for item in items if item.asker == name]
        if own:
            asker.attach(client, own, booking=booking, by=by)


# ---------------------------------------------------------------------------------------
# What every way of booking does with them (the wizard, a series, a waitlist offer, the API)
# ---------------------------------------------------------------------------------------


def unanswered(items: Iterable[Asked]) -> str:
    """The Questions step of the first form not yet answered, or ""."""
    return next((item.url for item in items if not item.ready), "")


def record(
    request: HttpRequest,
    client: User,
    *,
    consents: list[Item],
    intake: list[Asked],
    booking: Booking,
    by: User,
) -> None:
    """Once ``booking`` is made (outside its transaction, as its services own theirs): the
    documents ticked are accepted (who, which version, when, from which address) and the
    answers checked before are submitted with it."""
    if consents:
        accept(client, consents, by=by, address=address_of(request), booking=booking)
    if intake:
        attach(client, intake, booking=booking, by=by)
