"""The webhooks' every-minute run (due deliveries sent, the old log pruned) on the
django-q2 cluster, and the Staff group's permissions on the webhooks' admin."""

from django.db import migrations

from accounts.permissions import sync_staff_group

SCHEDULES = {"Webhook deliveries": "webhooks.tasks.send_due"}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("accounts", "0002_staff_group"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(create_schedules, delete_schedules),
        migrations.RunPython(sync_staff_group, migrations.RunPython.noop),
    ]
