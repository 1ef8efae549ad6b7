"""Seed the main French carriers (shipping.carriers.FRENCH_CARRIERS); existing codes are left alone."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    from comptoir.shipping.carriers import FRENCH_CARRIERS

    Carrier = apps.get_model("shipping", "Carrier")
    now = timezone.now()
    existing = set(Carrier.objects.values_list("code", flat=True))
    Carrier.objects.bulk_create([
        Carrier(code=c.code, label=c.label, standard_code=c.standard_code, tracking_url=c.tracking_url,
                active=True, created_date=now, last_updated_date=now)
        for c in FRENCH_CARRIERS if c.code not in existing
    ])


def unseed(apps, schema_editor):
    from comptoir.shipping.carriers import FRENCH_CARRIERS

    apps.get_model("shipping", "Carrier").objects.filter(code__in=[c.code for c in FRENCH_CARRIERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("shipping", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
