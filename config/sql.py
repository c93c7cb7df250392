"""Hand-written SQL for the few reads on the booking path, where building the same query
with the ORM costs more than the database takes to answer it.

The statements are plain SQL that SQLite and PostgreSQL both run; table and column names
come from the models (``table(Model)``, ``column(Model, "field")``), so a rename stays one
place. Values go through ``value`` so an aware datetime is stored and compared the way
the ORM does (naive UTC text on SQLite); what comes back is converted by the caller
(SQLite's declared ``date``/``time``/``datetime`` columns arrive typed, a boolean
expression arrives as 0/1).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.expressions import RawSQL


def table(model: Any) -> str:
    return _table(model, connection.vendor)


def column(model: Any, field: str) -> str:
    return _column(model, field, connection.vendor)


@functools.cache
def _table(model: Any, vendor: str) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _column(model: Any, field: str, vendor: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def value(item: Any) -> Any:
    if isinstance(item, dt.datetime):
        return connection.ops.adapt_datetimefield_value(item)
    return item


def rows(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [value(item) for item in params])
        return cursor.fetchall()


def one(sql: str, params: Sequence[Any] = ()) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, [value(item) for item in params])
        return cursor.fetchone()


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    """Run a statement that returns no rows; the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [value(item) for item in params])
        return cursor.rowcount


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def among(model: Any, field: str, ids: models.QuerySet) -> RawSQL:
    """A filter: ``model``'s ``field`` is one of the values ``ids`` (a one-column queryset)
    selects. PostgreSQL reads ``ids`` once and looks each value up in ``field``'s index
    (``= ANY(ARRAY(...))``), where ``__in`` lets its planner hash-join a whole table when
    it misjudges the sizes; elsewhere a plain ``IN``."""
    subquery, params = ids.query.sql_with_params()
    target = f"{table(model)}.{column(model, field)}"
    if connection.vendor == "postgresql":
        return RawSQL(f"{target} = ANY(ARRAY({subquery}))", params, output_field=models.BooleanField())  # noqa: S611 (the ORM's own SQL; values are parameters)
    return RawSQL(f"{target} IN ({subquery})", params, output_field=models.BooleanField())  # noqa: S611 (the ORM's own SQL; values are parameters)


def for_update() -> str:
    """A row lock where the database has them (SQLite locks the whole database with
    ``BEGIN IMMEDIATE`` instead). On PostgreSQL ``FOR NO KEY UPDATE``: it excludes every
    other writer's lock on the row just as ``FOR UPDATE`` does, but not the ``FOR KEY
    SHARE`` that a foreign key's check takes — so inserting a row that points at a locked
    user (a notification, a credit entry) does not wait for that lock, and two
    transactions that lock people in id order cannot deadlock through such an insert."""
    if not connection.features.has_select_for_update:
        return ""
    return " FOR NO KEY UPDATE" if connection.vendor == "postgresql" else " FOR UPDATE"


def next_id(model: Any) -> int | None:
    """PostgreSQL: the next id of ``model``'s table, taken from its sequence now (so a row
    can be written with what derives from its id in the same statement); None where the
    database has no sequences (SQLite)."""
    if connection.vendor != "postgresql":
        return None
    return one("SELECT nextval(pg_get_serial_sequence(%s, %s))", [model._meta.db_table, model._meta.pk.column])[0]


def next_ids(model: Any, count: int) -> list[int] | None:
    """PostgreSQL: ``count`` next ids of ``model``'s table in one statement (as ``next_id``);
    None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    found = rows(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return sorted(row[0] for row in found)


def next_ids_locked(model: Any, count: int) -> list[int]:
    """``count`` ids for new rows of ``model``, inside a transaction: PostgreSQL's sequence
    (as ``next_ids``); on SQLite, where a writing transaction holds the database's write
    lock from its start (``BEGIN IMMEDIATE``), the ids after the table's highest ever used
    (``sqlite_sequence``, which inserting them then moves on)."""
    found = next_ids(model, count)
    if found is not None:
        return found
    seq = rows("SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])
    top = one(f"SELECT MAX({column(model, model._meta.pk.name)}) FROM {table(model)}")[0]  # noqa: S608 (names from the models)
    first = max(seq[0][0] if seq else 0, top or 0) + 1
    return list(range(first, first + count))


# Fields whose database value, for a value of exactly the type named (or None), is that
# value on SQLite and PostgreSQL: conversion would give it back unchanged.
_PLAIN_FIELDS = (
    ((models.CharField, models.TextField), str),
    ((models.IntegerField, models.AutoField, models.BigAutoField, models.ForeignKey), int),
    ((models.BooleanField,), bool),
)


def _stamp_converter(db: Any) -> Any:
    """What a ``DateTimeField``'s conversion gives for an aware datetime on ``db``, done
    directly (None: let the field convert it): PostgreSQL takes the value as it is; SQLite
    stores its text in the connection's zone (UTC), as Django's own conversion writes it."""
    from django.conf import settings

    if not settings.USE_TZ:
        return None
    if db.vendor == "postgresql":
        return lambda value: value
    if db.vendor == "sqlite":
        zone = db.timezone
        return lambda value: str(value.astimezone(zone).replace(tzinfo=None))
    return None


def insert_many(instances: Sequence[Any]) -> list[Any]:
    """Insert new instances of one model in as few statements as the database allows
    (``INSERT … VALUES (…), (…) RETURNING id``), each converted as ``insert`` converts one,
    and give each its id. The same caveats as ``insert``: no signal, no ``save()``."""
    if not instances:
        return []
    _insert_rows(type(instances[0]), instances, with_pk=instances[0].pk is not None)
    for item in instances:
        item._state.adding = False
        item._state.db = DEFAULT_DB_ALIAS
    return list(instances)


class _Row:
    """A new row's values by attribute name, for ``insert_values``: what the fields read."""

    pk = None


