"""The booking funnel's rollups are folded from its analytics events every minute."""

from django.db import migrations

SCHEDULES = {"Fold the booking funnel": "reports.tasks.fold_funnel"}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_funnel_rollups")]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
