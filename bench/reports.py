"""Reports at a practice's real size: 100,000 bookings over two years for 50 coaches (the
demo history generator, ``pages.history``), then the summary API and each report page p50,
and a full-range CSV of every booking — its time and the peak memory Python allocated while
it streamed, beside the same export of a tenth of the rows (flat means the same) — with a
bare Django view measured in the same run as the baseline.

Run on PostgreSQL (what the figures in the README are):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking .venv/bin/python bench/reports.py
``REPORT_BENCH_BOOKINGS`` scales the data down (default 100000)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report, setup_django, timed

COACHES = 50
CLIENTS = 1500
YEARS = 2
ZONES = ("Europe/Paris", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney")


def build(bookings_wanted: int) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from accounts.tests.factories import ClientFactory, StaffFactory
    from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
    from pages.history import make_history

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a throw-away database
    coaches = []
    for index in range(COACHES):
        coach = open_coach(timezone=ZONES[index % len(ZONES)], hours=(9, 17), days=range(5))
        SessionTypeFactory(coach=coach, title="Consultation", duration_minutes=60, price="80.00", currency="EUR")
        SessionTypeFactory(coach=coach, title="Follow-up", duration_minutes=45, price="60.00", currency="EUR")
        if index % 5 == 0:
            GroupTypeFactory(coach=coach, title="Group workshop", duration_minutes=90, capacity=6)
        coaches.append(coach)
    clients = [ClientFactory() for _ in range(CLIENTS)]
    staff = StaffFactory(timezone="Europe/Paris")
    now = timezone.now()
    last_day = now.date() - dt.timedelta(days=1)
    first_day = last_day - dt.timedelta(days=365 * YEARS - 1)
    weeks = (last_day - first_day).days / 7
    # Bookings per session is a little over one (group seats), so aim the sessions a little low.
    per_week = bookings_wanted / COACHES / weeks / 1.08
    started = time.perf_counter()
    made = make_history(
        coaches=coaches,
        clients=clients,
        first_day=first_day,
        last_day=last_day,
        sessions_per_coach_per_week=per_week,
        seed=11,
        now=now,
    )
    return {
        "coaches": coaches,
        "staff": staff,
        "first_day": first_day,
        "last_day": last_day,
        "made": made,
        "seconds": time.perf_counter() - started,
    }


def export_run(http, query: str, *, trace: bool) -> tuple[int, int, float, int]:
    """Rows, bytes, seconds and (when traced) the peak bytes Python allocated while the CSV
    of ``query`` was produced and read, chunk by chunk, as a client would."""
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    response = http.get(f"/api/v1/reports/bookings.csv?{query}")
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return lines - 1, size, seconds, peak


def profile(data: dict) -> None:
    """Where one year's summary spends its time (``REPORT_BENCH_PROFILE=1``)."""
    import cProfile
    import pstats

    from reports import figures

    last = data["last_day"]
    filters = figures.Filters(last - dt.timedelta(days=364), last, dt.UTC)
    with cProfile.Profile() as profiler:
        figures.summary(filters)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    vendor = setup_django()
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path

    from bookings.models import Booking

    wanted = int(os.environ.get("REPORT_BENCH_BOOKINGS", "100000"))
    data = build(wanted)
    # The planner's statistics of the tables just filled, as autovacuum would gather them
    # soon after a bulk load (without them PostgreSQL guesses, and a coach's page took 1.1 s).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if os.environ.get("REPORT_BENCH_PROFILE"):
        profile(data)
        return
    made = data["made"]
    total = Booking.objects.count()
    print(
        f"Data ({vendor}): {total} bookings, {made.sessions} sessions, {made.events} events, "
        f"{made.analytics} funnel events for {COACHES} coaches over {YEARS} years — made in {data['seconds']:.0f} s"
    )

    def bare(request):
        return HttpResponse("ok")

    import types

    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [path("__bare__/", bare), path("", include("config.urls"))]
    sys.modules["bench_urls"] = urls

    first, last = data["first_day"], data["last_day"]
    year = f"start={last - dt.timedelta(days=364)}&end={last}"
    quarter = f"start={last - dt.timedelta(days=89)}&end={last}"
    everything = f"start={first}&end={last}"
    coach = data["coaches"][0]

    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["*"]):
        visitor = Client()
        baseline = timed(lambda: visitor.get("/__bare__/"))
        staff = Client()
        staff.force_login(data["staff"])
        own = Client()
        own.force_login(coach)

        def check(http: Client, url: str) -> None:
            response = http.get(url)
            assert response.status_code == 200, (url, response.status_code)

        def pages(url: str):
            return timed(lambda: check(staff, url), repeat=20, warmup=2)

        from reports.sections import PAGES

        def page_path(page) -> str:
            return f"/reports/{page.slug}/" if page.slug else "/reports/"

        rows = [
            ("summary API, every coach, 90 days", pages(f"/api/v1/reports/summary?{quarter}")),
            ("summary API, every coach, 1 year", pages(f"/api/v1/reports/summary?{year}")),
            ("summary API, every coach, 2 years", pages(f"/api/v1/reports/summary?{everything}")),
        ]
        # Each report page: staff looking at every coach over 90 days (the default) and a year,
        # one coach chosen, and a coach's own pages.
        for label, query in (("90 days", quarter), ("1 year", year)):
            for page in PAGES:
                rows.append((f"{page.label} page, staff, every coach, {label}", pages(f"{page_path(page)}?{query}")))
        rows.append(("Overview page, staff, 2 years", pages(f"/reports/?{everything}")))
        # Every report on one page, to print: not a report page, slower by design.
        rows.append(("Every report on one page, staff, 90 days", pages(f"/reports/all/?{quarter}")))
        rows.append(("Every report on one page, staff, 1 year", pages(f"/reports/all/?{year}")))
        for page in PAGES[:-1]:
            rows.append(
                (f"{page.label} page, staff, 1 coach, 90 days", pages(f"{page_path(page)}?{quarter}&coach={coach.pk}"))
            )
        for page in PAGES[:-1]:
            url = f"{page_path(page)}?{quarter}"
            rows.append(
                (
                    f"{page.label} page, a coach's own, 90 days",
                    timed(lambda url=url: check(own, url), repeat=20, warmup=2),
                )
            )
        rows.append(("a table's CSV (volume), 1 year", pages(f"/reports/volume.csv?{year}")))
        rows.append(("a table's CSV (coaches), 1 year", pages(f"/reports/coaches.csv?{year}")))
        report(f"Reports on {total} bookings, 20 requests each (in-process test client, {vendor})", rows, baseline)

        # The CSV: a tenth of the range, then all of it — time untraced, then peak memory traced.
        tenth = f"start={last - dt.timedelta(days=(last - first).days // 10)}&end={last}"
        print("Bookings CSV (GET /api/v1/reports/bookings.csv, read to the end as a client would)")
        print(f"  {'range':<14} {'rows':>8} {'MB':>7} {'seconds':>8} {'rows/s':>8} {'peak traced MB':>15}")
        for label, query in (("a tenth", tenth), ("everything", everything)):
            lines, size, seconds, _ = export_run(staff, query, trace=False)
            _, _, _, peak = export_run(staff, query, trace=True)
            figures = f"{lines:>8} {size / 1e6:>7.1f} {seconds:>8.2f} {lines / seconds:>8.0f} {peak / 1e6:>15.2f}"
            print(f"  {label:<14} {figures}")


if __name__ == "__main__":
    main()
