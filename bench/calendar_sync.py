"""Connected calendars at a busy coach's size: three calendars of 2,000 events each (1,700
single events over four years back and one ahead, as a calendar's address gives its whole
history, and 100 recurring series — daily, weekly, fortnightly and monthly, some without
end — with deleted and moved occurrences), served over HTTP on 127.0.0.1 as Google serves a secret
address. Prints each calendar's first read (fetch, expansion, writing its busy times), a
second read answered 304 by its ETag, and a read of the same calendar from a server without
ETags; then the slots endpoint's p50 for 31 days for that coach beside the same coach
without calendars (same hours, same session type), and a bare Django view's p50, all in
this run.

Run: make bench, or .venv/bin/python bench/calendar_sync.py (SQLite in a temporary file;
with DATABASE_URL=postgres://… a fresh <name>_bench database beside that one)."""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, timed

PARIS = ZoneInfo("Europe/Paris")
EVENTS = 2000
SERIES = 100
REQUESTS = 100


def document(seed: int, first: dt.date) -> str:
    """A calendar of ``EVENTS`` events starting from ``first``, the same for the same seed."""
    from calendar_sync.tests.fake_calendar import calendar, event

    pick = random.Random(seed)
    events = []
    for index in range(EVENTS - SERIES):
        # Four years back and one ahead, as a calendar's address gives its whole history.
        day = first + dt.timedelta(days=pick.randrange(-4 * 365, 365))
        # Personal calendars: two events in three outside working hours (early, evening).
        hour = pick.randrange(9, 17) if pick.random() < 1 / 3 else pick.choice((7, 8, 17, 18, 19, 20))
        start = dt.datetime.combine(day, dt.time(hour, pick.choice((0, 15, 30, 45))))
        length = pick.choice((30, 45, 60, 90, 120))
        events.append(
            event(
                f"single-{seed}-{index}@example.com",
                f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}",
                f"DURATION:PT{length}M",
                *(["TRANSP:TRANSPARENT"] if index % 20 == 0 else []),
            )
        )
    for index in range(SERIES):
        day = first + dt.timedelta(days=pick.randrange(-365, 60))
        start = dt.datetime.combine(day, dt.time(pick.randrange(9, 17) if index % 3 == 0 else pick.choice((7, 18, 19))))
        rule = pick.choice(
            ("FREQ=DAILY;COUNT=10", "FREQ=WEEKLY;COUNT=20", "FREQ=WEEKLY;INTERVAL=2;COUNT=13", "FREQ=MONTHLY")
        )
        uid = f"series-{seed}-{index}@example.com"
        deleted = start + dt.timedelta(days=7 if "WEEKLY" in rule else 1)
        lines = [f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}", "DURATION:PT1H", f"RRULE:{rule}"]
        if "MONTHLY" not in rule and "INTERVAL" not in rule:
            lines.append(f"EXDATE;TZID=Europe/Paris:{deleted:%Y%m%dT%H%M%S}")
        events.append(event(uid, *lines))
        if index % 10 == 0 and "DAILY" in rule:
            moved = start + dt.timedelta(days=2)
            events.append(
                event(
                    uid,
                    f"RECURRENCE-ID;TZID=Europe/Paris:{moved:%Y%m%dT%H%M%S}",
                    f"DTSTART;TZID=Europe/Paris:{moved + dt.timedelta(hours=3):%Y%m%dT%H%M%S}",
                    "DURATION:PT1H",
                )
            )
    return calendar(*events)


def p50(fn) -> float:
    return timed(fn, repeat=REQUESTS, warmup=5)["median_ms"]


