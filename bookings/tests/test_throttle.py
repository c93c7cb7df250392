"""Booking throttles (bookings/throttle.py): attempts to book per signed-in person and per
address, answered 429 with Retry-After by the API and by the pages; the counters in the
local-memory cache and in the database cache (one atomic statement, racing threads); the
open-requests limit per coach and its retry_after; settings parsing; config's error
answers carrying Retry-After.

Time is frozen on Tuesday 1 December 2026, 06:00:00 UTC: the start of a 10-minute, an
hour's and a day's window alike. The coach works in Paris from 09:00 to 17:00.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from html import unescape

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, connections
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import ClientFactory, make_token
from bookings import services, throttle
from bookings.models import Booking, BookingEvent, BookingStatus, IdempotencyRecord, Session
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import DomainError, Throttled
from config.middleware import ApiErrorShapeMiddleware, domain_error_response

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TOMORROW = dt.datetime(2026, 12, 2, tzinfo=UTC)
PAGE_REFUSAL = "You've tried to book many times in a short while. Try again in 10 minutes."
DB_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_entries"}}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limits(settings):
    """Set the two limits: ``limits(client="3/10m", address="")``."""

    def set_limits(*, client: str = "", address: str = "") -> None:
        settings.BOOKING_ATTEMPTS_PER_CLIENT = client
        settings.BOOKING_ATTEMPTS_PER_ADDRESS = address

    return set_limits


@pytest.fixture
def coach(db):
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save(update_fields=["name"])
    return coach


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, title="Consultation")


def at(hour: int) -> dt.datetime:
    """Tomorrow at ``hour`` UTC (the coach's 09:00–17:00 Paris is 08:00–16:00 UTC)."""
    return TOMORROW.replace(hour=hour)


def signed_in(user, address: str = "127.0.0.1") -> Client:
    http = Client(REMOTE_ADDR=address)
    http.force_login(user)
    return http


def api_book(http: Client, coach, session_type, hour: int, **headers):
    body = {"coach": coach.pk, "session_type": session_type.pk, "start": at(hour).isoformat(), "notes": ""}
    return http.post("/api/v1/bookings", json.dumps(body), content_type="application/json", **headers)


def page_book(http: Client, session_type, hour: int):
    url = reverse("book_confirm", args=[session_type.coach_id, session_type.pk])
    return http.post(f"{url}?start={at(hour).strftime('%Y-%m-%dT%H:%M:%SZ')}", {"notes": "", "reminders": "on"})


def written() -> tuple[int, int, int, int]:
    return (
        Booking.objects.count(),
        Session.objects.count(),
        BookingEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def assert_api_refusal(response, *, retry_after: int, wait: str = "in 10 minutes") -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == str(retry_after)
    assert response.json() == {
        "error": {
            "code": "rate_limited",
            "message": f"You've tried to book many times in a short while. Try again {wait}.",
        }
    }


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rates"),
    [
        ("20/10m,100/d", ((20, 600), (100, 86400))),
        ("", ()),
        ("  ", ()),
        ("5/s", ((5, 1),)),
        ("3/30s, 10 / h ,", ((3, 30), (10, 3600))),
        ("7/2d", ((7, 172800),)),
        ("5/m,5/m", ((5, 60),)),
    ],
)
def test_rates_are_read_from_count_slash_period(text, rates) -> None:
    assert tuple((rate.count, rate.seconds) for rate in throttle.parse_rates(text, "X")) == rates


@pytest.mark.parametrize("text", ["20", "20/", "/m", "20/10x", "a/m", "0/m", "5/0m", "-1/m", "20/10m;5/h", "1.5/m"])
def test_a_bad_rate_is_refused_naming_the_setting(text) -> None:
    with pytest.raises(ImproperlyConfigured, match="BOOKING_ATTEMPTS_PER_CLIENT"):
        throttle.parse_rates(text, "BOOKING_ATTEMPTS_PER_CLIENT")


def test_a_bad_setting_stops_the_start(settings) -> None:
    settings.BOOKING_ATTEMPTS_PER_ADDRESS = "100 per hour"
    with pytest.raises(ImproperlyConfigured, match="BOOKING_ATTEMPTS_PER_ADDRESS"):
        throttle.BookingThrottleMiddleware(lambda request: HttpResponse())


def test_the_defaults_are_documented_values() -> None:
    from config.settings import base

    assert throttle.parse_rates(base.BOOKING_ATTEMPTS_PER_CLIENT) == (
        throttle.Rate(20, 600),
        throttle.Rate(100, 86400),
    )
    assert throttle.parse_rates(base.BOOKING_ATTEMPTS_PER_ADDRESS) == (
        throttle.Rate(100, 600),
        throttle.Rate(1000, 86400),
    )
    assert base.MAX_OPEN_REQUESTS_PER_COACH == 3
    assert "bookings.throttle.BookingThrottleMiddleware" in base.MIDDLEWARE
    order = base.MIDDLEWARE.index
    assert order("bookings.throttle.BookingThrottleMiddleware") > order(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (0.2, "in 1 second"),
        (30, "in 30 seconds"),
        (59.5, "in 1 minute"),
        (61, "in 2 minutes"),
        (600, "in 10 minutes"),
        (5400, "in 90 minutes"),
        (5401, "in 2 hours"),
        (48 * 3600, "in 48 hours"),
        (48 * 3600 + 1, "in 3 days"),
    ],
)
def test_the_wait_is_said_rounded_up(seconds, phrase) -> None:
    assert throttle.wait_phrase(seconds) == phrase


