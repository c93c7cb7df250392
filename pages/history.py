"""A realistic past booking history, written in bulk: for demos, reports and benchmarks.

``make_history`` plans months or years of sessions for some coaches and clients in memory
(one ``random.Random(seed)``, so a seed always gives the same history on the same data),
then writes them in bulk — PostgreSQL's ``COPY``, multi-row INSERTs on SQLite; not through
the booking services, which would take hours for 100,000 bookings — as the services would
have left them:

- **Sessions** of each coach's own session types (one-on-one mostly; group sessions and
  workshops with several seats where the coach has such types), on weekdays inside the
  coach's working hours (their weekly windows less time off, ``availability.hours``; 09:00
  to 17:00 in their zone when they have none), never overlapping for a coach (buffers
  included), a room or a client, nor anything already in the ledger; within the coach's
  daily and weekly limits. Every session ends before ``now``.
- **Allocations**: one per session for the coach (with the coach's buffers) and one for
  its room, as ``bookings.services.ledger._allocate`` writes them: firm (``session``) or a
  request's hold (``request``), released (inactive) when the session was called off,
  declined or cancelled. PostgreSQL's exclusion constraints check them as for any booking.
- **Bookings** in final statuses only (completed mostly; cancelled by the client, some late
  when the type allows it; by the coach or staff; no-shows; declined and expired requests;
  requests withdrawn), priced by ``bookings.pricing.quote`` as at the moment they were made
  (a few days to weeks before the start, within the booking window), with ratings on part
  of the completed ones, ``Session.started_at``/``ended_at`` when the coach ran the session,
  repeat clients (a client tends to book the same coach again), references
  ``BK-YYYY-NNNNNN`` from the year booked and the id.
- **BookingEvents** for every change, with the services' actions, statuses, actors, notes
  and data (``booked``/``requested`` with the coach's load, ``approved``, ``declined``,
  ``expired``, ``seat_taken``, ``workshop_confirmed``, ``cancelled`` with ``late``,
  ``no_show``, ``completed``/``completed_automatically``, ``rated``), each at its historical
  time and already relayed (``relayed_at``): the relay sends no message, reminder, refund
  or webhook for the past. Each carries ``data["history"] = True``, the mark
  ``history_exists`` looks for.
- **Payments** (``payments=True``): each priced booking that was booked is paid in full on
  the local test gateway when it was booked (as ``seed_demo`` pays its calendar); a
  cancelled one gets the refund ``payments.policy.refund_due`` gives (in full unless the
  client cancelled late), already succeeded.
- **Analytics events** of the booking funnel (``funnel=True``): each booking made on the
  pages (or the API) within the analytics retention has its visitor's steps, matching its
  coach, type and time; other visitors stop earlier (more at the top than at the bottom),
  some refused, some "schedule later".

Then ``reports.rollups.rebuild()`` makes the reports' facts and rollups from the result, and
``reports.visits.fold()`` adds the funnel's events to its rollups.
Not written: series, waitlists, promotion codes, credits, deposits (a priced booking is
paid whole), client tags' rules, co-hosted and team session types, enrolled-only types.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import CoachProfile, Connection, ConnectionStatus, GuardianLink, Role, User
from availability import slots as engine
from availability.hours import working_time
from availability.models import Allocation, AllocationKind, AvailabilityWindow, DateOverride, Resource, TimeOff
from availability.rules import BookingRules, rules_for
from availability.selectors import resource_calendars
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    HostMode,
    Session,
    SessionKind,
    SessionStatus,
    SessionType,
)
from bookings.pricing import quote
from bookings.video import new_meeting_link
from config import sql
from config.money import to_minor
from payments.models import Backend, Payment, PaymentKind, PaymentStatus, Refund, RefundStatus
from payments.policy import RefundCase, refund_due
from reports import visits
from reports.models import AnalyticsEvent, FunnelStep
from reports.rollups import rebuild

UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
# The key every event this writes has in its data: how ``history_exists`` knows.
MARK = "history"
# Hours of a coach without weekly windows, in their own zone.
DEFAULT_HOURS = (dt.time(9), dt.time(17))
# A session is only planned when it ended this long before ``now`` (its closing, no-show
# and rating happen in between).
SETTLED = dt.timedelta(hours=2)

# What becomes of a one-on-one booking once booked, and of a request.
BOOKED_OUTCOMES = (("completed", 80), ("no_show", 4), ("client", 10), ("coach", 4), ("staff", 2))
REQUEST_OUTCOMES = (("approved", 82), ("declined", 9), ("expired", 4), ("withdrawn", 5))
SEAT_OUTCOMES = (("completed", 85), ("no_show", 5), ("client", 10))
# Shares: sessions that are group sessions / workshops (when the coach has such types),
# group sessions the coach calls off, sessions closed by the clock rather than the coach,
# completed bookings rated, client cancellations that are late (when the type allows it),
# bookings made by staff for the client, bookings made through the API.
GROUP_SHARE, WORKSHOP_SHARE = 0.08, 0.02
CALLED_OFF = 0.04
CLOSED_BY_CLOCK = 0.08
RATED = 0.45
LATE = 0.35
BY_STAFF = 0.02
BY_API = 0.08
# Clients who come back to a coach they have seen: the chance that a booking is one of theirs.
REPEAT = 0.7
# Funnel: visitors who book nothing, per booking; where each of them stops.
BROWSERS_PER_BOOKING = 2.6
STOPS = (
    (FunnelStep.PAGE_VIEW, 40),
    (FunnelStep.ST_SELECTED, 20),
    (FunnelStep.DATE_SELECTED, 15),
    (FunnelStep.TIME_SELECTED, 12),
    (FunnelStep.BOOKING_FAILED, 8),
    (FunnelStep.SCHEDULE_LATER, 5),
)
FAILURES = (("slot_taken", 70), ("client_conflict", 12), ("too_soon", 10), ("limit_reached", 8))

RATINGS = ((5, 55), (4, 30), (3, 10), (2, 3), (1, 2))
FEEDBACK = (
    "Clear, practical and kind. Thank you!",
    "Very helpful session.",
    "Useful, I know what to do next.",
    "Good session, a bit rushed at the end.",
    "Exactly what I needed.",
    "Thanks, see you next time.",
)
CLIENT_NOTES = (
    "Looking forward to it.",
    "I'd like to pick up where we left off.",
    "First time; happy to talk about what I need.",
    "Could we focus on the next steps?",
)
CLIENT_REASONS = (
    "Something came up at work.",
    "I'm unwell.",
    "A family matter, sorry.",
    "I have to travel that day.",
    "",
)
COACH_REASONS = (
    "I'm unwell; let's find another time.",
    "A clash in my calendar, sorry. Please book another time.",
    "I have to travel that day.",
)
STAFF_REASONS = ("The coach is unwell; we'll help you rebook.", "The office is closed that day.")
DECLINE_REASONS = (
    "I'm not the right coach for this; I've suggested a colleague by email.",
    "I'm fully booked that week.",
    "I can't take new clients at the moment.",
)
EXPIRED_REASON = "The request was not answered in time."  # bookings.services.requests.expire_requests
CALLED_OFF_REASONS = ("Too few of us this time; it's moved to next week.", "I'm unwell; the session is called off.")


@dataclass(frozen=True)
class HistoryMade:
    """What ``make_history`` wrote."""

    sessions: int
    bookings: int
    events: int
    analytics: int
    allocations: int = 0
    payments: int = 0
    refunds: int = 0


def history_exists(coaches: Iterable[User]) -> bool:
    """Whether ``make_history`` has written history for any of these coaches."""
    return BookingEvent.objects.filter(
        booking__session__coach__in=[coach.pk for coach in coaches], data__has_key=MARK
    ).exists()


def make_history(
    *,
    coaches: Sequence[User],
    clients: Sequence[User],
    first_day: dt.date,
    last_day: dt.date,
    sessions_per_coach_per_week: float,
    seed: int = 7,
    funnel: bool = True,
    now: dt.datetime | None = None,
    payments: bool = True,
) -> HistoryMade:
    """Write a past booking history for ``coaches`` and ``clients`` on the coaches' local
    days ``first_day``..``last_day`` (about ``sessions_per_coach_per_week`` sessions per
    coach per full week), then rebuild the reports' rollups; see the module. One
    transaction. Refuses (``ValueError``) a range that reaches today (``now``'s UTC date)
    or is empty, no coach, no client, or no sessions per week."""
    now = (now or timezone.now()).astimezone(UTC)
    coaches = sorted({coach.pk: coach for coach in coaches}.values(), key=lambda user: user.pk)
    clients = sorted({client.pk: client for client in clients}.values(), key=lambda user: user.pk)
    if not coaches:
        raise ValueError("Give at least one coach.")
    if not clients:
        raise ValueError("Give at least one client.")
    if last_day >= now.date():
        raise ValueError(f"History is the past only: the last day must be before {now.date().isoformat()}.")
    if first_day > last_day:
        raise ValueError("The first day comes after the last day.")
    if not sessions_per_coach_per_week > 0:
        raise ValueError("Give a number of sessions per coach per week above 0.")
    with transaction.atomic():
        history = _History(
            coaches=coaches,
            clients=clients,
            first_day=first_day,
            last_day=last_day,
            per_week=float(sessions_per_coach_per_week),
            rng=random.Random(seed),
            now=now,
        )
        history.plan()
        made = history.write(funnel=funnel, payments=payments)
        rebuild()
        if funnel:
            # The funnel's own rollups take the new analytics events as the q2 fold would.
            visits.fold(now=now)
    return made


# ---------------------------------------------------------------------------------------
# Planning, in memory
# ---------------------------------------------------------------------------------------


class _Busy:
    """Disjoint busy intervals per key, sorted: is [start, end) free, and take it."""

    def __init__(self) -> None:
        self.starts: dict[object, list[dt.datetime]] = defaultdict(list)
        self.ends: dict[object, list[dt.datetime]] = defaultdict(list)

    def load(self, key: object, intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> None:
        """What is busy already (may overlap: merged)."""
        merged: list[list[dt.datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            self.add(key, start, end)

    def free(self, key: object, start: dt.datetime, end: dt.datetime) -> bool:
        starts = self.starts.get(key)
        if not starts:
            return True
        index = bisect.bisect_left(starts, end)  # the intervals starting before ``end``
        return index == 0 or self.ends[key][index - 1] <= start

    def add(self, key: object, start: dt.datetime, end: dt.datetime) -> None:
        starts, ends = self.starts[key], self.ends[key]
        index = bisect.bisect_left(starts, start)
        starts.insert(index, start)
        ends.insert(index, end)


@dataclass(eq=False)
class _Event:
    booking: _Booking
    actor_id: int | None
    action: str
    from_status: str
    to_status: str
    at: dt.datetime
    note: str = ""
    data: dict = field(default_factory=dict)
    id: int = 0


@dataclass(eq=False)
class _Session:
    coach_id: int
    session_type: SessionType
    rules: BookingRules
    start: dt.datetime
    end: dt.datetime
    capacity: int
    room: Resource | None
    created_at: dt.datetime = None  # type: ignore[assignment]
    status: str = SessionStatus.COMPLETED
    seats_taken: int = 0
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    confirm_by: dt.datetime | None = None
    confirmed_at: dt.datetime | None = None
    updated_at: dt.datetime = None  # type: ignore[assignment]
    firm: bool = True  # its allocations: a firm session, or a request's hold
    released_at: dt.datetime | None = None  # when its time was freed (called off, declined…)
    bookings: list[_Booking] = field(default_factory=list)
    id: int = 0


@dataclass(eq=False)
class _Booking:
    session: _Session
    client_id: int
    booked_by_id: int
    created_at: dt.datetime
    status: str = ""
    connected: bool = False
    confirmed_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    cancelled_by_id: int | None = None
    cancellation_reason: str = ""
    late: bool = False
    decline_reason: str = ""
    client_notes: str = ""
    price: Decimal = Decimal("0.00")
    currency: str = "EUR"
    price_note: str = ""
    rating: int | None = None
    feedback: str = ""
    by_client_side: bool = False  # who ended it: the client's side (for the refund)
    via: str = "page"
    events: list[_Event] = field(default_factory=list)
    id: int = 0

    def record(self, actor_id: int | None, action: str, to_status: str, at: dt.datetime, note="", **data) -> _Event:
        event = _Event(self, actor_id, action, self.status, to_status, at, note, {**data, MARK: True})
        self.events.append(event)
        self.status = to_status
        return event

    @property
    def updated_at(self) -> dt.datetime:
        return self.events[-1].at


def _weighted(rng: random.Random, pairs: Sequence[tuple[object, int]]):
    return rng.choices([value for value, _weight in pairs], weights=[weight for _value, weight in pairs])[0]


def _between(rng: random.Random, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    """A moment in [low, high], to the second."""
    seconds = max(int((high - low).total_seconds()), 0)
    return low + dt.timedelta(seconds=rng.randint(0, seconds))


class _History:
    def __init__(
        self,
        *,
        coaches: list[User],
        clients: list[User],
        first_day: dt.date,
        last_day: dt.date,
        per_week: float,
        rng: random.Random,
        now: dt.datetime,
    ) -> None:
        self.coaches, self.clients = coaches, clients
        self.first_day, self.last_day = first_day, last_day
        self.per_week, self.rng, self.now = per_week, rng, now
        self.latest_end = now - SETTLED
        self.client_ids = [client.pk for client in clients]
        self.sessions: list[_Session] = []
        self.bookings: list[_Booking] = []
        self.busy = _Busy()  # keys: ("coach", id) blocked ranges, ("room", id), ("client", id)
        self.regulars: dict[int, list[int]] = defaultdict(list)  # coach → a client per past booking
        self.decided: dict[tuple[int, bool, bool], str] = {}
        self._by_kind: dict[str, list[Resource]] = {}

    # --- inputs ---------------------------------------------------------------------------

    def _load(self) -> None:
        ids = [coach.pk for coach in self.coaches]
        self.profiles = {profile.user_id: profile for profile in CoachProfile.objects.filter(user_id__in=ids)}
        types = (
            SessionType.objects.filter(
                coach_id__in=ids, is_active=True, host_mode=HostMode.SINGLE, requires_enrollment=False
            )
            .prefetch_related("resources")
            .order_by("coach_id", "position", "pk")
        )
        self.types: dict[int, list[SessionType]] = defaultdict(list)
        for session_type in types:
            if session_type.kind != SessionKind.ONE_ON_ONE and not settings.ENABLE_GROUP_SESSIONS:
                continue
            self.types[session_type.coach_id].append(session_type)
        client_ids = self.client_ids
        self.connected = set(
            Connection.objects.filter(
                coach_id__in=ids, client_id__in=client_ids, status=ConnectionStatus.ACCEPTED
            ).values_list("coach_id", "client_id")
        )
        self.guardian: dict[int, int] = {}
        for dependent, guardian in (
            GuardianLink.objects.filter(dependent_id__in=client_ids)
            .order_by("pk")
            .values_list("dependent_id", "guardian_id")
        ):
            self.guardian.setdefault(dependent, guardian)
        staff = (
            User.objects.filter(is_active=True)
            .filter(Q(role=Role.STAFF) | Q(is_superuser=True))
            .order_by("is_superuser", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        self.staff_id: int | None = staff
        # Coaches who wrote their hours (else DEFAULT_HOURS), and everyone's time off.
        self.with_hours = set(
            AvailabilityWindow.objects.filter(coach_id__in=ids).values_list("coach_id", flat=True)
        ) | set(DateOverride.objects.filter(coach_id__in=ids).values_list("coach_id", flat=True))
        self.away: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
        for coach_id, first, last in TimeOff.objects.filter(
            coach_id__in=ids, end_date__gte=self.first_day, start_date__lte=self.last_day
        ).values_list("coach_id", "start_date", "end_date"):
            self.away[coach_id].append((first, last))
        # The range, in UTC, with room for the zones either side.
        self.range_start = dt.datetime.combine(self.first_day - 2 * ONE_DAY, dt.time(), tzinfo=UTC)
        self.range_end = dt.datetime.combine(self.last_day + 3 * ONE_DAY, dt.time(), tzinfo=UTC)
        # What is busy already: the coaches' and rooms' active allocations, the clients' sessions.
        rooms = {room.pk: room for session_type in types for room in self._rooms_of(session_type)}
        self.rooms = rooms
        taken = Allocation.objects.filter(
            Q(staff_id__in=ids) | Q(resource_id__in=list(rooms)),
            is_active=True,
            blocked_start__lt=self.range_end,
            blocked_end__gt=self.range_start - 7 * ONE_DAY,
        ).values_list("staff_id", "resource_id", "blocked_start", "blocked_end")
        found: dict[tuple[str, int], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        for staff_id, resource_id, start, end in taken:
            key = ("coach", staff_id) if staff_id else ("room", resource_id)
            found[key].append((start.astimezone(UTC), end.astimezone(UTC)))
        for client_id, start, end in Booking.objects.filter(
            client_id__in=client_ids,
            status__in=[*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW],
            session__start__lt=self.range_end,
            session__end__gt=self.range_start - 7 * ONE_DAY,
        ).values_list("client_id", "session__start", "session__end"):
            found[("client", client_id)].append((start.astimezone(UTC), end.astimezone(UTC)))
        for key in sorted(found):
            self.busy.load(key, found[key])
        # The rooms' opening hours and closures (their busy time is in ``self.busy``).
        self.room_calendars = {
            calendar.resource_id: dataclasses.replace(calendar, busy=())
            for calendar in resource_calendars(
                sorted(rooms.values(), key=lambda room: room.pk), start=self.range_start, end=self.range_end
            )
        }

    def _rooms_of(self, session_type: SessionType) -> list[Resource]:
        if not session_type.resource_kind:
            return []
        chosen = list(session_type.resources.all())
        if not chosen:
            kind = session_type.resource_kind
            if kind not in self._by_kind:
                self._by_kind[kind] = list(Resource.objects.filter(kind=kind, is_active=True))
            chosen = self._by_kind[kind]
        return sorted((room for room in chosen if room.is_active), key=lambda room: (room.capacity, room.name, room.pk))

    def _hours(self, coach: User) -> dict[dt.date, list[tuple[dt.datetime, dt.datetime]]]:
        """The coach's working time on each local weekday of the range, as UTC intervals."""
        zone = ZoneInfo(coach.timezone)
        by_day: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        if coach.pk in self.with_hours:
            for start, end in working_time(coach, self.first_day, self.last_day):
                local = start.astimezone(zone)
                day = local.date()
                # Windows don't cross midnight; a merged interval might: cut it there.
                midnight = dt.datetime.combine(day + ONE_DAY, dt.time(), tzinfo=zone).astimezone(UTC)
                by_day[day].append((start, min(end, midnight)))
        else:
            day = self.first_day
            while day <= self.last_day:
                if not any(first <= day <= last for first, last in self.away[coach.pk]):
                    opens = dt.datetime.combine(day, DEFAULT_HOURS[0], tzinfo=zone).astimezone(UTC)
                    closes = dt.datetime.combine(day, DEFAULT_HOURS[1], tzinfo=zone).astimezone(UTC)
                    by_day[day].append((opens, closes))
                day += ONE_DAY
        return {
            day: sorted(spans)
            for day, spans in by_day.items()
            if day.weekday() < 5 and self.first_day <= day <= self.last_day
        }

    # --- the plan -------------------------------------------------------------------------

    def plan(self) -> None:
        self._load()
        for coach in self.coaches:
            if self.types.get(coach.pk) and coach.pk in self.profiles:
                self._plan_coach(coach)

    def _plan_coach(self, coach: User) -> None:
        rng = self.rng
        profile = self.profiles[coach.pk]
        types = self.types[coach.pk]
        rules = {session_type.pk: rules_for(profile, session_type) for session_type in types}
        singles = [t for t in types if t.kind == SessionKind.ONE_ON_ONE]
        groups = [t for t in types if t.kind == SessionKind.GROUP and self._seats(t) >= 2]
        workshops = [t for t in types if t.kind == SessionKind.WORKSHOP and self._seats(t) >= 2]
        choices: list[tuple[list[SessionType], float]] = []
        if groups:
            choices.append((groups, GROUP_SHARE))
        if workshops:
            choices.append((workshops, WORKSHOP_SHARE))
        if not singles and not choices:
            return
        hours = self._hours(coach)
        weeks: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
        for day in sorted(hours):
            weeks[day.isocalendar()[:2]].append(day)
        for week in sorted(weeks):
            days = weeks[week]
            # A week cut by the range counts its share of the five working days.
            wanted = self.per_week * min(len(days), 5) / 5 * rng.uniform(0.8, 1.2)
            count = min(int(wanted) + (rng.random() < wanted % 1), profile.max_sessions_per_week)
            minutes = [sum((end - start).total_seconds() for start, end in hours[day]) for day in days]
            per_day: dict[dt.date, int] = defaultdict(int)
            for _n in range(count):
                day = rng.choices(days, weights=minutes)[0]
                if per_day[day] >= profile.max_sessions_per_day:
                    open_days = [d for d in days if per_day[d] < profile.max_sessions_per_day]
                    if not open_days:
                        break
                    day = rng.choice(open_days)
                session_type = self._pick_type(singles, choices)
                if self._place(coach, session_type, rules[session_type.pk], hours[day]):
                    per_day[day] += 1

    def _seats(self, session_type: SessionType) -> int:
        if session_type.kind == SessionKind.ONE_ON_ONE:
            return 1
        return min(session_type.capacity, settings.MAX_GROUP_CAPACITY)

    def _pick_type(self, singles: list[SessionType], choices) -> SessionType:
        rng = self.rng
        draw = rng.random()
        for kinds, share in choices:
            if draw < share or not singles:
                return rng.choice(kinds)
            draw -= share
        # The coach's first types are the ones booked most.
        return rng.choices(singles, weights=[1 / (index + 1) for index in range(len(singles))])[0]

    def _place(self, coach: User, session_type: SessionType, rules: BookingRules, spans) -> bool:
        """Find a time on this day for a session of ``session_type`` and its people."""
        rng = self.rng
        duration, step = rules.duration, rules.step
        starts = []
        for opens, closes in spans:
            moment = opens
            while moment + duration <= closes:
                starts.append(moment)
                moment += step
        rng.shuffle(starts)
        seats = self._seats(session_type)
        group = session_type.kind != SessionKind.ONE_ON_ONE
        for start in starts:
            end = start + duration
            if end > self.latest_end:
                continue
            blocked = (start - rules.buffer_before, end + rules.buffer_after)
            if not self.busy.free(("coach", coach.pk), *blocked):
                continue
            room = None
            if session_type.resource_kind:
                room = self._free_room(session_type, start, end, seats)
                if room is None:
                    continue
            if group:
                people = self._free_clients(coach.pk, start, end, seats, session_type)
                if people is None:
                    continue
            else:
                client = self._free_client(coach.pk, start, end)
                if client is None:
                    continue
                people = [client]
            session = _Session(
                coach_id=coach.pk,
                session_type=session_type,
                rules=rules,
                start=start,
                end=end,
                capacity=seats,
                room=room,
            )
            self.busy.add(("coach", coach.pk), *blocked)
            if room is not None:
                self.busy.add(("room", room.pk), start, end)
            for client_id in people:
                self.busy.add(("client", client_id), start, end)
                self.regulars[coach.pk].append(client_id)
            self.sessions.append(session)
            if group:
                self._group(session, people)
            else:
                self._single(session, people[0])
            return True
        return False

    def _free_room(self, session_type: SessionType, start, end, seats: int) -> Resource | None:
        """The smallest free room that holds the seats and is open (the services' rule)."""
        for room in self._rooms_of(session_type):
            if room.capacity < seats or not self.busy.free(("room", room.pk), start, end):
                continue
            calendar = self.room_calendars.get(room.pk)
            if calendar is None or engine.resource_free(calendar, start=start, end=end):
                return room
        return None

    def _candidate(self, coach_id: int) -> int:
        regulars = self.regulars[coach_id]
        if regulars and self.rng.random() < REPEAT:
            return self.rng.choice(regulars)
        return self.rng.choice(self.client_ids)

    def _free_client(self, coach_id: int, start, end) -> int | None:
        for _attempt in range(8):
            client = self._candidate(coach_id)
            if self.busy.free(("client", client), start, end):
                return client
        return None

    def _free_clients(self, coach_id: int, start, end, seats: int, session_type: SessionType) -> list[int] | None:
        rng = self.rng
        least = max(2, session_type.min_participants or 0) if session_type.kind == SessionKind.WORKSHOP else 2
        least = min(least, seats)
        wanted = rng.randint(max(least, math.ceil(seats * 0.4)), seats) if seats > least else seats
        found: list[int] = []
        for _attempt in range(wanted * 3):
            client = self._candidate(coach_id)
            if client not in found and self.busy.free(("client", client), start, end):
                found.append(client)
                if len(found) == wanted:
                    break
        return found if len(found) >= least else None

    # --- what happened to each booking -------------------------------------------------------

    def _booked_by(self, client_id: int) -> int:
        if client_id in self.guardian:
            return self.guardian[client_id]
        if self.staff_id is not None and self.rng.random() < BY_STAFF:
            return self.staff_id
        return client_id

    def _client_side(self, booking: _Booking) -> int:
        """Who acts for the client: the guardian who booked for them, else the client."""
        return (
            booking.booked_by_id if booking.booked_by_id == self.guardian.get(booking.client_id) else booking.client_id
        )

    def _new_booking(self, session: _Session, client_id: int, created_at: dt.datetime) -> _Booking:
        rng = self.rng
        session_type = session.session_type
        booking = _Booking(
            session=session,
            client_id=client_id,
            booked_by_id=self._booked_by(client_id),
            created_at=created_at,
            connected=(session.coach_id, client_id) in self.connected,
            client_notes=rng.choice(CLIENT_NOTES) if rng.random() < 0.15 else "",
            via="api" if rng.random() < BY_API else "page",
        )
        profile = self.profiles[session.coach_id]
        price = quote(
            session_type,
            start=session.start,
            now=created_at,
            connected=booking.connected,
            discount_percent=profile.connected_discount_percent,
        )
        booking.price, booking.currency, booking.price_note = price.price, price.currency, price.note
        session.bookings.append(booking)
        self.bookings.append(booking)
        return booking

    def _lead(self, rules: BookingRules) -> dt.timedelta:
        """How long before its start a one-on-one session was booked: a few days to a few
        weeks, inside the booking window, beyond the minimum notice and the firm threshold."""
        longest = min(rules.booking_window, dt.timedelta(days=28))
        shortest = min(max(rules.minimum_notice, rules.firm_threshold, dt.timedelta(days=2)) + HOUR, longest)
        return shortest + (longest - shortest) * self.rng.betavariate(1.3, 3.0)

    def _decided_by(self, booking: _Booking) -> str:
        rules, start = booking.session.rules, booking.session.start
        # What the words depend on: the type's rules, the connection, whether it is too soon.
        key = (booking.session.session_type.pk, booking.connected, start <= booking.created_at + rules.firm_threshold)
        if key not in self.decided:
            self.decided[key] = rules.decided_by(start=start, now=booking.created_at, connected=booking.connected)
        return self.decided[key]

    def _single(self, session: _Session, client_id: int) -> None:
        rng, rules = self.rng, session.rules
        created = (session.start - self._lead(rules)).replace(microsecond=0)
        session.created_at = created
        booking = self._new_booking(session, client_id, created)
        coach = session.coach_id
        firm = rules.is_firm(start=session.start, now=created, connected=booking.connected)
        load = {"coach_load": {}, "decided_by": self._decided_by(booking)}  # the load is counted later
        if firm:
            booking.record(booking.booked_by_id, "booked", BookingStatus.FIRM_BOOKED, created, **load)
            booking.confirmed_at = created
        else:
            booking.record(booking.booked_by_id, "requested", BookingStatus.REQUESTED, created, **load)
            deadline = min(created + dt.timedelta(hours=24), session.start)
            outcome = _weighted(rng, REQUEST_OUTCOMES)
            answered = min(created + dt.timedelta(minutes=10 + rng.expovariate(1 / 300)), deadline - MINUTE)
            answered = answered.replace(microsecond=0)
            if outcome == "approved":
                booking.record(coach, "approved", BookingStatus.CONFIRMED, answered)
                booking.confirmed_at = answered
            else:
                session.firm = False
                if outcome == "declined":
                    booking.decline_reason = rng.choice(DECLINE_REASONS)
                    booking.record(coach, "declined", BookingStatus.DECLINED, answered, note=booking.decline_reason)
                    self._release(session, answered)
                elif outcome == "expired":
                    at = deadline + dt.timedelta(seconds=rng.randint(5, 60))
                    booking.decline_reason = EXPIRED_REASON
                    booking.record(None, "expired", BookingStatus.DECLINED, at, note=EXPIRED_REASON)
                    self._release(session, at)
                else:  # withdrawn by the client before an answer
                    booking.by_client_side = True
                    self._cancel(booking, self._client_side(booking), answered, rng.choice(CLIENT_REASONS), False)
                    self._release(session, answered)
                return
        session.seats_taken = 1
        self._after_booked(booking, BOOKED_OUTCOMES)
        if booking.status == BookingStatus.CANCELLED:
            session.seats_taken = 0
            self._release(session, booking.cancelled_at)
        else:
            self._close(session)

    def _after_booked(self, booking: _Booking, outcomes) -> None:
        """Cancelled (by whom, and late or not), a no-show, or attended."""
        rng, session, rules = self.rng, booking.session, booking.session.rules
        outcome = _weighted(rng, outcomes)
        since = booking.events[-1].at + 10 * MINUTE
        if outcome == "staff" and self.staff_id is None:
            outcome = "coach"
        if outcome in ("coach", "staff"):
            latest = session.start - 30 * MINUTE
            if since < latest:
                reasons = COACH_REASONS if outcome == "coach" else STAFF_REASONS
                actor = session.coach_id if outcome == "coach" else self.staff_id
                self._cancel(booking, actor, _between(rng, since, latest), rng.choice(reasons), False)
                return
            outcome = "completed"
        if outcome == "client":
            notice = session.start - rules.cancellation_notice
            late = rules.allow_late_cancellation and rng.random() < LATE
            low, high = (max(since, notice + MINUTE), session.start - 10 * MINUTE) if late else (since, notice)
            if low < high:
                booking.by_client_side = True
                self._cancel(
                    booking, self._client_side(booking), _between(rng, low, high), rng.choice(CLIENT_REASONS), late
                )
                return
            outcome = "completed"
        if outcome == "no_show":
            at = session.start + dt.timedelta(seconds=rng.randint(600, 1200))
            booking.record(session.coach_id, "no_show", BookingStatus.NO_SHOW, at)

    def _cancel(self, booking: _Booking, actor: int | None, at: dt.datetime, reason: str, late: bool) -> None:
        booking.cancelled_at, booking.cancelled_by_id = at, actor
        booking.cancellation_reason, booking.late = reason, late
        booking.record(actor, "cancelled", BookingStatus.CANCELLED, at, note=reason, late=late)

    def _release(self, session: _Session, at: dt.datetime) -> None:
        session.status = SessionStatus.CANCELLED
        session.released_at = at
        session.updated_at = at
        session.seats_taken = 0

    def _close(self, session: _Session) -> None:
        """The session ends: closed by its coach (who started it), or by the clock; its
        attendees' bookings are completed, some rated."""
        rng = self.rng
        attending = [b for b in session.bookings if b.status in (BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED)]
        session.status = SessionStatus.COMPLETED
        came = attending or any(b.status == BookingStatus.NO_SHOW for b in session.bookings)
        # Nobody left to come (every seat cancelled): the clock closes it.
        if rng.random() < CLOSED_BY_CLOCK or not came:
            at = session.end + dt.timedelta(seconds=rng.randint(1, 60))
            action, actor = "completed_automatically", None
        else:
            session.started_at = session.start + dt.timedelta(seconds=rng.randint(-240, 360))
            if attending:
                length = session.end - session.start + dt.timedelta(seconds=rng.randint(-600, 480))
            else:  # nobody came: closed once the no-show was marked
                length = dt.timedelta(seconds=rng.randint(1200, 1800))
            at = session.ended_at = session.started_at + length
            action, actor = "completed", session.coach_id
        # Every event of the session's bookings comes before its close.
        at = max([at, *(b.events[-1].at + dt.timedelta(seconds=1) for b in session.bookings)])
        if session.ended_at is not None:
            session.ended_at = at
        session.updated_at = at
        for booking in attending:
            booking.record(actor, action, BookingStatus.COMPLETED, at)
            if rng.random() < RATED:
                rated = at + dt.timedelta(minutes=rng.randint(20, 3 * 24 * 60))
                if rated < self.now - MINUTE:
                    booking.rating = _weighted(rng, RATINGS)
                    booking.feedback = rng.choice(FEEDBACK) if rng.random() < 0.3 else ""
                    booking.record(
                        self._client_side(booking), "rated", BookingStatus.COMPLETED, rated, rating=booking.rating
                    )

    def _group(self, session: _Session, people: list[int]) -> None:
        rng, session_type = self.rng, session.session_type
        published = (session.start - dt.timedelta(days=rng.uniform(10, 30))).replace(microsecond=0)
        session.created_at = published
        if session_type.kind == SessionKind.WORKSHOP and session_type.min_participants:
            deadline = session.start - dt.timedelta(hours=session_type.confirm_hours_before)
            # (Published too close to it, there is none: the coach confirms it by hand.)
            session.confirm_by = deadline if deadline > published + 2 * HOUR else None
        seats_until = (session.confirm_by or session.start - 2 * HOUR) - HOUR
        for client_id in people:
            created = _between(rng, published + HOUR, max(seats_until, published + HOUR))
            booking = self._new_booking(session, client_id, created)
            booking.record(booking.booked_by_id, "seat_taken", BookingStatus.FIRM_BOOKED, created)
            booking.confirmed_at = created
        session.bookings.sort(key=lambda booking: booking.created_at)
        if session.confirm_by is not None:
            session.confirmed_at = session.confirm_by + dt.timedelta(seconds=rng.randint(1, 300))
            for booking in session.bookings:
                booking.record(None, "workshop_confirmed", BookingStatus.FIRM_BOOKED, session.confirmed_at)
        if rng.random() < CALLED_OFF:
            since = max(b.events[-1].at for b in session.bookings) + 10 * MINUTE
            if since < session.start - HOUR:
                at = _between(rng, since, session.start - HOUR)
                reason = rng.choice(CALLED_OFF_REASONS)
                for booking in session.bookings:
                    self._cancel(booking, session.coach_id, at, reason, False)
                self._release(session, at)
                return
        for booking in session.bookings:
            self._after_booked(booking, SEAT_OUTCOMES)
        session.seats_taken = sum(1 for b in session.bookings if b.status != BookingStatus.CANCELLED)
        self._close(session)

    # --- the coach's load, as each booking counted it ----------------------------------------

    def _loads(self) -> None:
        """``coach_load`` of each one-on-one booking's first event: the coach's sessions
        that held time on the session's local day and ISO week when it was booked, itself
        included (``availability.rules.CoachLoad``)."""
        zones = {coach.pk: ZoneInfo(coach.timezone) for coach in self.coaches}
        by_day: dict[tuple[int, dt.date], list[_Session]] = defaultdict(list)
        by_week: dict[tuple[int, tuple[int, int]], list[_Session]] = defaultdict(list)
        local_day = {}
        for session in self.sessions:
            day = session.start.astimezone(zones[session.coach_id]).date()
            local_day[session] = day
            by_day[(session.coach_id, day)].append(session)
            by_week[(session.coach_id, day.isocalendar()[:2])].append(session)

        def held(others: list[_Session], at: dt.datetime, me: _Session) -> int:
            return 1 + sum(
                1
                for other in others
                if other is not me and other.created_at <= at and (other.released_at is None or other.released_at > at)
            )

        for session in self.sessions:
            if session.session_type.kind != SessionKind.ONE_ON_ONE:
                continue
            booking, day = session.bookings[0], local_day[session]
            at = booking.created_at
            booking.events[0].data["coach_load"] = {
                "day": day.isoformat(),
                "in_day": held(by_day[(session.coach_id, day)], at, session),
                "in_week": held(by_week[(session.coach_id, day.isocalendar()[:2])], at, session),
            }

    # --- writing ------------------------------------------------------------------------------

    def write(self, *, funnel: bool, payments: bool) -> HistoryMade:
        if not self.sessions:
            return HistoryMade(sessions=0, bookings=0, events=0, analytics=0)
        self._loads()
        sessions = sorted(self.sessions, key=lambda s: (s.created_at, s.start, s.coach_id))
        for session, pk in zip(sessions, sql.next_ids_locked(Session, len(sessions)), strict=True):
            session.id = pk
        bookings = sorted(self.bookings, key=lambda b: (b.created_at, b.session.start, b.client_id))
        for booking, pk in zip(bookings, sql.next_ids_locked(Booking, len(bookings)), strict=True):
            booking.id = pk
        events = sorted((event for booking in bookings for event in booking.events), key=lambda e: (e.at, e.booking.id))
        for event, pk in zip(events, sql.next_ids_locked(BookingEvent, len(events)), strict=True):
            event.id = pk

        _insert(
            Session,
            (
                "id session_type_id coach_id start end capacity seats_taken seats_held resource_id status "
                "meeting_link location confirm_by confirmed_at started_at ended_at created_at updated_at"
            ),
            (
                (
                    s.id,
                    s.session_type.pk,
                    s.coach_id,
                    s.start,
                    s.end,
                    s.capacity,
                    s.seats_taken,
                    0,
                    s.room.pk if s.room else None,
                    s.status,
                    new_meeting_link(s.session_type),
                    s.session_type.location or (s.room.location if s.room else ""),
                    s.confirm_by,
                    s.confirmed_at,
                    s.started_at,
                    s.ended_at,
                    s.created_at,
                    s.updated_at,
                )
                for s in sessions
            ),
        )
        allocations = []
        for s in sessions:
            kind = AllocationKind.SESSION if s.firm else AllocationKind.REQUEST
            active = s.status != SessionStatus.CANCELLED
            allocations.append(
                (
                    s.coach_id,
                    None,
                    s.id,
                    kind,
                    s.start,
                    s.end,
                    s.start - s.rules.buffer_before,
                    s.end + s.rules.buffer_after,
                    True,
                    active,
                    s.created_at,
                )
            )
            if s.room is not None:
                allocations.append(
                    (None, s.room.pk, s.id, kind, s.start, s.end, s.start, s.end, False, active, s.created_at)
                )
        _insert(
            Allocation,
            (
                "staff_id resource_id session_id kind start end blocked_start blocked_end counts_toward_limits "
                "is_active created_at"
            ),
            allocations,
        )
        _insert(
            Booking,
            (
                "id session_id client_id booked_by_id reference status client_notes decline_reason confirmed_at "
                "cancelled_at cancelled_by_id cancellation_reason is_late_cancellation price currency price_note "
                "late_refund_percent rating feedback created_at updated_at"
            ),
            (
                (
                    b.id,
                    b.session.id,
                    b.client_id,
                    b.booked_by_id,
                    f"BK-{b.created_at:%Y}-{b.id:06d}",
                    b.status,
                    b.client_notes,
                    b.decline_reason,
                    b.confirmed_at,
                    b.cancelled_at,
                    b.cancelled_by_id,
                    b.cancellation_reason,
                    b.late,
                    b.price,
                    b.currency,
                    b.price_note,
                    b.session.session_type.late_cancellation_refund_percent,
                    b.rating,
                    b.feedback,
                    b.created_at,
                    b.updated_at,
                )
                for b in bookings
            ),
        )
        latest = self.now
        _insert(
            BookingEvent,
            "id booking_id actor_id action from_status to_status note data created_at relayed_at",
            (
                (
                    e.id,
                    e.booking.id,
                    e.actor_id,
                    e.action,
                    e.from_status,
                    e.to_status,
                    e.note,
                    e.data,
                    e.at,
                    min(e.at + dt.timedelta(seconds=1), latest),
                )
                for e in events
            ),
        )
        paid = refunds = 0
        if payments:
            paid, refunds = self._write_payments(bookings)
        analytics = self._write_funnel(bookings) if funnel else 0
        return HistoryMade(
            sessions=len(sessions),
            bookings=len(bookings),
            events=len(events),
            analytics=analytics,
            allocations=len(allocations),
            payments=paid,
            refunds=refunds,
        )

    def _write_payments(self, bookings: list[_Booking]) -> tuple[int, int]:
        """Each priced booking that was booked, paid in full when it was booked; a cancelled
        one refunded by the policy, as the payments consumer asks and the gateway confirms."""
        rng = self.rng
        owed = [b for b in bookings if b.price > 0 and b.confirmed_at is not None]
        ids = sql.next_ids_locked(Payment, len(owed))
        payment_rows, refund_rows = [], []
        for booking, pk in zip(owed, ids, strict=True):
            amount = to_minor(booking.price, booking.currency)
            status, updated = PaymentStatus.PAID, booking.confirmed_at
            if booking.status == BookingStatus.CANCELLED:
                event = booking.events[-1]
                due = refund_due(
                    RefundCase(
                        paid_minor=amount,
                        by_client=booking.by_client_side,
                        late=booking.late,
                        late_percent=booking.session.session_type.late_cancellation_refund_percent,
                    )
                )
                if due:
                    updated = min(event.at + dt.timedelta(seconds=rng.randint(2, 30)), self.now)
                    status = PaymentStatus.REFUNDED if due >= amount else PaymentStatus.PARTIALLY_REFUNDED
                    reason = (
                        "Late cancellation (the session type's late-cancellation share)"
                        if booking.late
                        else "Cancelled"
                    )
                    refund_rows.append(
                        (
                            pk,
                            due,
                            booking.currency,
                            reason,
                            RefundStatus.SUCCEEDED,
                            f"re_local_history_{pk}",
                            f"event-{event.id}",
                            updated,
                            updated,
                        )
                    )
            payment_rows.append(
                (
                    pk,
                    booking.client_id,
                    booking.id,
                    PaymentKind.FULL,
                    Backend.LOCAL,
                    amount,
                    booking.currency,
                    status,
                    f"cs_local_history_{booking.id}",
                    booking.confirmed_at,
                    booking.confirmed_at,
                    updated,
                )
            )
        _insert(
            Payment,
            (
                "id client_id booking_id kind backend amount_minor currency status checkout_id paid_at "
                "created_at updated_at"
            ),
            payment_rows,
        )
        _insert(
            Refund,
            "payment_id amount_minor currency reason status gateway_refund_id source_key created_at updated_at",
            refund_rows,
        )
        return len(payment_rows), len(refund_rows)

    # --- the booking funnel ---------------------------------------------------------------------

    def _write_funnel(self, bookings: list[_Booking]) -> int:
        """The funnel's steps of the bookings made within the analytics retention (older
        events would be pruned the next day), and of as many visitors again who booked
        nothing, stopping at each step."""
        rng = self.rng
        cutoff = self.now - dt.timedelta(days=settings.ANALYTICS_RETENTION_DAYS)
        rows: list[tuple] = []
        zones = {coach.pk: ZoneInfo(coach.timezone) for coach in self.coaches}

        def visitor() -> str:
            return f"{rng.getrandbits(128):032x}"

        def add(name, at, user, who, coach, session_type, via="page", **data) -> None:
            rows.append((name, user, who, coach, session_type, via, data, at))

        recent = [b for b in bookings if b.created_at >= cutoff]
        for booking in recent:
            session, at = booking.session, booking.created_at
            coach, type_id, user = session.coach_id, session.session_type.pk, booking.booked_by_id
            if booking.via == "api":
                add(FunnelStep.BOOKING_ATTEMPTED, at - dt.timedelta(seconds=1), user, "", coach, type_id, "api")
                add(FunnelStep.BOOKING_SUCCESS, at, user, "", coach, type_id, "api")
                continue
            who = visitor()
            steps: list[tuple[str, int | None, dict]] = [
                (FunnelStep.PAGE_VIEW, None, {}),
                (FunnelStep.ST_SELECTED, type_id, {}),
            ]
            if session.session_type.kind == SessionKind.ONE_ON_ONE:
                day = session.start.astimezone(zones[coach]).date()
                if rng.random() < 0.4:  # looked at another day first
                    other = day + dt.timedelta(days=rng.choice((-2, -1, 1, 2)))
                    steps.append((FunnelStep.DATE_SELECTED, type_id, {"date": other.isoformat()}))
                steps.append((FunnelStep.DATE_SELECTED, type_id, {"date": day.isoformat()}))
                steps.append((FunnelStep.TIME_SELECTED, type_id, {"time": _iso(session.start)}))
            # Each step some seconds before the next, the last before the confirm.
            moment = at - dt.timedelta(seconds=1)
            timed = []
            for name, step_type, data in reversed(steps):
                moment -= dt.timedelta(seconds=rng.randint(5, 90))
                timed.append((name, moment, step_type, data))
            for name, moment, step_type, data in reversed(timed):
                add(name, moment, user, who, coach, step_type, **data)
            add(FunnelStep.BOOKING_ATTEMPTED, at - dt.timedelta(seconds=1), user, who, coach, type_id)
            add(FunnelStep.BOOKING_SUCCESS, at, user, who, coach, type_id)
        # Visitors who booked nothing, in the same stretch, to the same coaches.
        counts: dict[int, int] = defaultdict(int)
        for booking in recent:
            counts[booking.session.coach_id] += 1
        coach_ids = sorted(counts)
        if coach_ids:
            first = max(cutoff, dt.datetime.combine(self.first_day, dt.time(), tzinfo=UTC))
            span = max(int((self.latest_end - first).total_seconds()), 0)
            for _n in range(round(len(recent) * BROWSERS_PER_BOOKING)):
                coach = rng.choices(coach_ids, weights=[counts[pk] for pk in coach_ids])[0]
                zone = zones[coach]
                # Daytime in the coach's zone.
                local = (first + dt.timedelta(seconds=rng.randint(0, span))).astimezone(zone)
                local = local.replace(hour=rng.randint(7, 22))
                moment = local.astimezone(UTC).replace(microsecond=0)
                if not first <= moment < self.latest_end:
                    continue
                stop = _weighted(rng, STOPS)
                who = visitor()
                user = rng.choice(self.client_ids) if rng.random() < 0.35 else None
                add(FunnelStep.PAGE_VIEW, moment, user, who, coach, None)
                if stop == FunnelStep.PAGE_VIEW:
                    continue
                session_type = rng.choice(self.types[coach])
                moment += dt.timedelta(seconds=rng.randint(5, 90))
                add(FunnelStep.ST_SELECTED, moment, user, who, coach, session_type.pk)
                if stop == FunnelStep.ST_SELECTED:
                    continue
                moment += dt.timedelta(seconds=rng.randint(5, 90))
                if stop == FunnelStep.SCHEDULE_LATER:
                    add(FunnelStep.SCHEDULE_LATER, moment, user, who, coach, session_type.pk)
                    continue
                if session_type.kind == SessionKind.ONE_ON_ONE:
                    day = local.date() + dt.timedelta(days=rng.randint(1, 10))
                    add(FunnelStep.DATE_SELECTED, moment, user, who, coach, session_type.pk, date=day.isoformat())
                    if stop == FunnelStep.DATE_SELECTED:
                        continue
                    moment += dt.timedelta(seconds=rng.randint(5, 90))
                    hour = dt.time(rng.randint(9, 16), rng.choice((0, 30)))
                    start = dt.datetime.combine(day, hour, tzinfo=zone)
                    add(FunnelStep.TIME_SELECTED, moment, user, who, coach, session_type.pk, time=_iso(start))
                    if stop == FunnelStep.TIME_SELECTED:
                        continue
                elif stop in (FunnelStep.DATE_SELECTED, FunnelStep.TIME_SELECTED):
                    continue  # a group type's page lists its sessions: no day or time to choose
                moment += dt.timedelta(seconds=rng.randint(5, 90))
                add(FunnelStep.BOOKING_ATTEMPTED, moment, user, who, coach, session_type.pk)
                code = "full" if session_type.kind != SessionKind.ONE_ON_ONE else _weighted(rng, FAILURES)
                add(FunnelStep.BOOKING_FAILED, moment, user, who, coach, session_type.pk, error_type=code)
        rows.sort(key=lambda row: row[-1])
        _insert(
            AnalyticsEvent,
            "name user_id visitor coach_id session_type_id via data created_at",
            rows,
        )
        return len(rows)


def _iso(moment: dt.datetime) -> str:
    """An instant as the funnel records a chosen time (``reports.funnel._instant``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Bulk inserts that keep the history's own timestamps
# ---------------------------------------------------------------------------------------

# Fields whose database value is the Python value itself (or None), on SQLite and PostgreSQL.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.AutoField,
    models.ForeignKey,
    models.BooleanField,
)


def _insert(model: type[models.Model], attnames: str, rows: Iterable[tuple]) -> int:
    """Insert ``rows`` (values of the fields ``attnames`` names, separated by spaces, in that
    order; every other field gets its default): PostgreSQL's ``COPY``, multi-row INSERTs
    elsewhere. Unlike ``bulk_create`` and ``config.sql.insert_many``, ``auto_now`` and
    ``auto_now_add`` fields keep the value given: the history's own times. Returns the
    number of rows."""
    db = connection
    names = attnames.split()
    fields = [f for f in model._meta.concrete_fields if f.attname in names or not f.primary_key]
    position = {name: index for index, name in enumerate(names)}
    unknown = set(names) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    if db.vendor == "sqlite":

        def stamp(value):
            return None if value is None else str(value.astimezone(UTC).replace(tzinfo=None))
    else:
        stamp = None  # PostgreSQL takes aware datetimes as they are

    plan = []
    for f in fields:
        if f.attname in position:
            if isinstance(f, models.DateTimeField):
                convert = stamp
            elif isinstance(f, _PLAIN):
                convert = None
            elif isinstance(f, models.JSONField) and db.vendor == "postgresql":
                convert = json.dumps  # COPY reads the column's text (our values are plain JSON)
            else:
                convert = _converter(f, db)
            plan.append((position[f.attname], convert, None))
        else:
            plan.append((None, None, f.get_db_prep_save(f.get_default(), db)))

    def values(row: tuple) -> list:
        found = []
        for index, convert, default in plan:
            if index is None:
                found.append(default)
            elif convert is None:
                found.append(row[index])
            else:
                found.append(convert(row[index]))
        return found

    table = db.ops.quote_name(model._meta.db_table)
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    count = 0
    if db.vendor == "postgresql":
        # COPY: no statement to build or parse however many rows (a multi-row INSERT's
        # placeholders cost more in the driver than the database takes to write them).
        with db.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values(row))
                count += 1
        return count
    per_statement = max(1, 30000 // len(fields))
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch: list = []

    def flush() -> None:
        if batch:
            statement = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([row_sql] * len(batch))  # noqa: S608 (names from the models; values are parameters)
            with db.cursor() as cursor:
                cursor.execute(statement, [value for row in batch for value in row])
            batch.clear()

    for row in rows:
        batch.append(values(row))
        count += 1
        if len(batch) == per_statement:
            flush()
    flush()
    return count


def _converter(f: models.Field, db):
    """The field's own conversion, remembered per value where it can be (prices repeat)."""
    seen: dict = {}

    def convert(value):
        if value is None:
            return None
        try:
            return seen[value]
        except KeyError:
            seen[value] = converted = f.get_db_prep_save(value, db)
            return converted
        except TypeError:  # unhashable: a JSON value
            return f.get_db_prep_save(value, db)

    return convert
