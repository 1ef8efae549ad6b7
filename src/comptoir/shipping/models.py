"""Carriers (operator-managed, with a tracking-link template) and shipments: parcels of an order's lines."""

from __future__ import annotations

from typing import Any

from django.db import models

from comptoir.orders.models import Order, OrderLine
from comptoir.shipping.rules import CarrierSpec
from comptoir.shops.models import Shop


class Carrier(models.Model):
    code = models.CharField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    standard_code = models.CharField(max_length=50, blank=True)
    # https URL with {tracking_number} (and {postcode} when the carrier needs it): shipping.rules checks it.
    tracking_url = models.CharField(max_length=500)
    active = models.BooleanField(default=True)
    created_date = models.DateTimeField()
    last_updated_date = models.DateTimeField()

    class Meta:
        ordering = ["label", "code"]

    def __str__(self) -> str:
        return self.label

    def spec(self) -> CarrierSpec:
        return CarrierSpec(self.code, self.label, self.standard_code, self.tracking_url)


class ShipmentStatus(models.TextChoices):
    SHIPPING = "SHIPPING", "En préparation"
    SHIPPED = "SHIPPED", "Expédiée"


class Shipment(models.Model):
    shipment_id = models.CharField(max_length=64, unique=True)  # Mirakl's shipment `id` (a UUID)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")  # denormalised for listings
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.SHIPPING)
    carrier_code = models.CharField(max_length=50, blank=True)
    carrier_standard_code = models.CharField(max_length=50, blank=True)
    carrier_name = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.CharField(max_length=1000, blank=True)
    invoice_reference = models.CharField(max_length=100, blank=True)
    shipped_date = models.DateTimeField(null=True, blank=True)
    # Shipped without tracking for 24 business hours (DESIGN §3): counts against the seller, stays once set.
    tracking_missing_flagged = models.BooleanField(default=False)
    tracking_missing_flagged_date = models.DateTimeField(null=True, blank=True)
    created_date = models.DateTimeField()
    last_updated_date = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["shop", "id"], name="shipment_shop_id"),
            models.Index(fields=["order", "id"], name="shipment_order_id"),
        ]

    def __str__(self) -> str:
        return self.shipment_id

    @property
    def has_tracking(self) -> bool:
        return bool(self.tracking_number or self.tracking_url or self.carrier_name)

    @property
    def tracking_missing(self) -> bool:
        """Flagged and still without a tracking number: the seller's order page and home warn about it."""
        return self.tracking_missing_flagged and not self.tracking_number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    package_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["shipment_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="shipment_line_positive_quantity"),
        ]


class ShipmentImportStatus(models.TextChoices):
    PREVIEW = "PREVIEW", "Aperçu"
    APPLYING = "APPLYING", "En cours"
    DONE = "DONE", "Terminé"


class ShipmentImport(models.Model):
    """A bulk shipment file (issue 5): its rows as parsed and checked (JSON), the parcels they group into, and
    how far applying them has gone (`cursor`, in parcels). Written by shipping.imports only. What applying did
    to each row is kept apart (`ShipmentImportOutcome`): a chunk writes its own rows' outcomes, never the file."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, default="web")  # web | api
    filename = models.CharField(max_length=255, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=10, choices=ShipmentImportStatus.choices,
                              default=ShipmentImportStatus.PREVIEW)
    checked_rows = models.JSONField(default=list, db_column="rows")  # as the preview left them
    parcels = models.JSONField(default=list)  # lists of row indexes (into `rows`), in file order
    cursor = models.PositiveIntegerField(default=0)
    created_date = models.DateTimeField()
    last_updated_date = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "id"], name="shipment_import_shop_id")]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.filename})"

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as they stand: the checked rows with the outcomes of the parcels applied so far."""
        rows = self.checked_rows
        if self.pk is None or self.status == ShipmentImportStatus.PREVIEW:
            return rows
        merged = list(rows)
        for index, status, shipment_id, error, code in self.outcomes.values_list(
                "row_index", "status", "shipment_id", "error", "code"):
            if status == ShipmentImportOutcome.DONE:
                merged[index] = {**rows[index], "status": status, "shipment_id": shipment_id}
            else:
                merged[index] = {**rows[index], "status": status, "error": error, "code": code}
        return merged

    @rows.setter
    def rows(self, value: list[dict[str, Any]]) -> None:
        self.checked_rows = value


class ShipmentImportOutcome(models.Model):
    """What applying did to one row of an import: DONE (with its shipment) or ERROR (refused under the lock)."""

    DONE, ERROR = "DONE", "ERROR"

    job = models.ForeignKey(ShipmentImport, on_delete=models.CASCADE, related_name="outcomes")
    row_index = models.PositiveIntegerField()  # into the import's rows
    status = models.CharField(max_length=10)
    shipment_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    code = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["job", "row_index"]
        constraints = [models.UniqueConstraint(fields=["job", "row_index"], name="shipment_import_outcome_row")]
