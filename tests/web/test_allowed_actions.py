"""Each page offers exactly the actions the lifecycle table allows for this order and this actor."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.services.lifecycle import facts_of
from comptoir.orders.states import Actor, OrderState, Trigger, allowed_triggers
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db

STATES = [OrderState.STAGING, OrderState.WAITING_ACCEPTANCE, OrderState.WAITING_DEBIT, OrderState.SHIPPING,
          OrderState.SHIPPED, OrderState.RECEIVED, OrderState.CLOSED, OrderState.REFUSED, OrderState.CANCELED]


def _allowed(order: Order, actor: Actor) -> frozenset[Trigger]:
    return allowed_triggers(facts_of(order, list(order.lines.all())), actor)


@pytest.mark.parametrize("state", STATES)
def test_seller_sees_the_decision_only_when_the_table_allows_it(state: OrderState, seller_client: Client,
                                                                shop: Shop) -> None:
    order = make_order(state, shop=shop)

    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()

    assert ("Valider la décision" in body) == (Trigger.ACCEPT in _allowed(order, Actor.SELLER))


@pytest.mark.parametrize("state", STATES)
def test_operator_sees_fraud_actions_only_when_the_table_allows_them(state: OrderState, operator_client: Client,
                                                                     shop: Shop) -> None:
    order = make_order(state, shop=shop)
    allowed = _allowed(order, Actor.OPERATOR)

    body = operator_client.get(f"/operateur/commandes/{order.order_id}/").content.decode()

    assert ("Valider la commande…" in body) == (Trigger.APPROVE in allowed)
    assert ("Rejeter la commande…" in body) == (Trigger.REJECT in allowed)
    assert ("Demander des justificatifs…" in body) == (Trigger.REQUEST_DOCUMENTS in allowed)


def test_htmx_bad_input_comes_back_in_the_dialog_and_changes_nothing(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    data = {f"ligne_{lid}": "refuser" for lid in order.lines.values_list("line_id", flat=True)}

    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/", data,
                                  headers={"HX-Request": "true"})

    assert response.status_code == 200 and "Indiquez le motif du refus." in response.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


def test_an_approved_order_cannot_be_approved_again(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    history = order.history.count()

    response = operator_client.post(f"/operateur/commandes/{order.order_id}/approuver/", {"confirme": "1"},
                                    follow=True)

    assert "plus possible" in response.content.decode()
    assert order.history.count() == history