def main() -> None:
    vendor = setup_django()
    import types

    from django.conf import settings
    from django.http import JsonResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path
    from django.utils import timezone

    from accounts.tests.factories import ClientFactory
    from availability.models import Allocation
    from bookings.tests.factories import SessionTypeFactory, open_coach
    from calendar_sync import services
    from calendar_sync.models import CalendarConnection
    from calendar_sync.tests.fake_calendar import FakeCalendars

    settings.OUTBOUND_ALLOW_PRIVATE = True  # the calendars are served on 127.0.0.1
    plain = open_coach(timezone="Europe/Paris", hours=(9, 17), days=range(5), slot_step_minutes=15)
    busy = open_coach(timezone="Europe/Paris", hours=(9, 17), days=range(5), slot_step_minutes=15)
    types_ = {coach.pk: SessionTypeFactory(coach=coach, duration_minutes=60) for coach in (plain, busy)}
    viewer = ClientFactory(timezone="Europe/Paris")
    today = timezone.localdate(timezone=PARIS)
    fake = FakeCalendars()
    reads = []
    try:
        for seed in range(3):
            body = document(seed, today)
            url = fake.put(f"/calendar-{seed}.ics", body)
            connection = CalendarConnection.objects.create(coach=busy, name=f"Calendar {seed}", url=url)
            started = time.perf_counter()
            outcome = services.sync(connection)
            first = time.perf_counter() - started
            assert outcome.ok, outcome.message
            started = time.perf_counter()
            assert not services.sync(connection).changed
            etag = time.perf_counter() - started
            fake.put(f"/calendar-{seed}.ics", body, etag=False)
            started = time.perf_counter()
            assert not services.sync(connection).changed
            unchanged = time.perf_counter() - started
            reads.append((len(body), outcome.events, first, etag, unchanged))

        def bare(request):
            return JsonResponse({"ok": True})

        urls = types.ModuleType("bench_calendar_urls")
        urls.urlpatterns = [path("__bare__/", bare), path("", include("config.urls"))]
        sys.modules["bench_calendar_urls"] = urls
        first_day = today + dt.timedelta(days=1)
        params = {"start": first_day.isoformat(), "end": (first_day + dt.timedelta(days=30)).isoformat()}
        with override_settings(ROOT_URLCONF="bench_calendar_urls", ALLOWED_HOSTS=["*"]):
            http = Client()
            http.force_login(viewer)
            found = {}
            for coach in (plain, busy):
                query = {**params, "session_type": types_[coach.pk].pk}
                answer = http.get(f"/api/v1/coaches/{coach.pk}/slots", query)
                assert answer.status_code == 200, answer.content
                found[coach.pk] = len(answer.json()["slots"])
            baseline = p50(lambda: http.get("/__bare__/"))
            timings = {
                coach.pk: p50(
                    lambda coach=coach: http.get(
                        f"/api/v1/coaches/{coach.pk}/slots", {**params, "session_type": types_[coach.pk].pk}
                    )
                )
                for coach in (plain, busy)
            }
    finally:
        fake.stop()
    rows = Allocation.objects.filter(calendar__coach=busy).count()
    print(f"Connected calendars: 3 calendars x {EVENTS:,} events ({SERIES} recurring series each), {vendor}")
    print(
        f"  {'calendar':<10} {'KB':>6} {'busy times':>11} {'first read s':>13} {'304 ms':>8} {'no ETag, same ms':>17}"
    )
    for index, (size, events, first, etag, unchanged) in enumerate(reads):
        figures = f"{first:>13.2f} {etag * 1000:>8.1f} {unchanged * 1000:>17.1f}"
        print(f"  {index:<10} {size / 1000:>6.0f} {events:>11,} {figures}")
    print(f"  busy times in the ledger: {rows:,}")
    print(f"  baseline: bare Django view p50 {baseline:.2f} ms (in-process test client)")
    print(
        f"  GET slots, 31 days, without calendars ({found[plain.pk]} slots): p50 {timings[plain.pk]:.2f} ms "
        f"= {timings[plain.pk] / baseline:.0f}x baseline"
    )
    print(
        f"  GET slots, 31 days, with the 3 calendars ({found[busy.pk]} slots): p50 {timings[busy.pk]:.2f} ms "
        f"= {timings[busy.pk] / baseline:.0f}x baseline, {timings[busy.pk] / timings[plain.pk]:.2f}x without"
    )


if __name__ == "__main__":
    main()
