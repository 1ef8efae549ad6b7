"""Incidents: one row per claim on an order line, from its opening to its closing, with the operator's
mediation (started, formal notice and its deadline, the solution imposed). The line's `incident_state` and the
order's `has_incident` are kept beside it for OR11 (a connector reads them on every poll)."""

from __future__ import annotations

from django.db import models

from comptoir.incidents.rules import STATE_LABELS, IncidentState
from comptoir.orders.models import Order, OrderLine

ACTOR_CHOICES = [(a, a) for a in ("SELLER", "OPERATOR", "CUSTOMER", "SYSTEM")]


class Incident(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="incidents")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="incidents")
    shop_id = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=[(s.value, STATE_LABELS[s]) for s in IncidentState],
                             default=IncidentState.OPEN)
    opened_by = models.CharField(max_length=16, choices=ACTOR_CHOICES)
    opened_by_name = models.CharField(max_length=200, blank=True)
    reason_code = models.CharField(max_length=50)
    reason_label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    thread_id = models.BigIntegerField(null=True, blank=True)  # the conversation the claim came from
    opened_at = models.DateTimeField()
    # The seller signals it resolved (OR64); the operator confirms (closes) or reopens.
    shop_resolved_at = models.DateTimeField(null=True, blank=True)
    shop_resolution_code = models.CharField(max_length=50, blank=True)
    shop_resolution_label = models.CharField(max_length=200, blank=True)
    # Mediation by the operator; a formal notice gives the seller 24 business hours, then `solution` is imposed.
    mediation_started_at = models.DateTimeField(null=True, blank=True)
    formal_notice_at = models.DateTimeField(null=True, blank=True)
    formal_notice_due = models.DateTimeField(null=True, blank=True)
    solution = models.JSONField(null=True, blank=True)
    imposed_at = models.DateTimeField(null=True, blank=True)  # final: can no longer be contested
    impose_error = models.CharField(max_length=500, blank=True)  # why imposing failed (the operator acts)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=16, choices=ACTOR_CHOICES, blank=True)
    close_reason_code = models.CharField(max_length=50, blank=True)
    close_reason_label = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One live incident per line: a second claim on it joins the first.
            models.UniqueConstraint(fields=["line"], condition=~models.Q(state="CLOSED"),
                                    name="incident_one_live_per_line"),
        ]
        indexes = [
            models.Index(fields=["shop_id", "state", "opened_at"], name="incident_shop_state"),
            models.Index(fields=["state", "opened_at"], name="incident_state_opened"),
            models.Index(fields=["order", "id"], name="incident_order"),
        ]

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(IncidentState(self.state), self.state)

    @property
    def live(self) -> bool:
        return self.state != IncidentState.CLOSED

    @property
    def in_mediation(self) -> bool:
        return self.mediation_started_at is not None
