"""The operator's thresholds per measure, the alerts they raised (the history of warnings and suspensions),
and when each shop was last checked (the daily sweep's bookmark)."""

from __future__ import annotations

from django.db import models

from comptoir.scorecards.rules import DEFINITIONS, LEVEL_LABELS, Level, Measure
from comptoir.shops.models import Shop

MEASURE_CHOICES = [(m.value, DEFINITIONS[m].label) for m in Measure]
LEVEL_CHOICES = [(level.value, LEVEL_LABELS[level]) for level in Level]


class ScorecardThreshold(models.Model):
    measure = models.CharField(max_length=32, choices=MEASURE_CHOICES, unique=True)
    warning_level = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    suspension_level = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    suspension_enabled = models.BooleanField(default=False)  # automatic suspension: off unless the operator says
    window_days = models.PositiveSmallIntegerField(default=30)
    updated_date = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class ScorecardAlert(models.Model):
    """Append-only: a measure of a shop past a threshold at a check, and what was done (told, or suspended)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=32, choices=MEASURE_CHOICES)
    level = models.CharField(max_length=16, choices=LEVEL_CHOICES)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    threshold = models.DecimalField(max_digits=9, decimal_places=2)
    window_days = models.PositiveSmallIntegerField()
    numerator = models.DecimalField(max_digits=14, decimal_places=2)
    denominator = models.PositiveIntegerField()
    suspended = models.BooleanField(default=False)  # this alert suspended the shop
    message = models.CharField(max_length=300)
    created_date = models.DateTimeField()

    class Meta:
        ordering = ["-created_date", "-id"]
        indexes = [models.Index(fields=["shop", "created_date"], name="scorecard_alert_shop")]


class ScorecardCheck(models.Model):
    """When the sweep last checked a shop against the thresholds (one row per shop)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, primary_key=True, related_name="+")
    checked_date = models.DateTimeField(db_index=True)
