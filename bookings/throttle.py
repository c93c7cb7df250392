"""Booking throttles: how often one may try to book, and how many requests one may leave
waiting with one coach.

**Attempts** (``BookingThrottleMiddleware``): every unsafe request that tries to book — the
wizard's confirm, taking a seat and confirming a reschedule on the pages; creating a
booking, taking a seat and rescheduling in the API — is counted per signed-in person (the
session's user, or the bearer token's) and per client address (allauth's reading of it, so
``TRUSTED_PROXY_COUNT`` applies, and an IPv6 address counts by its /64 as allauth's own
limits do). Limits are ``BOOKING_ATTEMPTS_PER_CLIENT`` and ``BOOKING_ATTEMPTS_PER_ADDRESS``,
each ``"count/period"`` rates, comma-separated (``"20/10m,100/d"``); empty is no limit.

Each rate counts in fixed windows aligned on the epoch (a ``10m`` window starts at :00,
:10, …; a day at midnight UTC): one counter per window in the default cache, incremented
atomically, so every process (web, workers) shares it. A fixed window lets a burst of up
to twice a rate straddle a boundary, and in exchange says exactly when the refusal ends:
the answer is 429 with ``Retry-After`` (seconds until the window that refused is over),
the API's error shape (code ``rate_limited``) or a page saying when to try again.

The person is counted first, then the address, and an attempt the person's limit refuses
is not counted for the address: one runaway script under one account does not shut out the
other people behind the same address. Refused attempts do count in the person's own
counters (a script hammering on stays refused for the day; a person trying again twice
changes little). A refused attempt reaches no view: nothing is written.

The counters live in the cache: with Redis (``REDIS_URL``) ``add`` then ``INCR``; with
the database cache, one ``INSERT … ON CONFLICT … DO UPDATE … RETURNING`` on its table for
all of a scope's windows (Django's database cache has no atomic increment: its ``incr`` is
a read and a write, so two racing attempts would count as one). If the cache fails, the
attempt goes through and the failure is logged: a cache outage never stops booking.

**Open requests** (``open_requests_limit``): a client with ``MAX_OPEN_REQUESTS_PER_COACH``
requests waiting for one coach's answer is refused another (``Throttled``, 429,
``too_many_requests``) until one is answered or expires; ``retry_after`` is when enough of
them expire. The booking service calls it inside its transaction, under the client's lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache

from allauth.core.internal.ratelimit import get_ip
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import authenticate_token
from bookings.models import Booking, BookingStatus
from config.errors import Throttled, retry_after_headers
from config.middleware import API_PREFIX, domain_error_response

__all__ = [
    "API_ATTEMPTS",
    "PAGE_ATTEMPTS",
    "BookingThrottleMiddleware",
    "Rate",
    "Throttled",
    "count_attempt",
    "open_requests_limit",
    "parse_rates",
    "wait_phrase",
]

logger = logging.getLogger(__name__)

# The pages whose POST tries to book (url names, bookings/urls.py).
PAGE_ATTEMPTS = frozenset({"book_confirm", "book_seat", "booking_reschedule_confirm"})
# The API operations that try to book, by method and route (bookings/api.py, series_api.py under /api/v1/).
API_ATTEMPTS = frozenset(
    {
        ("POST", "api/v1/bookings"),
        ("POST", "api/v1/sessions/<session_id>/bookings"),
        ("POST", "api/v1/bookings/<booking_id>/reschedule"),
        ("POST", "api/v1/series"),  # bookings/series_api.py: a series is one attempt
    }
)

KEY_PREFIX = "booking-throttle"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")


# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """At most ``count`` attempts in each fixed window of ``seconds``."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


@lru_cache(maxsize=32)
def parse_rates(text: str, setting: str = "booking throttle") -> tuple[Rate, ...]:
    """``"20/10m,100/d"`` → the rates; ``""`` → none (no limit). Anything else is refused
    with ``ImproperlyConfigured`` naming the setting."""
    rates = []
    for part in (text or "").split(","):
        part = part.strip().replace(" ", "")
        if not part:
            continue
        match = _RATE.match(part)
        if match is None:
            raise ImproperlyConfigured(
                f"{setting}={text!r}: {part!r} is not a rate; write count/period, e.g. 20/10m or 100/d "
                f"(period: s, m, h or d with an optional number), several separated by commas."
            )
        count, number, unit = int(match[1]), int(match[2] or 1), match[3]
        if count < 1 or number < 1:
            raise ImproperlyConfigured(f"{setting}={text!r}: {part!r} must allow at least 1 in at least 1{unit}.")
        rates.append(Rate(count, number * _UNITS[unit]))
    return tuple(dict.fromkeys(rates))


