"""pages.history.make_history: a past booking history written in bulk, as the booking
services would have left it (ledger, statuses, events, money, funnel, rollups), the same
for a seed, and seed_demo's use of it."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from accounts.models import Connection, ConnectionStatus, GuardianLink, Role, User
from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from availability.models import Allocation, AllocationKind, Resource, TimeOff
from availability.rules import ApprovalPolicy
from bookings import relay
from bookings.models import (
    FINAL_STATUSES,
    INITIAL_STATUSES,
    TRANSITIONS,
    Booking,
    BookingEvent,
    BookingStatus,
    Session,
    SessionKind,
    SessionStatus,
)
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.money import to_minor
from pages.history import HistoryMade, history_exists, make_history
from payments.models import Payment, PaymentStatus, Refund
from reports import visits
from reports.models import AnalyticsEvent, BookingFact, BookingRollup, DemandRollup, FunnelRollup, FunnelStep
from reports.rollups import rebuild

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # a Tuesday
FIRST, LAST = dt.date(2026, 9, 1), dt.date(2026, 11, 29)
HOLIDAY = (dt.date(2026, 10, 5), dt.date(2026, 10, 9))


@pytest.fixture
def people():
    """Paris: weekday windows 09:00–17:00, a 15-minute buffer after, approval for clients not
    connected; a priced talk (late cancellation allowed, half refunded), a type that always
    needs approval, a group class and a type that needs the one small room. New York: no
    windows (09:00–17:00 is assumed), the site's rules, a lesson, a workshop with a minimum
    and the same room."""
    paris = open_coach(
        timezone="Europe/Paris",
        hours=(9, 17),
        days=range(5),
        buffer_after_minutes=15,
        cancellation_notice_hours=24,
        firm_booking_threshold_hours=24,
        require_approval_unconnected=True,
        booking_window_days=21,
        slot_step_minutes=30,
        max_sessions_per_day=8,
        max_sessions_per_week=30,
    )
    new_york = CoachFactory(timezone="America/New_York")
    TimeOff.objects.create(coach=new_york, start_date=HOLIDAY[0], end_date=HOLIDAY[1], reason="Holiday")
    TimeOff.objects.create(coach=paris, start_date=HOLIDAY[0], end_date=HOLIDAY[1], reason="Holiday")
    room = Resource.objects.create(name="Seine", kind="room", capacity=2, timezone="Europe/Paris")
    types = {
        "talk": SessionTypeFactory(
            coach=paris,
            title="Talk",
            price=Decimal("80.00"),
            currency="EUR",
            allow_late_cancellation=True,
            late_cancellation_refund_percent=50,
        ),
        "asked": SessionTypeFactory(coach=paris, title="Asked", duration_minutes=45, approval=ApprovalPolicy.ALWAYS),
        "circle": GroupTypeFactory(coach=paris, title="Circle", capacity=6, price=Decimal("30.00"), currency="EUR"),
        "office": SessionTypeFactory(coach=paris, title="Office", resource_kind="room", price=Decimal("100.00")),
        "lesson": SessionTypeFactory(coach=new_york, title="Lesson", price=Decimal("50.00"), currency="USD"),
        "workshop": GroupTypeFactory(
            coach=new_york,
            title="Workshop",
            kind=SessionKind.WORKSHOP,
            duration_minutes=180,
            capacity=8,
            min_participants=3,
            price=Decimal("70.00"),
            currency="USD",
        ),
        "room_ny": SessionTypeFactory(coach=new_york, title="Room", resource_kind="room"),
    }
    types["office"].resources.set([room])
    clients = [ClientFactory(timezone="Europe/London") for _ in range(14)]
    for client in clients[:3]:
        Connection.objects.create(client=client, coach=paris, status=ConnectionStatus.ACCEPTED)
    GuardianLink.objects.create(guardian=clients[1], dependent=clients[13], relationship="parent")
    staff = StaffFactory()
    return {"paris": paris, "new_york": new_york, "room": room, "types": types, "clients": clients, "staff": staff}


def make(people, **kwargs) -> HistoryMade:
    arguments = {
        "coaches": [people["paris"], people["new_york"]],
        "clients": people["clients"],
        "first_day": FIRST,
        "last_day": LAST,
        "sessions_per_coach_per_week": 6,
        "now": NOW,
    } | kwargs
    return make_history(**arguments)


@pytest.fixture
def made(people):
    return make(people)


def test_it_writes_what_it_counts(people, made):
    assert made.sessions == Session.objects.count()
    assert made.bookings == Booking.objects.count()
    assert made.events == BookingEvent.objects.count()
    assert made.analytics == AnalyticsEvent.objects.count()
    assert made.allocations == Allocation.objects.count()
    assert made.payments == Payment.objects.count()
    assert made.refunds == Refund.objects.count()
    # About six sessions a week each for 13 weeks, more bookings than sessions (groups).
    assert 120 <= made.sessions <= 190
    assert made.sessions < made.bookings < 2 * made.sessions
    assert made.events > made.bookings and made.analytics > made.bookings


def test_it_has_every_past_case(people, made):
    bookings = Booking.objects.all()
    statuses = set(bookings.values_list("status", flat=True))
    assert {BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW, BookingStatus.DECLINED} <= statuses
    assert bookings.filter(status=BookingStatus.COMPLETED).count() > bookings.count() / 2
    assert bookings.filter(is_late_cancellation=True, session__session_type__title="Talk").exists()
    assert not bookings.filter(is_late_cancellation=True).exclude(session__session_type__title="Talk").exists()
    for role in (Role.CLIENT, Role.COACH):
        assert bookings.filter(status=BookingStatus.CANCELLED, cancelled_by__role=role).exists()
    assert not bookings.filter(status=BookingStatus.DECLINED, decline_reason="").exists()
    assert BookingEvent.objects.filter(action="approved").exists()
    assert bookings.filter(rating__isnull=False).exists()
    assert not bookings.filter(rating__isnull=False).exclude(status=BookingStatus.COMPLETED).exists()
    # The type that always needs approval never booked firm.
    assert not BookingEvent.objects.filter(booking__session__session_type__title="Asked", action="booked").exists()
    # Group sessions with several seats, a workshop confirmed at its deadline.
    groups = Session.objects.filter(session_type__kind=SessionKind.GROUP)
    assert groups.exists() and any(session.bookings.count() >= 2 for session in groups)
    workshop = Session.objects.filter(session_type__kind=SessionKind.WORKSHOP, status=SessionStatus.COMPLETED).first()
    assert workshop is not None and workshop.confirmed_at is not None
    assert workshop.confirm_by <= workshop.confirmed_at < workshop.start
    assert BookingEvent.objects.filter(booking__session=workshop, action="workshop_confirmed").count() >= 3
    # Rooms, and repeat clients: someone saw the same coach three times or more.
    assert Session.objects.filter(resource__isnull=False).exists()
    per_pair = defaultdict(int)
    for client_id, coach_id in bookings.values_list("client_id", "session__coach_id"):
        per_pair[client_id, coach_id] += 1
    assert max(per_pair.values()) >= 3
    # The guardian books for the dependent; staff booked a few for clients.
    dependent, guardian = people["clients"][13], people["clients"][1]
    assert set(bookings.filter(client=dependent).values_list("booked_by", flat=True)) == {guardian.pk}


def test_sessions_keep_the_coaches_hours_and_nobody_is_in_two_places(people, made):
    by_coach = defaultdict(list)
    for session in Session.objects.select_related("coach", "session_type"):
        zone = ZoneInfo(session.coach.timezone)
        start, end = session.start.astimezone(zone), session.end.astimezone(zone)
        assert start.weekday() < 5 and start.date() == end.date()
        assert dt.time(9) <= start.time() and end.time() <= dt.time(17), session
        assert FIRST <= start.date() <= LAST
        assert not HOLIDAY[0] <= start.date() <= HOLIDAY[1]
        assert session.end - session.start == session.session_type.duration
        by_coach[session.coach_id].append(session)
    buffer = {people["paris"].pk: dt.timedelta(minutes=15), people["new_york"].pk: dt.timedelta(minutes=15)}
    for coach_id, sessions in by_coach.items():
        sessions.sort(key=lambda s: s.start)
        for before, after in itertools.pairwise(sessions):
            assert before.end + buffer[coach_id] <= after.start, (before, after)
    # The ledger: one allocation per session for its coach (buffers included), one for its
    # room; active unless the session was called off; the request's hold when never booked.
    for session in Session.objects.prefetch_related("allocations", "bookings"):
        staff = [a for a in session.allocations.all() if a.staff_id]
        rooms = [a for a in session.allocations.all() if a.resource_id]
        assert len(staff) == 1 and staff[0].staff_id == session.coach_id
        assert len(rooms) == (1 if session.resource_id else 0)
        assert staff[0].blocked_end == session.end + buffer[session.coach_id]
        assert all(a.is_active == (session.status != SessionStatus.CANCELLED) for a in session.allocations.all())
        statuses = {b.status for b in session.bookings.all()}
        never_booked = statuses <= {BookingStatus.DECLINED} or (
            statuses == {BookingStatus.CANCELLED} and not session.bookings.filter(confirmed_at__isnull=False).exists()
        )
        assert staff[0].kind == (AllocationKind.REQUEST if never_booked else AllocationKind.SESSION), session
    for key in ("staff_id", "resource_id"):
        rows = defaultdict(list)
        for owner, start, end in Allocation.objects.filter(**{f"{key}__isnull": False}).values_list(
            key, "blocked_start", "blocked_end"
        ):
            rows[owner].append((start, end))
        assert rows
        for spans in rows.values():
            for (_, end), (start, _) in itertools.pairwise(sorted(spans)):
                assert end <= start
    spans = defaultdict(list)
    for client_id, start, end in Booking.objects.values_list("client_id", "session__start", "session__end"):
        spans[client_id].append((start, end))
    for client_spans in spans.values():
        for (_, end), (start, _) in itertools.pairwise(sorted(client_spans)):
            assert end <= start


def test_everything_is_over_and_each_history_follows_the_status_machine(made):
    assert not Session.objects.filter(end__gte=NOW).exists()
    assert set(Session.objects.values_list("status", flat=True)) <= {SessionStatus.COMPLETED, SessionStatus.CANCELLED}
    assert set(Booking.objects.values_list("status", flat=True)) <= set(FINAL_STATUSES)
    events = defaultdict(list)
    for event in BookingEvent.objects.order_by("created_at", "pk"):
        events[event.booking_id].append(event)
    for booking in Booking.objects.select_related("session"):
        history = events[booking.pk]
        assert history[0].from_status == "" and history[0].to_status in INITIAL_STATUSES
        for before, after in itertools.pairwise(history):
            assert after.from_status == before.to_status and after.to_status in TRANSITIONS[before.to_status]
            assert before.created_at < after.created_at
        assert history[-1].to_status == booking.status
        assert history[0].created_at == booking.created_at < booking.session.start
        assert history[-1].created_at <= NOW
        assert booking.reference == f"BK-{booking.created_at:%Y}-{booking.pk:06d}"
        if booking.status == BookingStatus.CANCELLED:
            assert booking.cancelled_at < booking.session.start and booking.cancelled_by_id == history[-1].actor_id
            assert booking.is_late_cancellation == (
                booking.session.start - booking.cancelled_at < dt.timedelta(hours=24)
                and booking.cancelled_by.role == Role.CLIENT
                and booking.session.session_type.title == "Talk"
            )
        if booking.status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
            assert any(event.created_at >= booking.session.start for event in history)
    # Sessions their coach ran say when they started and ended, a few minutes either way.
    timed = Session.objects.filter(ended_at__isnull=False, bookings__status=BookingStatus.COMPLETED).distinct()
    assert timed.count() > Session.objects.filter(status=SessionStatus.COMPLETED).count() / 2
    for session in timed:
        off = (session.ended_at - session.started_at) - (session.end - session.start)
        assert abs(off) <= dt.timedelta(minutes=20) and session.started_at < session.end


def test_every_event_is_relayed_already(made):
    assert not Booking.objects.filter(events__isnull=True).exists()
    assert not BookingEvent.objects.filter(relayed_at__isnull=True).exists()
    assert relay.relay_pending().events == 0


def test_history_is_marked(people, made):
    assert history_exists([people["paris"]]) and history_exists([people["new_york"]])
    assert not history_exists([CoachFactory()])
    assert not BookingEvent.objects.exclude(data__has_key="history").exists()


def rows_of(model) -> list[tuple]:
    fields = [f.name for f in model._meta.fields if f.name != "id"]
    return sorted(model.objects.values_list(*fields))


def test_the_rollups_are_those_of_a_fresh_rebuild(made):
    before = {model: rows_of(model) for model in (BookingRollup, FunnelRollup, DemandRollup)}
    assert all(before.values()) and BookingFact.objects.count() == Booking.objects.count()

    rebuild()
    visits.rebuild(now=NOW)

    assert {model: rows_of(model) for model in before} == before


def test_payments_and_refunds_follow_the_policy(made):
    priced = Booking.objects.filter(price__gt=0)
    for booking in priced.filter(confirmed_at__isnull=False).prefetch_related("payments__refunds"):
        (payment,) = booking.payments.all()
        assert payment.amount_minor == to_minor(booking.price, booking.currency)
        assert payment.currency == booking.currency and payment.paid_at == booking.confirmed_at == payment.created_at
        refunds = list(payment.refunds.all())
        if booking.status != BookingStatus.CANCELLED:
            assert payment.status == PaymentStatus.PAID and not refunds
        elif booking.is_late_cancellation:
            (refund,) = refunds
            assert refund.amount_minor == payment.amount_minor * 50 // 100
            assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
        else:
            (refund,) = refunds
            assert refund.amount_minor == payment.amount_minor and payment.status == PaymentStatus.REFUNDED
            assert refund.created_at > booking.cancelled_at
    assert not Payment.objects.filter(booking__confirmed_at__isnull=True).exists()
    assert Refund.objects.exists()


def test_the_funnel_narrows_and_matches_the_bookings(made):
    counts = {
        step: AnalyticsEvent.objects.filter(name=step).values("visitor").distinct().count()
        for step in (
            FunnelStep.PAGE_VIEW,
            FunnelStep.ST_SELECTED,
            FunnelStep.DATE_SELECTED,
            FunnelStep.TIME_SELECTED,
            FunnelStep.BOOKING_ATTEMPTED,
        )
    }
    steps = list(counts.values())
    assert steps[:4] == sorted(steps[:4], reverse=True) and steps[0] > 2 * steps[4]
    successes = AnalyticsEvent.objects.filter(name=FunnelStep.BOOKING_SUCCESS)
    # Every booking (all within the retention) has its success, at the moment it was made.
    assert successes.count() == Booking.objects.count()
    made_at = sorted(Booking.objects.values_list("session__coach_id", "session__session_type_id", "created_at"))
    assert sorted(successes.values_list("coach_id", "session_type_id", "created_at")) == made_at
    # Each booked on the pages chose its time there (the API's bookings have no pages).
    on_pages = set(successes.filter(via="page").values_list("coach_id", "created_at"))
    assert len(on_pages) < successes.count()
    times = set(AnalyticsEvent.objects.filter(name=FunnelStep.TIME_SELECTED).values_list("data__time", flat=True))
    singles = Booking.objects.filter(session__session_type__kind=SessionKind.ONE_ON_ONE)
    checked = 0
    for coach_id, created_at, start in singles.values_list("session__coach_id", "created_at", "session__start"):
        if (coach_id, created_at) in on_pages:
            assert start.strftime("%Y-%m-%dT%H:%M:%SZ") in times
            checked += 1
    assert checked > singles.count() / 2
    # A visitor who booked went through the steps in order, the last one the booking.
    order = [FunnelStep.PAGE_VIEW, FunnelStep.ST_SELECTED, FunnelStep.DATE_SELECTED, FunnelStep.TIME_SELECTED]
    order += [FunnelStep.BOOKING_ATTEMPTED, FunnelStep.BOOKING_SUCCESS]
    visits = defaultdict(list)
    for visitor, name in (
        AnalyticsEvent.objects.exclude(visitor="").order_by("created_at", "pk").values_list("visitor", "name")
    ):
        visits[visitor].append(name)
    booked = [names for names in visits.values() if FunnelStep.BOOKING_SUCCESS in names]
    assert len(booked) == len(on_pages)
    for names in booked:
        assert names[0] == FunnelStep.PAGE_VIEW and names[-2:] == order[-2:]
        assert [order.index(name) for name in names] == sorted(order.index(name) for name in names)
    assert AnalyticsEvent.objects.filter(name=FunnelStep.BOOKING_FAILED).exists()
    assert AnalyticsEvent.objects.filter(name=FunnelStep.SCHEDULE_LATER).exists()
    assert not AnalyticsEvent.objects.filter(created_at__gte=NOW).exists()


def snapshot() -> dict[str, list]:
    """The history, without its ids (PostgreSQL's sequences don't roll back)."""
    return {
        "sessions": sorted(
            Session.objects.values_list("coach_id", "session_type_id", "start", "status", "seats_taken", "ended_at")
        ),
        "bookings": sorted(
            Booking.objects.values_list(
                "client_id", "booked_by_id", "session__start", "status", "price", "rating", "created_at"
            )
        ),
        "events": sorted(
            BookingEvent.objects.values_list("booking__client_id", "booking__session__start", "action", "created_at")
        ),
        "analytics": sorted(AnalyticsEvent.objects.values_list("name", "visitor", "coach_id", "created_at")),
    }


class Rollback(Exception):
    pass


def made_with(people, seed: int) -> dict[str, list]:
    try:
        with transaction.atomic():
            make(people, seed=seed, last_day=dt.date(2026, 10, 15))
            found = snapshot()
            raise Rollback
    except Rollback:
        pass
    return found


def test_a_seed_always_gives_the_same_history(people):
    first = made_with(people, 7)

    assert first["bookings"]
    assert made_with(people, 7) == first
    assert made_with(people, 8) != first


def test_it_refuses_what_is_not_history(people):
    today = NOW.date()
    for last_day in (today, today + dt.timedelta(days=3)):
        with pytest.raises(ValueError, match="past"):
            make(people, last_day=last_day)
    with pytest.raises(ValueError, match="coach"):
        make(people, coaches=[])
    with pytest.raises(ValueError):
        make(people, first_day=LAST, last_day=FIRST)
    assert not Session.objects.exists()


def test_it_keeps_clear_of_what_is_booked_already(people):
    """A second history over the first: nobody double-booked (PostgreSQL's exclusion
    constraints would refuse an overlap of the coaches' or the room's time)."""
    make(people, sessions_per_coach_per_week=5)
    make(people, sessions_per_coach_per_week=5, seed=8)
    for key in ("staff_id", "resource_id"):
        rows = defaultdict(list)
        for owner, start, end in Allocation.objects.filter(**{f"{key}__isnull": False}, is_active=True).values_list(
            key, "blocked_start", "blocked_end"
        ):
            rows[owner].append((start, end))
        for spans in rows.values():
            for (_, end), (start, _) in itertools.pairwise(sorted(spans)):
                assert end <= start


# --- seed_demo -------------------------------------------------------------------------


def test_seed_demo_adds_history_before_its_calendar_once():
    with time_machine.travel(NOW, tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        first = (
            Session.objects.count(),
            Booking.objects.count(),
            BookingEvent.objects.count(),
            Payment.objects.count(),
        )
        call_command("seed_demo", stdout=StringIO())

    assert "Demo history created" in out.getvalue()
    assert (
        Session.objects.count(),
        Booking.objects.count(),
        BookingEvent.objects.count(),
        Payment.objects.count(),
    ) == first
    marked = Booking.objects.filter(events__data__has_key="history").distinct()
    calendar = Booking.objects.exclude(pk__in=marked.values("pk"))
    assert marked.count() > 200 and calendar.exists()
    earliest = min(calendar.values_list("session__start", flat=True))
    assert max(marked.values_list("session__end", flat=True)) < earliest
    assert min(marked.values_list("session__start", flat=True)) < earliest - dt.timedelta(weeks=24)
    assert history_exists(User.objects.filter(role=Role.COACH))
