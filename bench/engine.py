"""Time the pure slot engine (no Django, no database) against plain-Python baselines
measured in the same run.  Run: .venv/bin/python bench/engine.py (or make bench).

Workload: one coach in Europe/Paris, three windows every day, a 93-day range that crosses
the spring-forward change, a 15-minute step, 60-minute sessions with 10-minute buffers,
500 busy intervals, a few overrides and a week of time off.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import random
import statistics
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from availability.slots import BusyInterval, DateOverride, SlotRules, TimeOff, WeeklyWindow, free_slots

RUNS = 50
WARMUP = 5
ZONE = ZoneInfo("Europe/Paris")
FIRST_DAY = date(2026, 2, 9)  # the range crosses 2026-03-29, when Paris springs forward
DAYS = 93
BUSY_COUNT = 500


def median_ms(fn: Callable[[], object], *, runs: int = RUNS, warmup: int = WARMUP) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = clock.perf_counter()
        fn()
        samples.append((clock.perf_counter() - started) * 1000)
    return statistics.median(samples)


def workload() -> dict[str, object]:
    every_day = frozenset(range(7))
    windows = [
        WeeklyWindow(weekdays=every_day, start=time(8), end=time(12)),
        WeeklyWindow(weekdays=every_day, start=time(13), end=time(17)),
        WeeklyWindow(weekdays=every_day, start=time(18), end=time(21)),
    ]
    overrides = [
        DateOverride(day=FIRST_DAY + timedelta(days=10), windows=()),
        DateOverride(day=FIRST_DAY + timedelta(days=20), windows=((time(10), time(14)),)),
        DateOverride(day=FIRST_DAY + timedelta(days=40), windows=()),
    ]
    holiday_start = datetime.combine(FIRST_DAY + timedelta(days=60), time(), tzinfo=ZONE)
    time_off = [TimeOff(start=holiday_start, end=holiday_start + timedelta(days=7))]

    rng = random.Random(20260209)
    range_start = datetime.combine(FIRST_DAY, time(), tzinfo=ZONE)
    busy = []
    for _ in range(BUSY_COUNT):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        start = datetime.combine(day, time(rng.randrange(8, 21), rng.choice((0, 15, 30, 45))), tzinfo=ZONE)
        busy.append(BusyInterval(start=start, end=start + timedelta(minutes=rng.choice((30, 45, 60, 90)))))

    rules = SlotRules(
        duration=timedelta(minutes=60),
        step=timedelta(minutes=15),
        minimum_notice=timedelta(hours=12),
        booking_window=timedelta(days=120),
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=10),
        max_per_day=None,
        max_per_week=None,
    )
    return {
        "windows": windows,
        "overrides": overrides,
        "time_off": time_off,
        "busy": busy,
        "rules": rules,
        "zone": ZONE,
        "range_start": range_start,
        "range_end": range_start + timedelta(days=DAYS),
        "now": range_start - timedelta(days=1),
    }


def main() -> None:
    arguments = workload()
    slots = free_slots(**arguments)
    engine = median_ms(lambda: free_slots(**arguments))

    # Baseline 1: build as many (start, end) datetime pairs as the engine returns.
    base = datetime(2026, 2, 9, 7, tzinfo=UTC)
    step, hour, count = timedelta(minutes=15), timedelta(hours=1), len(slots)

    def build_pairs() -> list[tuple[datetime, datetime]]:
        return [(base + index * step, base + index * step + hour) for index in range(count)]

    pairs = median_ms(build_pairs)

    # Baseline 2: sort 10,000 shuffled aware datetimes.
    shuffled = [base + index * step for index in range(10_000)]
    random.Random(1).shuffle(shuffled)
    sorting = median_ms(lambda: sorted(shuffled))

    rules = arguments["rules"]
    candidates = DAYS * sum(  # grid starts whose slot fits in each window
        (datetime.combine(FIRST_DAY, w.end) - datetime.combine(FIRST_DAY, w.start) - rules.duration) // rules.step + 1
        for w in arguments["windows"]
    )
    print(f"Slot engine, {DAYS} days, 3 windows/day, 15-min step, {BUSY_COUNT} busy intervals, {ZONE.key}")
    print(f"  ~{candidates} grid candidates (60-min sessions), {len(slots)} free slots; median of {RUNS} runs")
    print(f"  {'what':<46} {'median ms':>10} {'× baseline':>11}")
    print(f"  {'free_slots()':<46} {engine:>10.2f} {engine / pairs:>11.1f}")
    print(f"  {f'baseline: build {count} datetime pairs':<46} {pairs:>10.2f} {1:>11.1f}")
    print(f"  {'baseline: sort 10,000 datetimes':<46} {sorting:>10.2f} {sorting / pairs:>11.1f}")
    print(f"  free_slots() / sort 10,000 datetimes = {engine / sorting:.1f}")


if __name__ == "__main__":
    main()
