"""Workshops confirmed or called off at their deadline, every five minutes."""

from django.db import migrations

from accounts.permissions import sync_staff_group

SCHEDULES = {"Settle workshops": "bookings.tasks.settle_workshops"}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 5, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0022_workshops"),
        ("accounts", "0005_series"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(create_schedules, delete_schedules),
        # Staff see and manage the materials of sessions in the back office.
        migrations.RunPython(sync_staff_group, migrations.RunPython.noop),
    ]