# --- the API -----------------------------------------------------------------------------


def test_the_api_books_under_the_limit_and_answers_429_over_it(coach, consult, limits) -> None:
    limits(client="3/10m", address="")
    http = signed_in(ClientFactory())
    for hour in (8, 9, 10):
        assert api_book(http, coach, consult, hour).status_code == 201
    before = written()
    assert_api_refusal(api_book(http, coach, consult, 11, HTTP_IDEMPOTENCY_KEY="k-1"), retry_after=600)
    assert written() == before  # nothing booked, no event, no idempotency record
    assert not Booking.objects.filter(session__start=at(11)).exists()


def test_the_wait_is_what_is_left_of_the_window(coach, consult, limits, frozen) -> None:
    limits(client="2/10m")
    http = signed_in(ClientFactory())
    frozen.shift(dt.timedelta(minutes=4, seconds=10))  # 06:04:10, in the 06:00–06:10 window
    assert api_book(http, coach, consult, 8).status_code == 201
    assert api_book(http, coach, consult, 9).status_code == 201
    assert_api_refusal(api_book(http, coach, consult, 10), retry_after=350, wait="in 6 minutes")


def test_the_window_ends_and_booking_works_again(coach, consult, limits, frozen) -> None:
    limits(client="2/10m")
    http = signed_in(ClientFactory())
    assert [api_book(http, coach, consult, hour).status_code for hour in (8, 9, 10)] == [201, 201, 429]
    frozen.shift(dt.timedelta(minutes=9, seconds=59))
    assert api_book(http, coach, consult, 10)["Retry-After"] == "1"
    frozen.shift(dt.timedelta(seconds=1))  # 06:10:00: a new window
    assert api_book(http, coach, consult, 10).status_code == 201
    assert api_book(http, coach, consult, 11).status_code == 201
    assert api_book(http, coach, consult, 12).status_code == 429


def test_the_longest_refusing_window_sets_the_wait(coach, consult, limits, frozen) -> None:
    limits(client="2/10m,3/h")
    http = signed_in(ClientFactory())
    assert [api_book(http, coach, consult, hour).status_code for hour in (8, 9)] == [201, 201]
    frozen.shift(dt.timedelta(minutes=10))
    assert api_book(http, coach, consult, 10).status_code == 201
    # 06:10: the 10-minute window has room, the hour's does not (until 07:00).
    assert_api_refusal(api_book(http, coach, consult, 11), retry_after=3000, wait="in 50 minutes")


