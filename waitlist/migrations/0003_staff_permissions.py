from django.db import migrations

from accounts.permissions import sync_staff_group


class Migration(migrations.Migration):
    """Staff see waitlists, their offers and moves in the back office (read only)."""

    dependencies = [
        ("waitlist", "0002_sweep_schedule"),
        ("accounts", "0005_series"),
    ]

    operations = [migrations.RunPython(sync_staff_group, migrations.RunPython.noop)]
