"""How soon a booking's in-app notification appears, with a real task cluster.

A coach and 30 clients; each client books (through ``services.book_slot``, as the site's
views do) at a random moment 0.2–4 s after the previous booking, while
``manage.py qcluster`` runs beside this process (its default 2 worker processes; the ORM
broker, or Redis when REDIS_URL is set). For each booking, the time from its commit
until the client's in-app notification exists is measured by polling every 10 ms. The
baseline is the same poll's own cost: a query for a notification that already exists.

Run: make bench, or .venv/bin/python bench/relay_latency.py (SQLite in a temporary file;
with DATABASE_URL=postgres://… a fresh <name>_bench database; with REDIS_URL, Redis).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt
import os
import random
import signal
import statistics
import subprocess
import time
from zoneinfo import ZoneInfo

from bench.common import ROOT, setup_django

PARIS = ZoneInfo("Europe/Paris")
BOOKINGS = 30


def main() -> None:
    vendor = setup_django()
    from django.db import connections
    from django.utils import timezone

    from accounts import services as accounts
    from availability import services as availability
    from bookings import services
    from bookings.models import SessionType
    from notifications.models import Kind, Notification

    def person(email: str, role: str = "client"):
        return accounts.create_user(
            email=email, password=None, role=role, timezone_name="Europe/Paris", email_verified=True
        )

    coach = person("coach@latency.example", "coach")
    profile = coach.coach_profile
    profile.minimum_notice_hours = 0
    profile.booking_window_days = 60
    profile.slot_step_minutes = 60
    profile.buffer_after_minutes = 0
    profile.require_approval_unconnected = False
    profile.firm_booking_threshold_hours = 0
    profile.max_sessions_per_day = 24
    profile.max_sessions_per_week = 168
    profile.save()
    availability.replace_availability(
        coach=coach,
        actor=coach,
        weekly=[availability.WindowSpec(day, dt.time(8), dt.time(20)) for day in range(7)],
        overrides=[],
    )
    session_type = SessionType.objects.create(coach=coach, title="Consultation", duration_minutes=60)
    first = timezone.localdate(timezone=PARIS) + dt.timedelta(days=1)
    starts = [
        dt.datetime.combine(first + dt.timedelta(days=day), dt.time(hour), tzinfo=PARIS).astimezone(dt.UTC)
        for day in range(5)
        for hour in range(8, 20)
    ]
    clients = [person(f"client{n}@latency.example") for n in range(BOOKINGS)]
    connections.close_all()

    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "ERROR"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(3)  # the cluster starts its workers
        rng = random.Random(7)
        latencies, polls = [], []
        for client, start in zip(clients, starts, strict=False):
            time.sleep(rng.uniform(0.2, 4.0))
            booking = services.book_slot(client=client, session_type=session_type, start=start)
            committed = time.perf_counter()
            found = Notification.objects.filter(recipient=client, booking=booking, kind=Kind.BOOKING_CREATED)
            while True:
                asked = time.perf_counter()
                if found.exists():
                    polls.append(time.perf_counter() - asked)
                    break
                if time.perf_counter() - committed > 120:
                    raise SystemExit(f"no notification for {booking.reference} after 120 s")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - committed)
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)  # its tasks are all done; nothing to wind down
        cluster.wait(timeout=30)

    latencies.sort()
    broker = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    print(f"In-app notification after a booking's commit, task cluster beside it ({vendor}, {broker} broker)")
    print(
        f"  {len(latencies)} bookings: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )
    print(f"  baseline: one poll of an existing notification, p50 {statistics.median(polls) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
