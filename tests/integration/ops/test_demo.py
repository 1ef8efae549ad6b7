"""The demo marketplace: shops, keys and logins that work, every state in every shop, loaded once, the same
data on every load."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count

from comptoir.catalog.models import Offer
from comptoir.core import clock
from comptoir.ops.demo import load_demo
from comptoir.orders.models import CommercialOrder, Order, OrderHistory, OrderLine
from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment
from comptoir.shops.models import Shop, ShopMember
from comptoir.shops.services import authenticate_key
from comptoir.timers.models import Timer

pytestmark = pytest.mark.django_db(transaction=True)

S = OrderState
WORKFLOW_STATES = (S.STAGING, S.WAITING_ACCEPTANCE, S.WAITING_DEBIT, S.WAITING_DEBIT_PAYMENT, S.SHIPPING,
                   S.SHIPPED, S.RECEIVED, S.CLOSED, S.REFUSED, S.CANCELED)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """The demo hashes its password once and the tests authenticate four times: the fast hasher saves seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def snapshot() -> list[Any]:
    """What must be identical from one load to the next (database ids and instants excluded)."""
    lines: dict[str, list[Any]] = {}
    for row in OrderLine.objects.order_by("line_id").values_list(
        "order__order_id", "line_id", "state", "product_title", "quantity", "unit_price_cents", "price_cents",
        "shipping_price_cents", "tax_cents", "commission_fee_cents",
    ):
        lines.setdefault(row[0], []).append(list(row[1:]))
    return [
        [order_id, shop_id, state, customer_id, total, commission, lines[order_id]]
        for order_id, shop_id, state, customer_id, total, commission in Order.objects.order_by("order_id")
        .values_list("order_id", "shop_id", "state", "customer_id", "total_price_cents", "total_commission_cents")
    ]


def checksum(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def test_demo_creates_three_shops_whose_keys_and_logins_work() -> None:
    summary = load_demo()

    assert list(Shop.objects.values_list("id", flat=True)) == [2001, 2002, 2003]
    assert Shop.objects.get(id=2001).name == "Boutique Démo"
    for shop in Shop.objects.all():
        assert len(shop.identification_number) == 14 and shop.vat_number.startswith("FR")
        assert shop.legal_name and shop.rcs and shop.producer_registration_number and shop.warranty_duration
        assert 10 <= Offer.objects.filter(shop=shop).count() <= 15
        key = authenticate_key(f"demo-shop-{shop.id}")
        assert key is not None and key.kind == "SHOP" and key.shop_id == shop.id
        user = authenticate(username=f"vendeur{shop.id}@demo.test", password="demo")
        assert user is not None and ShopMember.objects.filter(shop=shop, user=user).exists()
    operator_key = authenticate_key("demo-operator")
    assert operator_key is not None and operator_key.kind == "OPERATOR" and operator_key.shop_id is None
    operator = authenticate(username="operateur@demo.test", password="demo")
    assert operator is not None and operator.is_staff and operator.email == "operateur@demo.test"
    assert operator.groups.filter(name="operateurs").exists()
    assert "demo-shop-2003" in summary and "operateur@demo.test" in summary and "WAITING_DEBIT_PAYMENT" in summary
    assert clock.offset().total_seconds() == 0  # the replayed timeline leaves the clock as it was


def test_every_shop_has_orders_in_every_workflow_state_reached_through_the_services() -> None:
    load_demo()

    states = Counter(Order.objects.values_list("shop_id", "state"))
    for shop_id in (2001, 2002, 2003):
        for state in WORKFLOW_STATES:
            assert states[shop_id, state] >= 1, (shop_id, state)
    assert 55 <= Order.objects.count() <= 70
    assert OrderLine.objects.filter(quantity__gt=1).exists()
    assert Order.objects.annotate(n=Count("lines")).filter(n__gt=1).count() >= 5
    assert CommercialOrder.objects.annotate(n=Count("orders")).filter(n=2).count() >= 2
    assert Order.objects.filter(state=S.STAGING, waiting_customer_documents=True).exists()
    assert Order.objects.filter(state=S.CANCELED, state_reason_code="FRAUD_REJECTED").exists()
    partial = OrderLine.objects.filter(state=S.REFUSED).exclude(order__state=S.REFUSED)
    assert partial.exists()
    assert OrderLine.objects.filter(order__in=partial.values("order"), state__in=[S.SHIPPED, S.CLOSED,
                                                                                  S.RECEIVED]).exists()
    # Every order came through import and the table: history, payment; timers as production leaves them.
    assert OrderHistory.objects.filter(trigger="IMPORT").count() == Order.objects.count()
    assert Payment.objects.count() == Order.objects.count()
    for order in Order.objects.exclude(state=S.STAGING):
        assert order.history.filter(line_id="", to_state=order.state).exists(), order.order_id
    assert Payment.objects.filter(order__state=S.SHIPPING, status="CAPTURED").count() == 9
    now = clock.now()
    for order in Order.objects.filter(state=S.WAITING_ACCEPTANCE):
        assert order.acceptance_deadline > now
    due = Timer.objects.filter(state="PENDING", due_at__lte=now).values_list("kind", flat=True)
    assert set(due) <= {"DEBIT"}  # only the debits in progress are waiting for the worker
    assert not OrderHistory.objects.filter(created_date__gt=now).exists()
    for order in Order.objects.all()[:20]:
        dates = list(order.history.order_by("id").values_list("created_date", flat=True))
        assert dates == sorted(dates) and dates[0] >= order.created_date


def test_loading_twice_changes_nothing() -> None:
    load_demo()
    before = (snapshot(), Shop.objects.count(), Offer.objects.count(), OrderHistory.objects.count(),
              Timer.objects.count())

    out = StringIO()
    call_command("demo", stdout=out)

    assert "déjà chargée" in out.getvalue()
    assert (snapshot(), Shop.objects.count(), Offer.objects.count(), OrderHistory.objects.count(),
            Timer.objects.count()) == before


def test_two_loads_into_fresh_databases_give_the_same_orders() -> None:
    load_demo()
    first = checksum(snapshot())

    call_command("flush", interactive=False, verbosity=0)
    assert not Shop.objects.exists()
    load_demo()

    assert checksum(snapshot()) == first