def test_a_throttled_key_is_not_remembered_and_works_after_the_wait(coach, consult, limits, frozen) -> None:
    limits(client="1/10m")
    http = signed_in(ClientFactory())
    assert api_book(http, coach, consult, 8).status_code == 201
    assert api_book(http, coach, consult, 9, HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 429
    frozen.shift(dt.timedelta(minutes=10))
    response = api_book(http, coach, consult, 9, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert response.status_code == 201, response.content


def test_the_bearer_token_is_the_person_counted(coach, consult, limits) -> None:
    limits(client="2/10m")
    client = ClientFactory()
    _token, raw = make_token(client)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api_book(Client(REMOTE_ADDR="10.0.0.1"), coach, consult, 8, **auth).status_code == 201
    assert api_book(Client(REMOTE_ADDR="10.0.0.2"), coach, consult, 9, **auth).status_code == 201
    assert api_book(Client(REMOTE_ADDR="10.0.0.3"), coach, consult, 10, **auth).status_code == 429
    # Another person's token is counted on its own.
    _other, other_raw = make_token(ClientFactory())
    other = {"HTTP_AUTHORIZATION": f"Bearer {other_raw}"}
    assert api_book(Client(REMOTE_ADDR="10.0.0.3"), coach, consult, 10, **other).status_code == 201


# --- the pages ---------------------------------------------------------------------------


def test_the_wizard_books_under_the_limit_and_shows_a_429_page_over_it(coach, consult, limits) -> None:
    limits(client="2/10m")
    http = signed_in(ClientFactory())
    assert page_book(http, consult, 8).status_code == 303
    assert page_book(http, consult, 9).status_code == 303
    before = written()
    response = page_book(http, consult, 10)
    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert [t.name for t in response.templates][:2] == ["errors/429.html", "base.html"]
    page = unescape(response.content.decode())
    assert PAGE_REFUSAL in page
    assert "Nothing was booked or changed by this attempt." in page
    assert written() == before


def test_a_seat_and_a_move_on_the_pages_are_attempts(coach, consult, limits) -> None:
    group = GroupTypeFactory(coach=coach, title="Yoga")
    session = services.publish_session(actor=coach, session_type=group, start=at(12))
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=consult, start=at(8))
    limits(client="2/10m")
    http = signed_in(client)
    assert http.post(reverse("book_seat", args=[session.pk]), {"reminders": "on"}).status_code == 303
    move = reverse("booking_reschedule_confirm", args=[booking.reference])
    assert http.post(f"{move}?start={at(9).strftime('%Y-%m-%dT%H:%M:%SZ')}").status_code == 303
    before = written()
    response = http.post(f"{move}?start={at(10).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    assert response.status_code == 429
    assert PAGE_REFUSAL in unescape(response.content.decode())
    assert written() == before
    booking.refresh_from_db()
    assert booking.session.start == at(9)


# --- which requests count ----------------------------------------------------------------

ATTEMPTS = {
    "api create": ("/api/v1/bookings", "json"),
    "api seat": ("/api/v1/sessions/999999/bookings", "json"),
    "api reschedule": ("/api/v1/bookings/BK-2026-999999/reschedule", "json"),
    "page confirm": ("/book/999999/999999/confirm/?start=2026-12-02T08:00:00Z", "form"),
    "page seat": ("/book/session/999999/", "form"),
    "page reschedule": ("/bookings/BK-2026-999999/reschedule/confirm/?start=2026-12-02T08:00:00Z", "form"),
}


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_every_booking_route_is_counted_whatever_its_answer(name, db, limits) -> None:
    url, kind = ATTEMPTS[name]
    limits(client="1/10m")
    http = signed_in(ClientFactory())

    def attempt():
        if kind == "json":
            return http.post(url, json.dumps({"start": "2026-12-02T08:00:00Z"}), content_type="application/json")
        return http.post(url, {})

    first = attempt()
    assert first.status_code in (400, 404), first.content  # refused by the view: still an attempt
    assert attempt().status_code == 429


def test_the_api_routes_name_the_booking_operations(db) -> None:
    """``API_ATTEMPTS`` matches by route: each one is still the operation that books."""
    expected = {
        "api/v1/bookings": "create_booking",
        "api/v1/sessions/<session_id>/bookings": "take_seat",
        "api/v1/bookings/<booking_id>/reschedule": "reschedule_booking",
        "api/v1/series": "create_series",
    }
    assert {route for _method, route in throttle.API_ATTEMPTS} == set(expected)
    from django.urls import get_resolver

    found = {}
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) != "api/v1/":
            continue
        for inner in pattern.url_patterns:
            route = f"api/v1/{inner.pattern}"
            if route in expected:
                path_view = inner.callback.__closure__[0].cell_contents
                found[route] = {op.view_func.__name__ for op in path_view.operations if "POST" in op.methods}
    assert found == {route: {name} for route, name in expected.items()}


def test_reads_and_other_changes_are_not_attempts(coach, consult, limits) -> None:
    limits(client="1/10m", address="1/10m")
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=consult, start=at(8))
    http = signed_in(client)
    confirm = f"{reverse('book_confirm', args=[coach.pk, consult.pk])}?start=2026-12-02T09:00:00Z"
    for _ in range(3):
        assert http.get(confirm).status_code == 200
        assert http.get("/api/v1/bookings").status_code == 200
        assert http.get(reverse("book_seat", args=[999999])).status_code == 404
    cancel = http.post(
        f"/api/v1/bookings/{booking.reference}/cancel",
        json.dumps({"reason": "ill"}),
        content_type="application/json",
    )
    assert cancel.status_code == 200, cancel.content
    assert page_book(http, consult, 9).status_code == 303


