"""Payment use cases: authorize at import, capture accepted lines after acceptance, release, renew."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F

from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.payments.adapter import ProviderResult, Release, load_provider, release_many
from comptoir.payments.models import (
    OperationKind,
    Payment,
    PaymentOperation,
    PaymentStatus,
    SimulatedDirective,
)


def _record(payment: Payment, kind: str, key: str, amount: int, result: ProviderResult) -> None:
    """Log the call once per key: one INSERT … ON CONFLICT DO NOTHING (a replay keeps the first row)."""
    PaymentOperation.objects.bulk_create([PaymentOperation(
        idempotency_key=key, payment=payment, kind=kind, amount_cents=amount, succeeded=result.succeeded,
        provider_ref=result.reference, failure_reason=result.failure_reason, created_date=clock.now(),
    )], ignore_conflicts=True)


def authorize_order(*, order_pk: int, order_id: str, amount_cents: int, currency: str,
                    authorization_ref: str = "", expires_at: datetime | None = None) -> Payment:
    """At import: keep the checkout's authorization when given, otherwise ask the provider for one."""
    provider = load_provider()
    now = clock.now()
    if authorization_ref:
        result = ProviderResult(True, authorization_ref, "", expires_at)
    else:
        result = provider.authorize(order_id=order_id, amount_cents=amount_cents, currency=currency,
                                    idempotency_key=f"authorize:{order_id}")
    validity = timedelta(days=settings.COMPTOIR["AUTHORIZATION_VALIDITY_DAYS"])
    payment = Payment.objects.create(
        order_id=order_pk, provider=provider.name, authorization_ref=result.reference,
        authorized_cents=amount_cents, currency_iso_code=currency,
        status=PaymentStatus.AUTHORIZED if result.succeeded else PaymentStatus.FAILED,
        authorized_date=now, expires_date=result.expires_at or now + validity,
    )
    _record(payment, OperationKind.AUTHORIZE, f"authorize:{order_id}", amount_cents, result)
    return payment


def renewal_due_at(*, order_pk: int) -> datetime:
    expires = Payment.objects.filter(order_id=order_pk).values_list("expires_date", flat=True).get()
    margin = timedelta(hours=settings.COMPTOIR["AUTHORIZATION_RENEW_MARGIN_HOURS"])
    # A margin as long as the validity would renew at once, forever: keep at most half the validity.
    validity = timedelta(days=settings.COMPTOIR["AUTHORIZATION_VALIDITY_DAYS"])
    margin = min(margin, validity / 2)
    return max(expires - margin, clock.now())


def call_capture(*, order_pk: int, order_id: str, amount_cents: int) -> ProviderResult:
    """The provider call, made outside any transaction; the key makes a retry after a crash harmless."""
    payment = Payment.objects.get(order_id=order_pk)
    return load_provider().capture(
        order_id=order_id, authorization_ref=payment.authorization_ref, amount_cents=amount_cents,
        currency=payment.currency_iso_code, idempotency_key=f"capture:{order_id}",
    )


def record_capture(*, order_pk: int, order_id: str, amount_cents: int, result: ProviderResult) -> Payment:
    """Inside the transaction that moves the order: what the capture did to the authorization."""
    payment = Payment.objects.select_for_update().get(order_id=order_pk)
    _record(payment, OperationKind.CAPTURE, f"capture:{order_id}", amount_cents, result)
    if result.succeeded:
        payment.status = PaymentStatus.CAPTURED
        payment.captured_cents = amount_cents
        payment.released_cents = payment.authorized_cents - amount_cents
        payment.captured_date = clock.now()
    else:
        payment.status = PaymentStatus.FAILED
    payment.save()
    return payment


def release_order(*, order_pk: int, order_id: str) -> None:
    """Release an uncaptured hold. The simulated provider answers at once; a real one is idempotent too.

    A refused capture leaves the hold on the customer's card (status FAILED): it is released too."""
    release_orders(orders=[(order_pk, order_id)])


