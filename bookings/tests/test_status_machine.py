"""Property test of the status machine over the services.

Random sequences of book / seat / approve / decline / suggest / accept / decline the
alternatives / ask and answer / cancel / reschedule / no-show / complete / expire, by random
actors (the two clients, the coach, staff, a stranger), with the clock moving on. After
every step:

- each booking's history is a chain: ∅ → an initial status, then each event starts where
  the previous one ended, every pair is in ``bookings.models.TRANSITIONS``, and the last
  event ends at the booking's status — so every status change has exactly its event;
- a refused action changed nothing (bookings, sessions, allocations, history);
- the coach is never in two overlapping firm allocations, no session holds more seats than
  its capacity, and an active one-on-one booking holds its time (a declined or cancelled one doesn't).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ConnectionStatus
from accounts.tests.factories import ClientFactory, ConnectionFactory, StaffFactory
from availability.models import Allocation, AllocationKind
from bookings import services
from bookings.models import (
    ACTIVE_STATUSES,
    INITIAL_STATUSES,
    TRANSITIONS,
    Booking,
    BookingEvent,
    BookingStatus,
    Session,
    SessionStatus,
)
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import DomainError

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
FIRST_SLOT = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 09:00 in London (UTC in December)
H = dt.timedelta(hours=1)

ACTIONS = (
    "book",
    "seat",
    "approve",
    "decline",
    "suggest",
    "accept",
    "decline_alternatives",
    "ask",
    "answer",
    "cancel",
    "reschedule",
    "no_show",
    "complete",
    "expire",
    "complete_past",
    "wait",
)

MANAGER_ACTIONS = {"approve", "decline", "suggest", "ask", "no_show", "complete"}

step = st.tuples(
    st.sampled_from(ACTIONS),
    st.integers(0, 4),  # actor: 0–2 the one the action is for, 3 staff, 4 a stranger
    st.integers(0, 7),  # booking (modulo how many exist)
    st.integers(0, 11),  # slot: hours after the first slot (09:00–16:00 each day, two days)
    st.booleans(),  # give a reason / pick an offered time
)


class World:
    def __init__(self) -> None:
        self.coach = open_coach(timezone="Europe/London", require_approval_unconnected=True)
        self.connected = ClientFactory()
        ConnectionFactory(client=self.connected, coach=self.coach, status=ConnectionStatus.ACCEPTED)
        self.stranger_client = ClientFactory()
        self.actors = [self.connected, self.stranger_client, self.coach, StaffFactory(), ClientFactory()]
        self.one_on_one = SessionTypeFactory(coach=self.coach)
        group_type = GroupTypeFactory(coach=self.coach, capacity=2)
        self.group = services.publish_session(
            actor=self.coach, session_type=group_type, start=FIRST_SLOT + 24 * H + 7 * H
        )

    @staticmethod
    def slot(index: int) -> dt.datetime:
        day, hour = divmod(index, 6)
        return FIRST_SLOT + day * 24 * H + hour * H

    def act(self, name: str, actor_index: int, booking_index: int, slot: int, flag: bool, traveller) -> None:
        bookings = list(Booking.objects.order_by("pk"))
        booking = bookings[booking_index % len(bookings)] if bookings else None
        if actor_index == 3:
            actor = self.actors[3]
        elif actor_index == 4:
            actor = self.actors[4]
        elif name in MANAGER_ACTIONS or booking is None:
            actor = self.coach
        else:
            actor = booking.client
        start = self.slot(slot)
        if name == "wait":
            traveller.shift(dt.timedelta(hours=7 if flag else 20))
            return
        if name == "expire":
            services.expire_requests()
            return
        if name == "complete_past":
            services.complete_past_sessions()
            return
        if name == "book":
            client = self.actors[slot % 2]
            booked_by = actor if actor_index in (3, 4) else None
            services.book_slot(client=client, session_type=self.one_on_one, start=start, booked_by=booked_by)
            return
        if name == "seat":
            services.take_seat(client=self.actors[slot % 2], session=self.group)
            return
        if booking is None:
            raise DomainError("nothing to act on", code="nothing")
        reason = "Because" if flag else ""
        if name == "approve":
            services.approve(booking=booking, actor=actor)
        elif name == "decline":
            services.decline(booking=booking, actor=actor, reason=reason)
        elif name == "suggest":
            services.suggest_alternatives(booking=booking, actor=actor, alternatives=[start, self.slot(slot + 1)])
        elif name == "accept":
            offered = booking.suggested_alternatives
            chosen = dt.datetime.fromisoformat(offered[0]) if flag and offered else start
            services.accept_alternative(booking=booking, actor=actor, start=chosen)
        elif name == "decline_alternatives":
            services.decline_alternatives(booking=booking, actor=actor)
        elif name == "ask":
            services.request_information(booking=booking, actor=actor, question="Why?" if flag else "")
        elif name == "answer":
            services.answer_information(booking=booking, actor=actor, answer="Because.")
        elif name == "cancel":
            services.cancel(booking=booking, actor=actor, reason=reason)
        elif name == "reschedule":
            services.reschedule(booking=booking, actor=actor, start=start)
        elif name == "no_show":
            services.mark_no_show(booking=booking, actor=actor)
        elif name == "complete":
            services.mark_completed(session=booking.session, actor=actor)


def snapshot() -> tuple:
    return (
        list(
            Booking.objects.order_by("pk").values_list(
                "pk", "status", "session_id", "expires_at", "suggested_alternatives", "info_request", "info_response"
            )
        ),
        list(Session.objects.order_by("pk").values_list("pk", "status", "seats_taken", "start")),
        list(Allocation.objects.order_by("pk").values_list("pk", "is_active", "kind", "session_id")),
        BookingEvent.objects.count(),
    )


def check_invariants() -> None:
    for booking in Booking.objects.prefetch_related("events"):
        chain = sorted(booking.events.all(), key=lambda event: event.pk)
        assert chain, f"{booking} has no history"
        assert chain[0].from_status == "" and chain[0].to_status in INITIAL_STATUSES
        for before, after in itertools.pairwise(chain):
            assert after.from_status == before.to_status, (before, after)
            assert after.to_status in TRANSITIONS[after.from_status], after
        assert chain[-1].to_status == booking.status, (booking, chain[-1])
        if not booking.session.session_type.is_group:
            held = Allocation.objects.filter(session=booking.session, is_active=True).exists()
            if booking.status in ACTIVE_STATUSES:
                assert held, f"{booking} is {booking.status} without its time held"
            elif booking.status in (BookingStatus.DECLINED, BookingStatus.CANCELLED):
                assert not held, f"{booking} is {booking.status} and still holds its time"
    firm = list(
        Allocation.objects.filter(is_active=True, staff__isnull=False)
        .exclude(kind=AllocationKind.REQUEST)
        .order_by("blocked_start")
    )
    for before, after in itertools.pairwise(firm):
        assert before.blocked_end <= after.blocked_start, (before, after)
    for session in Session.objects.all():
        active = session.bookings.filter(status__in=ACTIVE_STATUSES).count()
        assert active <= session.seats_taken <= session.capacity, session
        if session.status == SessionStatus.CANCELLED:
            assert session.seats_taken == 0 == active, session


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_random_sequences_follow_the_status_machine(steps):
    # Every sequence starts with a request (the unconnected client) and a firm booking.
    steps = [("book", 0, 0, 1, False), ("book", 0, 0, 2, False), *steps]
    with time_machine.travel(NOW, tick=False) as traveller, transaction.atomic():
        world = World()
        for name, actor, booking, slot, flag in steps:
            before = snapshot()
            try:
                world.act(name, actor, booking, slot, flag, traveller)
            except DomainError:
                assert snapshot() == before, f"refused {name} changed something"
            check_invariants()
        transaction.set_rollback(True)
