"""Due erasures run every hour; the retention policy every day."""

from django.db import migrations

SCHEDULES = {
    "Erase accounts whose grace period is over": ("pages.tasks.run_erasures", {"schedule_type": "H"}),
    "Apply the retention policy": ("pages.tasks.apply_retention", {"schedule_type": "D"}),
}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, (func, timing) in SCHEDULES.items():
        Schedule.objects.update_or_create(name=name, defaults={"func": func, "repeats": -1, **timing})


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