# --- per address -------------------------------------------------------------------------


def test_the_address_limit_counts_everyone_behind_it(coach, consult, limits) -> None:
    limits(client="", address="3/10m")
    first, second = signed_in(ClientFactory(), "203.0.113.7"), signed_in(ClientFactory(), "203.0.113.7")
    assert api_book(first, coach, consult, 8).status_code == 201
    assert api_book(second, coach, consult, 9).status_code == 201
    assert page_book(first, consult, 10).status_code == 303
    assert_api_refusal(api_book(second, coach, consult, 11), retry_after=600)
    assert page_book(first, consult, 11).status_code == 429
    # Someone elsewhere is not concerned.
    assert api_book(signed_in(ClientFactory(), "198.51.100.2"), coach, consult, 11).status_code == 201


def test_a_visitor_is_counted_by_address(db, limits) -> None:
    limits(client="1/10m", address="2/10m")
    visitor = Client(REMOTE_ADDR="203.0.113.9")
    url = "/book/999999/999999/confirm/?start=2026-12-02T08:00:00Z"
    assert visitor.post(url).status_code == 302  # to the sign-in page
    assert visitor.post(url).status_code == 302
    assert visitor.post(url).status_code == 429


def test_one_person_refused_does_not_use_up_the_address(coach, consult, limits) -> None:
    limits(client="2/10m", address="4/10m")
    runaway = signed_in(ClientFactory(), "203.0.113.7")
    results = [api_book(runaway, coach, consult, 8 + n).status_code for n in range(6)]
    assert results == [201, 201, 429, 429, 429, 429]
    colleague = signed_in(ClientFactory(), "203.0.113.7")
    assert api_book(colleague, coach, consult, 12).status_code == 201
    assert api_book(colleague, coach, consult, 13).status_code == 201
    # The address has now had its 4: a third person behind it waits.
    assert api_book(signed_in(ClientFactory(), "203.0.113.7"), coach, consult, 14).status_code == 429


