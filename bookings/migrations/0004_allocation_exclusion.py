"""On PostgreSQL, make overlapping busy time impossible in the database itself.

No staff member and no resource may hold two overlapping active allocations (blocked
ranges, buffers included). A request's tentative hold (kind ``request``) is left out: the
services refuse a booking over a hold, and an approval turns the hold into a firm
allocation, which the constraint then checks. SQLite has no exclusion constraints; there
the services' locked re-check (with ``BEGIN IMMEDIATE``) is the guarantee.
"""

from django.db import migrations

from accounts.permissions import sync_staff_group

CONSTRAINTS = {
    "alloc_no_overlap_staff": "staff_id",
    "alloc_no_overlap_resource": "resource_id",
}


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(
            f"ALTER TABLE bookings_allocation ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&) "
            f"WHERE (is_active AND {column} IS NOT NULL AND kind <> 'request')"
        )


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE bookings_allocation DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_sessions_and_bookings"),
        ("availability", "0003_availabilitywindow_session_types"),
    ]

    operations = [
        migrations.RunPython(add_exclusion, drop_exclusion),
        migrations.RunPython(sync_staff_group, migrations.RunPython.noop),
    ]
