"""Booking throughput and contention through the services (issue: booking core).

A clinic of 8 coaches (Europe/Paris, open 08:00–20:00 every day, 60-minute sessions, no
notice/buffers/limits in the way, 60-day window) and one client per booking. Prints:

1. successful bookings per second, 8 workers each with its own connection, calling
   ``services.book_slot`` on distinct free slots spread over the 8 coaches (shuffled, so
   workers do meet on the same coach's lock, as in a real clinic): once as 8 forked
   processes (as the web server runs its workers; the figure the target is read on) and
   once as 8 threads in one process (bounded by the interpreter lock);
2. the baseline measured in the same run on the same database: 8 threads doing plain
   one-row INSERT transactions through sqlite3 / psycopg directly;
3. queries per booking (CaptureQueriesContext on one booking);
4. contention: 200 worker threads each taking a seat in one group session of capacity 10,
   with the correctness check (exactly 10 seats, 190 ``full``).

Run: make bench, or .venv/bin/python bench/booking.py (SQLite in a temporary file; with
DATABASE_URL=postgres://… it uses a fresh <name>_bench database beside that one).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt
import os
import random
import threading
import time
from collections import Counter
from zoneinfo import ZoneInfo

from bench.common import setup_django

PARIS = ZoneInfo("Europe/Paris")
WORKERS = int(os.environ.get("BENCH_WORKERS", 8))
COACHES = 8
BOOKINGS = 1600  # 200 per worker
BASELINE_ROWS = 1600
SEAT_WORKERS = 200
CAPACITY = 10
# PostgreSQL here allows 100 connections in all: at most this many seat workers hold one
# at a time (they are all released together and contend; the rest queue for a connection).
PG_OPEN_CONNECTIONS = 60
TARGET_PG = 150


def run_threads(jobs_per_thread: list[list], work, *, max_open: int | None = None) -> tuple[float, list]:
    """Run ``work(job)`` for each thread's jobs, threads released together; returns the
    elapsed wall time and every job's result."""
    from django.db import connections

    barrier = threading.Barrier(len(jobs_per_thread) + 1)
    gate = threading.BoundedSemaphore(max_open or len(jobs_per_thread))
    results: list = []
    lock = threading.Lock()

    def thread_main(jobs: list) -> None:
        barrier.wait()
        with gate:
            local = [work(job) for job in jobs]
            connections.close_all()
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=thread_main, args=(jobs,)) for jobs in jobs_per_thread]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def run_processes(jobs_per_worker: list[list], work) -> tuple[float, list]:
    """Like ``run_threads`` with one forked process per worker (as gunicorn runs web
    workers), so the workers are not serialised by one interpreter's lock."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each child opens its own
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(jobs_per_worker) + 1)
    queue = context.Queue()

    def worker_main(jobs: list) -> None:
        barrier.wait()
        queue.put([work(job) for job in jobs])
        connections.close_all()

    workers = [context.Process(target=worker_main, args=(jobs,)) for jobs in jobs_per_worker]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    results: list = []
    for _ in workers:
        results.extend(queue.get())
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return elapsed, results


def baseline(vendor: str) -> float:
    """Plain one-row INSERT transactions, 8 threads, same database, no Django."""
    from django.db import connection

    settings = connection.settings_dict
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("CREATE TABLE bench_insert (id bigserial PRIMARY KEY, who int, at timestamptz)")
        else:
            cursor.execute("CREATE TABLE bench_insert (id integer PRIMARY KEY AUTOINCREMENT, who int, at text)")

    def connect():
        if vendor == "postgresql":
            import psycopg

            return psycopg.connect(
                dbname=settings["NAME"],
                user=settings["USER"],
                password=settings["PASSWORD"],
                host=settings["HOST"],
                port=settings["PORT"] or None,
            )
        import sqlite3

        db = sqlite3.connect(settings["NAME"], timeout=20, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    per_thread = BASELINE_ROWS // WORKERS
    barrier = threading.Barrier(WORKERS + 1)

    def thread_main(who: int) -> None:
        db = connect()
        barrier.wait()
        for _ in range(per_thread):
            if vendor == "postgresql":
                with db.transaction():
                    db.execute("INSERT INTO bench_insert (who, at) VALUES (%s, now())", [who])
            else:
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO bench_insert (who, at) VALUES (?, datetime('now'))", [who])
                db.execute("COMMIT")
        db.close()

    threads = [threading.Thread(target=thread_main, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return per_thread * WORKERS / (time.perf_counter() - started)


def main() -> None:
    vendor = setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts import services as accounts
    from accounts.models import User
    from availability import services as availability
    from bookings import services
    from bookings.models import Booking, BookingStatus, SessionKind, SessionType
    from config.errors import DomainError

    def person(email: str, role: str = "client") -> User:
        return accounts.create_user(
            email=email, password=None, role=role, timezone_name="Europe/Paris", email_verified=True
        )

    coaches = []
    for n in range(COACHES):
        coach = person(f"coach{n}@bench.example", "coach")
        profile = coach.coach_profile
        for name, value in {
            "minimum_notice_hours": 0,
            "booking_window_days": 60,
            "slot_step_minutes": 60,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
            "max_sessions_per_day": 24,
            "max_sessions_per_week": 168,
            "firm_booking_threshold_hours": 0,
            "require_approval_unconnected": False,
            "allow_firm_booking": True,
        }.items():
            setattr(profile, name, value)
        profile.save()
        availability.replace_availability(
            coach=coach,
            actor=coach,
            weekly=[availability.WindowSpec(day, dt.time(8), dt.time(20)) for day in range(7)],
            overrides=[],
        )
        coaches.append(coach)
    types = {
        coach.pk: SessionType.objects.create(coach=coach, title="Consultation", duration_minutes=60)
        for coach in coaches
    }

    # Distinct free slots: each coach, 12 hours a day, from tomorrow on.
    first = timezone.localdate(timezone=PARIS) + dt.timedelta(days=1)
    slots = []
    for day in range(40):
        for hour in range(8, 20):
            local = dt.datetime.combine(first + dt.timedelta(days=day), dt.time(hour), tzinfo=PARIS)
            for coach in coaches:
                slots.append((coach.pk, local.astimezone(dt.UTC)))
    random.Random(4).shuffle(slots)
    slots = slots[: 2 * BOOKINGS + 2]
    clients = [person(f"client{n}@bench.example") for n in range(2 * BOOKINGS + SEAT_WORKERS + 2)]

    # Queries for one booking, in the steady state: a first booking warms what a server
    # process keeps (staff's message templates). Neither counts in the throughput run.
    coach_id, start = slots.pop()
    services.book_slot(client=clients.pop(), session_type=types[coach_id], start=start)
    coach_id, start = slots.pop()
    with CaptureQueriesContext(connection) as queries:
        services.book_slot(client=clients.pop(), session_type=types[coach_id], start=start)
    per_booking = len(queries.captured_queries)

    everything = [(clients[i], types[coach_id], start) for i, (coach_id, start) in enumerate(slots)]
    jobs, process_jobs = everything[:BOOKINGS], everything[BOOKINGS:]
    outcome: Counter = Counter()

    def book(job) -> str:
        client, session_type, start = job
        try:
            services.book_slot(client=client, session_type=session_type, start=start)
        except DomainError as exc:
            return exc.code
        return "ok"

    elapsed, results = run_threads([jobs[i::WORKERS] for i in range(WORKERS)], book)
    outcome.update(results)
    assert outcome == {"ok": len(jobs)}, outcome
    booked_per_second = len(jobs) / elapsed
    process_elapsed, process_results = run_processes([process_jobs[i::WORKERS] for i in range(WORKERS)], book)
    process_outcome = Counter(process_results)
    assert process_outcome == {"ok": len(process_jobs)}, process_outcome
    process_per_second = len(process_jobs) / process_elapsed
    base_per_second = baseline(vendor)

    # Contention: 200 workers, one group session of capacity 10.
    group = SessionType.objects.create(
        coach=coaches[0], title="Group class", kind=SessionKind.GROUP, capacity=CAPACITY, duration_minutes=60
    )
    at = dt.datetime.combine(first + dt.timedelta(days=45), dt.time(7), tzinfo=PARIS).astimezone(dt.UTC)
    session = services.publish_session(actor=coaches[0], session_type=group, start=at)
    seat_clients = clients[2 * BOOKINGS : 2 * BOOKINGS + SEAT_WORKERS]

    def seat(client) -> str:
        try:
            services.take_seat(client=client, session=session)
        except DomainError as exc:
            return exc.code
        return "ok"

    max_open = PG_OPEN_CONNECTIONS if vendor == "postgresql" else None
    seat_elapsed, seat_results = run_threads([[client] for client in seat_clients], seat, max_open=max_open)
    seats = Counter(seat_results)
    session.refresh_from_db()
    firm = Booking.objects.filter(session=session, status=BookingStatus.FIRM_BOOKED).count()
    correct = seats == {"ok": CAPACITY, "full": SEAT_WORKERS - CAPACITY} and session.seats_taken == firm == CAPACITY

    print(f"Booking: {COACHES} coaches, 60-min one-on-one sessions, one client per booking ({vendor})")
    print(
        f"  book_slot, {WORKERS} worker processes, {len(process_jobs)} distinct free slots: "
        f"{process_per_second:7.1f} bookings/s ({process_elapsed:.2f} s, all booked; {per_booking} queries per booking)"
        + (f"  [target >= {TARGET_PG}/s]" if vendor == "postgresql" else "")
    )
    print(
        f"  book_slot, {WORKERS} threads in one process, {len(jobs)} other free slots: {booked_per_second:7.1f} "
        f"bookings/s ({elapsed:.2f} s, all booked; one interpreter lock)"
    )
    print(
        f"  baseline: plain one-row INSERT transactions, {WORKERS} threads, same database: "
        f"{base_per_second:7.1f} rows/s  (book_slot = {booked_per_second / base_per_second:.2f} x baseline)"
    )
    print(
        f"  contention: {SEAT_WORKERS} threads, one group session of capacity {CAPACITY}"
        + (f" (at most {max_open} connections open at once)" if max_open else "")
        + f": {dict(seats)} in {seat_elapsed:.2f} s; seats_taken={session.seats_taken}, "
        f"firm bookings={firm} -> {'CORRECT' if correct else 'WRONG'}"
    )
    if not correct:
        raise SystemExit(1)
    if os.environ.get("BENCH_STRICT") and vendor == "postgresql" and process_per_second < TARGET_PG:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
