"""The every-minute write-back of bookings into coaches' CalDAV calendars (a pending write
the relay's wake missed, or a failed one due again)."""

from django.db import migrations

SCHEDULES = {"Calendar write-back": "calendar_sync.tasks.write_pending"}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [("calendar_sync", "0003_caldav_accounts")]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
