"""Our record of each order's card authorization and every operation sent to the payment provider."""

from __future__ import annotations

from django.db import models

from comptoir.orders.models import Order


class PaymentStatus(models.TextChoices):
    AUTHORIZED = "AUTHORIZED", "Autorisé"
    CAPTURED = "CAPTURED", "Débité"
    RELEASED = "RELEASED", "Libéré"
    FAILED = "FAILED", "Échoué"
    EXPIRED = "EXPIRED", "Expiré"


class Payment(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="payment")
    provider = models.CharField(max_length=50)
    authorization_ref = models.CharField(max_length=100)
    authorized_cents = models.BigIntegerField()
    captured_cents = models.BigIntegerField(default=0)
    released_cents = models.BigIntegerField(default=0)
    currency_iso_code = models.CharField(max_length=3, default="EUR")
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.AUTHORIZED)
    authorized_date = models.DateTimeField()
    expires_date = models.DateTimeField()
    captured_date = models.DateTimeField(null=True, blank=True)


class OperationKind(models.TextChoices):
    AUTHORIZE = "AUTHORIZE"
    REAUTHORIZE = "REAUTHORIZE"
    CAPTURE = "CAPTURE"
    RELEASE = "RELEASE"
    REFUND = "REFUND"


class PaymentOperation(models.Model):
    """One call to the provider. The idempotency key is stable, so a retried call never charges twice."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=16, choices=OperationKind.choices)
    idempotency_key = models.CharField(max_length=200, unique=True)
    amount_cents = models.BigIntegerField()
    succeeded = models.BooleanField()
    provider_ref = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_date = models.DateTimeField()


class SimulatedCharge(models.Model):
    """The embedded simulated provider's own books (it stands for a network service outside Comptoir)."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16)
    reference = models.CharField(max_length=100)  # the authorization it applies to
    amount_cents = models.BigIntegerField()
    succeeded = models.BooleanField()
    failure_reason = models.CharField(max_length=300, blank=True)
    created_date = models.DateTimeField()


class SimulatedDirective(models.Model):
    """Sandbox: tell the simulated provider to refuse an operation for a chosen order."""

    order_id = models.CharField(max_length=120, unique=True)
    refuse_capture = models.BooleanField(default=False)
    refuse_reauthorization = models.BooleanField(default=False)
    refuse_refund = models.BooleanField(default=False)
