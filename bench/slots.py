"""The slot engine and the slots endpoint under a realistic load (issue: availability).

One coach in Europe/Paris with two windows on five days, 30 overrides, a 15-minute step,
60-minute sessions, 2,000 busy intervals inside a 90-day range and 20,000 in the past.
Prints: the engine's time for 90 days (inputs already loaded); the endpoint's p50/p95 over
200 requests for a 31-day range; the same with 200 vs 20,000 past intervals; for a session
type of that coach alone, and for a two-host type (the coach and a co-host with their own
week and bookings) that needs one of three rooms (opening hours, a closure, 400 bookings
held), the 31-day p50 of each side by side (target: two hosts and rooms <= 2x one coach);
and a bare Django JSON view's p50 as the baseline, all measured in this run.

Run: make bench, or .venv/bin/python bench/slots.py (SQLite in a temporary file; with
DATABASE_URL=postgres://… it uses a fresh <name>_bench database beside that one).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt
import statistics
import time
from zoneinfo import ZoneInfo

from bench.common import setup_django

PARIS = ZoneInfo("Europe/Paris")
REQUESTS = 200
TARGET_ENGINE_MS = 10
TARGET_ENDPOINT_P50_MS = 30
TARGET_HOSTS_ROOMS_RATIO = 2.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def time_requests(fn, count: int = REQUESTS) -> tuple[float, float]:
    for _ in range(10):
        fn()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def main() -> None:
    vendor = setup_django()
    from django.http import JsonResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path
    from django.utils import timezone

    from accounts import services as accounts
    from availability import selectors
    from availability import services as availability
    from availability import slots as engine
    from availability.models import Allocation, Resource, ResourceClosure, ResourceHours
    from bookings.models import HostMode, SessionType

    coach = accounts.create_user(
        email="bench-coach@example.com", password=None, role="coach", timezone_name="Europe/Paris", email_verified=True
    )
    viewer = accounts.create_user(
        email="bench-client@example.com", password=None, timezone_name="Europe/Paris", email_verified=True
    )
    profile = coach.coach_profile
    profile.slot_step_minutes = 15
    profile.minimum_notice_hours = 0
    profile.booking_window_days = 120
    profile.buffer_before_minutes = 0
    profile.buffer_after_minutes = 15
    profile.max_sessions_per_day = 48
    profile.max_sessions_per_week = 200
    profile.save()

    today = timezone.localdate(timezone=PARIS)
    first = today + dt.timedelta(days=1)
    availability.replace_availability(
        coach=coach,
        actor=coach,
        weekly=[
            availability.WindowSpec(weekday, start, end)
            for weekday in range(5)
            for start, end in ((dt.time(9), dt.time(12, 30)), (dt.time(13, 30), dt.time(18)))
        ],
        overrides=[
            availability.OverrideSpec(
                first + dt.timedelta(days=3 * i),
                () if i % 3 == 0 else ((dt.time(10), dt.time(16)),),
                "bench",
            )
            for i in range(30)
        ],
    )

    def allocation(begins: dt.datetime, minutes: int, counts: bool, staff=None, resource=None) -> Allocation:
        begins = begins.astimezone(dt.UTC)  # elapsed-time arithmetic, not wall-clock
        ends = begins + dt.timedelta(minutes=minutes)
        return Allocation(
            staff=staff or (None if resource else coach),
            resource=resource,
            start=begins,
            end=ends,
            blocked_start=begins,
            blocked_end=ends + dt.timedelta(minutes=15),
            counts_toward_limits=counts,
        )

    range_start = dt.datetime.combine(first, dt.time(), tzinfo=PARIS)
    # 2,000 busy intervals inside the 90 days: four sessions in working hours on each day,
    # and the rest (other calendars' blocks) spread over the evenings and nights.
    inside = []
    for day in range(90):
        midnight = dt.datetime.combine(first + dt.timedelta(days=day), dt.time(), tzinfo=PARIS)
        for hour, minute in ((9, 0), (11, 0), (14, 0), (16, 30)):
            inside.append(allocation(midnight.replace(hour=hour, minute=minute), 60, True))
        for block in range(18):
            inside.append(allocation(midnight + dt.timedelta(hours=19, minutes=40 * block), 20, False))
    Allocation.objects.bulk_create(inside[:2000], batch_size=2000)

    def add_history(count: int) -> None:
        # Spread over the three years before the range, all ending before it starts.
        first_past = range_start.astimezone(dt.UTC) - dt.timedelta(days=3 * 365)
        spacing = (range_start - dt.timedelta(days=1) - first_past) / count
        Allocation.objects.bulk_create(
            (allocation(first_past + i * spacing, 60, True) for i in range(count)), batch_size=2000
        )

    add_history(200)

    # The co-host: the coach's week, with two sessions of their own a day; three rooms open
    # 08:00-20:00 on weekdays, one closed for a week, 400 room bookings in the range (one
    # room of three taken each hour, so the rooms take few times away and every slot is checked).
    co_host = accounts.create_user(
        email="bench-cohost@example.com", password=None, role="coach", timezone_name="Europe/Paris", email_verified=True
    )
    co_profile = co_host.coach_profile
    for name in ("slot_step_minutes", "minimum_notice_hours", "booking_window_days", "buffer_after_minutes"):
        setattr(co_profile, name, getattr(profile, name))
    co_profile.max_sessions_per_day, co_profile.max_sessions_per_week = 48, 200
    co_profile.save()
    availability.replace_availability(
        coach=co_host,
        actor=co_host,
        weekly=[
            availability.WindowSpec(weekday, start, end)
            for weekday in range(5)
            for start, end in ((dt.time(9), dt.time(12, 30)), (dt.time(13, 30), dt.time(18)))
        ],
        overrides=[],
    )
    rooms = [
        Resource.objects.create(name=f"Room {n}", kind="room", capacity=2 + n, timezone="Europe/Paris")
        for n in range(3)
    ]
    ResourceHours.objects.bulk_create(
        ResourceHours(resource=room, weekday=weekday, start=dt.time(8), end=dt.time(20))
        for room in rooms
        for weekday in range(5)
    )
    ResourceClosure.objects.create(
        resource=rooms[0], start_date=first + dt.timedelta(days=7), end_date=first + dt.timedelta(days=13)
    )
    held = []
    for day in range(90):
        midnight = dt.datetime.combine(first + dt.timedelta(days=day), dt.time(), tzinfo=PARIS)
        # Early and late, outside the coach's hours: loaded and checked, taking no slot away.
        held += [allocation(midnight.replace(hour=h), 60, True, staff=co_host) for h in (7, 19)]
        if day < 34:
            held += [
                allocation(midnight.replace(hour=h), 60, False, resource=rooms[(day + h) % 3])
                for h in (9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 8, 11)
            ]
    Allocation.objects.bulk_create(held[:2000], batch_size=2000)
    room_held = Allocation.objects.filter(resource__isnull=False).count()
    single_type = SessionType.objects.create(coach=coach, title="One coach", duration_minutes=60)
    pair_type = SessionType.objects.create(
        coach=coach, title="Two hosts and a room", duration_minutes=60, host_mode=HostMode.ALL, resource_kind="room"
    )
    pair_type.co_hosts.set([co_host])

    # The engine alone, inputs loaded once, 90 days.
    last = first + dt.timedelta(days=89)
    windows, overrides, time_off = selectors.availability_inputs(coach, first_day=first, last_day=last)
    busy = selectors.busy_intervals(
        coach, start=range_start - dt.timedelta(days=7), end=range_start + dt.timedelta(days=97)
    )
    rules = selectors.rules_for(profile, duration=dt.timedelta(minutes=60))
    now = timezone.now()

    def run_engine() -> list:
        return engine.free_slots(
            windows=windows,
            overrides=overrides,
            time_off=time_off,
            busy=busy,
            rules=rules,
            zone=PARIS,
            range_start=range_start,
            range_end=range_start + dt.timedelta(days=90),
            now=now,
        )

    engine_p50, engine_p95 = time_requests(run_engine, count=50)
    engine_slots = len(run_engine())

    import types

    def bare(request):
        return JsonResponse({"ok": True})

    urls = types.ModuleType("bench_slot_urls")
    urls.urlpatterns = [path("__bare__/", bare), path("", include("config.urls"))]
    sys.modules["bench_slot_urls"] = urls

    with override_settings(ROOT_URLCONF="bench_slot_urls", ALLOWED_HOSTS=["*"]):
        http = Client()
        http.force_login(viewer)
        end31 = first + dt.timedelta(days=30)
        url = f"/api/v1/coaches/{coach.pk}/slots"
        params = {"start": first.isoformat(), "end": end31.isoformat(), "duration": 60, "tz": "America/New_York"}

        def call() -> None:
            response = http.get(url, params)
            assert response.status_code == 200, response.content

        count31 = len(http.get(url, params).json()["slots"])
        bare_p50, _ = time_requests(lambda: http.get("/__bare__/"))
        small_p50, small_p95 = time_requests(call)

        def typed(session_type) -> tuple[float, int]:
            typed_params = {**params, "session_type": session_type.pk}
            del typed_params["duration"]
            found = http.get(url, typed_params)
            assert found.status_code == 200, found.content
            p50, _ = time_requests(lambda: http.get(url, typed_params))
            return p50, len(found.json()["slots"])

        single_p50, single_count = typed(single_type)
        pair_p50, pair_count = typed(pair_type)
        Allocation.objects.filter(staff=coach, end__lt=range_start).delete()
        add_history(20_000)
        past_total = Allocation.objects.filter(staff=coach, end__lt=range_start).count()
        big_p50, big_p95 = time_requests(call)

    print(f"Slots: one coach, 2 windows x 5 days, 30 overrides, 15-min step, 60-min sessions ({vendor})")
    print(
        f"  engine, 90 days, 2,000 busy intervals: p50 {engine_p50:.2f} ms, p95 {engine_p95:.2f} ms "
        f"({engine_slots} slots; target <= {TARGET_ENGINE_MS} ms)"
    )
    print(f"  baseline: bare Django JSON view p50 {bare_p50:.2f} ms (in-process test client)")
    print(
        f"  GET slots, 31 days ({count31} slots), 200 past intervals:    p50 {small_p50:.2f} ms, "
        f"p95 {small_p95:.2f} ms, p50 = {small_p50 / bare_p50:.0f}x baseline "
        f"(target p50 <= {TARGET_ENDPOINT_P50_MS} ms)"
    )
    print(
        f"  GET slots, 31 days, {past_total:,} past intervals: p50 {big_p50:.2f} ms, p95 {big_p95:.2f} ms "
        f"(history x{past_total / 200:.0f} -> time x{big_p50 / small_p50:.2f})"
    )
    print(f"  GET slots, 31 days, a session type of the coach alone ({single_count} slots): p50 {single_p50:.2f} ms")
    print(
        f"  GET slots, 31 days, a two-host type needing one of 3 rooms ({pair_count} slots, {room_held} room "
        f"bookings): p50 {pair_p50:.2f} ms = {pair_p50 / single_p50:.2f}x the coach alone "
        f"(target <= {TARGET_HOSTS_ROOMS_RATIO:.0f}x)"
    )


if __name__ == "__main__":
    main()
