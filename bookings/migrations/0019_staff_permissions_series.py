from django.db import migrations

from accounts.permissions import sync_staff_group


class Migration(migrations.Migration):
    """Staff see recurring series in the back office (read only: a series changes through its occurrences)."""

    dependencies = [
        ("bookings", "0018_series"),
        ("accounts", "0005_series"),
    ]

    operations = [migrations.RunPython(sync_staff_group, migrations.RunPython.noop)]
