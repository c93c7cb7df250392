"""The busy ledger (``Allocation``) now belongs to the availability app.

State only, after availability's migration 0004 took the model over: the table
``bookings_allocation`` and everything on it stay. The content type (and so the
permissions given to people and groups) moves with the model, and the Staff group is
synced to its new name.
"""

from django.db import migrations

from accounts.permissions import sync_staff_group


def move_content_type(apps, schema_editor, *, old="bookings", new="availability"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model="allocation").exists():
        ContentType.objects.filter(app_label=old, model="allocation").update(app_label=new)
    ContentType.objects.clear_cache()


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="availability", new="bookings")


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0008_relay_schedule"),
        ("availability", "0004_allocation"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Allocation")],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
        migrations.RunPython(sync_staff_group, migrations.RunPython.noop),
    ]
