"""Who is offered a freed seat first: the priority score, with the seeds' weights.

    score = 0.30 · connection
          + 0.20 · booking history
          − 0.20 · cancellation rate
          + 0.15 · waiting time
          + 0.10 · account age
          + 0.05 · previous offers
          + staff's adjustment (by hand, with a reason; 0 unless set)

Each factor is normalised to 0–1:

- connection: 1 when the client is connected with the session's coach (accepted), else 0.
- booking history: sessions the client attended with this coach in the last 365 days
  (completed bookings), divided by 10 and capped at 1 — ten sessions or more count fully.
- cancellation rate: of the client's bookings made in the last 365 days (any coach), the
  share they cancelled themselves (a coach's or the system's cancellation doesn't count);
  0 with no bookings.
- waiting time: time since joining this waitlist, divided by 14 days, capped at 1.
- account age: time since the account was opened, divided by 365 days, capped at 1.
- previous offers: a turn for those who haven't had one — 1 with no waitlist offer in the
  last 90 days, one third less for each offer (0 at three or more).

Ties go to whoever joined first (then the lower entry number). The score is computed when
it is needed (an offer to make, a position to show), never stored as the truth: waiting
time grows by the minute. An offer records the factors that put its entry first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, F, Q

from accounts.models import Connection, ConnectionStatus
from bookings.models import Booking, BookingStatus

WEIGHTS: dict[str, float] = {
    "connection": 0.30,
    "booking_history": 0.20,
    "cancellation_rate": -0.20,
    "waiting_time": 0.15,
    "account_age": 0.10,
    "previous_offers": 0.05,
}
HISTORY_FULL = 10  # sessions attended with the coach that count fully
HISTORY_DAYS = 365
WAITING_FULL = dt.timedelta(days=14)
ACCOUNT_FULL = dt.timedelta(days=365)
OFFERS_DAYS = 90
OFFERS_FULL = 3  # offers in OFFERS_DAYS that use up the factor


@dataclass(frozen=True)
class Facts:
    """What the factors are computed from, for one entry."""

    connected: bool
    attended: int  # completed sessions with the coach, last 365 days
    booked: int  # bookings made, last 365 days
    cancelled: int  # of those, cancelled by the client
    waited: dt.timedelta  # since joining
    account_age: dt.timedelta
    recent_offers: int  # waitlist offers in the last 90 days
    adjustment: float = 0.0


def _share(value: float, full: float) -> float:
    return max(0.0, min(value / full, 1.0)) if full else 0.0


def factors(facts: Facts) -> dict[str, float]:
    """Each factor, normalised to 0–1 (the module's docstring says how)."""
    return {
        "connection": 1.0 if facts.connected else 0.0,
        "booking_history": _share(facts.attended, HISTORY_FULL),
        "cancellation_rate": _share(facts.cancelled, facts.booked) if facts.booked else 0.0,
        "waiting_time": _share(facts.waited.total_seconds(), WAITING_FULL.total_seconds()),
        "account_age": _share(facts.account_age.total_seconds(), ACCOUNT_FULL.total_seconds()),
        "previous_offers": 1.0 - _share(facts.recent_offers, OFFERS_FULL),
    }


def score(values: dict[str, float], adjustment: float = 0.0) -> float:
    return round(sum(WEIGHTS[name] * values[name] for name in WEIGHTS) + adjustment, 6)


@dataclass(frozen=True)
class Ranked:
    entry: object  # a WaitlistEntry
    factors: dict[str, float]
    score: float

    @property
    def sort_key(self) -> tuple:
        return (-self.score, self.entry.joined_at, self.entry.pk)


def facts_for(entries: Sequence, *, now: dt.datetime) -> dict[int, Facts]:
    """The facts of each entry (with its ``client``), in four queries whatever their number."""
    if not entries:
        return {}
    from waitlist.models import WaitlistOffer

    client_ids = {entry.client_id for entry in entries}
    coach_ids = {entry.coach_id for entry in entries}
    connected = set(
        Connection.objects.filter(
            client_id__in=client_ids, coach_id__in=coach_ids, status=ConnectionStatus.ACCEPTED
        ).values_list("client_id", "coach_id")
    )
    year_ago = now - dt.timedelta(days=HISTORY_DAYS)
    attended = {
        (row["client_id"], row["session__coach_id"]): row["n"]
        for row in Booking.objects.filter(
            client_id__in=client_ids,
            session__coach_id__in=coach_ids,
            status=BookingStatus.COMPLETED,
            session__start__gte=year_ago,
        )
        .values("client_id", "session__coach_id")
        .annotate(n=Count("pk"))
    }
    history = {
        row["client_id"]: (row["booked"], row["cancelled"])
        for row in Booking.objects.filter(client_id__in=client_ids, created_at__gte=year_ago)
        .values("client_id")
        .annotate(
            booked=Count("pk"),
            cancelled=Count("pk", filter=Q(status=BookingStatus.CANCELLED, cancelled_by_id=F("client_id"))),
        )
    }
    offers = {
        row["entry__client_id"]: row["n"]
        for row in WaitlistOffer.objects.filter(
            entry__client_id__in=client_ids, offered_at__gte=now - dt.timedelta(days=OFFERS_DAYS)
        )
        .values("entry__client_id")
        .annotate(n=Count("pk"))
    }
    found = {}
    for entry in entries:
        booked, cancelled = history.get(entry.client_id, (0, 0))
        found[entry.pk] = Facts(
            connected=(entry.client_id, entry.coach_id) in connected,
            attended=attended.get((entry.client_id, entry.coach_id), 0),
            booked=booked,
            cancelled=cancelled,
            waited=max(now - entry.joined_at, dt.timedelta(0)),
            account_age=max(now - entry.client.date_joined, dt.timedelta(0)),
            recent_offers=offers.get(entry.client_id, 0),
            adjustment=entry.adjustment,
        )
    return found


def rank(entries: Sequence, *, now: dt.datetime) -> list[Ranked]:
    """``entries`` best first: by score, then by joining time."""
    facts = facts_for(entries, now=now)
    ranked = []
    for entry in entries:
        values = factors(facts[entry.pk])
        ranked.append(Ranked(entry=entry, factors=values, score=score(values, entry.adjustment)))
    ranked.sort(key=lambda item: item.sort_key)
    return ranked
