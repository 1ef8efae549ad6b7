"""The relay's log: every mail through an order's relay address, allowed, blocked or bounced, with the rule
that matched and (size-limited) the raw message, kept for the operator."""

from __future__ import annotations

from django.db import models

from comptoir.orders.models import Order
from comptoir.relay.rules import Verdict
from comptoir.shops.models import Shop


class Direction(models.TextChoices):
    TO_CUSTOMER = "TO_CUSTOMER", "Vendeur → client"
    TO_SHOP = "TO_SHOP", "Client → vendeur"


VERDICT_LABELS = {Verdict.ALLOWED: "Transmis", Verdict.BLOCKED: "Bloqué", Verdict.BOUNCED: "Refusé (rebond)"}


class RelayMessage(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="relay_messages")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="relay_messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    mail_from = models.CharField(max_length=320)  # the SMTP envelope sender
    from_header = models.CharField(max_length=500, blank=True)
    recipient = models.CharField(max_length=320)  # the relay address written to
    subject = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=500, blank=True)
    received_date = models.DateTimeField()
    size = models.PositiveIntegerField(default=0)  # bytes of the whole message as received
    verdict = models.CharField(max_length=16, choices=[(v.value, VERDICT_LABELS[v]) for v in Verdict])
    rule_id = models.CharField(max_length=60, blank=True)
    rule_label = models.CharField(max_length=200, blank=True)
    excerpt = models.TextField(blank=True)
    body_text = models.TextField(blank=True)  # the text judged (HTML made text), size-limited
    raw = models.BinaryField(default=b"")  # the message as received, cut at RELAY_RAW_MAX_BYTES
    raw_truncated = models.BooleanField(default=False)
    forwarded_date = models.DateTimeField(null=True, blank=True)
    forwarded_message_id = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_date", "-id"]
        indexes = [
            models.Index(fields=["received_date", "id"], name="relay_received"),
            models.Index(fields=["shop", "verdict"], name="relay_shop_verdict"),
            models.Index(fields=["verdict", "received_date"], name="relay_verdict_received"),
            models.Index(fields=["order", "direction"], name="relay_order_direction"),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} {self.recipient} {self.subject[:40]}"

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(Verdict(self.verdict), self.verdict)

    @property
    def raw_text(self) -> str:
        return bytes(self.raw).decode("utf-8", errors="replace")
