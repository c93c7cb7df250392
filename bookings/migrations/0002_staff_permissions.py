from django.db import migrations

from accounts.permissions import sync_staff_group


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0001_initial"),
        ("availability", "0002_staff_permissions"),
    ]

    operations = [migrations.RunPython(sync_staff_group, migrations.RunPython.noop)]