def release_orders(*, orders: Sequence[tuple[int, str]]) -> int:
    """`release_order` for many orders (order pk, order id) at once: one locking SELECT of their payments, one
    batch call to the provider (`adapter.release_many`: key `release:<order id>` per hold), one INSERT of the
    operations and one UPDATE. Returns the holds released."""
    if not orders:
        return 0
    order_ids = dict(orders)
    payments = list(Payment.objects.select_for_update()
                    .filter(order_id__in=sorted(order_ids),
                            status__in=(PaymentStatus.AUTHORIZED, PaymentStatus.FAILED))
                    .order_by("pk"))
    if not payments:
        return 0
    now = clock.now()
    releases = [Release(order_id=order_ids[p.order_id], authorization_ref=p.authorization_ref,
                        amount_cents=p.authorized_cents, currency=p.currency_iso_code,
                        idempotency_key=f"release:{order_ids[p.order_id]}") for p in payments]
    results = release_many(load_provider(), releases)
    operations = [PaymentOperation(
        idempotency_key=release.idempotency_key, payment=payment, kind=OperationKind.RELEASE,
        amount_cents=payment.authorized_cents, succeeded=result.succeeded, provider_ref=result.reference,
        failure_reason=result.failure_reason, created_date=now,
    ) for payment, release, result in zip(payments, releases, results, strict=True)]
    # A replay keeps the first row of each key (INSERT … ON CONFLICT DO NOTHING), as `_record` does.
    PaymentOperation.objects.bulk_create(operations, ignore_conflicts=True)
    return Payment.objects.filter(pk__in=[p.pk for p in payments]).update(
        status=PaymentStatus.RELEASED, released_cents=F("authorized_cents"))


def call_reauthorize(*, order_pk: int, order_id: str) -> ProviderResult:
    payment = Payment.objects.get(order_id=order_pk)
    renewals = payment.operations.filter(kind=OperationKind.REAUTHORIZE).count()
    return load_provider().reauthorize(
        order_id=order_id, authorization_ref=payment.authorization_ref, amount_cents=payment.authorized_cents,
        currency=payment.currency_iso_code, idempotency_key=f"reauthorize:{order_id}:{renewals + 1}",
    )


def record_reauthorization(*, order_pk: int, order_id: str, result: ProviderResult) -> None:
    payment = Payment.objects.select_for_update().get(order_id=order_pk)
    renewals = payment.operations.filter(kind=OperationKind.REAUTHORIZE).count()
    _record(payment, OperationKind.REAUTHORIZE, f"reauthorize:{order_id}:{renewals + 1}",
            payment.authorized_cents, result)
    if result.succeeded:
        validity = timedelta(days=settings.COMPTOIR["AUTHORIZATION_VALIDITY_DAYS"])
        payment.authorization_ref = result.reference
        payment.authorized_date = clock.now()
        payment.expires_date = result.expires_at or clock.now() + validity
    else:
        payment.status = PaymentStatus.EXPIRED
    payment.save()


def call_refund(*, order_pk: int, order_id: str, refund_key: str, amount_cents: int) -> ProviderResult:
    """Pay a refund back, outside any transaction; the key (one per refund row) makes a retry harmless."""
    payment = Payment.objects.get(order_id=order_pk)
    return load_provider().refund(
        order_id=order_id, capture_ref=payment.authorization_ref, amount_cents=amount_cents,
        currency=payment.currency_iso_code, idempotency_key=refund_key,
    )


def record_refund(*, order_pk: int, refund_key: str, amount_cents: int, result: ProviderResult) -> None:
    payment = Payment.objects.get(order_id=order_pk)
    _record(payment, OperationKind.REFUND, refund_key, amount_cents, result)


# An order id as imports make them (commercial id, dash, shop letter), within SimulatedDirective.order_id.
_ORDER_ID = re.compile(r"[A-Za-z0-9_.-]{1,120}")


def set_simulated_directive(*, order_id: str, refuse_capture: bool, refuse_reauthorization: bool,
                            refuse_refund: bool = False) -> None:
    """The order may not be imported yet (a directive can wait for it), so its id is checked by its form."""
    if not _ORDER_ID.fullmatch(order_id):
        raise ValidationError("Identifiant de commande invalide : lettres, chiffres, « _ . - », 120 caractères "
                              "au plus.", field="order_id")
    SimulatedDirective.objects.update_or_create(
        order_id=order_id,
        defaults={"refuse_capture": refuse_capture, "refuse_reauthorization": refuse_reauthorization,
                  "refuse_refund": refuse_refund},
    )
