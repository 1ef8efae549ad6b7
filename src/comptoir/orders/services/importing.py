"""Import a customer's paid cart: one order per shop, in STAGING (or straight to acceptance when scored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from comptoir.catalog.models import Offer
from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.orders.errors import InvalidOrderImport, OrderAlreadyImported
from comptoir.orders.models import CommercialOrder, Order, OrderHistory, OrderLine, VatCollector
from comptoir.orders.rules import line_amounts
from comptoir.orders.services.lifecycle import SYSTEM, Who, apply_transition, check
from comptoir.orders.states import INITIAL_STATE, Actor, TimerKind, Trigger
from comptoir.payments import services as payment_services
from comptoir.shops.models import CategoryCommission, Shop, ShopState
from comptoir.timers import services as timer_services


@dataclass(frozen=True, slots=True)
class ImportLine:
    offer_id: int
    quantity: int
    unit_price_cents: int
    shipping_price_cents: int = 0
    tax_code: str | None = None
    tax_rate: Decimal | None = None
    shipping_tax_code: str | None = None
    shipping_tax_rate: Decimal | None = None
    eco_contribution_cents: int = 0
    leadtime_to_ship: int | None = None


@dataclass(frozen=True, slots=True)
class ImportCustomer:
    customer_id: str
    firstname: str
    lastname: str
    civility: str = ""
    email: str = ""
    locale: str = "fr_FR"
    billing_address: dict[str, Any] = field(default_factory=dict)
    shipping_address: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportRequest:
    commercial_id: str
    customer: ImportCustomer
    lines: tuple[ImportLine, ...]
    created_date: datetime | None = None
    scored: bool = False  # the storefront already cleared fraud: skip STAGING
    shipping_zone_code: str = "FR"
    shipping_zone_label: str = "France métropolitaine (hors Corse)"
    shipping_type_code: str = "STD"
    shipping_type_label: str = "Livraison standard"
    currency_iso_code: str = "EUR"
    vat_collected_by: str = VatCollector.OPERATOR
    payment_type: str = "CB"
    authorization_reference: str = ""
    authorization_expires: datetime | None = None
    channel_code: str = ""
    order_reference_for_customer: str = ""
    digest_source: bytes = b""  # the raw request body, for idempotent replays


TAX_CODES = {Decimal("20"): "TVA20", Decimal("10"): "TVA10", Decimal("5.5"): "TVA5.5",
             Decimal("2.1"): "TVA2.1", Decimal("0"): "TAXZERO"}


def tax_code_for(rate: Decimal) -> str:
    return TAX_CODES.get(rate.normalize() if rate else Decimal("0"), f"TVA{rate.normalize()}")


def _suffix(index: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the order id suffix of the n-th shop in the cart."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _validate(request: ImportRequest, offers: dict[int, Offer]) -> None:
    if not request.commercial_id.strip():
        raise InvalidOrderImport("commercial_id est obligatoire.", field="commercial_id")
    if not request.lines:
        raise InvalidOrderImport("La commande ne contient aucune ligne.", field="offers")
    for position, line in enumerate(request.lines):
        where = f"offers[{position}]"
        offer = offers.get(line.offer_id)
        if offer is None:
            raise InvalidOrderImport(f"{where} : offre {line.offer_id} introuvable.", field=where)
        if offer.shop.state != ShopState.OPEN:
            raise InvalidOrderImport(f"{where} : la boutique {offer.shop_id} n'est pas ouverte.", field=where)
        if line.quantity < 1:
            raise InvalidOrderImport(f"{where} : la quantité doit être au moins 1.", field=where)
        if line.unit_price_cents < 0 or line.shipping_price_cents < 0 or line.eco_contribution_cents < 0:
            raise InvalidOrderImport(f"{where} : montant négatif.", field=where)
        for rate in (line.tax_rate, line.shipping_tax_rate):
            if rate is not None and not (Decimal(0) <= rate < Decimal(100)):
                raise InvalidOrderImport(f"{where} : taux de TVA invalide.", field=where)
    if request.vat_collected_by not in VatCollector.values:
        raise InvalidOrderImport("vat_collected_by doit valoir OPERATOR ou SHOP.", field="vat_collected_by")
    if not request.customer.customer_id or not request.customer.lastname:
        raise InvalidOrderImport("Le client doit avoir un identifiant et un nom.", field="customer")


def _same_import(commercial: CommercialOrder, digest: str) -> list[Order]:
    if commercial.payload_digest != digest:
        raise OrderAlreadyImported(f"La commande client {commercial.commercial_id} existe déjà avec un autre contenu.")
    return list(commercial.orders.order_by("order_id"))


def import_customer_order(request: ImportRequest, *, who: Who) -> tuple[list[Order], bool]:
    """Returns the orders and whether they were created now (False: an identical replay)."""
    digest = hashlib.sha256(request.digest_source).hexdigest()
    existing = CommercialOrder.objects.filter(commercial_id=request.commercial_id).first()
    if existing is not None:
        return _same_import(existing, digest), False
    offers = Offer.objects.select_related("shop").in_bulk([line.offer_id for line in request.lines])
    _validate(request, offers)
    try:
        with transaction.atomic():
            orders = _create(request, offers, digest, who)
    except IntegrityError:
        # A concurrent import of the same cart won the unique commercial_id.
        existing = CommercialOrder.objects.filter(commercial_id=request.commercial_id).first()
        if existing is None:
            raise
        return _same_import(existing, digest), False
    return orders, True


def _create(request: ImportRequest, offers: dict[int, Offer], digest: str, who: Who) -> list[Order]:
    now = clock.now()
    created = request.created_date or now
    commercial = CommercialOrder.objects.create(
        commercial_id=request.commercial_id, created_date=created, imported_date=now, payload_digest=digest
    )
    by_shop: dict[int, list[ImportLine]] = {}
    for line in request.lines:
        by_shop.setdefault(offers[line.offer_id].shop_id, []).append(line)
    shops = Shop.objects.in_bulk(list(by_shop))
    category_rates = {
        (row.shop_id, row.category_code): row.rate
        for row in CategoryCommission.objects.filter(shop_id__in=list(by_shop))
    }
    conf = settings.COMPTOIR
    orders: list[Order] = []
    for position, shop_id in enumerate(sorted(by_shop)):
        shop = shops[shop_id]
        order_id = f"{request.commercial_id}-{_suffix(position)}"
        customer = request.customer
        leadtimes = [line.leadtime_to_ship for line in by_shop[shop_id] if line.leadtime_to_ship is not None]
        order = Order.objects.create(
            order_id=order_id, commercial=commercial, shop=shop, state=INITIAL_STATE,
            created_date=created, last_updated_date=now, currency_iso_code=request.currency_iso_code,
            vat_collected_by=request.vat_collected_by, payment_type=request.payment_type,
            shipping_zone_code=request.shipping_zone_code, shipping_zone_label=request.shipping_zone_label,
            shipping_type_code=request.shipping_type_code, shipping_type_label=request.shipping_type_label,
            leadtime_to_ship=max(leadtimes) if leadtimes else 2,
            channel_code=request.channel_code, order_reference_for_customer=request.order_reference_for_customer,
            customer_id=customer.customer_id, customer_civility=customer.civility,
            customer_firstname=customer.firstname, customer_lastname=customer.lastname,
            customer_email=customer.email, customer_locale=customer.locale,
            billing_address=customer.billing_address, shipping_address=customer.shipping_address,
            relay_token=secrets.token_hex(12),
        )
        lines = []
        for index, item in enumerate(by_shop[shop_id], start=1):
            offer = offers[item.offer_id]
            tax_rate = item.tax_rate if item.tax_rate is not None else offer.tax_rate
            commission_rate = category_rates.get((shop_id, offer.category_code), shop.commission_rate)
            shipping_tax_rate = item.shipping_tax_rate if item.shipping_tax_rate is not None else Decimal("20")
            amounts = line_amounts(
                unit_price_cents=item.unit_price_cents, quantity=item.quantity,
                shipping_price_cents=item.shipping_price_cents, tax_rate=tax_rate,
                shipping_tax_rate=shipping_tax_rate, commission_rate=commission_rate,
                commission_vat_rate=shop.commission_vat_rate,
            )
            lines.append(OrderLine(
                order=order, line_id=f"{order_id}-{index}", index=index, state=INITIAL_STATE, offer=offer,
                offer_sku=offer.sku, product_sku=offer.product_sku, product_title=offer.title,
                category_code=offer.category_code, category_label=offer.category_label, quantity=item.quantity,
                unit_price_cents=item.unit_price_cents, price_cents=amounts.price_cents,
                shipping_price_cents=item.shipping_price_cents,
                tax_code=item.tax_code or tax_code_for(tax_rate), tax_rate=tax_rate, tax_cents=amounts.tax_cents,
                shipping_tax_code=item.shipping_tax_code or tax_code_for(shipping_tax_rate),
                shipping_tax_rate=shipping_tax_rate, shipping_tax_cents=amounts.shipping_tax_cents,
                eco_contribution_cents=item.eco_contribution_cents, commission_rate=commission_rate,
                commission_fee_cents=amounts.commission_fee_cents, commission_vat_rate=shop.commission_vat_rate,
                commission_vat_cents=amounts.commission_vat_cents, created_date=created, last_updated_date=now,
            ))
        OrderLine.objects.bulk_create(lines)
        order.price_cents = sum(line.price_cents for line in lines)
        order.shipping_price_cents = sum(line.shipping_price_cents for line in lines)
        order.total_price_cents = order.price_cents + order.shipping_price_cents
        order.total_commission_cents = sum(line.total_commission_cents for line in lines)
        order.save(update_fields=["price_cents", "shipping_price_cents", "total_price_cents",
                                  "total_commission_cents"])
        OrderHistory.objects.create(
            order=order, created_date=now, actor=who.actor, actor_name=who.name, trigger="IMPORT",
            from_state="", to_state=INITIAL_STATE,
        )
        payment = payment_services.authorize_order(
            order_pk=order.pk, order_id=order_id, amount_cents=order.total_price_cents,
            currency=request.currency_iso_code, authorization_ref=request.authorization_reference,
            expires_at=request.authorization_expires,
        )
        if payment.status != "AUTHORIZED":
            raise ValidationError("Le paiement de la commande n'a pas pu être autorisé.", code="PAYMENT_REFUSED")
        timer_services.schedule(
            order_pk=order.pk, kind=TimerKind.RENEW_AUTHORIZATION,
            due_at=payment_services.renewal_due_at(order_pk=order.pk),
        )
        threshold = conf["AUTO_APPROVE_MAX_CENTS"]
        if request.scored or (threshold and order.total_price_cents <= threshold):
            approval = check(order, Trigger.APPROVE, SYSTEM)
            apply_transition(order, lines, approval, SYSTEM,
                             details={"rule": "scored" if request.scored else "auto_approve_max_cents"})
        orders.append(order)
    return orders


OPERATOR_IMPORT = Who(Actor.OPERATOR, "API opérateur")
