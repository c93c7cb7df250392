"""The booking funnel's rollups: a visit counts once per step and UTC day, the times chosen
count at the time chosen, an event too recent waits for the next fold, and folding in
pieces gives the rows a rebuild gives."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from reports import figures, visits
from reports.models import (
    AnalyticsEvent,
    DemandRollup,
    FunnelRollup,
    FunnelStep,
    PracticeDemand,
    PracticeFunnel,
    RollupState,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 10, 12, tzinfo=UTC)
JUNE = figures.Filters(dt.date(2026, 6, 1), dt.date(2026, 6, 30), UTC)


def event(step, at, visitor="v" * 32, coach=7, session_type=3, **data) -> AnalyticsEvent:
    return AnalyticsEvent(
        name=step, visitor=visitor, coach_id=coach, session_type_id=session_type, data=data, created_at=at
    )


def counts(filters=JUNE) -> dict[str, int]:
    return {row.step: row.visitors for row in figures.funnel(filters)[0]}


def rows() -> tuple[list, list, list, list]:
    funnel = sorted(FunnelRollup.objects.values_list("bucket", "coach_id", "session_type_id", "step", "visits"))
    demand = sorted(DemandRollup.objects.values_list("bucket", "coach_id", "session_type_id", "chosen"))
    practice_funnel = sorted(PracticeFunnel.objects.values_list("bucket", "step", "visits"))
    practice_demand = sorted(PracticeDemand.objects.values_list("bucket", "chosen"))
    return funnel, demand, practice_funnel, practice_demand


def test_a_visit_counts_once_per_step_and_day_and_a_step_without_a_session_alone():
    monday = dt.datetime(2026, 6, 1, 9, tzinfo=UTC)
    AnalyticsEvent.objects.bulk_create(
        [
            event(FunnelStep.PAGE_VIEW, monday),
            event(FunnelStep.PAGE_VIEW, monday + dt.timedelta(minutes=40)),  # the same visit
            event(FunnelStep.PAGE_VIEW, monday + dt.timedelta(days=1)),  # another day: another visit
            event(FunnelStep.PAGE_VIEW, monday, visitor="w" * 32),
            event(FunnelStep.PAGE_VIEW, monday, visitor=""),  # no browser session: alone
            event(FunnelStep.PAGE_VIEW, monday, visitor=""),
            event(FunnelStep.ST_SELECTED, monday),
        ]
    )
    assert visits.fold(now=NOW) == 7
    assert counts()[FunnelStep.PAGE_VIEW] == 5
    assert counts()[FunnelStep.ST_SELECTED] == 1
    assert (
        counts(figures.Filters(dt.date(2026, 6, 1), dt.date(2026, 6, 30), UTC, coach_id=8))[FunnelStep.PAGE_VIEW] == 0
    )
    assert counts(figures.Filters(dt.date(2026, 6, 2), dt.date(2026, 6, 30), UTC))[FunnelStep.PAGE_VIEW] == 1
    # The same visit's step in a later fold is not counted again.
    AnalyticsEvent.objects.create(
        name=FunnelStep.PAGE_VIEW, visitor="w" * 32, coach_id=7, session_type_id=3, created_at=monday
    )
    assert visits.fold(now=NOW) == 1
    assert counts()[FunnelStep.PAGE_VIEW] == 5
    assert visits.fold(now=NOW) == 0


def test_times_chosen_count_at_the_time_chosen_in_the_viewers_zone():
    seen = dt.datetime(2026, 5, 20, 8, tzinfo=UTC)  # in May
    chosen = "2026-06-03T15:30:00+02:00"  # a Wednesday, 13:30 UTC, 09:30 New York
    AnalyticsEvent.objects.bulk_create(
        [
            event(FunnelStep.TIME_SELECTED, seen, time=chosen),
            event(FunnelStep.TIME_SELECTED, seen, visitor="x" * 32, time=chosen),
            event(FunnelStep.TIME_SELECTED, seen, visitor="y" * 32, time="not a time"),
            event(FunnelStep.TIME_SELECTED, seen, visitor="z" * 32, time="2026-06-03T15:30:00"),  # no zone
        ]
    )
    visits.fold(now=NOW)
    assert figures.demand(JUNE)[2][13] == 2
    new_york = figures.Filters(dt.date(2026, 6, 1), dt.date(2026, 6, 30), figures.ZoneInfo("America/New_York"))
    assert figures.demand(new_york)[2][9] == 2
    assert sum(map(sum, figures.demand(JUNE))) == 2
    # The visits themselves count in May, when they happened.
    assert counts()[FunnelStep.TIME_SELECTED] == 0
    may = figures.Filters(dt.date(2026, 5, 1), dt.date(2026, 5, 31), UTC)
    assert counts(may)[FunnelStep.TIME_SELECTED] == 4


def test_an_event_too_recent_waits_and_nothing_after_it_is_skipped():
    old = AnalyticsEvent.objects.create(
        name=FunnelStep.PAGE_VIEW, visitor="a" * 32, created_at=NOW - dt.timedelta(minutes=5)
    )
    fresh = AnalyticsEvent.objects.create(name=FunnelStep.PAGE_VIEW, visitor="b" * 32, created_at=NOW)
    AnalyticsEvent.objects.create(name=FunnelStep.PAGE_VIEW, visitor="c" * 32, created_at=NOW - dt.timedelta(hours=1))
    assert visits.fold(now=NOW) == 1
    assert RollupState.objects.get().funnel_through == old.pk < fresh.pk
    assert visits.fold(now=NOW + dt.timedelta(minutes=1)) == 2


def test_folding_in_pieces_gives_what_a_rebuild_gives():
    rng = random.Random(5)
    made = []
    for _ in range(400):
        step = rng.choice(figures.FUNNEL)
        at = dt.datetime(2026, 6, 1, tzinfo=UTC) + dt.timedelta(minutes=rng.randrange(60 * 24 * 5))
        data = {"time": (at + dt.timedelta(days=2)).isoformat()} if step == FunnelStep.TIME_SELECTED else {}
        made.append(
            event(step, at, visitor=rng.choice(["", "p" * 32, "q" * 32, "r" * 32]), coach=rng.choice([7, 8]), **data)
        )
    AnalyticsEvent.objects.bulk_create(made)
    assert visits.fold(chunk=37, now=NOW) == 400
    pieces = rows()
    assert visits.rebuild(now=NOW) == 400
    assert rows() == pieces
    assert sum(n for *_k, n in pieces[0]) < 400  # repeated visits were counted once
    # The practice-wide rows: the per-coach rows summed per hour.
    hourly: dict[tuple, int] = {}
    for bucket, _coach, _type, step, n in pieces[0]:
        hourly[(bucket.replace(minute=0), step)] = hourly.get((bucket.replace(minute=0), step), 0) + n
    assert pieces[2] == sorted((*key, n) for key, n in hourly.items())
    assert sum(n for _b, n in pieces[3]) == sum(n for *_k, n in pieces[1]) > 0
