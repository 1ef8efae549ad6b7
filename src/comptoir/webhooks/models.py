"""Webhooks: a shop's endpoints, the events captured for it (the outbox, written with the change), one delivery
per (event, endpoint) with its retry state, and the log of every attempt."""

from __future__ import annotations

from django.db import models

from comptoir.shops.models import Shop


class Endpoint(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Kept in clear: every delivery is signed with it (HMAC). Shown once, at creation and at each rotation.
    secret = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    event_types = models.JSONField(default=list, blank=True)  # empty: every type
    created_date = models.DateTimeField()
    updated_date = models.DateTimeField()
    secret_rotated_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The capture's cache reads the enabled endpoints of every shop (queries.subscriptions).
            models.Index(fields=["shop"], condition=models.Q(enabled=True), name="webhook_endpoint_enabled"),
        ]


class WebhookEvent(models.Model):
    """One event of one shop, written in the transaction of the change (only for a shop with an enabled endpoint).
    `event_id` is what receivers deduplicate on: the same for every attempt and every endpoint."""

    event_id = models.CharField(max_length=40, unique=True)
    shop_id = models.IntegerField()  # no foreign key: written on the hot path without reading the shop
    event_type = models.CharField(max_length=60)
    order_id = models.CharField(max_length=120, blank=True)
    data = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    created_date = models.DateTimeField()
    fanned_out = models.BooleanField(default=False)  # its deliveries were created (timers.sweep_webhooks)

    class Meta:
        indexes = [
            models.Index(fields=["id"], condition=models.Q(fanned_out=False), name="webhook_event_to_fan_out"),
        ]


class DeliveryState(models.TextChoices):
    PENDING = "PENDING", "En attente"
    DELIVERED = "DELIVERED", "Livré"
    DEAD = "DEAD", "Abandonné"


class Delivery(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # since the last (re)delivery request
    next_attempt_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_date = models.DateTimeField()
    delivered_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="PENDING"),
                         name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log"),
        ]


class Attempt(models.Model):
    """One POST to the endpoint: what came back (status, duration, an excerpt of the error or the answer)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "started_at"], name="webhook_attempt_delivery")]
