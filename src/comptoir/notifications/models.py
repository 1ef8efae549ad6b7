"""The outbox: events written in the same transaction as the change, delivered afterwards."""

from __future__ import annotations

from django.db import models


class OutboxState(models.TextChoices):
    PENDING = "PENDING"
    SENT = "SENT"
    DEAD = "DEAD"


class OutboxEvent(models.Model):
    event_type = models.CharField(max_length=60)
    order_id = models.CharField(max_length=120, blank=True, db_index=True)
    shop_id = models.IntegerField(null=True, blank=True)
    audience = models.CharField(max_length=16)  # SELLER, CUSTOMER, OPERATOR
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=OutboxState.choices, default=OutboxState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_date = models.DateTimeField()
    sent_date = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True)  # who it went to (for the operator's view)
    subject = models.CharField(max_length=300, blank=True)
    # The X-Request-ID of the request that wrote the event (empty for the worker's own): its delivery logs it.
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="PENDING"), name="outbox_pending_due"),
            # Dead letters are counted on every operator page and metrics scrape; sent rows pile up forever.
            models.Index(fields=["id"], condition=models.Q(state="DEAD"), name="outbox_dead"),
        ]
