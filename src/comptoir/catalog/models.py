"""Offers: what a shop sells (sku, title, price, stock). Auto-refusal deactivates them."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from comptoir.shops.models import Shop


class Offer(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="offers")
    sku = models.CharField(max_length=100)  # the shop's own sku (offer_sku)
    product_sku = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    category_code = models.CharField(max_length=50, blank=True)
    category_label = models.CharField(max_length=100, blank=True)
    price_cents = models.BigIntegerField()
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("20.0000"))
    stock = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    deactivation_reason = models.CharField(max_length=300, blank=True)
    last_updated_date = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "sku"], name="offer_unique_sku_per_shop")]
