"""Orders (one per shop of a customer's cart), their lines with their own state, and the history."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from comptoir.catalog.models import Offer
from comptoir.orders.states import STATE_LABELS, OrderState
from comptoir.shops.models import Shop

STATE_CHOICES = [(state.value, STATE_LABELS[state]) for state in OrderState]


class VatCollector(models.TextChoices):
    OPERATOR = "OPERATOR", "La marketplace"
    SHOP = "SHOP", "Le vendeur"


class CommercialOrder(models.Model):
    """The customer's cart as paid at checkout; split into one Order per shop."""

    commercial_id = models.CharField(max_length=100, unique=True)
    created_date = models.DateTimeField()
    imported_date = models.DateTimeField()
    # SHA-256 of the import request body: the same import replayed is idempotent, a different one a conflict.
    payload_digest = models.CharField(max_length=64)


class Order(models.Model):
    order_id = models.CharField(max_length=120, unique=True)
    commercial = models.ForeignKey(CommercialOrder, on_delete=models.PROTECT, related_name="orders")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    state = models.CharField(max_length=32, choices=STATE_CHOICES, default=OrderState.STAGING)
    state_reason_code = models.CharField(max_length=50, blank=True)
    state_reason_label = models.CharField(max_length=300, blank=True)
    waiting_customer_documents = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)

    created_date = models.DateTimeField()
    last_updated_date = models.DateTimeField()
    acceptance_decision_date = models.DateTimeField(null=True, blank=True)
    acceptance_deadline = models.DateTimeField(null=True, blank=True)
    customer_debited_date = models.DateTimeField(null=True, blank=True)
    transaction_number = models.CharField(max_length=100, blank=True)
    shipping_deadline = models.DateTimeField(null=True, blank=True)
    shipped_date = models.DateTimeField(null=True, blank=True)
    received_date = models.DateTimeField(null=True, blank=True)
    closed_date = models.DateTimeField(null=True, blank=True)
    shipping_late = models.BooleanField(default=False)

    currency_iso_code = models.CharField(max_length=3, default="EUR")
    vat_collected_by = models.CharField(max_length=16, choices=VatCollector.choices, default=VatCollector.OPERATOR)
    payment_type = models.CharField(max_length=50, blank=True)
    payment_workflow = models.CharField(max_length=40, default="PAY_ON_ACCEPTANCE")
    # Denormalised sums of the lines (kept by the services) so lists need no aggregation.
    price_cents = models.BigIntegerField(default=0)
    shipping_price_cents = models.BigIntegerField(default=0)
    total_price_cents = models.BigIntegerField(default=0)
    total_commission_cents = models.BigIntegerField(default=0)

    shipping_zone_code = models.CharField(max_length=50, blank=True)
    shipping_zone_label = models.CharField(max_length=100, blank=True)
    shipping_type_code = models.CharField(max_length=50, blank=True)
    shipping_type_label = models.CharField(max_length=100, blank=True)
    leadtime_to_ship = models.PositiveIntegerField(default=2)  # business days to ship after debit
    shipping_pudo_id = models.CharField(max_length=100, blank=True)
    order_reference_for_customer = models.CharField(max_length=100, blank=True)
    order_reference_for_seller = models.CharField(max_length=100, blank=True)
    channel_code = models.CharField(max_length=50, blank=True)

    # Customer snapshot (DESIGN §5 decides what a viewer sees of it: orders.rules.customer_view).
    customer_id = models.CharField(max_length=100)
    customer_civility = models.CharField(max_length=20, blank=True)
    customer_firstname = models.CharField(max_length=100)
    customer_lastname = models.CharField(max_length=100)
    customer_email = models.EmailField(blank=True)
    customer_locale = models.CharField(max_length=10, default="fr_FR")
    billing_address = models.JSONField(default=dict)
    shipping_address = models.JSONField(default=dict)
    # Opaque local part of customer_notification_email: no customer data in it.
    relay_token = models.CharField(max_length=40, unique=True)

    has_incident = models.BooleanField(default=False)
    has_invoice = models.BooleanField(default=False)
    has_customer_message = models.BooleanField(default=False)
    # When the customer's personal data was redacted (orders.services.redaction, COMPTOIR_REDACT_AFTER_DAYS).
    redacted_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "created_date", "id"], name="order_shop_created"),
            models.Index(fields=["shop", "state", "created_date", "id"], name="order_shop_state_created"),
            models.Index(fields=["shop", "last_updated_date"], name="order_shop_updated"),
            models.Index(fields=["state", "created_date"], name="order_state_created"),
            models.Index(fields=["created_date", "id"], name="order_created"),
            # The missing-invoice sweep walks shipped orders without an invoice, oldest shipment first.
            models.Index(fields=["shipped_date", "id"], name="order_shipped_no_invoice",
                         condition=models.Q(has_invoice=False, shipped_date__isnull=False)),
            # Scorecards: decisions found by the acceptance deadline, shipments by date, per shop.
            models.Index(fields=["shop", "acceptance_deadline"], name="order_shop_acceptance"),
            models.Index(fields=["shop", "shipped_date"], name="order_shop_shipped"),
            # The redaction sweep: ended orders not yet redacted, oldest end first.
            models.Index(fields=["closed_date", "id"], name="order_redact_closed",
                         condition=models.Q(redacted_date__isnull=True, state="CLOSED")),
            models.Index(fields=["last_updated_date", "id"], name="order_redact_dropped",
                         condition=models.Q(redacted_date__isnull=True, state__in=["REFUSED", "CANCELED"])),
        ]

    def __str__(self) -> str:
        return self.order_id

    @property
    def state_enum(self) -> OrderState:
        return OrderState(self.state)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(max_length=140, unique=True)
    index = models.PositiveIntegerField()
    state = models.CharField(max_length=32, choices=STATE_CHOICES, default=OrderState.STAGING)
    state_reason_code = models.CharField(max_length=50, blank=True)
    state_reason_label = models.CharField(max_length=300, blank=True)

    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    offer_sku = models.CharField(max_length=100)
    product_sku = models.CharField(max_length=100)
    product_title = models.CharField(max_length=300)
    category_code = models.CharField(max_length=50, blank=True)
    category_label = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField()
    # Units that will not ship: canceled (OR30) or refunded with excluded_from_shipment (OR28). The line's
    # refunds and cancelations themselves are rows of the refunds app.
    canceled_quantity = models.PositiveIntegerField(default=0)
    # "", INCIDENT_OPEN or INCIDENT_CLOSED: the line's last incident (incidents app), for OR11's line state.
    incident_state = models.CharField(max_length=16, blank=True, default="")

    # Amounts include tax (order_tax_mode TAX_INCLUDED); the tax part is computed once per line at import.
    unit_price_cents = models.BigIntegerField()
    price_cents = models.BigIntegerField()
    shipping_price_cents = models.BigIntegerField(default=0)
    tax_code = models.CharField(max_length=20)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4)
    tax_cents = models.BigIntegerField()
    shipping_tax_code = models.CharField(max_length=20)
    shipping_tax_rate = models.DecimalField(max_digits=7, decimal_places=4)
    shipping_tax_cents = models.BigIntegerField()
    eco_contribution_cents = models.BigIntegerField(default=0)  # per unit, included in the price
    commission_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))
    commission_fee_cents = models.BigIntegerField(default=0)
    commission_vat_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))
    commission_vat_cents = models.BigIntegerField(default=0)

    created_date = models.DateTimeField()
    last_updated_date = models.DateTimeField()
    debited_date = models.DateTimeField(null=True, blank=True)
    shipped_date = models.DateTimeField(null=True, blank=True)
    received_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "index"]
        constraints = [models.UniqueConstraint(fields=["order", "index"], name="order_line_unique_index")]

    @property
    def total_price_cents(self) -> int:
        return self.price_cents + self.shipping_price_cents

    @property
    def total_commission_cents(self) -> int:
        return self.commission_fee_cents + self.commission_vat_cents


class OrderHistory(models.Model):
    """Append-only: who did what to an order, when, from which state to which, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    line_id = models.CharField(max_length=140, blank=True)  # empty for order-level rows
    created_date = models.DateTimeField()
    actor = models.CharField(max_length=16)
    actor_name = models.CharField(max_length=200, blank=True)
    trigger = models.CharField(max_length=40)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    reason_code = models.CharField(max_length=50, blank=True)
    reason_label = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_date", "id"]
        indexes = [models.Index(fields=["order", "created_date"], name="history_order_created")]
