"""Login throttling: failed attempts per (username, IP), so repeated guessing locks the pair for a while."""

from __future__ import annotations

from django.db import models


class LoginThrottle(models.Model):
    username = models.CharField(max_length=254)
    ip = models.CharField(max_length=45)
    failures = models.PositiveIntegerField(default=0)
    last_failure = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["username", "ip"], name="login_throttle_unique")]
