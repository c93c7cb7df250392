"""Every minute: refunds, captures and voids the gateway has not taken yet are sent again."""

from django.db import migrations

SCHEDULES = {"Send payment actions": "payments.tasks.send_pending"}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_refund_cause_pending_action")]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
