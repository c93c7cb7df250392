from django.db import migrations

from accounts.permissions import sync_staff_group


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_credit_expiry_schedule"),
        ("notifications", "0004_delivery_claims"),
    ]

    operations = [migrations.RunPython(sync_staff_group, migrations.RunPython.noop)]
