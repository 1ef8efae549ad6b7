"""GET /api/shops/scorecard (Comptoir extension): every measure with value, numerator, denominator, unit and
label; only the caller's shop; a bad window is a 400 in Mirakl's error shape."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.orders.rules import Decision
from comptoir.orders.services import decide_lines
from comptoir.shops.models import Shop
from tests.api.helpers import get
from tests.factories import SELLER, make_order

pytestmark = pytest.mark.django_db


def test_scorecard_lists_every_measure_of_the_callers_shop(client: Client, shop: Shop, key: str,
                                                          other_shop: Shop) -> None:
    for accept in (True, True, False):
        order = make_order(shop=shop)
        decide_lines(order_id=order.order_id, shop_id=shop.id, who=SELLER,
                     decisions=[Decision(line.line_id, accept) for line in order.lines.all()])
    make_order(shop=other_shop, state="REFUSED")

    body = get(client, "/api/shops/scorecard", key, {"window": "90"}).json()

    assert body["shop_id"] == shop.id and body["window_days"] == 90 and body["date_to"]
    measures = {m["code"]: m for m in body["measures"]}
    assert len(measures) == 10
    assert measures["ACCEPTANCE_RATE"] == {"code": "ACCEPTANCE_RATE", "label": "Taux d'acceptation", "unit": "%",
                                           "value": 66.7, "numerator": 2.0, "denominator": 3,
                                           "higher_is_better": True}
    assert measures["AUTO_REFUSALS"]["value"] == 0.0
    assert measures["LATE_SHIPMENT_RATE"]["value"] is None and measures["LATE_SHIPMENT_RATE"]["denominator"] == 0


@pytest.mark.parametrize("window", ["7", "abc", ""])
def test_a_bad_window_is_a_400(client: Client, key: str, window: str) -> None:
    response = get(client, "/api/shops/scorecard", key, {"window": window})
    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": "window : valeur non autorisée (30 ou 90).",
                               "code": "VALIDATION_ERROR", "field": "window"}


def test_without_a_key_is_a_401(client: Client) -> None:
    assert client.get("/api/shops/scorecard").status_code == 401
