"""A connected calendar's password and tokens are encrypted again by key rotation
(``manage.py rotate_encryption_keys``): calendar_sync names its encrypted columns in its
AppConfig.ready, and after the rotation the old key can be removed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as database

from accounts.tests.factories import CoachFactory
from calendar_sync.models import CalendarConnection, ConnectionKind
from config import crypto

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw(pk: int, column: str) -> str:
    with database.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {CalendarConnection._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_caldav_passwords_and_oauth_tokens_are_rotated_and_never_stored_in_clear(settings) -> None:
    coach = CoachFactory()
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    caldav = CalendarConnection.objects.create(
        coach=coach,
        kind=ConnectionKind.CALDAV,
        name="Fastmail",
        url="https://caldav.example.com/",
        username="coach",
        password_encrypted=crypto.encrypt("app-password-123"),
    )
    tokens = json.dumps({"access_token": "ya29.access", "refresh_token": "1//refresh"})
    google = CalendarConnection.objects.create(
        coach=coach,
        kind=ConnectionKind.GOOGLE,
        name="Google",
        url="https://www.googleapis.com/",
        token_encrypted=crypto.encrypt(tokens),
    )
    assert "app-password-123" not in raw(caldav.pk, "password_encrypted")
    assert "refresh" not in raw(google.pk, "token_encrypted")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    out = StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    assert "calendar_sync.CalendarConnection.password_encrypted: 1 encrypted again" in out.getvalue()
    assert "calendar_sync.CalendarConnection.token_encrypted: 1 encrypted again" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    caldav.refresh_from_db()
    google.refresh_from_db()
    assert crypto.decrypt(caldav.password_encrypted) == "app-password-123"
    assert json.loads(crypto.decrypt(google.token_encrypted))["refresh_token"] == "1//refresh"
