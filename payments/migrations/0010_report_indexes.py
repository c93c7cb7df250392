from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def copy_currencies(apps, schema_editor):
    """Each refund's currency: its payment's."""
    Payment, Refund = apps.get_model("payments", "Payment"), apps.get_model("payments", "Refund")
    Refund.objects.update(currency=Subquery(Payment.objects.filter(pk=OuterRef("payment_id")).values("currency")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0009_series_payment"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="currency",
            field=models.CharField(default="", editable=False, max_length=3),
            preserve_default=False,
        ),
        migrations.RunPython(copy_currencies, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=Q(paid_at__isnull=False),
                fields=["paid_at", "status", "currency", "amount_minor"],
                name="payment_paid_at",
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["created_at", "status", "currency", "amount_minor"], name="refund_created"),
        ),
    ]
