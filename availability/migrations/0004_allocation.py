"""The busy ledger (``Allocation``) becomes the scheduling core's model.

State only: the table stays ``bookings_allocation`` with its indexes, check constraints
and (on PostgreSQL) the exclusion constraints of bookings' migration 0004. Bookings'
migration 0009 removes the model from its own state and moves the content type over.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("availability", "0003_availabilitywindow_session_types"),
        ("bookings", "0007_event_relay"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Allocation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("session", "Session"),
                                    ("request", "Request holding a slot"),
                                    ("block", "Blocked time"),
                                ],
                                default="session",
                                max_length=16,
                            ),
                        ),
                        ("start", models.DateTimeField()),
                        ("end", models.DateTimeField()),
                        ("blocked_start", models.DateTimeField()),
                        ("blocked_end", models.DateTimeField()),
                        ("counts_toward_limits", models.BooleanField(default=True)),
                        ("is_active", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "resource",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="allocations",
                                to="availability.resource",
                            ),
                        ),
                        (
                            "session",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="allocations",
                                to="bookings.session",
                            ),
                        ),
                        (
                            "staff",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="allocations",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "bookings_allocation",
                        "ordering": ["start"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("is_active", True)),
                                fields=["staff", "blocked_start"],
                                name="alloc_active_staff_start",
                            ),
                            models.Index(
                                condition=models.Q(("is_active", True)),
                                fields=["resource", "blocked_start"],
                                name="alloc_active_res_start",
                            ),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("end__gt", models.F("start"))), name="alloc_end_after_start"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("blocked_start__lte", models.F("start")), ("blocked_end__gte", models.F("end"))
                                ),
                                name="alloc_blocked_covers",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("staff__isnull", False), ("resource__isnull", True)),
                                    models.Q(("staff__isnull", True), ("resource__isnull", False)),
                                    _connector="OR",
                                ),
                                name="alloc_staff_xor_resource",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
