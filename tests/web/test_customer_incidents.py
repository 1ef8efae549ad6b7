"""Incidents in the customer space: « Signaler un problème » on the articles the rules allow, the reports with their
state, « Mon problème est réglé »; bad input, another order's incident and a wrong link change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from comptoir.customer.links import customer_path
from comptoir.incidents import services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db

DAMAGED = "Le carton est arrivé écrasé, la lampe est fendue."


@pytest.fixture(autouse=True)
def _reasons() -> None:
    ensure_default_reasons()


def _line_ids(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _report(order: Order, **data: Any) -> Any:
    return Client().post(f"{customer_path(order)}incidents/", data, follow=True)


def test_a_shipped_order_offers_to_report_a_problem_with_the_customer_reasons(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)

    body = Client().get(customer_path(order)).content.decode()

    assert "Signaler un problème" in body and 'id="incidents"' in body
    for line_id in _line_ids(order):
        assert f'value="{line_id}"' in body
    assert '<option value="2">Article endommagé</option>' in body and '<option value="6">' in body
    assert "NO_SHOP_ANSWER" not in body  # the operator's own reason


def test_the_customer_reports_a_damaged_article_and_follows_it(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    first, second = _line_ids(order)

    body = _report(order, articles=[first], motif="2", description=DAMAGED).content.decode()

    incident = Incident.objects.get()
    assert incident.line.line_id == first and incident.opened_by == "CUSTOMER" and incident.reason_code == "2"
    assert incident.description == DAMAGED and incident.opened_by_name == f"{order.customer_firstname} " \
                                                                         f"{order.customer_lastname}".strip()
    assert "Votre signalement a été transmis au vendeur." in body
    assert f'id="incident-{incident.pk}"' in body and "En cours de traitement" in body
    assert "Mon problème est réglé" in body
    assert f'value="{first}"' not in body and f'value="{second}"' in body  # one report per article at a time


def test_several_articles_at_once_open_one_incident_each(shop: Shop) -> None:
    order = make_order(OrderState.RECEIVED, shop=shop, lines=2)
    _report(order, articles=_line_ids(order), motif="5", description="Il manque les notices des deux articles.")
    assert Incident.objects.filter(order=order, state=IncidentState.OPEN).count() == 2
    assert Order.objects.get(pk=order.pk).has_incident is True


def test_an_order_still_in_preparation_offers_no_report_and_refuses_one(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    page = Client().get(customer_path(order)).content.decode()
    body = _report(order, articles=_line_ids(order), motif="6", description="Toujours rien reçu.").content.decode()

    assert "Signaler un problème" not in page
    assert "Votre signalement n&#x27;a pas été envoyé" in body and not Incident.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"motif": "2", "description": DAMAGED}, "Choisissez au moins un article."),
    ({"articles": ["NOPE-1"], "motif": "2", "description": DAMAGED}, "ne peut pas faire l&#x27;objet"),
    ({"motif": "", "description": DAMAGED}, "Choisissez le problème rencontré."),
    ({"motif": "99", "description": DAMAGED}, "Problème inconnu"),
    ({"motif": "NO_SHOP_ANSWER", "description": DAMAGED}, "Problème inconnu"),
    ({"motif": "2", "description": "   "}, "Décrivez le problème en quelques mots."),
    ({"motif": "2", "description": "x" * 5001}, "trop longue"),
])
def test_bad_reports_are_refused_in_french_and_change_nothing(shop: Shop, data: dict[str, Any],
                                                              message: str) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    if "articles" not in data and "Choisissez au moins" not in message:
        data = {**data, "articles": _line_ids(order)}

    body = _report(order, **data).content.decode()

    assert "Votre signalement n&#x27;a pas été envoyé" in body and message in body
    assert not Incident.objects.exists() and not OrderHistory.objects.filter(trigger="OPEN_INCIDENT").exists()


def test_another_orders_article_cannot_be_reported_from_this_link(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    other = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    body = _report(order, articles=_line_ids(other), motif="2", description=DAMAGED).content.decode()
    assert "ne peut pas faire l&#x27;objet" in body and not Incident.objects.exists()


def test_a_wrong_link_is_a_404(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    response = Client().post(f"/client/commande/{order.order_id}/incidents/",
                             {"articles": _line_ids(order), "motif": "2", "description": DAMAGED})
    assert response.status_code == 404 and not Incident.objects.exists()


def test_my_problem_is_settled_closes_the_customers_incident(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    _report(order, articles=_line_ids(order), motif="2", description=DAMAGED)
    incident = Incident.objects.get()

    body = Client().post(f"{customer_path(order)}incidents/{incident.pk}/regle/", follow=True).content.decode()

    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED and incident.closed_by == "CUSTOMER"
    assert "Merci : votre signalement est clos." in body and "Signalements clos" in body
    assert "Problème résolu avec le client" in body and "Mon problème est réglé" not in body
    assert Order.objects.get(pk=order.pk).has_incident is False
    assert "Signaler un problème" in body  # a new problem can be reported again


def test_a_resolution_signalled_by_the_seller_shows_and_can_be_confirmed(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=_line_ids(order), reason_code="1",
                                         who=Who(Actor.CUSTOMER, "Jeanne"))
    services.resolve(order_id=order.order_id, line_id=_line_ids(order)[0], reason_code="11",
                     who=Who(Actor.SELLER, "anne"), shop_id=shop.id)

    page = Client().get(customer_path(order)).content.decode()
    Client().post(f"{customer_path(order)}incidents/{incident.pk}/regle/")

    assert "Le vendeur indique l&#x27;avoir résolu" in page and "Article livré au client" in page
    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED and incident.close_reason_label == "Article livré au client"


def test_another_orders_incident_is_a_404_and_stays_open(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    other = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    (incident,) = services.open_incident(order_id=other.order_id, line_ids=_line_ids(other), reason_code="1",
                                         who=Who(Actor.CUSTOMER, "Paul"))

    response = Client().post(f"{customer_path(order)}incidents/{incident.pk}/regle/")

    assert response.status_code == 404 and Incident.objects.get(pk=incident.pk).state == IncidentState.OPEN


def test_settling_a_closed_incident_again_is_refused_in_french(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=_line_ids(order), reason_code="1",
                                         who=Who(Actor.CUSTOMER, "Jeanne"))
    services.close(incident_id=incident.pk, who=Who(Actor.OPERATOR, "Support"), reason_code="14")

    body = Client().post(f"{customer_path(order)}incidents/{incident.pk}/regle/", follow=True).content.decode()

    assert "Votre signalement n&#x27;a pas été clos" in body
    incident.refresh_from_db()
    assert incident.closed_by == "OPERATOR" and incident.close_reason_code == "14"
