"""Every 15 minutes: clients whose balance after a deposit is coming due are reminded."""

from django.db import migrations

SCHEDULES = {"Remind balances due": "payments.tasks.remind_balances"}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 15, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_staff_permissions_prices_programmes")]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
