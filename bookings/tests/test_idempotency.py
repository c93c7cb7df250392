"""``Idempotency-Key`` on the API's unsafe operations (bookings/idempotency.py).

Time is frozen on Tuesday 1 December 2026, 06:00 UTC (moved on where a test says so). The
coach works in Paris (UTC+1) from 09:00 to 17:00 every day.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import time_machine
from django.db import connections
from django.test import Client

from accounts.tests.factories import ClientFactory, make_token
from bookings import idempotency, services, tasks
from bookings.models import Booking, BookingStatus, IdempotencyRecord, Session
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TEN = "2026-12-02T10:00:00+01:00"
ELEVEN = "2026-12-02T11:00:00+01:00"
KEY = "8e0f3c52-7d4b-4d4e-9b8a-1f2d3c4b5a69"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach(db):
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def consultation(coach):
    return SessionTypeFactory(coach=coach, title="Consultation")


@pytest.fixture
def client_user(db):
    return ClientFactory(email="nora@example.com", timezone="Europe/Paris")


def as_user(user) -> Client:
    http = Client(raise_request_exception=False)
    http.force_login(user)
    return http


def post(http: Client, url: str, body: object = None, key: str | None = KEY, **headers: str):
    data = "" if body is None else json.dumps(body)
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return http.post(url, data, content_type="application/json", **headers)


def book_body(coach, session_type, start: str = TEN) -> dict:
    return {"coach": coach.pk, "session_type": session_type.pk, "start": start}


# ---------------------------------------------------------------------------------------
# Replay
# ---------------------------------------------------------------------------------------


def test_a_repeat_gets_the_first_answer_again_and_books_nothing(frozen, coach, consultation, client_user) -> None:
    http = as_user(client_user)
    first = post(http, "/api/v1/bookings", book_body(coach, consultation))
    assert first.status_code == 201, first.content
    assert first.get(idempotency.REPLAYED_HEADER) is None

    again = post(http, "/api/v1/bookings", book_body(coach, consultation))

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert again["Content-Type"] == first["Content-Type"]
    assert Booking.objects.count() == 1


def test_without_a_key_the_retry_meets_its_own_booking(frozen, coach, consultation, client_user) -> None:
    """What the key is for: the same request again, keyless, is refused by the first booking."""
    http = as_user(client_user)
    assert post(http, "/api/v1/bookings", book_body(coach, consultation), key=None).status_code == 201

    again = post(http, "/api/v1/bookings", book_body(coach, consultation), key=None)

    assert again.status_code == 409
    assert Booking.objects.count() == 1


def test_the_same_json_in_another_key_order_or_spacing_is_the_same_request(
    frozen, coach, consultation, client_user
) -> None:
    http = as_user(client_user)
    assert post(http, "/api/v1/bookings", book_body(coach, consultation)).status_code == 201
    reordered = f'{{ "start": "{TEN}",  "session_type": {consultation.pk}, "coach": {coach.pk} }}'

    again = http.post("/api/v1/bookings", reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert again.status_code == 201
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert Booking.objects.count() == 1


def test_a_cancel_repeated_with_its_key_answers_as_the_first_time(frozen, coach, consultation, client_user) -> None:
    booking = services.book_slot(client=client_user, session_type=consultation, start=dt.datetime.fromisoformat(TEN))
    http = as_user(client_user)
    url = f"/api/v1/bookings/{booking.pk}/cancel"
    first = post(http, url, {"reason": "Ill"})
    assert first.status_code == 200, first.content

    again = post(http, url, {"reason": "Ill"})

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert post(http, url, {"reason": "Ill"}, key=None).json()["error"]["code"] == "invalid_transition"


def test_a_bearer_token_and_the_session_cookie_share_the_users_keys(frozen, coach, consultation, client_user) -> None:
    _, token = make_token(client_user)
    first = post(Client(), "/api/v1/bookings", book_body(coach, consultation), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert first.status_code == 201, first.content

    again = post(as_user(client_user), "/api/v1/bookings", book_body(coach, consultation))

    assert again.status_code == 201
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert Booking.objects.count() == 1


# ---------------------------------------------------------------------------------------
# Misuse and refusals
# ---------------------------------------------------------------------------------------


def test_the_same_key_with_another_body_is_a_422(frozen, coach, consultation, client_user) -> None:
    http = as_user(client_user)
    assert post(http, "/api/v1/bookings", book_body(coach, consultation)).status_code == 201

    other = post(http, "/api/v1/bookings", book_body(coach, consultation, ELEVEN))

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert "POST /api/v1/bookings" in other.json()["error"]["message"]
    assert Booking.objects.count() == 1


def test_the_same_key_on_another_operation_is_a_422(frozen, coach, consultation, client_user) -> None:
    http = as_user(client_user)
    booking_id = post(http, "/api/v1/bookings", book_body(coach, consultation)).json()["id"]

    other = post(http, f"/api/v1/bookings/{booking_id}/cancel", {"reason": "Ill"})

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Booking.objects.get().status == BookingStatus.FIRM_BOOKED


def test_a_repeat_while_the_first_still_runs_is_a_409_and_books_nothing(
    frozen, coach, consultation, client_user
) -> None:
    body = json.dumps(book_body(coach, consultation)).encode()
    IdempotencyRecord.objects.create(
        user=client_user,
        key=KEY,
        request_hash=idempotency.request_hash(method="POST", path="/api/v1/bookings", query="", body=body),
        method="POST",
        path="/api/v1/bookings",
        created_at=NOW,
    )

    response = as_user(client_user).post(
        "/api/v1/bookings", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_in_progress"
    assert Booking.objects.count() == 0
    assert IdempotencyRecord.objects.get().status_code is None  # the first request's claim is untouched


def test_a_claim_abandoned_by_a_dead_request_is_taken_over(frozen, coach, consultation, client_user) -> None:
    body = json.dumps(book_body(coach, consultation)).encode()
    IdempotencyRecord.objects.create(
        user=client_user,
        key=KEY,
        request_hash=idempotency.request_hash(method="POST", path="/api/v1/bookings", query="", body=body),
        method="POST",
        path="/api/v1/bookings",
        created_at=NOW - idempotency.CLAIM_TIMEOUT - dt.timedelta(seconds=1),
    )

    response = as_user(client_user).post(
        "/api/v1/bookings", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert response.status_code == 201, response.content
    assert Booking.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 201


def test_a_4xx_is_stored_and_replayed_even_when_the_request_would_now_succeed(
    frozen, coach, consultation, client_user
) -> None:
    other = services.book_slot(client=ClientFactory(), session_type=consultation, start=dt.datetime.fromisoformat(TEN))
    http = as_user(client_user)
    refused = post(http, "/api/v1/bookings", book_body(coach, consultation))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "slot_taken"
    services.cancel(booking=other, actor=other.client, reason="Ill")

    again = post(http, "/api/v1/bookings", book_body(coach, consultation))

    assert again.status_code == 409
    assert again.json() == refused.json()
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert not Booking.objects.filter(client=client_user).exists()


def test_a_5xx_is_not_stored_so_the_retry_runs(frozen, coach, consultation, client_user, monkeypatch) -> None:
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "book_slot", broken)
    http = as_user(client_user)
    failed = post(http, "/api/v1/bookings", book_body(coach, consultation))
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()

    retried = post(http, "/api/v1/bookings", book_body(coach, consultation))

    assert retried.status_code == 201, retried.content
    assert retried.get(idempotency.REPLAYED_HEADER) is None
    assert Booking.objects.count() == 1


def test_invalid_input_stores_nothing_so_the_key_can_be_used_once_it_is_fixed(
    frozen, coach, consultation, client_user
) -> None:
    """As in Stripe's design: only a request whose endpoint started keeps its answer."""
    http = as_user(client_user)
    invalid = post(http, "/api/v1/bookings", {"coach": coach.pk, "session_type": consultation.pk, "start": "soon"})
    assert invalid.status_code == 400
    assert not IdempotencyRecord.objects.exists()

    fixed = post(http, "/api/v1/bookings", book_body(coach, consultation))

    assert fixed.status_code == 201, fixed.content


