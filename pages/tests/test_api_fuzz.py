"""A schema-driven fuzz of the whole API: schemathesis generates requests from the OpenAPI
schema (valid ones and ones that break it, in its coverage and fuzzing phases) for every
operation and runs every check it has on each answer — no 5xx, every status documented,
every body, content type and header as documented, invalid data refused, valid data
accepted (or refused by a business rule with a documented status), an undocumented method a
405 with ``Allow``, a secured operation refusing the same request without its token or with
a bad one.

It runs in-process against the WSGI application (served schema, real middleware), on a
database with a coach (session types, a group session, bookings) and a client and staff
member, each with an API token; the requests take turns between the three, and half the
valid ones name objects that exist. Time is frozen and the generation deterministic (a
fixed seed), so a run is repeatable. About 45 s on SQLite, 55 s on PostgreSQL (2 cores);
``make test`` runs it, or ``pytest pages/tests/test_api_fuzz.py``.

Checks that run but have nothing to look at here, and why: ``use_after_free`` and
``ensure_resource_availability`` compare a DELETE with later reads across a stateful run,
and each operation here is fuzzed on its own (the tags' DELETEs are tested in
availability/tests/test_tags.py); ``object_level_authorization`` compares objects one identity created with another's
reads across a stateful run, and the schema declares no links for one (each operation is
fuzzed on its own; access across users is tested in accounts/tests/test_access.py).
``max_response_time`` is off: a time limit on a shared 2-core machine would only flake.
Generated credentials are off: every request carries one of the three real tokens (the
``ignored_auth`` check then probes each secured operation without it and with a bad one).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import schemathesis
import time_machine
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from accounts.models import ClientTag, ClientTagging
from accounts.tests.factories import ClientFactory, StaffFactory, make_token
from availability.models import TagRule
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from notifications.models import Notification

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
EXAMPLES_PER_OPERATION = 60

# What a request that is valid by the schema may truly get, besides a success: a rule of the
# product refuses it (400 for a rule between inputs, such as ``end`` before ``start`` or
# ``duration`` and ``session_type`` both given; 409 for the booking rules), the caller's
# role or the object's owner does not allow it (403), or a generated id names nothing the
# caller may see (404). Never 401 (every request carries a valid token), never 5xx, never
# 413/422 (no oversized body, no reused Idempotency-Key).
POSITIVE_STATUSES = ["2xx", "400", "403", "404", "409"]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261201,
        # Every request carries one of the three tokens (below), not generated credentials.
        "generation": {
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "with-security-parameters": False,
        },
        "checks": {
            "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
            # The default list with 413, without 5xx (a server error is never a refusal).
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]
            },
        },
    }
)


# The application as the WSGI server runs it (config.wsgi), and the schema it serves.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), config=CONFIG)


@pytest.fixture
def in_process():
    """Keep the test's database connection across requests, as Django's test client does
    (the WSGI handler closes it after each request otherwise)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, in_process):
    """A coach with one-on-one and group types, a group session and bookings in several
    states; a client and staff; a token for each; a few notifications."""
    with time_machine.travel(NOW, tick=False):
        coach = open_coach(timezone="Europe/Paris")
        client = ClientFactory(name="Nora Client", timezone="America/New_York")
        staff = StaffFactory(name="Sam Staff")
        consultation = SessionTypeFactory(coach=coach, title="Consultation", price=Decimal("45.00"))
        group = GroupTypeFactory(coach=coach, title="Yoga", capacity=5)
        session = services.publish_session(
            actor=coach, session_type=group, start=dt.datetime(2026, 12, 3, 17, tzinfo=dt.UTC), capacity=None
        )
        for day in range(2, 6):
            services.book_slot(
                client=client,
                session_type=consultation,
                start=dt.datetime(2026, 12, day, 9, tzinfo=dt.UTC),
                booked_by=client,
                notes="",
                reminders=True,
            )
        services.take_seat(client=client, session=session, booked_by=client, notes="", reminders=True)
        coach_tag = ClientTag.objects.create(coach=coach, name="VIP")
        practice_tag = ClientTag.objects.create(coach=None, name="Sliding scale")
        TagRule.objects.create(tag=coach_tag, approval="never")
        ClientTagging.objects.create(tag=coach_tag, client=client, added_by=coach)
        tokens = {user.pk: make_token(user)[1] for user in (coach, client, staff)}
        yield {
            "users": [coach, client, staff],
            "tokens": tokens,
            "ids": {
                "booking_id": list(Booking.objects.values_list("pk", flat=True)),
                "session_id": [session.pk],
                "type_id": [consultation.pk, group.pk],
                "coach_id": [coach.pk],
                "notification_id": list(Notification.objects.values_list("pk", flat=True)),
                "tag_id": [coach_tag.pk, practice_tag.pk],
                "client_id": [client.pk],
            },
        }


_turn = itertools.count()


@schema.parametrize()
# The database is the running system's: it is meant to carry over from one request to the next.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case, world):
    turn = next(_turn)
    user = world["users"][turn % 3]
    # Half the valid requests name objects that exist (generated ids rarely do).
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and turn % 2:
        for name in list(case.path_parameters or {}):
            ids = world["ids"].get(name)
            if ids:
                case.path_parameters[name] = ids[turn % len(ids)]
    # A valid request gets a key of its own: the generator repeats short values, and the same
    # key with another body is rightly a 422 (bookings/tests/test_idempotency.py tests that).
    if positive and case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{turn}"
    with time_machine.travel(NOW, tick=False):
        case.call_and_validate(headers={"Authorization": f"Bearer {world['tokens'][user.pk]}"})
