"""``config.sql``'s multi-row inserts write an aware datetime exactly as the ORM does, on
either database: the same stored value (text on SQLite, timestamptz on PostgreSQL), so a
row written in bulk reads and compares like one saved by ``Model.save()``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from config import sql
from payments.models import GatewayEvent

pytestmark = pytest.mark.django_db

INSTANTS = [
    dt.datetime(2027, 3, 14, 7, 0, tzinfo=dt.UTC),
    dt.datetime(2027, 3, 14, 3, 0, 0, 123456, tzinfo=ZoneInfo("America/New_York")),  # after the change
    dt.datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York")),  # the repeated hour, first
    dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),  # …and second
    dt.datetime(2027, 1, 5, 9, 15, 30, tzinfo=ZoneInfo("Asia/Kolkata")),
    dt.datetime(2027, 1, 5, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
]


def _stored(pk: int) -> object:
    with connection.cursor() as cursor:
        cursor.execute("SELECT processed_at FROM payments_gatewayevent WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_a_bulk_inserted_instant_is_stored_as_the_orm_stores_it(instant):
    saved = GatewayEvent.objects.create(backend="local", event_id=f"orm-{instant}", type="t", processed_at=instant)
    (bulk_id,) = sql.insert_values(
        GatewayEvent, [{"backend": "local", "event_id": f"bulk-{instant}", "type": "t", "processed_at": instant}]
    )
    assert _stored(bulk_id) == _stored(saved.pk)
    # (compared in UTC: Python never finds an instant of a repeated hour equal across zones)
    assert GatewayEvent.objects.get(pk=bulk_id).processed_at == instant.astimezone(dt.UTC)
    assert GatewayEvent.objects.filter(processed_at=instant).count() == 2
