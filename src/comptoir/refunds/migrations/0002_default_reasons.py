"""The default reason lists (RE01), in French; the operator may change them. Codes follow a stock Mirakl
platform where one is known (REFUND 14–19, CANCELATION 34)."""

from django.db import migrations

from comptoir.refunds.reasons import DEFAULT_REASONS as REASONS


def create(apps, schema_editor):
    Reason = apps.get_model("refunds", "Reason")
    for position, (kind, code, label, shop) in enumerate(REASONS):
        Reason.objects.update_or_create(type=kind, code=code, defaults={
            "label": label, "is_shop_right": shop, "position": position, "active": True})


def remove(apps, schema_editor):
    Reason = apps.get_model("refunds", "Reason")
    for kind, code, _label, _shop in REASONS:
        Reason.objects.filter(type=kind, code=code).delete()


class Migration(migrations.Migration):
    dependencies = [("refunds", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
