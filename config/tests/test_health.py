"""GET /health/: a public liveness answer; database, cache and worker details for staff
and for a monitor with the health token; 503 when the database is gone."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection, connections
from django.test import Client
from django.utils import timezone
from django_q.status import Stat

import config.settings.base as base_settings
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


HEALTH_TOKEN = "h" * 20 + "0123456789abcdef"  # settings refuse one under 32 characters
BEARER = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


@pytest.fixture(autouse=True)
def _health_token(settings):
    settings.HEALTH_TOKEN = HEALTH_TOKEN


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
    """The detailed answer, as a monitor with the health token gets it."""
    response = Client(headers=BEARER).get("/health/")
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
    response = Client(headers=BEARER).get("/health/")

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


# --- who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "client", "coach"], ids=lambda role: role or "visitor")
def test_everyone_else_gets_only_the_liveness_answer(as_role, running_cluster, role) -> None:
    response = as_role(role).get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # Nothing about the machines behind the site: host names, cluster ids, timings.
    assert b"worker-1" not in response.content
    assert str(running_cluster.cluster_id).encode() not in response.content


def test_liveness_answer_is_never_cached(db) -> None:
    response = Client().get("/health/")

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_signed_in_staff_see_the_details(as_role, running_cluster, role) -> None:
    response = as_role(role).get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["worker"]["clusters"][0]["host"] == "worker-1"


def test_the_health_token_shows_the_details(db, running_cluster) -> None:
    response = Client(headers={"Authorization": f"bearer  {HEALTH_TOKEN}"}).get("/health/")

    assert response.status_code == 200
    assert response.json()["worker"]["clusters"][0]["cluster"] == str(running_cluster.cluster_id)


@pytest.mark.parametrize(
    "token",
    [HEALTH_TOKEN[:-1], HEALTH_TOKEN + "0", HEALTH_TOKEN.upper(), "", "bk_" + HEALTH_TOKEN],
    ids=["short", "long", "case", "empty", "api-token-shaped"],
)
def test_a_wrong_health_token_is_refused(db, token: str) -> None:
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/health/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="health"'
    assert response.json() == {"error": {"code": "unauthenticated", "message": "This health token is not valid."}}


def test_no_token_is_accepted_when_none_is_configured(db, settings) -> None:
    settings.HEALTH_TOKEN = ""

    refused = Client(headers={"Authorization": "Bearer "}).get("/health/")
    public = Client().get("/health/")

    assert refused.status_code == 401
    assert public.json() == {"status": "ok"}


def test_the_token_is_compared_in_constant_time(db, monkeypatch) -> None:
    compared: list[tuple[str, str]] = []

    def spy(given: str, expected: str) -> bool:
        compared.append((given, expected))
        return given == expected

    monkeypatch.setattr(health, "constant_time_compare", spy)

    assert Client(headers=BEARER).get("/health/").status_code == 200
    assert compared == [(HEALTH_TOKEN, HEALTH_TOKEN)]


def test_the_token_in_the_query_string_is_not_accepted(db) -> None:
    # Query strings end up in access logs and proxies; the token goes in the header only.
    response = Client().get("/health/", {"token": HEALTH_TOKEN})

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_other_authorization_schemes_get_the_liveness_answer(db) -> None:
    response = Client(headers={"Authorization": f"Basic {HEALTH_TOKEN}"}).get("/health/")

    assert response.json() == {"status": "ok"}


def test_liveness_answer_is_503_when_the_database_is_unreachable(db, monkeypatch) -> None:
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "cursor", unreachable)
        response = Client().get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "error"}


def test_settings_refuse_a_short_health_token(monkeypatch) -> None:
    monkeypatch.setenv("HEALTH_TOKEN", "x" * 31)
    with pytest.raises(ImproperlyConfigured, match="HEALTH_TOKEN must be at least 32 characters"):
        importlib.reload(base_settings)
    monkeypatch.delenv("HEALTH_TOKEN")
    importlib.reload(base_settings)
