"""Busy times read from coaches' own calendars (``calendar_sync``): allocations of kind
``external`` with the calendar they came from. On PostgreSQL the exclusion constraints
leave them out, as they leave out requests' holds: a coach's own events may overlap each
other and a session already booked (which the coach is then told of); the services still
refuse a booking over them, and the constraint still keeps sessions apart."""

import django.db.models.deletion
from django.db import migrations, models

CONSTRAINTS = {
    "alloc_no_overlap_staff": "staff_id",
    "alloc_no_overlap_resource": "resource_id",
}


def _replace(schema_editor, left_out: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(f"ALTER TABLE bookings_allocation DROP CONSTRAINT IF EXISTS {name}")
        schema_editor.execute(
            f"ALTER TABLE bookings_allocation ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&) "
            f"WHERE (is_active AND {column} IS NOT NULL AND kind NOT IN ({left_out}))"
        )


def leave_external_out(apps, schema_editor):
    _replace(schema_editor, "'request', 'external'")


def put_external_back(apps, schema_editor):
    _replace(schema_editor, "'request'")


class Migration(migrations.Migration):
    dependencies = [
        ("availability", "0006_allocation_hold"),
        ("calendar_sync", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="allocation",
            name="calendar",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="busy",
                to="calendar_sync.calendarconnection",
            ),
        ),
        migrations.AlterField(
            model_name="allocation",
            name="kind",
            field=models.CharField(
                choices=[
                    ("session", "Session"),
                    ("request", "Request holding a slot"),
                    ("block", "Blocked time"),
                    ("hold", "Held for a waitlist offer"),
                    ("external", "Busy in the coach's own calendar"),
                ],
                default="session",
                max_length=16,
            ),
        ),
        migrations.RunPython(leave_external_out, put_external_back),
    ]