def client_rates() -> tuple[Rate, ...]:
    return parse_rates(settings.BOOKING_ATTEMPTS_PER_CLIENT, "BOOKING_ATTEMPTS_PER_CLIENT")


def address_rates() -> tuple[Rate, ...]:
    return parse_rates(settings.BOOKING_ATTEMPTS_PER_ADDRESS, "BOOKING_ATTEMPTS_PER_ADDRESS")


# --- words ------------------------------------------------------------------------------


def wait_phrase(seconds: float) -> str:
    """ "in 40 seconds", "in 5 minutes", "in 3 hours", "in 2 days": rounded up, so that
    trying again then succeeds."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return ngettext("in %(count)d second", "in %(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes <= 90:
        return ngettext("in %(count)d minute", "in %(count)d minutes", minutes) % {"count": minutes}
    hours = math.ceil(seconds / 3600)
    if hours <= 48:
        return ngettext("in %(count)d hour", "in %(count)d hours", hours) % {"count": hours}
    days = math.ceil(seconds / 86400)
    return ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}


# --- counting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    key: str
    rate: Rate
    ends: int  # epoch seconds

    @classmethod
    def of(cls, scope: str, who: str, rate: Rate, now: float) -> _Window:
        index = int(now // rate.seconds)
        key = f"{KEY_PREFIX}:{scope}:{who}:{rate.seconds}:{index}"
        return cls(key=key, rate=rate, ends=(index + 1) * rate.seconds)


def _count_in_database_cache(backend: DatabaseCache, windows: Sequence[_Window]) -> list[int]:
    """Add one to each window's counter in the cache table, in one statement; the counts."""
    db = router.db_for_write(backend.cache_model_class)
    connection = connections[db]
    quote = connection.ops.quote_name
    table, key, value, expires = (quote(name) for name in (backend._table, "cache_key", "value", "expires"))
    params: list[object] = []
    for window in windows:
        # Kept a minute past its window; the cache's culling removes it after that.
        expiry = dt.datetime.fromtimestamp(window.ends + 60, tz=dt.UTC)
        params += [window.key, connection.ops.adapt_datetimefield_value(expiry)]
    rows = ", ".join(["(%s, '1', %s)"] * len(windows))
    sql = (
        f"INSERT INTO {table} ({key}, {value}, {expires}) VALUES {rows} "  # noqa: S608 (names from the cache settings; values are parameters)
        f"ON CONFLICT ({key}) DO UPDATE SET {value} = CAST(CAST({table}.{value} AS INTEGER) + 1 AS TEXT) "
        f"RETURNING {key}, {value}"
    )
    # Inside a transaction (a test's, an atomic request's) a failure must not break it.
    savepoint = transaction.atomic(using=db) if connection.in_atomic_block else nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = {row[0]: int(row[1]) for row in cursor.fetchall()}
    return [counts[window.key] for window in windows]


def _count_in_cache(cache, windows: Sequence[_Window], now: float) -> list[int]:
    """``add`` then ``incr``: atomic on Redis, Memcached and the local-memory cache."""
    counts = []
    for window in windows:
        timeout = max(1, math.ceil(window.ends - now)) + 60
        count = 1
        for _attempt in range(3):
            if cache.add(window.key, 1, timeout):
                break
            try:
                count = cache.incr(window.key)
                break
            except ValueError:  # expired between the two: start it again
                continue
        counts.append(count)
    return counts


def _count(windows: Sequence[_Window], now: float) -> list[int]:
    backend = caches["default"]
    if isinstance(backend, DatabaseCache):
        return _count_in_database_cache(backend, windows)
    return _count_in_cache(backend, windows, now)


def _refused_until(scope: str, who: str, rates: Sequence[Rate], now: float) -> int | None:
    """Count one attempt in each of ``rates``' current windows; when one is over its rate,
    the latest end of the windows that refuse."""
    windows = [_Window.of(scope, who, rate, now) for rate in rates]
    counts = _count(windows, now)
    over = [window.ends for window, count in zip(windows, counts, strict=True) if count > window.rate.count]
    return max(over) if over else None


