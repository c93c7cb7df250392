"""GET /api/v1/me with a session or a personal token, tokens at rest, and the token command."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import services
from accounts.models import TOKEN_PREFIX, ApiToken, User, hash_token
from accounts.tests.factories import ClientFactory

ME_KEYS = {"id", "email", "name", "role", "timezone"}


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert set(response.json()) == {"error"}


def test_me_with_session_cookie(as_role, coach_user: User) -> None:
    response = as_role("coach").get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": coach_user.pk,
        "email": "coach@example.com",
        "name": "Carl Coach",
        "role": "coach",
        "timezone": "America/New_York",
    }


def test_me_with_bearer_token(client_user: User) -> None:
    _, raw = services.create_api_token(user=client_user, name="Calendar script")

    response = Client().get("/api/v1/me", **bearer(raw))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == ME_KEYS
    assert body == {
        "id": client_user.pk,
        "email": "client@example.com",
        "name": "Chloé Client",
        "role": "client",
        "timezone": "Europe/Paris",
    }


def test_bearer_token_of_an_admin_reports_the_staff_role(admin_user: User) -> None:
    _, raw = services.create_api_token(user=admin_user, name="ops")

    response = Client().get("/api/v1/me", **bearer(raw))

    assert response.status_code == 200
    assert response.json()["email"] == "admin@example.com"
    assert response.json()["role"] == "staff"


def test_token_identifies_its_owner_not_the_session(client_user: User, coach_user: User) -> None:
    """A script that sends a token acts as the token's owner even from a signed-in browser."""
    _, raw = services.create_api_token(user=coach_user, name="script")
    http = Client()
    http.force_login(client_user)

    response = http.get("/api/v1/me", **bearer(raw))

    assert response.status_code == 200
    assert response.json()["email"] == "coach@example.com"


def test_anonymous_is_401(db) -> None:
    assert_unauthenticated(Client().get("/api/v1/me"))


def test_revoked_token_is_401(client_user: User) -> None:
    token, raw = services.create_api_token(user=client_user, name="old")
    assert Client().get("/api/v1/me", **bearer(raw)).status_code == 200

    services.revoke_api_token(token=token, actor=client_user)

    assert_unauthenticated(Client().get("/api/v1/me", **bearer(raw)))


def test_token_revoked_from_the_profile_page_stops_working(as_role, client_user: User) -> None:
    token, raw = services.create_api_token(user=client_user, name="old")

    as_role("client").post(f"/profile/tokens/{token.pk}/revoke/")

    assert_unauthenticated(Client().get("/api/v1/me", **bearer(raw)))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        f"Bearer {TOKEN_PREFIX}",
        f"Bearer {TOKEN_PREFIX}this-is-not-a-token-that-was-ever-issued",
        "Bearer ",
        "Token bk_whatever",
        "Basic Y2xpZW50QGV4YW1wbGUuY29tOnB3",
    ],
)
def test_garbage_token_is_401(client_user: User, header: str) -> None:
    services.create_api_token(user=client_user, name="real one")

    assert_unauthenticated(Client().get("/api/v1/me", HTTP_AUTHORIZATION=header))


def test_hash_of_a_real_token_is_not_a_token(client_user: User) -> None:
    """What the database holds must not work as a credential if it leaks."""
    token, _ = services.create_api_token(user=client_user, name="script")

    assert_unauthenticated(Client().get("/api/v1/me", **bearer(token.token_hash)))
    assert_unauthenticated(Client().get("/api/v1/me", **bearer(TOKEN_PREFIX + token.token_hash)))


def test_token_of_a_deactivated_user_is_401(client_user: User) -> None:
    _, raw = services.create_api_token(user=client_user, name="script")
    client_user.is_active = False
    client_user.save(update_fields=["is_active"])

    assert_unauthenticated(Client().get("/api/v1/me", **bearer(raw)))


def test_last_used_at_is_recorded_at_most_once_a_minute(client_user: User) -> None:
    token, raw = services.create_api_token(user=client_user, name="script")
    assert token.last_used_at is None
    first_use = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    with time_machine.travel(first_use, tick=False):
        assert Client().get("/api/v1/me", **bearer(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use

    with time_machine.travel(first_use + dt.timedelta(seconds=30), tick=False):
        assert Client().get("/api/v1/me", **bearer(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use

    later = first_use + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        assert Client().get("/api/v1/me", **bearer(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == later


def test_failed_authentication_does_not_touch_last_used_at(client_user: User) -> None:
    token, raw = services.create_api_token(user=client_user, name="script")
    services.revoke_api_token(token=token, actor=client_user)

    Client().get("/api/v1/me", **bearer(raw))

    token.refresh_from_db()
    assert token.last_used_at is None


def test_token_is_stored_hashed(client_user: User) -> None:
    token, raw = services.create_api_token(user=client_user, name="script")

    assert raw.startswith(TOKEN_PREFIX)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(value) for value in stored.values()]
    assert not any(raw in str(value) for value in stored.values())
    assert stored["token_hash"] == hash_token(raw)
    assert len(stored["token_hash"]) == 64
    # Only a short hint is kept, to recognise the token in a list.
    assert raw.startswith(stored["hint"])
    assert len(stored["hint"]) < len(raw) // 2
    assert not ApiToken.objects.filter(token_hash=raw).exists()


def test_tokens_are_unique(client_user: User) -> None:
    raws = {services.create_api_token(user=client_user, name=f"t{n}")[1] for n in range(5)}

    assert len(raws) == 5
    assert ApiToken.objects.filter(user=client_user).values("token_hash").distinct().count() == 5


def test_profile_page_never_shows_a_token_again(as_role, client_user: User) -> None:
    created = as_role("client").post("/profile/tokens/", {"name": "Calendar script"})
    raw = created.context["new_token"]
    assert raw in created.content.decode()
    assert Client().get("/api/v1/me", **bearer(raw)).status_code == 200

    later = as_role("client").get("/profile/")

    assert later.status_code == 200
    assert raw not in later.content.decode()
    assert ApiToken.objects.get(user=client_user).hint in later.content.decode()


def test_docs_and_schema_are_served(db) -> None:
    docs = Client().get("/api/v1/docs")
    schema = Client().get("/api/v1/openapi.json")

    assert docs.status_code == 200
    assert schema.status_code == 200
    assert "/api/v1/me" in schema.json()["paths"]
    assert schema.json()["info"]["title"] == "Booking API"


# --- manage.py create_api_token --------------------------------------------------------------


def test_create_api_token_command_prints_a_working_token(client_user: User) -> None:
    out = StringIO()

    call_command("create_api_token", "Client@Example.com", "--name", "Nightly export", stdout=out)

    raw = out.getvalue().strip()
    assert raw.startswith(TOKEN_PREFIX)
    token = ApiToken.objects.get(user=client_user)
    assert token.name == "Nightly export"
    assert token.token_hash == hash_token(raw)
    response = Client().get("/api/v1/me", **bearer(raw))
    assert response.status_code == 200
    assert response.json()["email"] == "client@example.com"


def test_create_api_token_command_unknown_email(db) -> None:
    with pytest.raises(CommandError, match=re.escape("nobody@example.com")):
        call_command("create_api_token", "nobody@example.com", stdout=StringIO())

    assert not ApiToken.objects.exists()


def test_create_api_token_command_refuses_a_deactivated_user(db) -> None:
    gone = ClientFactory(email="gone@example.com")
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_token", "gone@example.com", stdout=StringIO())

    assert not ApiToken.objects.exists()
