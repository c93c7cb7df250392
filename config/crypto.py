"""Secrets the product must keep and read back (a CalDAV account's password, calendar
tokens, and private text through ``EncryptedTextField``), encrypted with Fernet
(AES-128-CBC with HMAC-SHA256, a random IV per value, authenticated).

Keys come from ``FIELD_ENCRYPTION_KEYS`` (several, comma-separated Fernet keys: the first
encrypts, every one decrypts, so a new key is put first and the old ones kept until the
values are re-encrypted: ``manage.py rotate_encryption_keys``, which goes through every
``EncryptedTextField`` and every plain column an app named with ``register_encrypted_column``).
With none set, one key is derived from ``SECRET_KEY``, which is enough for a machine of
one's own; production refuses to start without keys."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Cast

logger = logging.getLogger(__name__)


class Unreadable(Exception):
    """A value no configured key opens (a key was removed, or the value was altered)."""


def derived_key() -> str:
    """The key used when ``FIELD_ENCRYPTION_KEYS`` is empty, derived from ``SECRET_KEY``. A
    site that ran without keys lists it after a new key to rotate away from it."""
    digest = hashlib.sha256(b"field-encryption:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _keys() -> list[Fernet]:
    return [Fernet(key) for key in list(settings.FIELD_ENCRYPTION_KEYS) or [derived_key()]]


def _fernet() -> MultiFernet:
    return MultiFernet(_keys())


def encrypt(text: str) -> str:
    """``text`` encrypted under the first key, as ASCII (empty stays empty)."""
    if not text:
        return ""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The text of an ``encrypt`` result, opened with whichever key made it."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise Unreadable("no configured key opens this value") from error


def encrypt_bytes(data: bytes) -> str:
    """``data`` (a file's bytes) encrypted under the first key, as an ASCII Fernet token —
    kept in a text column that its app registers with ``register_encrypted_column``."""
    return _fernet().encrypt(data).decode()


def decrypt_bytes(token: str) -> bytes:
    """The bytes of an ``encrypt_bytes`` result (``Unreadable`` when no key opens it)."""
    try:
        return _fernet().decrypt(token.encode())
    except InvalidToken as error:
        raise Unreadable("no configured key opens this value") from error


class UnreadableText(str):
    """What an encrypted value that no configured key opens reads as (a key was removed
    too early, or the value altered): empty, marked ``unreadable`` for pages to say so,
    and never written back over the stored value."""

    unreadable = True


class EncryptedTextField(models.TextField):
    """Text kept encrypted in its column (``encrypt``/``decrypt``): the database, its dumps
    and backups hold only Fernet tokens; the model holds the plain text. It can't be
    searched or ordered by in SQL — filter in Python, after reading what one may read."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        try:
            return decrypt(value)
        except Unreadable:
            logger.warning("An encrypted %s value could not be read with the configured keys.", self.model._meta.label)
            return UnreadableText("")

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        if isinstance(value, UnreadableText):
            raise Unreadable("an unreadable value is never written back over the stored one")
        return encrypt(str(value))


# --- key rotation ---------------------------------------------------------------------------

# Plain ``TextField`` columns that hold ``encrypt`` output ("app_label.Model", field name),
# named by their app from ``AppConfig.ready``; ``EncryptedTextField`` columns are found
# without it.
_registered_columns: set[tuple[str, str]] = set()
# Columns of large values (files) rotated a few rows per transaction: ("app_label.Model", field) → rows.
_batch_limits: dict[tuple[str, str], int] = {}


def register_encrypted_column(model: str, field_name: str, *, batch_size: int | None = None) -> None:
    """Name a plain text column that holds ``encrypt`` (or ``encrypt_bytes``) output
    (``"app_label.Model"``, field name), so that key rotation re-encrypts it too; a column of
    large values gives a ``batch_size`` (rows per transaction) below the command's. Call it
    from the app's ``AppConfig.ready``."""
    _registered_columns.add((model, field_name))
    if batch_size:
        _batch_limits[(model, field_name)] = batch_size


def encrypted_columns(models_to_search=None) -> list[tuple[type[models.Model], models.Field]]:
    """Every column that holds Fernet tokens: the ``EncryptedTextField`` of every installed
    model (or of ``models_to_search``), then the registered plain columns; ordered by model
    label and field name. A proxy model shares its concrete model's table and is left out,
    as are fields a child model inherits from a concrete parent (the parent's table has them)."""
    from django.apps import apps

    found: dict[tuple[str, str], tuple[type[models.Model], models.Field]] = {}
    for model in apps.get_models() if models_to_search is None else models_to_search:
        if model._meta.proxy:
            continue
        for model_field in model._meta.local_concrete_fields:
            if isinstance(model_field, EncryptedTextField):
                found[(model._meta.label, model_field.name)] = (model, model_field)
    for label, field_name in _registered_columns:
        model = apps.get_model(label)
        found[(model._meta.label, field_name)] = (model, model._meta.get_field(field_name))
    return [found[key] for key in sorted(found)]


def rotate(token: str, keys: list[Fernet] | None = None) -> str | None:
    """``token`` encrypted again under the first key, or None when it already is (so running
    rotation twice changes nothing the second time). ``Unreadable`` when no key opens it."""
    keys = keys or _keys()
    try:
        keys[0].decrypt(token.encode())
        return None
    except InvalidToken:
        pass
    try:
        return MultiFernet(keys).rotate(token.encode()).decode()
    except InvalidToken as error:
        raise Unreadable("no configured key opens this value") from error


@dataclasses.dataclass
class Rotation:
    """What rotating one column did (or, in a dry run, would do)."""

    model: type[models.Model]
    field: models.Field
    rotated: int = 0  # encrypted again under the first key
    current: int = 0  # already under the first key: left alone
    unreadable: list = dataclasses.field(default_factory=list)  # primary keys of values no key opens: left alone

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"


def rotate_column(
    model: type[models.Model], model_field: models.Field, *, batch_size: int = 500, dry_run: bool = False
) -> Rotation:
    """Encrypt every value of one column again under the first key, in batches of
    ``batch_size`` rows in primary-key order, each batch in its own transaction with its rows
    locked. The raw tokens are read and written as they are in the column (an
    ``EncryptedTextField`` is not decrypted into the model), so nothing else of a row
    changes — not even an ``auto_now`` time. Empty and null values are skipped; a value no
    key opens is counted in ``unreadable`` and left as it is."""
    keys = _keys()
    outcome = Rotation(model=model, field=model_field)
    batch_size = min(batch_size, _batch_limits.get((model._meta.label, model_field.name), batch_size))
    raw = Cast(model_field.name, output_field=models.TextField())
    rows = (
        model._base_manager.annotate(rotation_token=raw)
        .exclude(rotation_token__isnull=True)
        .exclude(rotation_token="")
        .order_by("pk")
    )
    last_pk = None
    while True:
        with transaction.atomic():
            batch = rows if last_pk is None else rows.filter(pk__gt=last_pk)
            if not dry_run:
                batch = batch.select_for_update()
            batch = list(batch.values_list("pk", "rotation_token")[:batch_size])
            for pk, token in batch:
                try:
                    rotated = rotate(token, keys)
                except Unreadable:
                    outcome.unreadable.append(pk)
                    continue
                if rotated is None:
                    outcome.current += 1
                    continue
                if not dry_run:
                    model._base_manager.filter(pk=pk).update(
                        **{model_field.attname: models.Value(rotated, output_field=models.TextField())}
                    )
                outcome.rotated += 1
        if len(batch) < batch_size:
            return outcome
        last_pk = batch[-1][0]