def test_an_unauthenticated_request_stores_nothing(frozen, coach, consultation) -> None:
    response = post(Client(), "/api/v1/bookings", book_body(coach, consultation))

    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "clé", "tab\there", "line\nbreak"],
    ids=["empty", "too-long", "not-ascii", "tab", "newline"],
)
def test_a_malformed_key_is_a_400(frozen, coach, consultation, client_user, key: str) -> None:
    response = post(as_user(client_user), "/api/v1/bookings", book_body(coach, consultation), key=key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert Booking.objects.count() == 0


def test_keys_of_255_printable_characters_are_accepted(frozen, coach, consultation, client_user) -> None:
    key = ("a b~!" * 51)[:255]
    response = post(as_user(client_user), "/api/v1/bookings", book_body(coach, consultation), key=key)

    assert response.status_code == 201, response.content
    assert IdempotencyRecord.objects.get().key == key


def test_another_users_key_is_independent(frozen, coach, consultation, client_user) -> None:
    first = post(as_user(client_user), "/api/v1/bookings", book_body(coach, consultation))
    someone_else = ClientFactory()

    theirs = post(as_user(someone_else), "/api/v1/bookings", book_body(coach, consultation, ELEVEN))

    assert first.status_code == 201
    assert theirs.status_code == 201, theirs.content
    assert theirs.get(idempotency.REPLAYED_HEADER) is None
    assert theirs.json()["id"] != first.json()["id"]
    assert Booking.objects.filter(client=someone_else).count() == 1


def test_a_key_is_kept_24_hours_then_forgotten_and_pruned(frozen, coach, consultation, client_user) -> None:
    http = as_user(client_user)
    assert (
        post(http, "/api/v1/bookings", book_body(coach, consultation, "2026-12-03T10:00:00+01:00")).status_code == 201
    )

    frozen.move_to(NOW + dt.timedelta(hours=23, minutes=59))
    other_body = book_body(coach, consultation, "2026-12-03T11:00:00+01:00")
    assert post(http, "/api/v1/bookings", other_body).status_code == 422
    assert tasks.prune_idempotency_records() == 0

    frozen.move_to(NOW + dt.timedelta(hours=24))
    reused = post(http, "/api/v1/bookings", other_body)

    assert reused.status_code == 201, reused.content
    assert reused.get(idempotency.REPLAYED_HEADER) is None
    assert Booking.objects.filter(client=client_user).count() == 2
    assert IdempotencyRecord.objects.get().created_at == NOW + dt.timedelta(hours=24)


def test_the_hourly_task_prunes_expired_records_only(frozen, client_user) -> None:
    for key, age in (("old", dt.timedelta(hours=25)), ("recent", dt.timedelta(hours=1))):
        IdempotencyRecord.objects.create(
            user=client_user, key=key, request_hash="0" * 64, method="POST", path="/", created_at=NOW - age
        )

    assert tasks.prune_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_the_prune_schedule_exists(db) -> None:
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="bookings.tasks.prune_idempotency_records")
    assert schedule.schedule_type == Schedule.HOURLY
    assert schedule.repeats == -1


