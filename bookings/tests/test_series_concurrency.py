"""Recurring series under real concurrency (issue 17): threads, each with its own
connection, released together (``run_together`` from ``test_concurrency``), on whichever
database the suite runs on. Two clients booking overlapping series at once, a series
against single bookings for one of its dates, a series against a reschedule into one of
its dates: never two active allocations of the coach over one time, never a half-written
series, and the loser writes nothing.

Each round uses a coach of its own, so the rounds don't see each other's sessions.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tests.factories import ClientFactory
from availability.models import Allocation
from bookings import services
from bookings.models import Booking, BookingEvent, BookingStatus, Series, Session
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from bookings.tests.test_concurrency import _codes, run_together

pytestmark = pytest.mark.django_db(transaction=True)
PARIS = ZoneInfo("Europe/Paris")
COUNT = 8
ROUNDS = 4


def _at(week: int, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock Paris wall time, two days from today plus ``week`` weeks (inside
    the 09–17 window ``open_coach`` gives), in UTC."""
    day = timezone.localdate(timezone=PARIS) + dt.timedelta(days=2, weeks=week)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS).astimezone(dt.UTC)


def _series(client, session_type, *, week: int = 0, hour: int = 10, count: int = COUNT, on_conflict="all_or_nothing"):
    return lambda: series_services.book_series(
        client=client,
        session_type=session_type,
        start=_at(week, hour),
        count=count,
        on_conflict=on_conflict,
    )


def _assert_ledger_sound(coach) -> None:
    """No two active allocations of the coach overlap (their blocked ranges), every
    active allocation belongs to an active booking's session, and every series is whole."""
    rows = sorted(
        Allocation.objects.filter(staff=coach, is_active=True).values_list("blocked_start", "blocked_end", "session_id")
    )
    for (_start, end, _session), (next_start, _end, _next) in pairwise(rows):
        assert end <= next_start, f"overlapping allocations of the coach: {rows}"
    active = Booking.objects.filter(session__coach=coach, status=BookingStatus.FIRM_BOOKED).values_list(
        "session_id", flat=True
    )
    assert sorted(session for _s, _e, session in rows) == sorted(active)
    for series in Series.objects.filter(coach=coach):
        bookings = Booking.objects.filter(series=series)
        assert bookings.exists(), "a Series row without its bookings"
        assert BookingEvent.objects.filter(booking__series=series).count() == bookings.count()
        assert sum(1 for event in BookingEvent.objects.filter(booking__series=series) if event.data.get("lead")) == 1


def _assert_wrote_nothing(client) -> None:
    assert not Series.objects.filter(client=client).exists()
    assert not Booking.objects.filter(client=client).exists()
    assert not BookingEvent.objects.filter(booking__client=client).exists()


def _starts(client) -> list[dt.datetime]:
    return sorted(
        Booking.objects.filter(client=client, status=BookingStatus.FIRM_BOOKED).values_list("session__start", flat=True)
    )


@pytest.mark.parametrize("offset", [0, 3])
def test_two_clients_booking_overlapping_series_at_once_one_wins_whole(offset):
    """Two series of 8 (the second starting ``offset`` weeks later, so they share 8 −
    ``offset`` dates), all or nothing: exactly one is booked, the other is refused as taken
    and has written nothing."""
    winners = {"first": 0, "second": 0}
    for n in range(ROUNDS):
        coach = open_coach()
        session_type = SessionTypeFactory(coach=coach)
        first, second = ClientFactory(), ClientFactory()

        results = run_together(
            [_series(first, session_type, hour=10 + n), _series(second, session_type, week=offset, hour=10 + n)]
        )

        assert sorted(_codes(results).items()) == [("ok", 1), ("slot_taken", 1)], results
        winner, loser = (first, second) if results[1] == "slot_taken" else (second, first)
        winners["first" if winner == first else "second"] += 1
        series, outcomes = results[0] if winner == first else results[1]
        assert len(outcomes) == COUNT and all(o.status == BookingStatus.FIRM_BOOKED for o in outcomes)
        week = 0 if winner == first else offset
        assert _starts(winner) == [_at(week + k, 10 + n) for k in range(COUNT)]
        assert Booking.objects.filter(series=series).count() == COUNT
        assert Series.objects.filter(coach=coach).count() == 1
        assert Session.objects.filter(coach=coach).count() == COUNT
        _assert_wrote_nothing(loser)
        _assert_ledger_sound(coach)
    assert sum(winners.values()) == ROUNDS


def test_several_clients_racing_for_one_series_exactly_one_books_it():
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    clients = [ClientFactory() for _ in range(6)]

    results = run_together(
        [_series(client, session_type, week=index % 3, hour=11) for index, client in enumerate(clients)]
    )

    assert _codes(results) == {"ok": 1, "slot_taken": 5}, results
    (winner,) = [client for client, result in zip(clients, results, strict=True) if not isinstance(result, str)]
    assert len(_starts(winner)) == COUNT
    for client in clients:
        if client != winner:
            _assert_wrote_nothing(client)
    assert Series.objects.count() == 1
    assert Session.objects.count() == Booking.objects.count() == COUNT
    _assert_ledger_sound(coach)


