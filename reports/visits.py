"""The booking funnel's aggregates: the analytics events (``reports.funnel``) folded into
``FunnelRollup`` (visits per step) and ``DemandRollup`` (times chosen), and the same per
hour over every coach (``PracticeFunnel``, ``PracticeDemand``), so a report never counts
distinct visitors over a year of events on a page view.

``fold`` takes the events recorded since the last fold, in id order, a chunk at a time,
under the reports' lock (``RollupState``, whose ``funnel_through`` says how far it got).
A visit — one visitor's steps of one kind on one UTC day — counts once, in the quarter
hour of the first of its events folded; a step without a browser session counts alone.
The "time chosen" events count in the quarter hour of the time chosen, so the popular
times of demand cover the same sessions' times as those of bookings. The q2 cluster folds
every minute; ``rebuild`` folds every event kept from scratch (``manage.py
rebuild_report_rollups`` runs it with the bookings' rebuild) and gives the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from reports.models import (
    AnalyticsEvent,
    DemandRollup,
    FunnelRollup,
    FunnelStep,
    PracticeDemand,
    PracticeFunnel,
    RollupState,
)
from reports.rollups import bucket_of, hour_of

CHUNK = 5000
# How old an event must be to be folded (see _fold_chunk).
SETTLE = dt.timedelta(seconds=30)
FIELDS = ("pk", "name", "visitor", "coach_id", "session_type_id", "data", "created_at")

VisitKey = tuple[str, str, dt.date]  # (visitor, step, UTC day)


def _lock() -> RollupState:
    state, _made = RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=state.pk)


def _chosen(data: object) -> dt.datetime | None:
    """The aware instant a "time chosen" event names, or None."""
    value = data.get("time") if isinstance(data, dict) else None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _seen_before(events: Sequence[tuple], before_pk: int) -> set[VisitKey]:
    """The visits of ``events`` that already have an event folded before them."""
    visitors = {event[2] for event in events if event[2]}
    if not visitors:
        return set()
    days = [event[6].astimezone(dt.UTC).date() for event in events]
    start = dt.datetime.combine(min(days), dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    earlier = AnalyticsEvent.objects.filter(
        pk__lt=before_pk, visitor__in=visitors, created_at__gte=start, created_at__lt=end
    ).values_list("visitor", "name", "created_at")
    return {(visitor, name, created.astimezone(dt.UTC).date()) for visitor, name, created in earlier.iterator()}


def _count(events: Sequence[tuple]) -> tuple[Counter, Counter]:
    """The visits per (bucket, coach, type, step) and times chosen per (bucket, coach,
    type) that ``events`` (the next ones in id order) add."""
    seen = _seen_before(events, events[0][0])
    visits: Counter = Counter()
    chosen: Counter = Counter()
    for _pk, name, visitor, coach_id, type_id, data, created in events:
        if visitor:
            key = (visitor, name, created.astimezone(dt.UTC).date())
            if key in seen:
                continue
            seen.add(key)
        visits[(bucket_of(created), coach_id or 0, type_id or 0, name)] += 1
        if name == FunnelStep.TIME_SELECTED and (moment := _chosen(data)) is not None:
            chosen[(bucket_of(moment), coach_id or 0, type_id or 0)] += 1
    return visits, chosen


def _add(model, counts: Counter, key_fields: Sequence[str], value: str) -> None:
    """Add ``counts`` to the rows of ``model`` with those keys (made when missing)."""
    if not counts:
        return
    buckets = {key[0] for key in counts}
    existing = {
        tuple(getattr(row, name) for name in key_fields): row
        for row in model.objects.filter(bucket__in=buckets).only(*key_fields, value)
    }
    changed, made = [], []
    for key, n in counts.items():
        row = existing.get(key)
        if row is None:
            made.append(model(**dict(zip(key_fields, key, strict=True)), **{value: n}))
        else:
            setattr(row, value, getattr(row, value) + n)
            changed.append(row)
    model.objects.bulk_update(changed, [value], batch_size=1000)
    model.objects.bulk_create(made, batch_size=1000)


def _fold_chunk(state: RollupState, chunk: int, settled: dt.datetime) -> int:
    events = list(
        AnalyticsEvent.objects.filter(pk__gt=state.funnel_through).order_by("pk").values_list(*FIELDS)[:chunk]
    )
    # Ids are taken before commits: an event still being written may have a lower id than
    # one already visible. Stop at the first event too recent to be sure of, and fold it later.
    for index, event in enumerate(events):
        if event[6] >= settled:
            events = events[:index]
            break
    if not events:
        return 0
    visits, chosen = _count(events)
    _add(FunnelRollup, visits, ("bucket", "coach_id", "session_type_id", "step"), "visits")
    _add(DemandRollup, chosen, ("bucket", "coach_id", "session_type_id"), "chosen")
    # The same, every coach and type together, per hour.
    practice_visits: Counter = Counter()
    for (bucket, _coach, _type, step), n in visits.items():
        practice_visits[(hour_of(bucket), step)] += n
    practice_chosen: Counter = Counter()
    for (bucket, _coach, _type), n in chosen.items():
        practice_chosen[(hour_of(bucket),)] += n
    _add(PracticeFunnel, practice_visits, ("bucket", "step"), "visits")
    _add(PracticeDemand, practice_chosen, ("bucket",), "chosen")
    state.funnel_through = events[-1][0]
    state.save(update_fields=["funnel_through"])
    return len(events)


def _settled(now: dt.datetime | None) -> dt.datetime:
    return (now or timezone.now()) - SETTLE


def fold(*, chunk: int = CHUNK, now: dt.datetime | None = None) -> int:
    """Fold the events recorded since the last fold (every minute on the q2 cluster), a
    chunk per transaction; returns how many."""
    folded = 0
    settled = _settled(now)
    while True:
        with transaction.atomic():
            done = _fold_chunk(_lock(), chunk, settled)
        if not done:
            return folded
        folded += done


def rebuild(*, chunk: int = CHUNK, now: dt.datetime | None = None) -> int:
    """Both rollups from every analytics event kept, from scratch; returns how many events."""
    folded = 0
    settled = _settled(now)
    with transaction.atomic():
        state = _lock()
        for model in (FunnelRollup, DemandRollup, PracticeFunnel, PracticeDemand):
            model.objects.all().delete()
        state.funnel_through = 0
        while done := _fold_chunk(state, chunk, settled):
            folded += done
    return folded
