"""Scorecard pages: the seller's home and the operator's shop page draw the 30/90-day block in inline SVG; the
operator's thresholds page saves a valid threshold and refuses bad input with a French message, changing nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.orders.rules import Decision
from comptoir.orders.services import decide_lines
from comptoir.scorecards.models import ScorecardThreshold
from comptoir.shops.models import Shop
from tests.factories import SELLER, make_order

pytestmark = pytest.mark.django_db


def _decided(shop: Shop) -> None:
    for accept in (True, False):
        order = make_order(shop=shop)
        decide_lines(order_id=order.order_id, shop_id=shop.id, who=SELLER,
                     decisions=[Decision(line.line_id, accept) for line in order.lines.all()])


def test_seller_home_shows_the_scorecard_in_svg(seller_client: Client, shop: Shop) -> None:
    _decided(shop)
    body = seller_client.get("/vendeur/").content.decode()

    assert "Indicateurs de performance" in body and body.count('<svg class="scorecard-bar"') == 20
    assert 'aria-label="Taux d&#x27;acceptation sur 30 jours : 50 %"' in body
    assert "(1 / 2)" in body


def test_operator_shop_page_shows_the_scorecard_and_its_alerts(operator_client: Client, shop: Shop) -> None:
    _decided(shop)
    body = operator_client.get(f"/operateur/boutiques/{shop.id}/").content.decode()

    assert "Indicateurs de performance" in body and 'aria-label="Taux d&#x27;acceptation sur 90 jours : 50 %"' in body
    assert "Aucune alerte." in body


def test_operator_saves_a_threshold(operator_client: Client) -> None:
    done = operator_client.post("/operateur/boutiques/indicateurs/seuils/", {
        "measure": "ACCEPTANCE_RATE", "warning_level": "85,5", "suspension_level": "60",
        "suspension_enabled": "on", "window_days": "90"}, follow=True)

    threshold = ScorecardThreshold.objects.get()
    assert (str(threshold.warning_level), str(threshold.suspension_level), threshold.suspension_enabled,
            threshold.window_days) == ("85.50", "60.00", True, 90)
    assert "Seuils de « Taux d&#x27;acceptation » enregistrés." in done.content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"measure": "ACCEPTANCE_RATE", "warning_level": "60", "suspension_level": "80", "window_days": "30"},
     "Le seuil de suspension doit être inférieur ou égal au seuil d&#x27;avertissement."),
    ({"measure": "ACCEPTANCE_RATE", "warning_level": "80", "suspension_enabled": "on", "window_days": "30"},
     "La suspension automatique demande un seuil de suspension."),
    ({"measure": "INCONNU", "warning_level": "1", "window_days": "30"}, "Indicateur inconnu."),
    ({"measure": "AUTO_REFUSALS", "warning_level": "abc", "window_days": "30"}, "Le formulaire contient des erreurs"),
])
def test_bad_thresholds_are_refused_in_french(operator_client: Client, data: dict, message: str) -> None:
    response = operator_client.post("/operateur/boutiques/indicateurs/seuils/", data)

    assert response.status_code == 400 and message in response.content.decode()
    assert not ScorecardThreshold.objects.exists()


def test_sellers_cannot_reach_the_thresholds_page(seller_client: Client) -> None:
    response = seller_client.get("/operateur/boutiques/indicateurs/seuils/")
    assert response.status_code == 302 and "/operateur/connexion/" in response["Location"]
