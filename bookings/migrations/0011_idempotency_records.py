"""Idempotency keys of the API and one-time tokens of the wizard's forms, pruned every hour."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SCHEDULES = {"Prune idempotency keys": "bookings.tasks.prune_idempotency_records"}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(name=name, defaults={"func": func, "schedule_type": "H", "repeats": -1})


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0010_relay_retry_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=255)),
                ("request_hash", models.CharField(help_text="SHA-256 of the method, path and body.", max_length=64)),
                ("method", models.CharField(max_length=8)),
                ("path", models.CharField(max_length=255)),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("response_body", models.TextField(blank=True)),
                ("content_type", models.CharField(blank=True, max_length=100)),
                ("created_at", models.DateTimeField(db_index=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "verbose_name": "idempotency key",
                "verbose_name_plural": "idempotency keys",
                "constraints": [models.UniqueConstraint(fields=("user", "key"), name="idempotency_one_per_user_key")],
            },
        ),
        migrations.RunPython(create_schedules, delete_schedules),
    ]
