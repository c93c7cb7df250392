"""manage.py seed_demo's calendar: session types per coach and a few weeks of bookings in
every status, made through the services (so the history and the ledger are true), the
same after a second run, and working whatever today's date is."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from io import StringIO

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db.models import Count, F, Q

from accounts.models import User
from availability.models import Allocation, AllocationKind
from bookings.models import (
    ACTIVE_STATUSES,
    BOOKED_STATUSES,
    INITIAL_STATUSES,
    TRANSITIONS,
    Booking,
    BookingEvent,
    BookingStatus,
    PlannedSession,
    Session,
    SessionKind,
    SessionStatus,
    SessionType,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # a Tuesday
COACHES = {
    "camille.laurent@demo.booking.test": "EUR",
    "marcus.bennett@demo.booking.test": "USD",
    "priya.raman@demo.booking.test": "INR",
}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded():
    with time_machine.travel(NOW, tick=False):
        output = seed()
        yield output


def snapshot() -> dict[str, object]:
    return {
        "types": sorted(SessionType.objects.values_list("coach__email", "title", "kind", "capacity", "price")),
        "sessions": sorted(Session.objects.values_list("pk", "session_type__title", "start", "status", "seats_taken")),
        "bookings": sorted(Booking.objects.values_list("reference", "client__email", "status", "session_id")),
        "events": BookingEvent.objects.count(),
        "allocations": sorted(Allocation.objects.values_list("pk", "is_active", "kind")),
        "plans": sorted(PlannedSession.objects.values_list("client__email", "session_type__title", "closed_at")),
    }


def test_running_it_twice_adds_nothing(seeded):
    first = snapshot()

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        again = seed()

    assert snapshot() == first
    assert "Demo calendar kept" in again
    assert "Demo calendar created" in seeded
    assert "password for every demo account: demo-pass-2026" in again


def test_each_coach_has_a_consultation_a_group_class_and_a_workshop(seeded):
    for email, currency in COACHES.items():
        # The coach's own online types (the practice's room, co-hosted, team and course types aside).
        own = SessionType.objects.filter(
            coach__email=email, host_mode="single", resource_kind="", requires_enrollment=False
        )
        types = {t.kind: t for t in own}
        assert set(types) == {SessionKind.ONE_ON_ONE, SessionKind.GROUP, SessionKind.WORKSHOP}
        assert own.count() == 3
        assert {t.currency for t in types.values()} == {currency}
        assert types[SessionKind.ONE_ON_ONE].capacity == 1
        assert 1 < types[SessionKind.GROUP].capacity <= django_settings.MAX_GROUP_CAPACITY
        assert types[SessionKind.GROUP].capacity <= types[SessionKind.WORKSHOP].capacity
        assert types[SessionKind.WORKSHOP].capacity <= django_settings.MAX_GROUP_CAPACITY
        assert types[SessionKind.WORKSHOP].duration_minutes > types[SessionKind.ONE_ON_ONE].duration_minutes
        assert all(t.price > 0 for t in types.values())


def test_the_practice_has_rooms_co_hosted_and_team_types_subjects_and_tags(seeded):
    from accounts.models import ClientTag, Subject
    from availability.models import Resource

    assert Resource.objects.filter(kind="room", hours__isnull=False).distinct().count() == 2
    in_person = SessionType.objects.get(title="In-person session (Paris office)")
    assert in_person.resource_kind == "room" and in_person.resources.count() == 1
    assert SessionType.objects.get(host_mode="all").co_hosts.count() == 1
    assert SessionType.objects.get(host_mode="any").co_hosts.count() == 2
    assert Subject.objects.filter(coaches__isnull=False).distinct().count() == 5
    assert set(ClientTag.objects.values_list("name", flat=True)) == {"VIP", "Sliding scale"}
    assert all(tag.clients.exists() and tag.rules.exists() for tag in ClientTag.objects.all())


def test_every_status_and_every_case_is_in_the_demo(seeded):
    bookings = Booking.objects.all()
    assert set(bookings.values_list("status", flat=True)) == set(BookingStatus.values)
    # Pending requests for every coach, answerable now.
    for email in COACHES:
        pending = bookings.filter(session__coach__email=email, status=BookingStatus.REQUESTED)
        assert pending.exists(), email
        assert all(b.expires_at > NOW for b in pending)
    assert all(b.decline_reason for b in bookings.filter(status=BookingStatus.DECLINED))
    assert bookings.filter(status=BookingStatus.CANCELLED, is_late_cancellation=True).exists()
    assert bookings.filter(status=BookingStatus.CANCELLED, is_late_cancellation=False).exists()
    assert bookings.filter(status=BookingStatus.COMPLETED, rating__isnull=False).exists()
    assert (
        bookings.filter(status=BookingStatus.COMPLETED, session__end__lt=NOW).count()
        == bookings.filter(status=BookingStatus.COMPLETED).count()
    )
    assert bookings.filter(rescheduled_from__isnull=False, status__in=ACTIVE_STATUSES).exists()
    assert bookings.filter(status=BookingStatus.REQUESTED).exclude(suggested_alternatives=[]).exists()
    assert bookings.filter(status=BookingStatus.REQUESTED).exclude(info_request="").exists()
    # Staff cancelled one for a coach, with a reason.
    assert bookings.filter(cancelled_by__email="staff@demo.booking.test").exclude(cancellation_reason="").exists()
    # Emma booked for Noah, her son.
    assert bookings.filter(
        client__email="noah.fischer@demo.booking.test", booked_by__email="emma.dubois@demo.booking.test"
    ).exists()
    assert PlannedSession.objects.filter(closed_at__isnull=True).exists()
    # Published group sessions and workshops ahead, some seats taken, one full.
    ahead = Session.objects.filter(
        start__gt=NOW, status=SessionStatus.SCHEDULED, session_type__kind__in=[SessionKind.GROUP, SessionKind.WORKSHOP]
    )
    assert ahead.filter(session_type__kind=SessionKind.WORKSHOP).exists()
    assert ahead.filter(seats_taken__gt=0, seats_taken__lt=F("capacity")).exists()
    assert any(session.is_full for session in ahead)
    # A few weeks either side of today.
    starts = list(Session.objects.values_list("start", flat=True))
    assert min(starts) < NOW - dt.timedelta(days=14)
    assert max(starts) > NOW + dt.timedelta(days=7)


def test_every_bookings_history_follows_the_status_machine(seeded):
    events = defaultdict(list)
    for event in BookingEvent.objects.order_by("created_at", "pk"):
        events[event.booking_id].append(event)
    for booking in Booking.objects.all():
        history = events[booking.pk]
        assert history, booking.reference
        assert history[0].from_status == "" and history[0].to_status in INITIAL_STATUSES
        for before, after in itertools.pairwise(history):
            assert after.from_status == before.to_status, booking.reference
            assert after.to_status in TRANSITIONS[after.from_status], booking.reference
        assert history[-1].to_status == booking.status, booking.reference
        assert booking.reference == f"BK-{booking.created_at:%Y}-{booking.pk:06d}"


def test_the_history_of_past_sessions_reads_in_time(seeded):
    """Past bookings were made before their session and closed after it."""
    for booking in Booking.objects.filter(status__in=[BookingStatus.COMPLETED, BookingStatus.NO_SHOW]):
        history = list(booking.events.order_by("created_at", "pk"))
        assert history[0].created_at < booking.session.start, booking.reference
        assert history[-1].created_at >= booking.session.start, booking.reference
        assert history[-1].created_at <= NOW


def test_the_ledger_matches_the_bookings(seeded):
    for session in Session.objects.select_related("session_type"):
        active = session.bookings.filter(status__in=ACTIVE_STATUSES)
        holds = Allocation.objects.filter(session=session, is_active=True, staff__isnull=False)
        if session.status == SessionStatus.CANCELLED:
            assert not holds.exists() and not active.exists()
            continue
        assert holds.count() == 1, session
        if session.status == SessionStatus.SCHEDULED:
            assert session.seats_taken == active.count(), session
            if not session.session_type.is_group and active.exists():
                # A request and a booking awaiting its payment hold their time tentatively.
                tentative = (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT)
                expected = AllocationKind.REQUEST if active.get().status in tentative else AllocationKind.SESSION
                assert holds.get().kind == expected
        else:
            assert not active.exists(), session
    # No coach is in two places at once.
    for coach in User.objects.filter(email__in=COACHES):
        rows = sorted(
            Allocation.objects.filter(staff=coach, is_active=True).values_list("blocked_start", "blocked_end")
        )
        for (_, end), (start, _) in itertools.pairwise(rows):
            assert end <= start
    # No client in two sessions at once.
    for client in User.objects.filter(bookings__isnull=False).distinct():
        spans = sorted(
            Booking.objects.filter(client=client, status__in=(*ACTIVE_STATUSES, BookingStatus.COMPLETED)).values_list(
                "session__start", "session__end"
            )
        )
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, client


def test_booked_statuses_fill_the_seats_they_hold(seeded):
    counts = dict(
        Session.objects.filter(status=SessionStatus.SCHEDULED)
        .annotate(held=Count("bookings", filter=Q(bookings__status__in=ACTIVE_STATUSES)))
        .values_list("pk", "held")
    )
    for session in Session.objects.filter(pk__in=counts):
        assert session.seats_taken == counts[session.pk] <= session.capacity
    assert Booking.objects.filter(status__in=BOOKED_STATUSES, session__start__gt=NOW).exists()


@pytest.mark.parametrize(
    "today",
    [
        dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # a Sunday, the night Europe moves its clocks
        dt.datetime(2026, 12, 31, 22, 0, tzinfo=UTC),  # New Year's Eve, already 1 January in Kolkata
        dt.datetime(2027, 7, 14, 12, 0, tzinfo=UTC),  # a midsummer Wednesday
    ],
    ids=["dst-sunday", "new-year", "midsummer"],
)
def test_it_works_whatever_the_date(today):
    with time_machine.travel(today, tick=False):
        output = seed()
        first = snapshot()
        seed()

    assert "Demo calendar created" in output
    assert snapshot() == first
    assert set(Booking.objects.values_list("status", flat=True)) == set(BookingStatus.values)


def test_it_works_with_group_sessions_turned_off_or_smaller(settings):
    settings.ENABLE_GROUP_SESSIONS = False
    settings.MAX_GROUP_CAPACITY = 3
    with time_machine.travel(NOW, tick=False):
        seed()

    assert not Session.objects.exclude(session_type__kind=SessionKind.ONE_ON_ONE).exists()
    assert not SessionType.objects.filter(capacity__gt=3).exists()
    assert Booking.objects.filter(status=BookingStatus.REQUESTED).exists()
