"""A 52-occurrence weekly series beside one single booking, measured in the same run.

Each iteration uses coaches and a client of its own (Europe/Paris, open 08:00–20:00 every
day, 60-minute sessions, no notice/buffers/limits in the way, a 400-day booking window and
series horizon), so every measured call books into a free calendar. Measured, one call
after another in one process, ``REPEAT`` times after ``WARMUP`` unmeasured iterations:

1. one single booking (``services.book_slot``) — the baseline;
2. the preview of a weekly series of 52 (``series.preview_series``: the verdict of each
   occurrence, books nothing);
3. the booking of that series (``series.book_series``, its own preview included), all or
   nothing, every occurrence free.

Prints each one's p50 and p90 wall time in ms, its queries (CaptureQueriesContext, one warm
call) and its p50 as a multiple of the single booking's, against the target (issue 17): the
whole series' booking at most 10× one booking. Beside it, the p50 of this process's CPU time
(time.process_time), which other load on the machine moves less than the wall time: on
SQLite it is nearly all the work; on PostgreSQL the server's share is not in it. The
relay's wake-up after a commit is switched off (RELAY_WAKE=false) so that no sample carries
a task-queue insert; the events are left for the relay, as in ``bench/booking.py``.

Run: make bench, or .venv/bin/python bench/series.py (SQLite in a temporary file; with
DATABASE_URL=postgres://… a fresh <name>_bench database beside that one). BENCH_PROFILE=N
also books N more series under cProfile and prints the top functions (cumulative and own
time); BENCH_REPEAT sets the number of measured runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

from bench.common import setup_django

PARIS = ZoneInfo("Europe/Paris")
OCCURRENCES = 52
REPEAT = int(os.environ.get("BENCH_REPEAT", 40))
WARMUP = 3
TARGET_RATIO = 10.0


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    os.environ.setdefault("RELAY_WAKE", "false")
    vendor = setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts import services as accounts
    from accounts.models import User
    from availability import services as availability
    from bookings import services
    from bookings.models import Booking, BookingStatus, SessionType
    from bookings.services import series as series_services

    people = iter(range(10**6))

    def person(role: str = "client") -> User:
        return accounts.create_user(
            email=f"{role}{next(people)}@bench.example",
            password=None,
            role=role,
            timezone_name="Europe/Paris",
            email_verified=True,
        )

    def open_coach() -> SessionType:
        coach = person("coach")
        profile = coach.coach_profile
        for name, value in {
            "minimum_notice_hours": 0,
            "booking_window_days": 400,
            "series_horizon_days": 400,
            "slot_step_minutes": 60,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
            "max_sessions_per_day": 24,
            "max_sessions_per_week": 168,
            "firm_booking_threshold_hours": 0,
            "require_approval_unconnected": False,
            "allow_firm_booking": True,
            "allow_series": True,
            "series_requires_approval": False,
        }.items():
            setattr(profile, name, value)
        profile.save()
        availability.replace_availability(
            coach=coach,
            actor=coach,
            weekly=[availability.WindowSpec(day, dt.time(8), dt.time(20)) for day in range(7)],
            overrides=[],
        )
        return SessionType.objects.create(coach=coach, title="Consultation", duration_minutes=60)

    first_day = timezone.localdate(timezone=PARIS) + dt.timedelta(days=2)

    def at(day: int, hour: int) -> dt.datetime:
        local = dt.datetime.combine(first_day + dt.timedelta(days=day), dt.time(hour), tzinfo=PARIS)
        return local.astimezone(dt.UTC)

    profiling = int(os.environ.get("BENCH_PROFILE") or 0)
    runs = WARMUP + REPEAT + 1 + profiling  # one more for the query counts, and those profiled
    jobs = [(open_coach(), person(), open_coach(), person()) for _ in range(runs)]
    single_ms, preview_ms, series_ms = [], [], []

    def single(job) -> None:
        single_type, single_client, _type, _client = job
        booking = services.book_slot(client=single_client, session_type=single_type, start=at(1, 10))
        assert booking.status == BookingStatus.FIRM_BOOKED

    def preview(job) -> None:
        _single_type, _single_client, series_type, series_client = job
        found = series_services.preview_series(
            client=series_client, session_type=series_type, start=at(0, 10), count=OCCURRENCES
        )
        assert len(found.free) == OCCURRENCES, [v.code for v in found.refused]

    def book(job) -> None:
        _single_type, _single_client, series_type, series_client = job
        _series, outcomes = series_services.book_series(
            client=series_client, session_type=series_type, start=at(0, 10), count=OCCURRENCES
        )
        assert len(outcomes) == OCCURRENCES
        assert all(outcome.status == BookingStatus.FIRM_BOOKED for outcome in outcomes)

    def timed(call, job, samples: list[tuple[float, float]] | None) -> None:
        started, cpu_started = time.perf_counter(), time.process_time()
        call(job)
        elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000
        if samples is not None:
            samples.append((elapsed, cpu))

    # Interleaved, so the three share whatever the machine is doing at the time.
    measured_jobs, count_job, profiled_jobs = (
        jobs[: WARMUP + REPEAT],
        jobs[WARMUP + REPEAT],
        jobs[WARMUP + REPEAT + 1 :],
    )
    for index, job in enumerate(measured_jobs):
        measured = index >= WARMUP
        timed(single, job, single_ms if measured else None)
        timed(preview, job, preview_ms if measured else None)
        timed(book, job, series_ms if measured else None)

    queries = {}
    for name, call in (("single", single), ("preview", preview), ("series", book)):
        with CaptureQueriesContext(connection) as captured:
            call(count_job)
        queries[name] = len(captured.captured_queries)
    assert Booking.objects.filter(series__isnull=False).count() == (REPEAT + WARMUP + 1) * OCCURRENCES

    if profiling:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for job in profiled_jobs:
            book(job)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)

    def p(samples, share: float, index: int = 0) -> float:
        return percentile([sample[index] for sample in samples], share)

    base, cpu_base = p(single_ms, 0.5), p(single_ms, 0.5, 1)
    print(
        f"Series: a weekly series of {OCCURRENCES} beside one single booking, 60-min one-on-one sessions, "
        f"a fresh coach and client per run, {REPEAT} runs after {WARMUP} warm-up ({vendor})"
    )
    print(
        f"  {'what':<44} {'p50 ms':>8} {'p90 ms':>8} {'queries':>8} {'x single':>9} {'CPU p50 ms':>11} {'x single':>9}"
    )
    for name, samples, count in (
        ("single booking (book_slot, baseline)", single_ms, queries["single"]),
        (f"series preview, {OCCURRENCES} occurrences", preview_ms, queries["preview"]),
        (f"series booking, {OCCURRENCES} occurrences (with preview)", series_ms, queries["series"]),
    ):
        p50, cpu = p(samples, 0.5), p(samples, 0.5, 1)
        print(
            f"  {name:<44} {p50:>8.2f} {p(samples, 0.9):>8.2f} {count:>8} {p50 / base:>9.1f}"
            f" {cpu:>11.2f} {cpu / cpu_base:>9.1f}"
        )
    series_p50 = p(series_ms, 0.5)
    ratio = series_p50 / base
    print(
        f"  series booking / single booking (p50 wall time): {ratio:.1f}x  [target <= {TARGET_RATIO:.0f}x] -> "
        f"{'MET' if ratio <= TARGET_RATIO else 'NOT MET'}; {series_p50 / OCCURRENCES:.2f} ms per occurrence"
        f" (this process's CPU alone: {p(series_ms, 0.5, 1) / cpu_base:.1f}x)"
    )
    if os.environ.get("BENCH_STRICT") and ratio > TARGET_RATIO:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
