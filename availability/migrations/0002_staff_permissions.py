from django.db import migrations

from accounts.permissions import sync_staff_group


class Migration(migrations.Migration):
    dependencies = [
        ("availability", "0001_initial"),
        ("accounts", "0002_staff_group"),
    ]

    operations = [migrations.RunPython(sync_staff_group, migrations.RunPython.noop)]