def test_behind_a_proxy_the_forwarded_address_counts(coach, consult, limits, settings) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    limits(address="1/10m")
    proxy = "10.0.0.1"
    one = signed_in(ClientFactory(), proxy)
    two = signed_in(ClientFactory(), proxy)
    assert api_book(one, coach, consult, 8, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 201
    assert api_book(two, coach, consult, 9, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 201
    assert api_book(two, coach, consult, 10, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429


def test_ipv6_addresses_count_by_their_64(coach, consult, limits) -> None:
    limits(address="1/10m")
    assert api_book(signed_in(ClientFactory(), "2001:db8:1:2::10"), coach, consult, 8).status_code == 201
    assert api_book(signed_in(ClientFactory(), "2001:db8:1:2::99"), coach, consult, 9).status_code == 429
    assert api_book(signed_in(ClientFactory(), "2001:db8:1:3::10"), coach, consult, 9).status_code == 201


# --- per person across addresses -----------------------------------------------------------


def test_the_person_limit_follows_them_across_addresses(coach, consult, limits) -> None:
    limits(client="3/10m", address="100/10m")
    person = ClientFactory()
    statuses = [
        api_book(signed_in(person, address), coach, consult, hour).status_code
        for address, hour in (("198.51.100.1", 8), ("198.51.100.2", 9), ("198.51.100.1", 10), ("198.51.100.3", 11))
    ]
    assert statuses == [201, 201, 201, 429]
    assert page_book(signed_in(person, "198.51.100.4"), consult, 12).status_code == 429


def test_no_limits_set_counts_nothing(coach, consult, limits) -> None:
    limits(client="", address="")
    http = signed_in(ClientFactory())
    assert [api_book(http, coach, consult, hour).status_code for hour in range(8, 14)] == [201] * 6
    assert not [key for key in cache._cache if throttle.KEY_PREFIX in key]  # type: ignore[attr-defined]


def test_a_broken_cache_lets_the_attempt_through(coach, consult, limits, monkeypatch, caplog) -> None:
    limits(client="1/10m")

    def broken(windows, now):
        raise ConnectionError("cache down")

    monkeypatch.setattr(throttle, "_count", broken)
    http = signed_in(ClientFactory())
    assert api_book(http, coach, consult, 8).status_code == 201
    assert api_book(http, coach, consult, 9).status_code == 201
    assert "Booking throttle failed" in caplog.text


# --- the database cache ------------------------------------------------------------------


@pytest.fixture
def database_cache(settings):
    settings.CACHES = DB_CACHE
    call_command("createcachetable", verbosity=0)
    yield caches["default"]
    with connection.cursor() as cursor:
        table = connection.ops.quote_name("cache_entries")
        cursor.execute(f"DELETE FROM {table} WHERE cache_key LIKE %s", [f"{throttle.KEY_PREFIX}:%"])


def test_the_database_cache_counts_in_one_statement(db, database_cache, limits) -> None:
    limits(client="2/10m,3/d")
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            throttle.count_attempt(client_id=7, address=None)
        # Inside the test's transaction, within a savepoint; on its own, one statement.
        statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(statements) == 1
        assert statements[0].startswith("INSERT INTO")
    with pytest.raises(Throttled) as refused:
        throttle.count_attempt(client_id=7, address=None)
    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (429, "rate_limited", 600)
    # Another person, another counter; the cache's own entries are untouched.
    database_cache.set("unrelated", {"a": 1})
    throttle.count_attempt(client_id=8, address=None)
    assert database_cache.get("unrelated") == {"a": 1}


def test_the_database_cache_serves_the_pages_and_the_api(coach, consult, database_cache, limits) -> None:
    limits(client="1/10m")
    http = signed_in(ClientFactory())
    assert api_book(http, coach, consult, 8).status_code == 201
    assert_api_refusal(api_book(http, coach, consult, 9), retry_after=600)
    assert page_book(http, consult, 9).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_racing_attempts_are_each_counted_once(database_cache, limits) -> None:
    """Django's database cache has no atomic ``incr``; the throttle's statement is one:
    40 attempts from 8 threads at once, 25 allowed, exactly."""
    limits(client="25/h")
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def attempt_five() -> None:
        try:
            with time_machine.travel(NOW, tick=False):
                start.wait()
                for _ in range(5):
                    try:
                        throttle.count_attempt(client_id=42, address=None)
                        result = "allowed"
                    except Throttled:
                        result = "refused"
                    with lock:
                        outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt_five) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (outcomes.count("allowed"), outcomes.count("refused")) == (25, 15)


def test_the_local_memory_cache_counts_with_add_and_incr(db, limits) -> None:
    limits(client="2/m")
    throttle.count_attempt(client_id=1, address=None)
    throttle.count_attempt(client_id=1, address=None)
    with pytest.raises(Throttled) as refused:
        throttle.count_attempt(client_id=1, address=None)
    assert refused.value.retry_after == 60
    key = f"{throttle.KEY_PREFIX}:client:1:60:{int(NOW.timestamp()) // 60}"
    assert cache.get(key) == 3


# --- open requests per coach ---------------------------------------------------------------


@pytest.fixture
def asks(db):
    """A coach whose every booking is a request (nothing firm)."""
    coach = open_coach(timezone="Europe/Paris", allow_firm_booking=False)
    coach.name = "Rita Request"
    coach.save(update_fields=["name"])
    return coach


def request_at(client, coach, hour: int, settings) -> Booking:
    """A request, made while the open-requests limit is out of the way."""
    kept = settings.MAX_OPEN_REQUESTS_PER_COACH
    settings.MAX_OPEN_REQUESTS_PER_COACH = 0
    try:
        session_type = coach.session_types.first() or SessionTypeFactory(coach=coach)
        booking = services.book_slot(client=client, session_type=session_type, start=at(hour))
    finally:
        settings.MAX_OPEN_REQUESTS_PER_COACH = kept
    assert booking.status == BookingStatus.REQUESTED
    return booking


def test_open_requests_up_to_the_limit_are_fine(asks, settings) -> None:
    settings.MAX_OPEN_REQUESTS_PER_COACH = 3
    client = ClientFactory()
    for hour in (8, 9):
        request_at(client, asks, hour, settings)
    throttle.open_requests_limit(client, asks, now=NOW)  # two open: a third may be asked


def test_one_request_too_many_is_refused_until_the_first_expires(asks, settings) -> None:
    settings.MAX_OPEN_REQUESTS_PER_COACH = 3
    client = ClientFactory()
    requests = [request_at(client, asks, hour, settings) for hour in (10, 8, 9)]
    with pytest.raises(Throttled) as refused:
        throttle.open_requests_limit(client, asks, now=NOW)
    error = refused.value
    earliest = min(booking.expires_at for booking in requests)
    assert (error.status, error.code) == (429, "too_many_requests")
    assert error.retry_after == int((earliest - NOW).total_seconds())
    assert error.message == (
        "You already have 3 requests waiting for an answer from Rita Request. You can ask for another "
        f"time once one of them is answered, or {throttle.wait_phrase(error.retry_after)}."
    )
    # Once it has expired (even before the expiry task declines it), one more fits.
    throttle.open_requests_limit(client, asks, now=earliest)
    throttle.open_requests_limit(client, asks, now=earliest + dt.timedelta(seconds=1))


def test_a_lowered_limit_waits_for_enough_requests_to_expire(asks, settings) -> None:
    client = ClientFactory()
    requests = sorted((request_at(client, asks, hour, settings) for hour in (8, 9, 10)), key=lambda b: b.expires_at)
    settings.MAX_OPEN_REQUESTS_PER_COACH = 2
    with pytest.raises(Throttled) as refused:
        throttle.open_requests_limit(client, asks, now=NOW)
    # Three open, two allowed: one more fits when two are gone, the second to expire.
    assert refused.value.retry_after == int((requests[1].expires_at - NOW).total_seconds())


def test_only_this_clients_open_requests_with_this_coach_count(asks, settings) -> None:
    settings.MAX_OPEN_REQUESTS_PER_COACH = 2
    client = ClientFactory()
    answered = request_at(client, asks, 8, settings)
    services.decline(booking=answered, actor=asks, reason="Away that day")
    request_at(client, asks, 9, settings)
    request_at(ClientFactory(), asks, 10, settings)  # someone else's
    other_coach = open_coach(timezone="Europe/Paris", allow_firm_booking=False)
    request_at(client, other_coach, 11, settings)  # another coach
    firm = open_coach(timezone="Europe/Paris")
    services.book_slot(client=client, session_type=SessionTypeFactory(coach=firm), start=at(12))
    throttle.open_requests_limit(client, asks, now=NOW)
    request_at(client, asks, 13, settings)
    with pytest.raises(Throttled):
        throttle.open_requests_limit(client, asks, now=NOW)


def test_no_open_requests_limit_when_set_to_zero(asks, settings) -> None:
    client = ClientFactory()
    for hour in (8, 9, 10, 11):
        request_at(client, asks, hour, settings)
    settings.MAX_OPEN_REQUESTS_PER_COACH = 0
    throttle.open_requests_limit(client, asks, now=NOW)


def test_a_request_without_expiry_is_refused_without_a_wait(asks, settings) -> None:
    settings.MAX_OPEN_REQUESTS_PER_COACH = 1
    client = ClientFactory()
    booking = request_at(client, asks, 8, settings)
    Booking.objects.filter(pk=booking.pk).update(expires_at=None)
    with pytest.raises(Throttled) as refused:
        throttle.open_requests_limit(client, asks, now=NOW)
    assert refused.value.retry_after is None
    assert refused.value.message == (
        "You already have 1 request waiting for an answer from Rita Request. "
        "You can ask for another time once one of them is answered."
    )


def test_a_throttled_booking_reads_as_a_429_on_the_page_and_in_the_api(coach, consult, monkeypatch) -> None:
    """When the booking service refuses with ``Throttled``, the wizard shows its message
    with status 429 and the API answers it in the error shape."""

    def refuse(**kwargs):
        raise Throttled("You already have 3 requests waiting.", retry_after=90)

    monkeypatch.setattr(services, "book_slot", refuse)
    http = signed_in(ClientFactory())
    page = page_book(http, consult, 8)
    assert page.status_code == 429
    assert "You already have 3 requests waiting." in unescape(page.content.decode())
    api = api_book(http, coach, consult, 8)
    assert api.status_code == 429
    assert api.json()["error"] == {"code": "too_many_requests", "message": "You already have 3 requests waiting."}
    assert not Booking.objects.exists()


# --- config's error answers ---------------------------------------------------------------


def test_a_domain_error_with_a_wait_answers_retry_after() -> None:
    response = domain_error_response(Throttled("Slow down.", code="rate_limited", retry_after=12.2))
    assert (response.status_code, response["Retry-After"]) == (429, "13")
    assert json.loads(response.content) == {"error": {"code": "rate_limited", "message": "Slow down."}}
    plain = domain_error_response(DomainError("No.", code="invalid", field="start"))
    assert plain.status_code == 400
    assert not plain.has_header("Retry-After")
    assert json.loads(plain.content)["error"]["fields"] == [{"field": "start", "message": "No."}]
    assert DomainError("Later.", retry_after=0).retry_after == 1


def test_a_plain_429_under_the_api_keeps_its_retry_after() -> None:
    def plain_429(request):
        response = HttpResponse("Too Many Requests", status=429, content_type="text/plain")
        response["Retry-After"] = "30"
        return response

    response = ApiErrorShapeMiddleware(plain_429)(RequestFactory().post("/api/v1/bookings"))
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert json.loads(response.content)["error"]["code"] == "throttled"