def test_skipping_series_with_partly_shared_dates_never_double_book():
    """Series of 8 from weeks 0 and 4 (sharing weeks 4–7), both skipping what is taken:
    together they hold weeks 0–11 each exactly once; the one that came second lists the
    shared dates it lost as skipped."""
    for n in range(ROUNDS):
        coach = open_coach()
        session_type = SessionTypeFactory(coach=coach)
        early, late = ClientFactory(), ClientFactory()
        hour = 10 + n

        results = run_together(
            [
                _series(early, session_type, hour=hour, on_conflict="skip"),
                _series(late, session_type, week=4, hour=hour, on_conflict="skip"),
            ]
        )

        assert _codes(results) == {"ok": 2}, results
        early_starts, late_starts = _starts(early), _starts(late)
        assert sorted(early_starts + late_starts) == [_at(week, hour) for week in range(12)]
        assert set(early_starts) >= {_at(week, hour) for week in range(4)}
        assert set(late_starts) >= {_at(week, hour) for week in range(8, 12)}
        for client, (series, outcomes) in zip((early, late), results, strict=True):
            booked = [o for o in outcomes if o.booking is not None]
            skipped = [o for o in outcomes if o.booking is None]
            assert len(outcomes) == COUNT
            assert len(booked) == Booking.objects.filter(series=series).count() == len(_starts(client))
            assert {o.code for o in skipped} <= {"slot_taken"}
            series.refresh_from_db()
            listed = sorted(entry["date"] for entry in series.exceptions if entry["kind"] == "skipped")
            assert listed == sorted(o.start.isoformat() for o in skipped)
        assert Session.objects.filter(coach=coach).count() == 12
        _assert_ledger_sound(coach)


def test_series_against_single_bookings_for_its_dates_never_both():
    """A series of 8, all or nothing, while three other clients each book one of its dates:
    either the series holds all 8 and every single booking is refused, or the series is
    refused (and wrote nothing) and every single booking holds its date."""
    outcomes = {"series": 0, "singles": 0}
    for n in range(ROUNDS):
        coach = open_coach()
        session_type = SessionTypeFactory(coach=coach)
        owner = ClientFactory()
        singles = [ClientFactory() for _ in range(3)]
        hour = 10 + n
        weeks = (1, 3, 6)

        results = run_together(
            [_series(owner, session_type, hour=hour)]
            + [
                lambda c=client, w=week: services.book_slot(client=c, session_type=session_type, start=_at(w, hour))
                for client, week in zip(singles, weeks, strict=True)
            ]
        )

        series_result, single_results = results[0], results[1:]
        if isinstance(series_result, str):
            outcomes["singles"] += 1
            assert series_result == "slot_taken"
            assert _codes(single_results) == {"ok": 3}, results
            _assert_wrote_nothing(owner)
            for client, week in zip(singles, weeks, strict=True):
                assert _starts(client) == [_at(week, hour)]
            assert Session.objects.filter(coach=coach).count() == 3
        else:
            outcomes["series"] += 1
            assert _codes(single_results) == {"slot_taken": 3}, results
            assert _starts(owner) == [_at(week, hour) for week in range(COUNT)]
            for client in singles:
                assert not Booking.objects.filter(client=client).exists()
            assert Session.objects.filter(coach=coach).count() == COUNT
        _assert_ledger_sound(coach)
    assert sum(outcomes.values()) == ROUNDS


def test_skipping_series_against_a_single_booking_each_date_held_once():
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    owner, single = ClientFactory(), ClientFactory()

    results = run_together(
        [
            _series(owner, session_type, hour=12, on_conflict="skip"),
            lambda: services.book_slot(client=single, session_type=session_type, start=_at(2, 12)),
        ]
    )

    assert "ok" in _codes(results)
    held = _starts(owner) + _starts(single)
    assert sorted(held) == [_at(week, 12) for week in range(COUNT)]
    assert Session.objects.filter(coach=coach).count() == COUNT
    if isinstance(results[1], str):
        assert results[1] == "slot_taken" and len(_starts(owner)) == COUNT
    else:
        assert _starts(single) == [_at(2, 12)] and _at(2, 12) not in _starts(owner)
    _assert_ledger_sound(coach)


def test_series_races_a_reschedule_into_one_of_its_dates():
    """A client moves their booking (an hour earlier, in week 5) to the series' week-5 time
    while another books the series: either the move wins (the series is refused, wrote
    nothing) or the series wins (the booking stays where it was)."""
    outcomes = {"series": 0, "move": 0}
    for n in range(ROUNDS):
        coach = open_coach()
        session_type = SessionTypeFactory(coach=coach)
        hour = 11 + n
        mover, owner = ClientFactory(), ClientFactory()
        old_start, target = _at(5, hour - 1), _at(5, hour)
        booking = services.book_slot(client=mover, session_type=session_type, start=old_start)

        results = run_together(
            [
                _series(owner, session_type, hour=hour),
                lambda b=booking, m=mover, t=target: services.reschedule(booking=b, actor=m, start=t),
            ]
        )

        assert sorted(_codes(results).values()) == [1, 1], results
        assert "slot_taken" in results
        booking.refresh_from_db()
        assert booking.status == BookingStatus.FIRM_BOOKED
        if results[0] == "slot_taken":  # the move won
            outcomes["move"] += 1
            assert booking.session.start == target
            assert booking.rescheduled_from.start == old_start
            _assert_wrote_nothing(owner)
            assert _starts(mover) == [target]
            assert Session.objects.filter(coach=coach).count() == 2  # the old one and the new
        else:
            outcomes["series"] += 1
            assert booking.session.start == old_start
            assert booking.rescheduled_from is None
            assert _starts(owner) == [_at(week, hour) for week in range(COUNT)]
            assert Session.objects.filter(coach=coach).count() == COUNT + 1
        _assert_ledger_sound(coach)
    assert sum(outcomes.values()) == ROUNDS
