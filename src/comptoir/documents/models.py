"""Order documents (files through Django's storage API, with the checker's report), the operator's commission
invoices to shops (one per shop and payout, with the per-order lines they bill), and the counters that number
invoices and credit notes without gaps."""

from __future__ import annotations

from django.db import models

from comptoir.documents.rules import TYPE_LABELS, DocumentType
from comptoir.documents.storage import documents_storage
from comptoir.ledger.models import Payout
from comptoir.orders.models import Order
from comptoir.shops.models import Shop


def document_path(instance: OrderDocument, filename: str) -> str:
    # The stored name never reuses the uploader's: shop / order / random token / sanitised name.
    return f"{instance.shop_id}/{instance.order_id}/{instance.storage_token}/{filename}"


class OrderDocument(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="documents")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")  # denormalised for listings
    type = models.CharField(max_length=40, choices=[(t.value, TYPE_LABELS[t]) for t in DocumentType])
    file = models.FileField(storage=documents_storage, upload_to=document_path, max_length=400)
    storage_token = models.CharField(max_length=32)
    file_name = models.CharField(max_length=200)  # sanitised, shown and sent in Content-Disposition
    file_size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=50)
    uploaded_by = models.CharField(max_length=200, blank=True)
    uploaded_by_actor = models.CharField(max_length=16, blank=True)
    date_uploaded = models.DateTimeField()
    check_report = models.JSONField(null=True, blank=True)  # documents.checker's report, invoices only
    # Issued by Comptoir's generator: numbered, never deleted (a credit note corrects it).
    generated = models.BooleanField(default=False)
    number = models.CharField(max_length=40, blank=True)
    refund_group_id = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["order", "id"], name="document_order_id"),
            models.Index(fields=["shop", "id"], name="document_shop_id"),
            models.Index(fields=["order", "type"], name="document_order_type"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.type})"

    @property
    def type_label(self) -> str:
        labels = {t.value: label for t, label in TYPE_LABELS.items()}
        return labels.get(self.type, self.type)


class InvoiceCounter(models.Model):
    """The last number issued per shop and series (no shop: the operator's own series, its commission
    invoices); locked in the issuing transaction, so no gaps, no doubles."""

    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    series = models.CharField(max_length=10)  # FA (invoices), AV (credit notes), COM (operator's commissions)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "series"], name="invoice_counter_unique"),
            # NULLs are distinct in a unique constraint: the operator's series needs its own.
            models.UniqueConstraint(fields=["series"], condition=models.Q(shop__isnull=True),
                                    name="invoice_counter_operator_unique"),
        ]


def shop_document_path(instance: ShopDocument, filename: str) -> str:
    return f"shops/{instance.shop_id}/{instance.storage_token}/{filename}"


class ShopDocumentType(models.TextChoices):
    COMMISSION_INVOICE = "COMMISSION_INVOICE", "Facture de commission"


class ShopDocument(models.Model):
    """A document the operator issues to a shop, not tied to one order: the commission invoice of a payout
    (Factur-X, numbered in the operator's series). Issued, so never deleted."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=40, choices=ShopDocumentType.choices)
    number = models.CharField(max_length=40)
    file = models.FileField(storage=documents_storage, upload_to=shop_document_path, max_length=400)
    storage_token = models.CharField(max_length=32)
    file_name = models.CharField(max_length=200)
    file_size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=50, default="application/pdf")
    currency_iso_code = models.CharField(max_length=3, default="EUR")
    net_cents = models.BigIntegerField()  # excluding tax
    tax_cents = models.BigIntegerField()
    total_cents = models.BigIntegerField()  # including tax
    created_date = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["payout", "shop", "type"], name="shop_document_per_payout")]
        indexes = [models.Index(fields=["shop", "id"], name="shop_document_shop_id")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.number}"


class CommissionInvoiceLine(models.Model):
    """What one commission invoice billed for one order: what is left to invoice of an order is its final
    commission in the ledger minus these lines, so each payout bills only the new commission, refunds net."""

    document = models.ForeignKey(ShopDocument, on_delete=models.CASCADE, related_name="lines")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")  # denormalised for the sums
    order_id = models.CharField(max_length=120)
    fee_cents = models.BigIntegerField()
    vat_cents = models.BigIntegerField()  # the commission VAT the ledger deducted for these fees

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["shop", "order_id"], name="commission_line_shop_order")]


class InvoiceMissingFlag(models.Model):
    """An order still without an invoice N business days after shipment, flagged once by the sweep
    (documents.timers) and the seller told once. The row stays: the lists show the flags whose order still has
    no invoice, so an invoice uploaded later clears the indicator without another write."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    shipped_date = models.DateTimeField()
    flagged_date = models.DateTimeField()

    class Meta:
        ordering = ["shipped_date", "id"]
        indexes = [models.Index(fields=["shop", "shipped_date"], name="invoice_missing_shop_shipped"),
                   models.Index(fields=["shipped_date"], name="invoice_missing_shipped")]

    def __str__(self) -> str:
        return f"Facture manquante : commande {self.order_id}"