# ---------------------------------------------------------------------------------------
# Coverage and the schema
# ---------------------------------------------------------------------------------------


def test_taking_a_seat_and_publishing_a_session_are_covered(frozen, coach, client_user) -> None:
    group = GroupTypeFactory(coach=coach, capacity=5)
    published = post(as_user(coach), "/api/v1/sessions", {"session_type": group.pk, "start": TEN})
    assert published.status_code == 201, published.content
    assert post(as_user(coach), "/api/v1/sessions", {"session_type": group.pk, "start": TEN}).json() == published.json()
    http = as_user(client_user)
    url = f"/api/v1/sessions/{published.json()['id']}/bookings"
    seat = post(http, url, {}, key="seat-1")
    assert seat.status_code == 201, seat.content

    again = post(http, url, {}, key="seat-1")

    assert again.status_code == 201
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert Booking.objects.filter(client=client_user).count() == 1
    assert Session.objects.filter(session_type=group).count() == 1


def test_every_unsafe_operation_documents_the_header_and_no_safe_one_does(db) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    unsafe = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
            names = [p["name"] for p in headers]
            if method.upper() in idempotency.UNSAFE_METHODS:
                unsafe += 1
                assert names.count("Idempotency-Key") == 1, (method, path)
                assert headers[names.index("Idempotency-Key")]["schema"]["maxLength"] == 255
            else:
                assert "Idempotency-Key" not in names, (method, path)
    assert unsafe >= 17  # book, seat, publish, cancel, reschedule, approve, decline… and the rest


