"""A model of the tests' own with ``EncryptedTextField`` columns, for the field and for key
rotation, without a migration: its table is made by the schema editor for the tests that
ask for ``sealed_notes`` (on SQLite as on PostgreSQL) and dropped after them. It belongs to
no installed app, so ``apps.get_models()`` (and makemigrations) never see it."""

from __future__ import annotations

import pytest
from django.db import connection, models

from config.crypto import EncryptedTextField


class SealedNote(models.Model):
    text = EncryptedTextField(blank=True)
    extra = EncryptedTextField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "config"
        db_table = "test_sealed_note"
        managed = False

    def __str__(self) -> str:
        return f"Sealed note {self.pk}"


@pytest.fixture(scope="module")
def sealed_notes(django_db_setup, django_db_blocker):
    """The ``SealedNote`` table, made outside any transaction (SQLite's schema editor needs
    that), for the tests of one module; each test's rows are rolled back as usual."""
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.create_model(SealedNote)
    yield SealedNote
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.delete_model(SealedNote)


def raw_column(pk: int, column: str = "text") -> str | None:
    """What the database holds for one ``SealedNote``'s column — what a dump would show."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM test_sealed_note WHERE id = %s", [pk])
        return cursor.fetchone()[0]
