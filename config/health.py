"""GET /health/ — is the database up, the cache answering, the worker alive?

Everyone gets the liveness answer: ``{"status": "ok"}`` (200), or ``{"status": "error"}``
(503) when the database is unreachable. The details — each check, the worker clusters'
hosts and ids, timings — go only to signed-in staff and to a monitor that sends
``Authorization: Bearer <HEALTH_TOKEN>``. The token is accepted in that header only, never
in the query string, which access logs and proxies keep; a wrong token is a 401.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "health:worker:last_heartbeat"
# The q2 cluster rewrites its status every few seconds; older than this means it is gone.
WORKER_STALE_AFTER_SECONDS = 30


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.error("Health check: database unreachable: %s", error)
        return {"status": "error", "error": error.__class__.__name__}
    return {"status": "ok", "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_cache() -> dict[str, Any]:
    key, value = f"health:probe:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, 10)
        ok = cache.get(key) == value
        cache.delete(key)
    except Exception as error:  # any backend failure (Redis down, table missing) is a failed check
        logger.error("Health check: cache failed: %s", error)
        return {"status": "error", "error": error.__class__.__name__}
    return {"status": "ok" if ok else "error"}


def check_worker() -> dict[str, Any]:
    """The q2 clusters' own status records, plus the newest heartbeat ever seen."""
    from django_q.status import Stat

    try:
        stats = Stat.get_all()
    except Exception as error:  # broker unreachable
        logger.error("Health check: worker status unavailable: %s", error)
        stats = []
    clusters = [
        {"cluster": str(stat.cluster_id), "host": stat.host, "status": stat.status, "timestamp": stat.timestamp}
        for stat in stats
    ]
    last = max((c["timestamp"] for c in clusters), default=None)
    try:
        if last is not None:
            cache.set(HEARTBEAT_KEY, last, None)
        else:
            last = cache.get(HEARTBEAT_KEY)
    except Exception as error:  # the cache check reports cache failures
        logger.warning("Health check: could not read or store the worker heartbeat: %s", error)
    age = (timezone.now() - last).total_seconds() if last else None
    status = "ok" if age is not None and age <= WORKER_STALE_AFTER_SECONDS else "down"
    return {
        "status": status,
        "clusters": [{**c, "timestamp": c["timestamp"].isoformat()} for c in clusters],
        "last_heartbeat": last.isoformat() if last else None,
        "seconds_since_heartbeat": round(age, 1) if age is not None else None,
    }


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; None without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def valid_health_token(token: str) -> bool:
    expected = settings.HEALTH_TOKEN
    # Compared in constant time, so the answer's timing doesn't reveal how much matched.
    return bool(expected) and constant_time_compare(token, expected)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    token = bearer_token(request)
    if token is not None and not valid_health_token(token):
        response = JsonResponse(
            {"error": {"code": "unauthenticated", "message": gettext("This health token is not valid.")}},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="health"'
        return response
    if token is not None or request.user.is_staff:
        return health_details()
    database = check_database()
    if database["status"] == "ok":
        return JsonResponse({"status": "ok"})
    return JsonResponse({"status": "error"}, status=503)


def health_details() -> JsonResponse:
    database = check_database()
    cache_check = check_cache()
    worker = check_worker() if database["status"] == "ok" else {"status": "unknown"}
    # Only the database makes the site unusable; a stopped worker delays mail, not bookings.
    status = 200 if database["status"] == "ok" else 503
    overall = "ok" if all(c["status"] == "ok" for c in (database, cache_check, worker)) else "degraded"
    if status == 503:
        overall = "down"
    return JsonResponse(
        {
            "status": overall,
            "time": timezone.now().isoformat(),
            "database": database,
            "cache": cache_check,
            "worker": worker,
        },
        status=status,
    )
