"""manage.py rotate_encryption_keys: every stored secret encrypted again under the first
key of FIELD_ENCRYPTION_KEYS, column by column, so the old keys can be removed; a dry run
changes nothing; a value no key opens is named and left as it is. (The crypto itself:
config/tests/test_crypto.py.)"""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command

from config import crypto
from config.tests.sealed_model import SealedNote, raw_column, sealed_notes  # noqa: F401

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sealed_notes", "with_sealed_notes")]


@pytest.fixture
def with_sealed_notes(monkeypatch):
    """The command finds ``SealedNote``'s fields as it finds every installed model's."""
    find = crypto.encrypted_columns
    monkeypatch.setattr(crypto, "encrypted_columns", lambda: find([*apps.get_models(), SealedNote]))


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def opens_with_new_key_alone(token: str) -> str:
    return Fernet(NEW).decrypt(token.encode()).decode()


def test_every_value_is_encrypted_again_under_the_first_key_and_then_the_old_key_can_go(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    notes = [SealedNote.objects.create(text=f"note {n}", extra="private" if n == 0 else None) for n in range(3)]
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    newer = SealedNote.objects.create(text="written after the new key came first")

    output = rotate("--batch-size", "2")

    assert "config.SealedNote.text: 3 encrypted again, 1 already under the first key\n" in output
    assert "config.SealedNote.extra: 1 encrypted again, 0 already under the first key\n" in output
    assert "calendar_sync.CalendarConnection.password_encrypted: 0 encrypted again" in output
    assert "Dry run" not in output
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert [opens_with_new_key_alone(raw_column(note.pk)) for note in notes] == ["note 0", "note 1", "note 2"]
    assert opens_with_new_key_alone(raw_column(notes[0].pk, "extra")) == "private"
    assert SealedNote.objects.get(pk=newer.pk).text == "written after the new key came first"
    # Run again: nothing left to do.
    assert "config.SealedNote.text: 0 encrypted again, 4 already under the first key" in rotate()


def test_a_dry_run_counts_and_changes_nothing(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    notes = [SealedNote.objects.create(text=f"note {n}") for n in range(2)]
    before = [raw_column(note.pk) for note in notes]
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    output = rotate("--dry-run")

    assert "config.SealedNote.text: 2 would be encrypted again, 0 already under the first key" in output
    assert output.endswith("Dry run: nothing was changed.\n")
    assert [raw_column(note.pk) for note in notes] == before


def test_a_value_no_key_opens_is_named_left_as_it_is_and_the_rest_rotated(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    lost = SealedNote.objects.create(text="under a key nobody kept")
    lost_token = raw_column(lost.pk)
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    kept = SealedNote.objects.create(text="readable")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    out = StringIO()

    with pytest.raises(CommandError, match="1 stored value\\(s\\) could not be opened with any key"):
        call_command("rotate_encryption_keys", stdout=out)

    assert (
        f"config.SealedNote.text: 1 encrypted again, 0 already under the first key, "
        f"1 that no key opens (left as they are; ids {lost.pk})"
    ) in out.getvalue()
    assert raw_column(lost.pk) == lost_token
    assert opens_with_new_key_alone(raw_column(kept.pk)) == "readable"


def test_only_the_first_ids_of_many_unreadable_values_are_listed(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    lost = [SealedNote.objects.create(text="gone").pk for _ in range(22)]
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    out = StringIO()

    with pytest.raises(CommandError, match="22 stored value"):
        call_command("rotate_encryption_keys", stdout=out)

    shown = ", ".join(str(pk) for pk in lost[:20])
    assert f"22 that no key opens (left as they are; ids {shown} and 2 more)" in out.getvalue()


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        rotate("--batch-size", "0")
