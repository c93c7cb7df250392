from django.db import migrations

from accounts.permissions import sync_staff_group


class Migration(migrations.Migration):
    """Staff manage promotion codes, programmes and enrollments."""

    dependencies = [
        ("payments", "0006_send_pending_schedule"),
        ("bookings", "0016_payments_prices_enrollment"),
    ]

    operations = [migrations.RunPython(sync_staff_group, migrations.RunPython.noop)]
