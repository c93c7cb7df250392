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
from collections.abc import Sequence
from typing import Any

from django.db import connection


def table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: Any, field: str) -> str:
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


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def for_update() -> str:
    """`` FOR UPDATE`` where the database has row locks (SQLite locks the whole database
    with ``BEGIN IMMEDIATE`` instead)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""
