"""Shop use cases: suspension and reactivation, API keys (issued once, stored as a digest)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from comptoir.core import clock
from comptoir.core.errors import NotFound, ValidationError
from comptoir.shops.models import ApiKey, ApiKeyKind, Shop, ShopState


def digest_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def lock_shop(shop_id: int) -> Shop:
    try:
        return Shop.objects.select_for_update().get(id=shop_id)
    except Shop.DoesNotExist:
        raise NotFound(f"Boutique {shop_id} introuvable.", code="SHOP_NOT_FOUND") from None


def suspend_shop(*, shop_id: int, reason: str) -> bool:
    """Returns True when the shop was open and is now suspended. Call inside a transaction."""
    if not reason.strip():
        raise ValidationError("Un motif de suspension est obligatoire.", field="reason")
    now = clock.now()
    updated = Shop.objects.filter(id=shop_id, state=ShopState.OPEN).update(
        state=ShopState.SUSPENDED, suspension_reason=reason, suspended_at=now, last_updated_date=now
    )
    return bool(updated)


def reactivate_shop(*, shop_id: int, reason: str) -> Shop:
    if not reason.strip():
        raise ValidationError("Un motif de réactivation est obligatoire.", field="reason")
    with transaction.atomic():
        shop = lock_shop(shop_id)
        shop.state = ShopState.OPEN
        shop.suspension_reason = ""
        shop.suspended_at = None
        shop.last_updated_date = clock.now()
        shop.save()
    return shop


def issue_api_key(*, shop_id: int | None, raw_key: str | None = None, label: str = "") -> str:
    """Revoke the previous keys of this owner and return a new one; it is shown once and never stored."""
    kind = ApiKeyKind.SHOP if shop_id is not None else ApiKeyKind.OPERATOR
    raw = raw_key or secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        if shop_id is not None:
            lock_shop(shop_id)
        ApiKey.objects.filter(kind=kind, shop_id=shop_id, revoked_date__isnull=True).update(revoked_date=now)
        ApiKey.objects.create(
            kind=kind, shop_id=shop_id, digest=digest_key(raw), prefix=raw[:8], label=label, created_date=now
        )
    return raw


def authenticate_key(raw_key: str) -> ApiKey | None:
    if not raw_key:
        return None
    return (
        ApiKey.objects.select_related("shop")
        .filter(digest=digest_key(raw_key.strip()), revoked_date__isnull=True)
        .first()
    )
