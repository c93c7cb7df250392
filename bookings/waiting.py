"""Who waits for a seat, as the waitlist (an app above this one) tells it: it registers
here from its ``AppConfig.ready`` and the booking services ask without importing it — the
layering's way round, as ``payment_methods`` does for ways to pay.

- ``waiting(session)``: how many people wait for a seat in ``session`` and have not been
  offered one yet. A seat that frees while anyone waits is theirs: ``take_seat`` counts
  it as taken until the waitlist has offered it (``bookings.services.group``).
- ``may_join(session, client)``: whether ``client`` could join that session's waitlist
  now; a refusal for a full session says so (``"waitlist": true`` in the API's answer).

With no waitlist registered nobody waits and nobody may join.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import User
from bookings.models import Session


@dataclass(frozen=True)
class Waitlist:
    waiting: Callable[[Session], int]
    may_join: Callable[[Session, User], bool]


_registered: list[Waitlist] = []


def register(waitlist: Waitlist) -> None:
    _registered[:] = [waitlist]


def waiting(session: Session) -> int:
    return sum(waitlist.waiting(session) for waitlist in _registered)


def may_join(session: Session, client: User) -> bool:
    return any(waitlist.may_join(session, client) for waitlist in _registered)
