"""Shop use cases: suspension and reactivation, API keys (issued once, stored as a digest)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, router, transaction

from comptoir.core import clock
from comptoir.core.errors import NotFound, ValidationError
from comptoir.shops.models import ApiKey, ApiKeyKind, Shop, ShopMember, ShopState


def digest_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def lock_shop(shop_id: int) -> Shop:
    try:
        return Shop.objects.select_for_update().get(id=shop_id)
    except Shop.DoesNotExist:
        raise NotFound(f"Boutique {shop_id} introuvable.", code="SHOP_NOT_FOUND") from None


def suspend_shop(*, shop_id: int, reason: str) -> bool:
    """Returns True when the shop was open and is now suspended. Call inside a transaction."""
    return bool(suspend_shops(shop_ids=[shop_id], reason=reason))


def suspend_shops(*, shop_ids: Sequence[int], reason: str) -> set[int]:
    """`suspend_shop` for many shops at once (an auto-refusal sweep's batch), in one UPDATE … RETURNING of plain
    SQL: returns the ids of those that were open and are now suspended. Call inside a transaction."""
    if not reason.strip():
        raise ValidationError("Un motif de suspension est obligatoire.", field="reason")
    ids = sorted(set(shop_ids))
    if not ids:
        return set()
    connection = transaction.get_connection()
    q = connection.ops.quote_name
    column = {f.name: q(f.column) for f in Shop._meta.concrete_fields}
    now = Shop._meta.get_field("suspended_at").get_db_prep_save(clock.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(Shop._meta.db_table)} SET {column['state']} = %s, {column['suspension_reason']} = %s, "
            f"{column['suspended_at']} = %s, {column['last_updated_date']} = %s "
            f"WHERE {column['id']} IN ({', '.join(['%s'] * len(ids))}) AND {column['state']} = %s "
            f"RETURNING {column['id']}",
            [ShopState.SUSPENDED.value, reason, now, now, *ids, ShopState.OPEN.value])
        return {row[0] for row in cursor.fetchall()}


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


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """Who a valid API key belongs to: its kind and shop id (no model loaded: the API's hot path)."""

    kind: str
    shop_id: int | None


_KEY_OWNER_SQL: dict[str, str] = {}  # per database vendor


def _key_owner_sql(connection: Any) -> str:
    sql = _KEY_OWNER_SQL.get(connection.vendor)
    if sql is None:
        q = connection.ops.quote_name
        column = {f.name: q(f.column) for f in ApiKey._meta.concrete_fields}
        sql = _KEY_OWNER_SQL[connection.vendor] = (
            f"SELECT {column['kind']}, {column['shop']} FROM {q(ApiKey._meta.db_table)} "
            f"WHERE {column['digest']} = %s AND {column['revoked_date']} IS NULL ORDER BY {column['id']} LIMIT 1")
    return sql


def key_owner(raw_key: str) -> KeyOwner | None:
    """The owner of a key not revoked, in one narrow query (two columns, no join), read at every call (a revoked
    key fails at once). Plain SQL built once per database: the ORM's compilation of this filter cost more than
    the query (every API call comes here, OR21's accepts included)."""
    if not raw_key:
        return None
    connection = connections[router.db_for_read(ApiKey)]
    with connection.cursor() as cursor:
        cursor.execute(_key_owner_sql(connection), [digest_key(raw_key.strip())])
        row = cursor.fetchone()
    return None if row is None else KeyOwner(row[0], row[1])


def authenticate_key(raw_key: str) -> ApiKey | None:
    if not raw_key:
        return None
    return (
        ApiKey.objects.select_related("shop")
        .filter(digest=digest_key(raw_key.strip()), revoked_date__isnull=True)
        .first()
    )


PROFILE_FIELDS = (
    "name", "legal_name", "legal_form", "share_capital", "identification_number", "rcs", "vat_number",
    "head_office_street", "head_office_zip_code", "head_office_city", "head_office_country_iso_code",
    "customer_service_email", "contact_phone", "producer_registration_number", "warranty_duration",
)


def update_shop_profile(*, shop_id: int, values: dict[str, str]) -> Shop:
    """The seller edits the legal mentions its invoices carry; unknown fields are refused."""
    unknown = sorted(set(values) - set(PROFILE_FIELDS))
    if unknown:
        raise ValidationError(f"Champ inconnu : {unknown[0]}.", field=unknown[0])
    if "name" in values and not values["name"].strip():
        raise ValidationError("Le nom de la boutique est obligatoire.", field="name")
    with transaction.atomic():
        shop = lock_shop(shop_id)
        for field, value in values.items():
            setattr(shop, field, value.strip())
        shop.last_updated_date = clock.now()
        try:
            shop.full_clean(exclude=["id"])
        except DjangoValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ValidationError(f"{field} : {messages[0]}", field=field) from None
        shop.save()
    return shop


def set_commission_rate(*, shop_id: int, rate: Decimal) -> Shop:
    """New orders use the new rate; orders already imported keep theirs (it is on their lines)."""
    if not (Decimal(0) <= rate <= Decimal(100)):
        raise ValidationError("Le taux de commission doit être compris entre 0 et 100 %.", field="commission_rate")
    with transaction.atomic():
        shop = lock_shop(shop_id)
        shop.commission_rate = rate.quantize(Decimal("0.0001"))
        shop.last_updated_date = clock.now()
        shop.save(update_fields=["commission_rate", "last_updated_date"])
    return shop


def add_shop_user(*, shop_id: int, email: str, password: str) -> ShopMember:
    """A new back-office user of the shop (the e-mail is the login)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.validators import validate_email

    email = email.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError("Adresse e-mail invalide.", field="email") from None
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        lock_shop(shop_id)
        if User.objects.filter(username=email).exists():
            raise ValidationError("Un utilisateur existe déjà avec cette adresse.", field="email")
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise ValidationError(" ".join(exc.messages), field="password") from None
        user = User.objects.create_user(username=email, email=email, password=password)
        return ShopMember.objects.create(shop_id=shop_id, user=user)


def remove_shop_user(*, shop_id: int, user_id: int, acting_user_id: int) -> None:
    """A shop keeps at least one user, and nobody removes themselves by mistake."""
    with transaction.atomic():
        lock_shop(shop_id)
        members = ShopMember.objects.filter(shop_id=shop_id)
        if user_id == acting_user_id:
            raise ValidationError("Vous ne pouvez pas vous retirer vous-même.", field="user")
        if not members.filter(user_id=user_id).exists():
            raise NotFound("Utilisateur introuvable dans cette boutique.", code="SHOP_USER_NOT_FOUND")
        if members.count() <= 1:
            raise ValidationError("La boutique doit garder au moins un utilisateur.", field="user")
        members.filter(user_id=user_id).delete()
        from django.contrib.auth import get_user_model

        user_model = get_user_model()
        user_model.objects.filter(id=user_id, shop_memberships__isnull=True, is_staff=False).update(is_active=False)
