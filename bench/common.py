"""Shared set-up for the benchmarks: a throw-away SQLite database (or DATABASE_URL), the
demo data, and a bare Django view measured in the same run as the baseline."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _bench_database_url(url: str) -> str:
    """A database of the benchmark's own beside DATABASE_URL's, so a run never touches real data."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench"
    import psycopg

    admin = parts._replace(path="/postgres", query="").geturl()  # the options are Django's
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            connection.execute(f'DROP DATABASE "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()


def setup_django() -> str:
    """Configure Django on a fresh throw-away database; returns its vendor name."""
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = _bench_database_url(url)
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    from django.db import connection

    return connection.vendor


def timed(fn: Callable[[], object], *, repeat: int = 200, warmup: int = 20) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": samples[int(len(samples) * 0.95) - 1],
    }


def report(title: str, rows: list[tuple[str, dict[str, float]]], baseline: dict[str, float]) -> None:
    print(title)
    width = max([34, *(len(name) for name, _figures in rows)])
    print(f"  {'what':<{width}} {'median ms':>10} {'p95 ms':>9} {'× baseline':>11}")
    base = baseline["median_ms"]
    print(f"  {'baseline: bare Django view':<{width}} {base:>10.2f} {baseline['p95_ms']:>9.2f} {1:>11.1f}")
    for name, figures in rows:
        ratio = figures["median_ms"] / base
        print(f"  {name:<{width}} {figures['median_ms']:>10.2f} {figures['p95_ms']:>9.2f} {ratio:>11.1f}")