def count_attempt(*, client_id: int | None, address: str | None, now: float | None = None) -> None:
    """Count one booking attempt by ``client_id`` (a user's id; None: not signed in) from
    ``address``; raise ``Throttled`` (code ``rate_limited``) when it is one too many."""
    now = time.time() if now is None else now
    refused: int | None = None
    if client_id is not None and (rates := client_rates()):
        refused = _refused_until("client", str(client_id), rates, now)
    if refused is None and address and (rates := address_rates()):
        refused = _refused_until("address", address, rates, now)
    if refused is None:
        return
    wait = refused - now
    raise Throttled(
        _("You've tried to book many times in a short while. Try again %(wait)s.") % {"wait": wait_phrase(wait)},
        code="rate_limited",
        retry_after=wait,
    )


# --- the middleware ---------------------------------------------------------------------


def is_booking_attempt(request: HttpRequest) -> bool:
    match = request.resolver_match
    if request.method != "POST" or match is None:
        return False
    return match.view_name in PAGE_ATTEMPTS or (request.method, match.route) in API_ATTEMPTS


def _client_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.pk
    if request.path.startswith(API_PREFIX):
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and (owner := authenticate_token(token.strip())) is not None:
            return owner.pk
    return None


def _address(request: HttpRequest) -> str | None:
    try:
        return get_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        # No address, or X-Forwarded-For shorter than TRUSTED_PROXY_COUNT says.
        return request.META.get("REMOTE_ADDR") or None


def refusal_response(request: HttpRequest, exc: Throttled) -> HttpResponse:
    """The API's error shape under /api/, else the site's 429 page; both with Retry-After."""
    if request.path.startswith(API_PREFIX):
        return domain_error_response(exc)
    response = render(request, "errors/429.html", {"message": exc.message}, status=exc.status)
    for name, value in retry_after_headers(exc).items():
        response[name] = value
    return response


class BookingThrottleMiddleware:
    """Count booking attempts (``PAGE_ATTEMPTS``, ``API_ATTEMPTS``) and refuse the ones over
    ``BOOKING_ATTEMPTS_PER_CLIENT`` or ``BOOKING_ATTEMPTS_PER_ADDRESS`` before their view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # A typo in either setting stops the start instead of switching the limit off.
        client_rates()
        address_rates()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: object, view_args: object, view_kwargs: object):
        if not is_booking_attempt(request):
            return None
        if not (client_rates() or address_rates()):
            return None
        try:
            count_attempt(client_id=_client_id(request), address=_address(request))
        except Throttled as exc:
            logger.info("Booking attempt refused (%s): %s %s", exc.code, request.method, request.path)
            return refusal_response(request, exc)
        except Exception:
            logger.exception("Booking throttle failed; the attempt goes through uncounted")
        return None


# --- open requests ----------------------------------------------------------------------


def open_requests_limit(client, coach, *, now: dt.datetime) -> None:
    """Refuse (``Throttled``, 429, ``too_many_requests``) a new request when ``client``
    already has ``MAX_OPEN_REQUESTS_PER_COACH`` requests (a series counts once) waiting for ``coach``'s answer;
    ``retry_after``: seconds until enough of them expire for one more. Requests past their
    expiry (not yet swept by the expiry task) no longer count."""
    limit = settings.MAX_OPEN_REQUESTS_PER_COACH
    if limit <= 0:
        return
    rows = (
        Booking.objects.filter(client=client, session__coach=coach, status=BookingStatus.REQUESTED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(F("expires_at").asc(nulls_last=True))
        .values_list("expires_at", "series_id")
    )
    # A series asks once for all its occurrences: it counts as one request.
    seen_series: set[int] = set()
    expiries = []
    for expires_at, series_id in rows:
        if series_id is not None:
            if series_id in seen_series:
                continue
            seen_series.add(series_id)
        expiries.append(expires_at)
    if len(expiries) < limit:
        return
    # One more fits once len - limit + 1 of them are gone: the (len - limit + 1)th to expire.
    frees_one = expiries[len(expiries) - limit]
    retry_after = None if frees_one is None else (frees_one - now).total_seconds()
    values = {"count": len(expiries), "coach": coach.display_name}
    message = (
        ngettext(
            "You already have %(count)d request waiting for an answer from %(coach)s.",
            "You already have %(count)d requests waiting for an answer from %(coach)s.",
            len(expiries),
        )
        % values
    )
    if retry_after is None:
        message += " " + _("You can ask for another time once one of them is answered.")
    else:
        message += " " + _("You can ask for another time once one of them is answered, or %(wait)s.") % {
            "wait": wait_phrase(retry_after)
        }
    raise Throttled(message, code="too_many_requests", retry_after=retry_after)