def insert_values(model: Any, rows: Sequence[dict]) -> list[int]:
    """Insert rows of ``model`` given as ``{attname: value}`` (a foreign key by its id,
    ``session_id``), the fields' defaults filling the rest, as ``insert_many`` does but
    without building model instances; returns the new ids in order."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    items = []
    for values in rows:
        item = _Row()
        item.__dict__.update(defaults)
        item.__dict__.update(values)
        items.append(item)
    _insert_rows(model, items, with_pk=False)
    return [item.pk for item in items]


def _insert_rows(model: Any, instances: Sequence[Any], *, with_pk: bool) -> None:
    db = connections[DEFAULT_DB_ALIAS]
    fields = tuple(field for field in model._meta.concrete_fields if with_pk or not field.primary_key)
    names = ", ".join(db.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, 30000 // len(fields))
    prepared: dict = {}  # (field's index, value) → its database value: rows repeat most values
    stamp = _stamp_converter(db)
    plan = [
        (
            index,
            field,
            field.attname,
            next((kind for fields_of, kind in _PLAIN_FIELDS if isinstance(field, fields_of)), None),
            bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)),
            stamp if isinstance(field, models.DateTimeField) else None,
        )
        for index, field in enumerate(fields)
    ]

    def prepare(item: Any) -> list:
        values = []
        for index, field, attname, kind, auto, convert in plan:
            raw = field.pre_save(item, True) if auto else getattr(item, attname)
            if raw is None or type(raw) is kind:
                values.append(raw)  # what these fields' conversion gives back for such a value
                continue
            if convert is not None and type(raw) is dt.datetime and raw.tzinfo is not None:
                values.append(convert(raw))  # rows rarely repeat an instant: no cache
                continue
            try:
                converted = prepared[index, raw]
            except KeyError:
                prepared[index, raw] = converted = field.get_db_prep_save(raw, db)
            except TypeError:  # unhashable (a JSON value)
                converted = field.get_db_prep_save(raw, db)
            values.append(converted)
        return values

    for begin in range(0, len(instances), per_statement):
        chunk = instances[begin : begin + per_statement]
        params = [value for item in chunk for value in prepare(item)]
        statement = (
            f"INSERT INTO {db.ops.quote_name(model._meta.db_table)} ({names}) VALUES "  # noqa: S608 (names from the models; values are parameters)
            + ", ".join([row] * len(chunk))
            + f" RETURNING {db.ops.quote_name(model._meta.pk.column)}"
        )
        with db.cursor() as cursor:
            cursor.execute(statement, params)
            ids = [found[0] for found in cursor.fetchall()]
        for item, pk in zip(chunk, ids, strict=True):
            item.pk = pk


@functools.cache
def _insert_statement(model: Any, vendor: str, with_pk: bool) -> tuple[str, tuple]:
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if with_pk or not field.primary_key)
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    statement = (
        f"INSERT INTO {table(model)} ({names}) VALUES ({placeholders(len(fields))}) "  # noqa: S608 (names from the models; values are parameters)
        f"RETURNING {connection.ops.quote_name(meta.pk.column)}"
    )
    return statement, fields


def insert(instance: Any) -> Any:
    """Insert a new model instance in one statement and give it its id: what
    ``Model.save()`` does for a new row (its id when it has one already, defaults, ``auto_now``/``auto_now_add``, each
    field's own conversion for the database), without the query building around it. No
    model signal is sent (nothing in the product listens to those of the rows inserted
    this way) and no ``save()`` override runs: use it for plain new rows only."""
    statement, fields = _insert_statement(type(instance), connection.vendor, instance.pk is not None)
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance
