"""Deterministic test data. `make_order(state=...)` drives a real order through the real services to the
state asked for, so every order in a test got there the way production orders do."""

from __future__ import annotations

import itertools
from decimal import Decimal

import factory
from django.conf import settings

from comptoir.catalog.models import Offer
from comptoir.core import clock
from comptoir.orders import services
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import Actor, OrderState, Trigger
from comptoir.shops.models import Shop
from comptoir.shops.services import issue_api_key

_commercial_ids = itertools.count(1)
OPERATOR = services.Who(Actor.OPERATOR, "tests")
SELLER = services.Who(Actor.SELLER, "tests")
CUSTOMER = services.Who(Actor.CUSTOMER, "tests")


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: 3000 + n)
    name = factory.Sequence(lambda n: f"Boutique test {n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} SARL")
    commission_rate = Decimal("10.0000")
    commission_vat_rate = Decimal("20.0000")
    created_date = factory.LazyFunction(clock.now)
    last_updated_date = factory.LazyFunction(clock.now)


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    shop = factory.SubFactory(ShopFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    product_sku = factory.Sequence(lambda n: f"PRD-{n}")
    title = factory.Sequence(lambda n: f"Produit {n}")
    price_cents = 2000
    tax_rate = Decimal("20.0000")
    stock = 10
    last_updated_date = factory.LazyFunction(clock.now)


def shop_key(shop: Shop) -> str:
    return issue_api_key(shop_id=shop.id, raw_key=f"test-key-{shop.id}")


def operator_key() -> str:
    return issue_api_key(shop_id=None, raw_key="test-operator-key")


ADDRESS = {"street_1": "12 rue des Lilas", "zip_code": "69003", "city": "Lyon", "country": "France",
           "country_iso_code": "FRA", "phone": "0612345678", "firstname": "Jeanne", "lastname": "Martin"}


def import_request(offers: list[tuple[Offer, int]], *, commercial_id: str | None = None,
                   shipping_cents: int = 490) -> services.ImportRequest:
    commercial_id = commercial_id or f"T{next(_commercial_ids):06d}"
    return services.ImportRequest(
        commercial_id=commercial_id,
        customer=services.ImportCustomer(
            customer_id="cust-1", firstname="Jeanne", lastname="Martin", civility="Mme",
            email="jeanne.martin@example.com", billing_address=dict(ADDRESS), shipping_address=dict(ADDRESS),
        ),
        lines=tuple(
            services.ImportLine(offer_id=offer.id, quantity=qty, unit_price_cents=offer.price_cents,
                                shipping_price_cents=shipping_cents)
            for offer, qty in offers
        ),
        digest_source=commercial_id.encode(),
    )


def _run_debit(order: Order) -> None:
    from comptoir.timers.models import Timer
    from comptoir.timers.worker import run_timer

    timer = Timer.objects.get(order=order, kind="DEBIT", state="PENDING")
    Timer.objects.filter(pk=timer.pk).update(claimed_by="factory")
    run_timer(timer.pk, timer.kind, order.pk, "factory")


def make_order(state: OrderState | str = OrderState.WAITING_ACCEPTANCE, *, shop: Shop | None = None,
               lines: int = 2, quantity: int = 1, offers: list[tuple[Offer, int]] | None = None) -> Order:
    """An order in `state`, reached through the same services an operator, seller and worker use."""
    state = OrderState(state)
    shop = shop or ShopFactory()
    offers = offers or [(OfferFactory(shop=shop, price_cents=1000 * (i + 1)), quantity) for i in range(lines)]
    (order,), _ = services.import_customer_order(import_request(offers), who=OPERATOR)
    if state == OrderState.STAGING:
        return _reload(order)
    if state == OrderState.CANCELED:
        services.reject_order(order_id=order.order_id, reason="Fraude avérée", who=OPERATOR)
        return _reload(order)
    services.approve_order(order_id=order.order_id, who=OPERATOR)
    if state == OrderState.WAITING_ACCEPTANCE:
        return _reload(order)
    line_ids = list(order.lines.order_by("index").values_list("line_id", flat=True))
    accept = state != OrderState.REFUSED
    services.decide_lines(order_id=order.order_id, shop_id=shop.id, who=SELLER,
                          decisions=[Decision(line_id, accept) for line_id in line_ids])
    if state in (OrderState.REFUSED, OrderState.WAITING_DEBIT):
        return _reload(order)
    if state == OrderState.WAITING_DEBIT_PAYMENT:
        services.transition_order(order.order_id, Trigger.REQUEST_DEBIT, services.SYSTEM)
        return _reload(order)
    _run_debit(order)
    if state == OrderState.SHIPPING:
        return _reload(order)
    services.ship_whole_order(order_id=order.order_id, who=SELLER)
    if state == OrderState.SHIPPED:
        return _reload(order)
    services.confirm_reception(order_id=order.order_id, who=CUSTOMER)
    if state == OrderState.RECEIVED:
        return _reload(order)
    services.close_order(order_id=order.order_id, who=services.SYSTEM)
    if state == OrderState.CLOSED:
        return _reload(order)
    raise ValueError(f"make_order cannot reach {state}")


def _reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


__all__ = ["ShopFactory", "OfferFactory", "make_order", "shop_key", "operator_key", "settings"]


def ensure_carriers() -> None:
    """The carriers migration 0002 seeds, back after a transactional test flushed the tables."""
    from comptoir.shipping.services import ensure_default_carriers

    ensure_default_carriers()
