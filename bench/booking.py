"""Booking throughput through the services, the event relay behind it, and contention.

A clinic of 8 coaches (Europe/Paris, open 08:00–20:00 every day, 60-minute sessions, no
notice/buffers/limits in the way, 60-day window) and one client per booking. Prints:

1. booking only: successful bookings per second, 8 workers each with its own connection,
   calling ``services.book_slot`` on distinct free slots spread over the 8 coaches
   (shuffled, so workers do meet on the same coach's lock, as in a real clinic): once as 8
   forked processes (as the web server runs its workers; the figure the targets are read
   on) and once as 8 threads in one process (bounded by the interpreter lock). The
   booking's events are left for the relay;
2. end to end: 8 processes booking other slots while 2 relay processes (as two worker
   processes of the task cluster would) hand the events to their consumers on the same
   machine, timed from the first booking until every booking's notifications,
   deliveries and reminders exist (checked);
3. the baselines measured in the same run on the same database: pgbench's TPC-B (scale
   8, 8 clients, 20 s) on PostgreSQL, run right before and right after each of the two
   measured runs (each share is of the mean of the two around it: the machine's speed
   drifts), and 8 threads doing plain one-row INSERT
   transactions through sqlite3 / psycopg directly;
4. queries per booking, and per booking in a relay batch (CaptureQueriesContext);
5. contention: 200 worker threads each taking a seat in one group session of capacity 10,
   with the correctness check (exactly 10 seats, 190 ``full``).

Run: make bench, or .venv/bin/python bench/booking.py (SQLite in a temporary file; with
DATABASE_URL=postgres://… it uses fresh <name>_bench and <name>_pgbench databases beside
that one; pgbench must be on the PATH).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt
import os
import random
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from zoneinfo import ZoneInfo

from bench.common import setup_django

PARIS = ZoneInfo("Europe/Paris")
WORKERS = int(os.environ.get("BENCH_WORKERS", 8))
COACHES = 8
BOOKINGS = 1600  # 200 per worker, in each of the three runs
RELAYS = 2
BASELINE_ROWS = 1600
SEAT_WORKERS = 200
CPU_BOOKINGS = 300  # one after another in one process, for the CPU per booking
CAPACITY = 10
# PostgreSQL here allows 100 connections in all: at most this many seat workers hold one
# at a time (they are all released together and contend; the rest queue for a connection).
PG_OPEN_CONNECTIONS = 60
# Targets as a share of pgbench's TPC-B transactions/s measured in the same run.
TARGET_BOOKING_SHARE = 0.10
TARGET_END_TO_END_SHARE = 0.06


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


def pgbench_tps() -> float | None:
    """pgbench's TPC-B (scale 8, 8 clients, 2 threads, 20 s) on a scratch database beside
    the benchmark's; None when pgbench is missing."""
    from django.db import connection

    if not shutil.which("pgbench"):
        return None
    settings = connection.settings_dict
    name = f"{settings['NAME']}_pgbench".replace("_bench_pgbench", "_pgbench")
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    common = ["-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432), "-U", settings["USER"]]
    subprocess.run(["dropdb", "--if-exists", *common, name], env=env, check=True, capture_output=True)
    subprocess.run(["createdb", *common, name], env=env, check=True, capture_output=True)
    subprocess.run(["pgbench", *common, "-i", "-s", "8", "-q", name], env=env, check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", *common, "-c", "8", "-j", "2", "-T", "20", name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    subprocess.run(["dropdb", *common, name], env=env, check=False, capture_output=True)
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def relay_processes(count: int, stop) -> list:
    """``count`` forked processes relaying booking events until ``stop`` is set and
    nothing is left (as the task cluster's workers run the relay)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")

    def relay_main() -> None:
        from bookings import relay

        while True:
            done = relay.relay_pending()
            if not done.events:
                if stop.is_set():
                    break
                time.sleep(0.01)
        connections.close_all()

    processes = [context.Process(target=relay_main) for _ in range(count)]
    for process in processes:
        process.start()
    return processes


def backend_cpu_seconds(pid: int):
    """A reader of the CPU seconds the PostgreSQL backend ``pid`` has used, or None when
    it isn't a process of this machine."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


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
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts import services as accounts
    from accounts.models import User
    from availability import services as availability
    from bookings import relay, services
    from bookings.models import Booking, BookingEvent, BookingStatus, SessionKind, SessionType
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
    for day in range(58):
        for hour in range(8, 20):
            local = dt.datetime.combine(first + dt.timedelta(days=day), dt.time(hour), tzinfo=PARIS)
            for coach in coaches:
                slots.append((coach.pk, local.astimezone(dt.UTC)))
    random.Random(4).shuffle(slots)
    slots = slots[: 3 * BOOKINGS + CPU_BOOKINGS + 2]
    clients = [person(f"client{n}@bench.example") for n in range(3 * BOOKINGS + CPU_BOOKINGS + SEAT_WORKERS + 2)]

    # Queries for one booking, in the steady state: a first booking warms what a server
    # process keeps (staff's message templates). Neither counts in the throughput run.
    coach_id, start = slots.pop()
    services.book_slot(client=clients.pop(), session_type=types[coach_id], start=start)
    coach_id, start = slots.pop()
    with CaptureQueriesContext(connection) as queries:
        services.book_slot(client=clients.pop(), session_type=types[coach_id], start=start)
    per_booking = len(queries.captured_queries)

    relay.relay_pending()
    # CPU of one booking, split between this process and its PostgreSQL backend (read from
    # /proc when the server runs on this machine): what bounds the rate on 2 cores.
    cpu_slots = [slots.pop() for _ in range(CPU_BOOKINGS)]
    cpu_jobs = [(clients.pop(), types[coach_id], start) for coach_id, start in cpu_slots]
    backend = None
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = backend_cpu_seconds(cursor.fetchone()[0])
    python_started, backend_started = time.process_time(), backend() if backend else None
    for client, session_type, start in cpu_jobs:
        services.book_slot(client=client, session_type=session_type, start=start)
    python_ms = (time.process_time() - python_started) * 1000 / CPU_BOOKINGS
    backend_ms = None
    if backend is not None and backend_started is not None:
        backend_ms = (backend() - backend_started) * 1000 / CPU_BOOKINGS
    relay.relay_pending()
    everything = [(clients[i], types[coach_id], start) for i, (coach_id, start) in enumerate(slots)]
    jobs, process_jobs, end_to_end_jobs = (everything[i * BOOKINGS : (i + 1) * BOOKINGS] for i in range(3))
    outcome: Counter = Counter()

    def book(job) -> str:
        client, session_type, start = job
        try:
            services.book_slot(client=client, session_type=session_type, start=start)
        except DomainError as exc:
            return exc.code
        return "ok"

    # TPC-B right before and right after each measured run (the machine's speed drifts):
    # each run's share is of the mean of the two around it.
    tpcb_runs = [pgbench_tps() if vendor == "postgresql" else None]
    process_elapsed, process_results = run_processes([process_jobs[i::WORKERS] for i in range(WORKERS)], book)
    process_outcome = Counter(process_results)
    assert process_outcome == {"ok": len(process_jobs)}, process_outcome
    process_per_second = len(process_jobs) / process_elapsed
    tpcb_runs.append(pgbench_tps() if vendor == "postgresql" else None)

    # The events the two runs above left: the relay alone, in this process.
    waiting = BookingEvent.objects.filter(relayed_at__isnull=True).count()
    with CaptureQueriesContext(connection) as relay_queries:
        relay_started = time.perf_counter()
        relayed = relay.relay_batch().events
    relay_elapsed = time.perf_counter() - relay_started
    relay_started = time.perf_counter()
    relayed += relay.relay_pending().events
    relay_elapsed += time.perf_counter() - relay_started
    assert relayed == waiting, (relayed, waiting)
    queries_per_relayed = len(relay_queries.captured_queries) / settings.RELAY_BATCH

    # End to end: booking while the relay runs beside it, until everything exists.
    import multiprocessing

    stop = multiprocessing.get_context("fork").Event()
    relays = relay_processes(RELAYS, stop)
    end_to_end_booking, end_to_end_results = run_processes([end_to_end_jobs[i::WORKERS] for i in range(WORKERS)], book)
    booked_at = time.perf_counter()
    assert Counter(end_to_end_results) == {"ok": len(end_to_end_jobs)}, Counter(end_to_end_results)
    stop.set()
    for process in relays:
        process.join()
    end_to_end_elapsed = end_to_end_booking + time.perf_counter() - booked_at
    assert not BookingEvent.objects.filter(relayed_at__isnull=True).exists()
    made = Booking.objects.filter(client__in=[job[0] for job in end_to_end_jobs])
    assert made.count() == len(end_to_end_jobs)
    assert not made.annotate(told=Count("notifications")).filter(told__lt=2).exists(), "notifications missing"
    assert not made.annotate(planned=Count("reminders")).filter(planned=0).exists(), "reminders missing"
    end_to_end_per_second = len(end_to_end_jobs) / end_to_end_elapsed
    tpcb_runs.append(pgbench_tps() if vendor == "postgresql" else None)

    elapsed, results = run_threads([jobs[i::WORKERS] for i in range(WORKERS)], book)
    outcome.update(results)
    assert outcome == {"ok": len(jobs)}, outcome
    booked_per_second = len(jobs) / elapsed

    base_per_second = baseline(vendor)
    tpcb = all(tpcb_runs)
    booking_tpcb = (tpcb_runs[0] + tpcb_runs[1]) / 2 if tpcb else None
    end_to_end_tpcb = (tpcb_runs[1] + tpcb_runs[2]) / 2 if tpcb else None

    # Contention: 200 workers, one group session of capacity 10.
    group = SessionType.objects.create(
        coach=coaches[0], title="Group class", kind=SessionKind.GROUP, capacity=CAPACITY, duration_minutes=60
    )
    at = dt.datetime.combine(first + dt.timedelta(days=45), dt.time(7), tzinfo=PARIS).astimezone(dt.UTC)
    session = services.publish_session(actor=coaches[0], session_type=group, start=at)
    seat_clients = clients[3 * BOOKINGS : 3 * BOOKINGS + SEAT_WORKERS]

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

    def share(rate: float, base: float | None) -> str:
        return f" = {rate / base:.1%} of TPC-B" if base else ""

    print(f"Booking: {COACHES} coaches, 60-min one-on-one sessions, one client per booking ({vendor})")
    print(
        f"  booking only, {WORKERS} worker processes, {len(process_jobs)} distinct free slots: "
        f"{process_per_second:7.1f} bookings/s{share(process_per_second, booking_tpcb)} "
        f"({process_elapsed:.2f} s, all booked; {per_booking} queries per booking)"
        + (f"  [target >= {TARGET_BOOKING_SHARE:.0%} of TPC-B]" if tpcb else "")
    )
    print(
        f"  booking only, {WORKERS} threads in one process, {len(jobs)} other free slots: {booked_per_second:7.1f} "
        f"bookings/s ({elapsed:.2f} s, all booked; one interpreter lock)"
    )
    print(
        f"  end to end, {WORKERS} booking processes + {RELAYS} relay processes, {len(end_to_end_jobs)} bookings until "
        f"every one's notifications and reminders exist: {end_to_end_per_second:7.1f} bookings/s"
        f"{share(end_to_end_per_second, end_to_end_tpcb)} ({end_to_end_elapsed:.2f} s; "
        f"the bookings alone took {end_to_end_booking:.2f} s)"
        + (f"  [target >= {TARGET_END_TO_END_SHARE:.0%} of TPC-B]" if tpcb else "")
    )
    cpu_line = f"  CPU per booking, {CPU_BOOKINGS} in a row in one process: {python_ms:.2f} ms in Python"
    if backend_ms is not None:
        cpu_line += f" + {backend_ms:.2f} ms in its PostgreSQL backend = {python_ms + backend_ms:.2f} ms"
    print(cpu_line)
    print(
        f"  relay alone, one process: {relayed / relay_elapsed:7.1f} events/s ({relayed} events, "
        f"{queries_per_relayed:.2f} queries per event in a batch of {settings.RELAY_BATCH})"
    )
    if tpcb:
        runs = ", ".join(f"{tps:.1f}" for tps in tpcb_runs)
        print(
            f"  baseline: pgbench TPC-B, scale 8, 8 clients, 20 s, same server, before the booking-only run, between "
            f"it and the end-to-end run, and after that: {runs} transactions/s (each run's share is of the mean of "
            f"the two around it: {booking_tpcb:.1f} and {end_to_end_tpcb:.1f})"
        )
    print(
        f"  baseline: plain one-row INSERT transactions, {WORKERS} threads, same database: "
        f"{base_per_second:7.1f} rows/s  (booking = {process_per_second / base_per_second:.3f} x baseline)"
    )
    print(
        f"  contention: {SEAT_WORKERS} threads, one group session of capacity {CAPACITY}"
        + (f" (at most {max_open} connections open at once)" if max_open else "")
        + f": {dict(seats)} in {seat_elapsed:.2f} s; seats_taken={session.seats_taken}, "
        f"firm bookings={firm} -> {'CORRECT' if correct else 'WRONG'}"
    )
    if not correct:
        raise SystemExit(1)
    if (
        os.environ.get("BENCH_STRICT")
        and tpcb
        and (
            process_per_second < TARGET_BOOKING_SHARE * booking_tpcb
            or end_to_end_per_second < TARGET_END_TO_END_SHARE * end_to_end_tpcb
        )
    ):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
