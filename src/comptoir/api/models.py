"""Idempotency keys of the API's writes: one row per caller and key, holding the first request's fingerprint and,
once it has run, its response (replayed to a retry instead of running the request again)."""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    """`status` is null while the first request runs; a 5xx or an exception deletes the row (a retry runs again)."""

    scope = models.CharField(max_length=64)  # SHA-256 (hex) of the caller's API key: keys never cross callers
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()  # with the query string: OR29's reason_code is part of the request
    body_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    body = models.BinaryField(default=b"")
    created_date = models.DateTimeField(db_index=True)
    completed_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
