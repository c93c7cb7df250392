from django.db import migrations

from accounts.permissions import sync_staff_group


class Migration(migrations.Migration):
    """Staff manage rooms' hours and closures, subjects, client tags and their rules."""

    dependencies = [
        ("bookings", "0013_hosts_rooms_subjects"),
        ("availability", "0005_rooms_hours_and_tag_rules"),
        ("accounts", "0003_subjects_and_client_tags"),
    ]

    operations = [migrations.RunPython(sync_staff_group, migrations.RunPython.noop)]
