"""Secrets encrypted at rest (config/crypto.py): the keys from FIELD_ENCRYPTION_KEYS (the
first encrypts, all decrypt), checked at start-up and required in production;
``EncryptedTextField`` keeps only Fernet tokens in its column; rotation re-encrypts every
value under the first key. The command that runs it: accounts/tests/test_rotate_encryption_keys.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config import crypto
from config.env import env_fernet_keys
from config.tests.sealed_model import SealedNote, raw_column, sealed_notes  # noqa: F401

PROJECT_DIR = Path(__file__).resolve().parents[2]
OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))
SECRET = "Sleeps badly since the move; wants to talk about her father"


# --- keys from the environment ----------------------------------------------------------------


def test_keys_are_read_in_order_and_separators_are_forgiving(monkeypatch) -> None:
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f" {NEW},\n{OLD} ,")

    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS") == [NEW, OLD]


def test_no_keys_is_an_empty_list(monkeypatch) -> None:
    monkeypatch.delenv("FIELD_ENCRYPTION_KEYS", raising=False)
    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS") == []
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", " , ")
    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS") == []


@pytest.mark.parametrize(
    "bad",
    [
        NEW[:-2],  # cut short
        f"'{NEW}'",  # pasted with its quotes
        "correct-horse-battery-staple-is-not-a-key!!",
        "ключ",
    ],
)
def test_a_malformed_key_is_refused_by_its_position_without_repeating_it(monkeypatch, bad) -> None:
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{NEW},{OLD},{bad}")

    with pytest.raises(ImproperlyConfigured) as refused:
        env_fernet_keys("FIELD_ENCRYPTION_KEYS")

    message = str(refused.value)
    assert message.startswith("FIELD_ENCRYPTION_KEYS: key 3 of 3 is not a Fernet key")
    assert "Fernet.generate_key()" in message
    for key in (bad, NEW, OLD):
        assert key not in message


def start(settings_module: str, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "booking.example.com",
        "DJANGO_SETTINGS_MODULE": settings_module,
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_malformed_key_stops_the_site_starting() -> None:
    half = NEW[:20]

    refused = start("config.settings.base", {"FIELD_ENCRYPTION_KEYS": f"{OLD},{half}"})

    assert refused.returncode != 0
    assert "ImproperlyConfigured: FIELD_ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key" in refused.stderr
    assert half not in refused.stderr and OLD not in refused.stderr


def test_production_refuses_to_start_without_keys_and_starts_with_them() -> None:
    refused = start("config.settings.production", {})
    assert refused.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set in production" in refused.stderr

    assert start("config.settings.production", {"FIELD_ENCRYPTION_KEYS": ""}).returncode != 0
    started = start("config.settings.production", {"FIELD_ENCRYPTION_KEYS": f"{NEW},{OLD}"})
    assert started.returncode == 0, started.stderr


def test_the_test_settings_have_two_keys_so_every_path_meets_a_second_key(settings) -> None:
    assert len(settings.FIELD_ENCRYPTION_KEYS) == 2


# --- encrypt, decrypt -----------------------------------------------------------------------


def test_a_value_round_trips_and_only_a_token_is_kept(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    token = crypto.encrypt(SECRET)

    assert SECRET not in token and token.startswith("gAAAAA")
    assert Fernet(NEW).decrypt(token.encode()).decode() == SECRET  # the first key encrypts
    assert crypto.decrypt(token) == SECRET
    assert crypto.encrypt(SECRET) != token  # a random IV each time: equal texts don't show
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_a_value_under_an_old_key_still_reads_once_a_new_key_is_put_first(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt(SECRET)

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    assert crypto.decrypt(token) == SECRET


def test_a_value_no_configured_key_opens_is_unreadable(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt(SECRET)

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OTHER]
    with pytest.raises(crypto.Unreadable):
        crypto.decrypt(token)
    with pytest.raises(crypto.Unreadable):
        crypto.decrypt(token[:-4] + "AAAA")  # altered
    with pytest.raises(crypto.Unreadable):
        crypto.rotate(token)


def test_rotate_encrypts_under_the_first_key_and_leaves_a_current_token_alone(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    old_token = crypto.encrypt(SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    new_token = crypto.rotate(old_token)

    assert Fernet(NEW).decrypt(new_token.encode()).decode() == SECRET
    assert crypto.rotate(new_token) is None


def test_with_no_keys_a_key_is_derived_from_the_secret_key(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = []
    token = crypto.encrypt(SECRET)
    assert crypto.decrypt(token) == SECRET
    assert Fernet(crypto.derived_key()).decrypt(token.encode()).decode() == SECRET

    # A site that ran without keys moves to keys of its own: the derived key after a new one.
    settings.FIELD_ENCRYPTION_KEYS = [NEW, crypto.derived_key()]
    assert Fernet(NEW).decrypt(crypto.rotate(token).encode()).decode() == SECRET
    settings.FIELD_ENCRYPTION_KEYS = []

    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    with pytest.raises(crypto.Unreadable):
        crypto.decrypt(token)


# --- EncryptedTextField -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("sealed_notes")
def test_the_field_keeps_plain_text_in_the_model_and_only_tokens_in_the_column(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    note = SealedNote.objects.create(text=SECRET, extra="Ω and emoji 🌧")

    stored = raw_column(note.pk)
    assert SECRET not in stored and "father" not in stored
    assert Fernet(NEW).decrypt(stored.encode()).decode() == SECRET
    assert "🌧" not in raw_column(note.pk, "extra")
    read = SealedNote.objects.get(pk=note.pk)
    assert (read.text, read.extra) == (SECRET, "Ω and emoji 🌧")
    assert SealedNote.objects.values_list("text", flat=True).get(pk=note.pk) == SECRET


@pytest.mark.django_db
@pytest.mark.usefixtures("sealed_notes")
def test_the_field_keeps_null_and_empty_as_they_are() -> None:
    note = SealedNote.objects.create(text="", extra=None)

    assert raw_column(note.pk) == "" and raw_column(note.pk, "extra") is None
    read = SealedNote.objects.get(pk=note.pk)
    assert (read.text, read.extra) == ("", None)


@pytest.mark.django_db
@pytest.mark.usefixtures("sealed_notes")
def test_the_field_reads_a_row_written_under_an_old_key(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    note = SealedNote.objects.create(text=SECRET)

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    assert SealedNote.objects.get(pk=note.pk).text == SECRET


def test_every_encrypted_column_is_found_the_fields_and_the_registered_plain_ones() -> None:
    columns = [(model._meta.label, field.name) for model, field in crypto.encrypted_columns([SealedNote])]

    assert ("config.SealedNote", "text") in columns and ("config.SealedNote", "extra") in columns
    assert ("config.SealedNote", "updated_at") not in columns
    # calendar_sync registers its plain columns from its AppConfig.ready.
    assert ("calendar_sync.CalendarConnection", "password_encrypted") in columns
    assert ("calendar_sync.CalendarConnection", "token_encrypted") in columns
    assert columns == sorted(columns)


# --- rotation -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("sealed_notes")
def test_rotation_re_encrypts_every_value_so_the_old_key_can_go(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    notes = [SealedNote.objects.create(text=f"{SECRET} #{n}", extra=None if n % 2 else "x") for n in range(7)]
    empty = SealedNote.objects.create(text="")
    stamps = dict(SealedNote.objects.values_list("pk", "updated_at"))
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    SealedNote.objects.filter(pk=notes[0].pk).update(text=notes[0].text)  # already under the new key

    text = crypto.rotate_column(SealedNote, SealedNote._meta.get_field("text"), batch_size=3)
    extra = crypto.rotate_column(SealedNote, SealedNote._meta.get_field("extra"), batch_size=3)

    assert (text.rotated, text.current, text.unreadable) == (6, 1, [])
    assert (extra.rotated, extra.current, extra.unreadable) == (4, 0, [])
    assert text.label == "config.SealedNote.text"
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # the old key removed: everything still reads
    for n, note in enumerate(notes):
        assert Fernet(NEW).decrypt(raw_column(note.pk).encode()).decode() == f"{SECRET} #{n}"
        assert SealedNote.objects.get(pk=note.pk).extra == (None if n % 2 else "x")
    assert raw_column(empty.pk) == ""
    assert dict(SealedNote.objects.values_list("pk", "updated_at")) == stamps  # nothing else changed
    again = crypto.rotate_column(SealedNote, SealedNote._meta.get_field("text"))
    assert (again.rotated, again.current) == (0, 7)


@pytest.mark.django_db
@pytest.mark.usefixtures("sealed_notes")
def test_rotation_leaves_a_value_no_key_opens_as_it_is_and_goes_on(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OTHER]
    lost = SealedNote.objects.create(text="under a key nobody kept")
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    kept = SealedNote.objects.create(text=SECRET)
    lost_token = raw_column(lost.pk)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    outcome = crypto.rotate_column(SealedNote, SealedNote._meta.get_field("text"))

    assert (outcome.rotated, outcome.current, outcome.unreadable) == (1, 0, [lost.pk])
    assert raw_column(lost.pk) == lost_token
    assert Fernet(NEW).decrypt(raw_column(kept.pk).encode()).decode() == SECRET


@pytest.mark.django_db
@pytest.mark.usefixtures("sealed_notes")
def test_a_dry_run_counts_and_changes_nothing(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    notes = [SealedNote.objects.create(text=SECRET) for _ in range(3)]
    before = [raw_column(note.pk) for note in notes]
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    outcome = crypto.rotate_column(SealedNote, SealedNote._meta.get_field("text"), dry_run=True)

    assert (outcome.rotated, outcome.current) == (3, 0)
    assert [raw_column(note.pk) for note in notes] == before
