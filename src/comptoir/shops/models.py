"""Shops (boutiques), their legal profile, their members and their API keys (stored hashed)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models


class ShopState(models.TextChoices):
    OPEN = "OPEN", "Ouverte"
    SUSPENDED = "SUSPENDED", "Suspendue"
    CLOSE = "CLOSE", "Fermée"


class Shop(models.Model):
    id = models.IntegerField(primary_key=True)  # Mirakl shop_id: an integer chosen by the operator
    name = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=ShopState.choices, default=ShopState.OPEN)
    suspension_reason = models.CharField(max_length=500, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    commission_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("15.0000"))
    # Rate of VAT the operator charges on its commission (French VAT, 20 %).
    commission_vat_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("20.0000"))
    currency_iso_code = models.CharField(max_length=3, default="EUR")
    is_professional = models.BooleanField(default=True)
    # Legal profile: the mandatory mentions of the seller's invoices.
    legal_name = models.CharField(max_length=200, blank=True)
    legal_form = models.CharField(max_length=100, blank=True)
    share_capital = models.CharField(max_length=50, blank=True)
    identification_number = models.CharField(max_length=30, blank=True)  # SIREN / SIRET
    rcs = models.CharField(max_length=100, blank=True)
    vat_number = models.CharField(max_length=30, blank=True)
    head_office_street = models.CharField(max_length=200, blank=True)
    head_office_zip_code = models.CharField(max_length=20, blank=True)
    head_office_city = models.CharField(max_length=100, blank=True)
    head_office_country_iso_code = models.CharField(max_length=3, default="FRA")
    customer_service_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    producer_registration_number = models.CharField(max_length=50, blank=True)
    warranty_duration = models.CharField(max_length=100, blank=True)
    created_date = models.DateTimeField()
    last_updated_date = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def is_suspended(self) -> bool:
        return self.state == ShopState.SUSPENDED


class ShopMember(models.Model):
    """A back-office user of a shop; a shop has several."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shop_memberships")
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="shop_member_unique")]


class ApiKeyKind(models.TextChoices):
    SHOP = "SHOP", "Boutique"
    OPERATOR = "OPERATOR", "Opérateur"


class ApiKey(models.Model):
    """Only a SHA-256 digest is kept: keys are 256-bit random values, so a slow hash adds nothing."""

    kind = models.CharField(max_length=16, choices=ApiKeyKind.choices)
    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    label = models.CharField(max_length=100, blank=True)
    created_date = models.DateTimeField()
    revoked_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="SHOP", shop__isnull=False) | models.Q(kind="OPERATOR", shop__isnull=True)),
                name="api_key_kind_matches_shop",
            )
        ]


class CategoryCommission(models.Model):
    """A commission rate for one category of a shop's products, overriding the shop's rate."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="category_commissions")
    category_code = models.CharField(max_length=50)
    rate = models.DecimalField(max_digits=7, decimal_places=4)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "category_code"], name="category_commission_unique")]
