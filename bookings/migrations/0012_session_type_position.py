from django.db import migrations, models

KIND_ORDER = {"one_on_one": 0, "group": 1, "workshop": 2}


def number_existing(apps, schema_editor):
    """Each coach's types keep the order clients saw before: one-on-one, group, workshop, then title."""
    SessionType = apps.get_model("bookings", "SessionType")
    by_coach: dict[int, list] = {}
    for st in SessionType.objects.order_by("coach_id", "pk"):
        by_coach.setdefault(st.coach_id, []).append(st)
    for types in by_coach.values():
        types.sort(key=lambda st: (KIND_ORDER.get(st.kind, 3), st.title, st.pk))
        for position, st in enumerate(types, start=1):
            if st.position != position:
                st.position = position
                st.save(update_fields=["position"])


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0011_idempotency_records"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="sessiontype",
            options={"ordering": ["coach", "position", "pk"]},
        ),
        migrations.AddField(
            model_name="sessiontype",
            name="position",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Where the type comes in the coach's list, lowest first (the order clients see).",
            ),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
    ]