# ---------------------------------------------------------------------------------------
# Two requests with the same key at the same moment
# ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_make_one_booking() -> None:
    """Real threads, each with its own connection (SQLite in a WAL file, or PostgreSQL):
    one request books; the other is told the first is still running (409) or gets its
    answer again — never a second booking, never a refusal by the first booking."""
    coach = open_coach(timezone="Europe/Paris")
    consultation = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    _, token = make_token(client)
    day = (dt.datetime.now(UTC) + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    for hour in range(9, 14):  # 10:00 to 14:00 in Paris: a free hour each round
        start = day.replace(hour=hour)
        body = json.dumps({"coach": coach.pk, "session_type": consultation.pk, "start": start.isoformat()})
        key = f"same-key-{hour}"
        barrier = threading.Barrier(2)
        answers: list = []
        errors: list[BaseException] = []

        def send(
            body: str = body,
            key: str = key,
            barrier: threading.Barrier = barrier,
            answers: list = answers,
            errors: list = errors,
        ) -> None:
            try:
                barrier.wait()
                answers.append(
                    Client().post(
                        "/api/v1/bookings",
                        body,
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}",
                        HTTP_IDEMPOTENCY_KEY=key,
                    )
                )
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        fresh = [a for a in answers if a.status_code == 201 and a.get(idempotency.REPLAYED_HEADER) is None]
        others = [a for a in answers if a not in fresh]
        assert len(fresh) == 1, [(a.status_code, a.content) for a in answers]
        assert len(others) == 1
        other = others[0]
        if other.status_code == 409:
            assert other.json()["error"]["code"] == "idempotency_in_progress"
        else:
            assert other.status_code == 201 and other[idempotency.REPLAYED_HEADER] == "true"
            assert other.json() == fresh[0].json()
        assert Booking.objects.filter(client=client, session__start=start).count() == 1
    assert Booking.objects.filter(client=client).count() == 5


def test_a_5xx_answer_releases_the_claim_and_a_4xx_answer_is_kept(frozen, client_user) -> None:
    """The answer-storing wrapper on its own: whatever status the operation answers with."""
    from django.http import HttpRequest, HttpResponse

    def answering(status: int):
        return idempotency.store_answer(lambda request, **kwargs: HttpResponse('{"x": 1}', status=status))

    outcomes = {}
    for status in (503, 404):
        claimed = idempotency.claim(
            user=client_user, key=f"k{status}", request_hash="0" * 64, method="POST", path="/api/v1/x"
        )
        request = HttpRequest()
        request._idempotency_record = claimed.record
        assert answering(status)(request).status_code == status
        outcomes[status] = IdempotencyRecord.objects.filter(key=f"k{status}").values_list("status_code", flat=True)

    assert list(outcomes[503]) == []
    assert list(outcomes[404]) == [404]
