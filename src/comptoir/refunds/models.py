"""Refunds and cancelations (one row per line and request), and the reason lists (RE01)."""

from __future__ import annotations

from django.db import models

from comptoir.orders.models import Order, OrderLine
from comptoir.refunds.rules import RefundKind, RefundMode, RefundState


class ReasonType(models.TextChoices):
    """Mirakl's reason types the shop uses here (RE01); incidents and messages add theirs."""

    REFUND = "REFUND", "Remboursement"
    CANCELATION = "CANCELATION", "Annulation"
    INCIDENT_OPEN = "INCIDENT_OPEN", "Ouverture d'incident"
    INCIDENT_CLOSE = "INCIDENT_CLOSE", "Clôture d'incident"


class Reason(models.Model):
    """A reason code the operator offers (Mirakl's RE01). `is_shop_right=False`: the operator's only."""

    code = models.CharField(max_length=50)
    type = models.CharField(max_length=32, choices=ReasonType.choices)
    label = models.CharField(max_length=200)
    is_shop_right = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["type", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["type", "code"], name="reason_unique_code_per_type")]

    def __str__(self) -> str:
        return f"{self.code} — {self.label}"


class Refund(models.Model):
    """Money given back on one order line: a refund (OR28) or a cancelation (OR29/OR30). Amounts include tax;
    the tax and the commission given back are stored beside them. Rows of one request share `group_id`."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refunds")
    shop_id = models.BigIntegerField(db_index=True)
    group_id = models.CharField(max_length=40, db_index=True)  # Mirakl's order_refund_id
    kind = models.CharField(max_length=16, choices=[(k.value, k.value) for k in RefundKind])
    mode = models.CharField(max_length=16, choices=[(m.value, m.value) for m in RefundMode])
    state = models.CharField(max_length=32, choices=[(s.value, s.value) for s in RefundState],
                             default=RefundState.WAITING_REFUND)
    reason_code = models.CharField(max_length=50)
    reason_label = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=0)
    amount_cents = models.BigIntegerField()
    amount_tax_cents = models.BigIntegerField()
    shipping_cents = models.BigIntegerField()
    shipping_tax_cents = models.BigIntegerField()
    commission_fee_cents = models.BigIntegerField()
    commission_vat_cents = models.BigIntegerField()
    excluded_quantity = models.PositiveIntegerField(default=0)
    # Which balance paid it: the order's pending money before reception, the payable balance after.
    from_payable = models.BooleanField(default=False)
    currency_iso_code = models.CharField(max_length=3, default="EUR")
    actor = models.CharField(max_length=16)
    actor_name = models.CharField(max_length=200, blank=True)
    created_date = models.DateTimeField()
    transaction_date = models.DateTimeField(null=True, blank=True)
    transaction_number = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    # Refusals by the payment provider so far: each new try uses a new idempotency key (a refusal is final
    # for its key), while a try that crashed is retried with the same key (it may have gone through).
    payment_refusals = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_date", "id"]
        indexes = [
            models.Index(fields=["state"], name="refund_state",
                         condition=~models.Q(state="REFUNDED")),
        ]

    @property
    def refund_id(self) -> str:
        return str(self.pk)

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.shipping_cents

    @property
    def commission_total_cents(self) -> int:
        return self.commission_fee_cents + self.commission_vat_cents
