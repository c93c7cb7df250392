"""GET /health/: database, cache and worker checks, and 503 when the database is gone."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection, connections
from django.test import Client
from django.utils import timezone
from django_q.status import Stat

from config import health


@dataclass
class FakeClusterStat:
    """What django-q2's ``Stat.get_all()`` returns for each running cluster."""

    cluster_id: uuid.UUID
    host: str
    status: str
    timestamp: dt.datetime


@pytest.fixture(autouse=True)
def _empty_cache():
    # The newest heartbeat is remembered in the cache, which outlives a test (locmem).
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def running_cluster(monkeypatch) -> FakeClusterStat:
    stat = FakeClusterStat(
        cluster_id=uuid.UUID("2b9c6a5e-1f5e-4a53-9f4b-6f1d0c7a8e11"),
        host="worker-1",
        status="Idle",
        timestamp=timezone.now() - dt.timedelta(seconds=3),
    )
    monkeypatch.setattr(Stat, "get_all", staticmethod(lambda broker=None: [stat]))
    return stat


def get_health() -> tuple[int, dict]:
    response = Client().get("/health/")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_health_reports_every_check(db) -> None:
    status, body = get_health()

    assert status == 200
    assert {"status", "time", "database", "cache", "worker"} <= set(body)
    assert body["database"]["status"] == "ok"
    assert body["database"]["vendor"] == connection.vendor
    assert body["cache"] == {"status": "ok"}


def test_health_is_never_cached(db) -> None:
    response = Client().get("/health/")

    assert "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_health_answers_get_only(db) -> None:
    assert Client().post("/health/").status_code == 405


def test_worker_down_without_a_cluster(db) -> None:
    status, body = get_health()

    # A stopped worker delays mail, not bookings: the site is degraded, not down.
    assert status == 200
    assert body["status"] == "degraded"
    assert body["worker"]["status"] == "down"
    assert body["worker"]["clusters"] == []
    assert body["worker"]["last_heartbeat"] is None


def test_worker_ok_with_a_running_cluster(db, running_cluster: FakeClusterStat) -> None:
    status, body = get_health()

    assert status == 200
    assert body["status"] == "ok"
    worker = body["worker"]
    assert worker["status"] == "ok"
    assert worker["last_heartbeat"] == running_cluster.timestamp.isoformat()
    assert worker["seconds_since_heartbeat"] < health.WORKER_STALE_AFTER_SECONDS
    assert worker["clusters"] == [
        {
            "cluster": str(running_cluster.cluster_id),
            "host": "worker-1",
            "status": "Idle",
            "timestamp": running_cluster.timestamp.isoformat(),
        }
    ]


def test_worker_down_when_the_cluster_status_is_stale(db, running_cluster: FakeClusterStat) -> None:
    running_cluster.timestamp = timezone.now() - dt.timedelta(minutes=5)

    status, body = get_health()

    assert status == 200
    assert body["worker"]["status"] == "down"
    assert body["worker"]["last_heartbeat"] == running_cluster.timestamp.isoformat()


def test_last_heartbeat_is_remembered_after_the_cluster_stops(db, monkeypatch, running_cluster) -> None:
    get_health()
    monkeypatch.setattr(Stat, "get_all", staticmethod(lambda broker=None: []))

    _, body = get_health()

    assert body["worker"]["clusters"] == []
    assert body["worker"]["last_heartbeat"] == running_cluster.timestamp.isoformat()


def test_worker_down_when_the_broker_is_unreachable(db, monkeypatch) -> None:
    def broker_down(broker=None):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(Stat, "get_all", staticmethod(broker_down))

    status, body = get_health()

    assert status == 200
    assert body["worker"]["status"] == "down"


def test_503_when_the_database_is_unreachable(db, monkeypatch) -> None:
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    # Patched on the backend's class (cleanly undone) and undone inside the test, because the
    # test database's own teardown needs a working cursor.
    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "cursor", unreachable)
        status, body = get_health()

    assert status == 503
    assert body["status"] == "down"
    assert body["database"] == {"status": "error", "error": "OperationalError"}
    assert body["cache"]["status"] == "ok"
    # The error's text (which may name hosts or users) is logged, not shown.
    assert "Connection refused" not in str(body)


def test_cache_failure_degrades_but_does_not_take_the_site_down(db, monkeypatch) -> None:
    def cache_down(*args, **kwargs):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(health.cache, "set", cache_down)

    status, body = get_health()

    assert status == 200
    assert body["status"] == "degraded"
    assert body["cache"] == {"status": "error", "error": "ConnectionError"}
    assert body["database"]["status"] == "ok"
