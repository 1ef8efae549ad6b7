"""Incidents in the seller back office: « Service client > Incidents » (tabs, columns, pagination, other shops), the
home indicator, the order page's « Incidents » zone and « Signaler comme résolu » (bad input and another shop's
order change nothing), the imposed solution shown as final, and no way to charge the customer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from comptoir.incidents import mediation, services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState, Solution, SolutionKind
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
CUSTOMER = Who(Actor.CUSTOMER, "Jeanne Martin")
OPERATOR = Who(Actor.OPERATOR, "Support")


@pytest.fixture(autouse=True)
def _reasons(settings: Any, tmp_path: Path) -> None:
    ensure_default_reasons()
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def _line_id(order: Order, index: int = 0) -> str:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))[index]


def open_on(order: Order, index: int = 0, *, who: Who = CUSTOMER, reason: str = "2") -> Incident:
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[_line_id(order, index)],
                                         reason_code=reason, who=who, description="Le carton est arrivé écrasé.")
    return incident


def _state(incident: Incident) -> str:
    return Incident.objects.get(pk=incident.pk).state


# --- the list and the home indicator ----------------------------------------------------------------------------


def test_home_counts_ongoing_incidents_and_those_in_mediation(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=3)
    open_on(order, 0)
    services.start_mediation(incident_id=open_on(order, 1).pk, who=OPERATOR)
    closed = open_on(order, 2)
    services.close(incident_id=closed.pk, who=CUSTOMER, order_id=order.order_id)

    body = seller_client.get("/vendeur/").content.decode()

    assert 'id="incidents-indicator"' in body and "/vendeur/service-client/incidents/" in body
    assert '<h2>Incidents en cours</h2><span class="value">2</span>' in body
    assert "dont 1 en médiation" in body


def test_ongoing_tab_lists_open_and_resolved_newest_first_with_every_column(
        seller_client: Client, shop: Shop, test_clock: Any, django_assert_max_num_queries: Any) -> None:
    # Friday 4 December 2026 15:00 in Paris: a formal notice gives until Monday 7 December 15:00 (14:00 UTC).
    test_clock.set(datetime(2026, 12, 4, 15, 0, tzinfo=PARIS))
    first = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    by_customer = open_on(first, 0)
    by_operator = open_on(first, 1, who=OPERATOR, reason="1")
    services.send_formal_notice(incident_id=by_operator.pk, who=OPERATOR,
                                solution=Solution(SolutionKind.REFUND, None, "Colis perdu"))
    second = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    resolved = open_on(second, who=Who(Actor.SYSTEM, "Comptoir"), reason="NO_SHOP_ANSWER")
    services.resolve(order_id=second.order_id, line_id=_line_id(second), reason_code="11",
                     who=Who(Actor.SELLER, "anne"), shop_id=shop.id)
    services.close(incident_id=open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1)).pk, who=OPERATOR,
                   reason_code="10")

    with django_assert_max_num_queries(10):
        response = seller_client.get("/vendeur/service-client/incidents/")
    body = response.content.decode()

    assert response.status_code == 200
    rows = [body.index(f'data-incident="{i.pk}"') for i in (resolved, by_operator, by_customer)]
    assert rows == sorted(rows) and body.count("data-incident=") == 3  # newest first, the closed one elsewhere
    assert "En cours (3)" in body and "Terminés (1)" in body
    for text in ("Article endommagé", "Article non reçu", "Absence de réponse de la boutique sous 72 h ouvrées",
                 ">Client<", ">Opérateur<", ">Comptoir<", "En médiation", "Résolu selon le vendeur",
                 first.order_id, second.order_id):
        assert text in body, text
    assert '<strong class="late formal-notice-due">À régler avant le 07/12/2026 à 15:00</strong>' in body
    assert "remboursement intégral de la ligne — Colis perdu" in body
    assert 'aria-current="page">Service client › Incidents</a>' in body


def test_finished_tab_lists_closed_incidents_and_pages(seller_client: Client, shop: Shop) -> None:
    orders = [make_order(OrderState.SHIPPED, shop=shop, lines=1) for _ in range(3)]
    for order in orders:
        services.close(incident_id=open_on(order).pk, who=OPERATOR, reason_code="10")
    import comptoir.seller.incidents as views

    views.PAGE_SIZE, saved = 2, views.PAGE_SIZE
    try:
        first = seller_client.get("/vendeur/service-client/incidents/?onglet=termines").content.decode()
        second = seller_client.get("/vendeur/service-client/incidents/?onglet=termines&page=2").content.decode()
    finally:
        views.PAGE_SIZE = saved

    assert first.count("data-incident=") == 2 and second.count("data-incident=") == 1
    assert "Page 1 sur 2" in first and "onglet=termines&amp;page=2" in first
    assert orders[0].order_id in second and orders[2].order_id in first  # newest first
    assert "Problème résolu avec le client" in first and 'aria-selected="true">Terminés (3)' in first


def test_the_list_shows_nothing_of_other_shops(other_seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    open_on(order)

    body = other_seller_client.get("/vendeur/service-client/incidents/").content.decode()

    assert order.order_id not in body and "Aucun incident en cours." in body and "En cours (0)" in body


# --- the order page ---------------------------------------------------------------------------------------------


def test_order_page_shows_the_incident_zone_with_history_and_shop_reasons_only(seller_client: Client,
                                                                                shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    incident = open_on(order, 1)
    services.start_mediation(incident_id=incident.pk, who=OPERATOR)

    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()

    assert 'id="incidents"' in body and f'id="incident-{incident.pk}"' in body
    assert "Le carton est arrivé écrasé." in body and "En médiation" in body
    assert "Incident ouvert — Client" in body and "Médiation de l&#x27;opérateur — Opérateur" in body
    assert "Aucun recouvrement auprès du client sans l'accord de l'opérateur" in body
    assert "Signaler comme résolu" in body and '<option value="11">Article livré au client</option>' in body
    assert 'value="OPERATOR_MEDIATION"' not in body and 'value="REFUNDED"' not in body


def test_order_page_without_incident_has_no_zone(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()
    assert 'id="incidents"' not in body and "Signaler comme résolu" not in body


def test_resolving_asks_to_confirm_then_signals_it_resolved(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    incident = open_on(order)
    url = f"/vendeur/commandes/{order.order_id}/incidents/{_line_id(order)}/resoudre/"

    ask = seller_client.post(url, {"motif": "12"})
    assert ask.status_code == 200 and "Motif de résolution : Article remplacé" in ask.content.decode()
    assert _state(incident) == IncidentState.OPEN

    done = seller_client.post(url, {"motif": "12", "confirme": "1"}, follow=True)

    body = done.content.decode()
    assert _state(incident) == IncidentState.SHOP_RESOLVED
    assert "Incident signalé comme résolu : l&#x27;opérateur va le confirmer." in body
    assert "Signalé résolu" in body and "Article remplacé" in body and "En attente de confirmation" in body
    row = OrderHistory.objects.get(order=order, trigger="RESOLVE_INCIDENT")
    assert row.actor == "SELLER" and row.reason_code == "12" and row.details["incident_id"] == incident.pk


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Choisissez un motif de résolution."),
    ({"motif": "OPERATOR_MEDIATION", "confirme": "1"}, "Motif de résolution inconnu"),  # the operator's own
    ({"motif": "99", "confirme": "1"}, "Motif de résolution inconnu"),
])
def test_bad_reasons_are_refused_in_french_and_change_nothing(seller_client: Client, shop: Shop,
                                                              data: dict[str, str], message: str) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    incident = open_on(order)

    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/incidents/{_line_id(order)}/resoudre/",
                                  data)

    assert response.status_code == 400 and message in response.content.decode()
    assert _state(incident) == IncidentState.OPEN
    assert not OrderHistory.objects.filter(order=order, trigger="RESOLVE_INCIDENT").exists()


def test_bad_input_through_htmx_comes_back_in_the_dialog(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    incident = open_on(order)
    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/incidents/{_line_id(order)}/resoudre/",
                                  {"motif": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Choisissez un motif de résolution." in response.content.decode()
    assert _state(incident) == IncidentState.OPEN


def test_an_incident_already_signalled_resolved_is_refused_in_french(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    incident = open_on(order)
    url = f"/vendeur/commandes/{order.order_id}/incidents/{_line_id(order)}/resoudre/"
    seller_client.post(url, {"motif": "10", "confirme": "1"})

    body = seller_client.post(url, {"motif": "13", "confirme": "1"}, follow=True).content.decode()

    assert "n&#x27;a pas été signalé comme résolu" in body and "résolu selon le vendeur" in body
    assert Incident.objects.get(pk=incident.pk).shop_resolution_code == "10"


def test_another_shops_incident_and_unknown_lines_are_404(other_seller_client: Client, seller_client: Client,
                                                          shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    incident = open_on(order)
    url = f"/vendeur/commandes/{order.order_id}/incidents/{_line_id(order)}/resoudre/"

    assert other_seller_client.post(url, {"motif": "10", "confirme": "1"}).status_code == 404
    assert other_seller_client.get(f"/vendeur/commandes/{order.order_id}/").status_code == 404
    assert seller_client.post(f"/vendeur/commandes/{order.order_id}/incidents/NOPE-1/resoudre/",
                              {"motif": "10", "confirme": "1"}).status_code == 404
    assert _state(incident) == IncidentState.OPEN


def test_a_line_without_incident_is_refused_in_french(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    body = seller_client.post(f"/vendeur/commandes/{order.order_id}/incidents/{_line_id(order)}/resoudre/",
                              {"motif": "10", "confirme": "1"}, follow=True).content.decode()
    assert "Aucun incident sur cet article." in body and not Incident.objects.exists()


def test_an_imposed_solution_is_shown_as_final_without_a_form(seller_client: Client, shop: Shop,
                                                              test_clock: Any) -> None:
    test_clock.set(datetime(2026, 12, 4, 15, 0, tzinfo=PARIS))
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    incident = open_on(order, who=OPERATOR, reason="1")
    services.send_formal_notice(incident_id=incident.pk, who=OPERATOR,
                                solution=Solution(SolutionKind.REFUND, 500, "Geste imposé"))
    test_clock.set(datetime(2026, 12, 7, 15, 5, tzinfo=PARIS))
    mediation.impose(incident_id=incident.pk, who=OPERATOR)

    detail = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()
    finished = seller_client.get("/vendeur/service-client/incidents/?onglet=termines").content.decode()

    for body in (detail, finished):
        assert "Solution imposée par l'opérateur — définitive" in body
    assert "Signaler comme résolu" not in detail and "Solution imposée par l&#x27;opérateur — Opérateur" in detail
    assert "Échéance le 07/12/2026 à 15:00" in detail


def test_no_page_offers_to_charge_the_customer(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    open_on(order)
    pages = [seller_client.get(url).content.decode().lower() for url in (
        f"/vendeur/commandes/{order.order_id}/", "/vendeur/service-client/incidents/", "/vendeur/")]
    for body in pages:
        for word in ("facturer le client", "prélever le client", "débiter le client", "recouvrer"):
            assert word not in body
    assert "aucun recouvrement auprès du client sans l'accord de l'opérateur" in pages[0]
