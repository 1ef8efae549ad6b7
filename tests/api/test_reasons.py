"""RE01 GET /api/reasons and RE02 GET /api/reasons/{reason_type} over HTTP: the reasons a shop may give."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.refunds.models import Reason
from comptoir.refunds.services import ensure_default_reasons
from tests.api.helpers import assert_error, body_of, get

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reasons(db: None) -> None:
    ensure_default_reasons()


def test_re01_lists_the_shops_reasons_sorted_by_type_then_position(client: Client, key: str) -> None:
    # given the default reasons, one of them deactivated and one moved first
    Reason.objects.filter(type="REFUND", code="21").update(active=False)
    Reason.objects.filter(type="REFUND", code="23").update(position=0)
    Reason.objects.filter(type="REFUND", code="15").update(position=1)

    # when the shop lists the reasons
    response = get(client, "/api/reasons", key)

    # then Mirakl's shape, cancelations first (type order), then by position, only the shop's active reasons
    assert response.status_code == 200
    reasons = body_of(response)["reasons"]
    assert all(set(r) == {"code", "label", "type", "is_shop_right"} for r in reasons)
    expected = sorted(
        Reason.objects.filter(active=True, is_shop_right=True).values_list("type", "position", "code"))
    assert [(r["type"], r["code"]) for r in reasons] == [(t, c) for t, _, c in expected]
    assert [r["code"] for r in reasons if r["type"] == "REFUND"][:2] == ["23", "15"]
    assert {r["type"] for r in reasons} == {"REFUND", "CANCELATION"}
    assert reasons[0]["type"] == "CANCELATION"
    assert all(r["is_shop_right"] is True for r in reasons)
    codes = {r["code"] for r in reasons}
    assert "21" not in codes and "14" not in codes and "OPERATOR_MEDIATION" not in codes
    refund_15 = next(r for r in reasons if r["code"] == "15" and r["type"] == "REFUND")
    assert refund_15["label"] == "Produit en rupture de stock"


@pytest.mark.parametrize("reason_type", ["REFUND", "refund", "CANCELATION"])
def test_re02_lists_one_type(client: Client, key: str, reason_type: str) -> None:
    response = get(client, f"/api/reasons/{reason_type}", key)

    assert response.status_code == 200
    reasons = body_of(response)["reasons"]
    wanted = reason_type.upper()
    assert reasons and {r["type"] for r in reasons} == {wanted}
    assert [r["code"] for r in reasons] == list(
        Reason.objects.filter(type=wanted, active=True, is_shop_right=True).order_by("position", "code")
        .values_list("code", flat=True))


@pytest.mark.parametrize("reason_type", ["INCIDENT_OPEN", "MESSAGING", "MPS_REFUND"])
def test_re02_of_a_mirakl_type_without_reasons_here_is_empty(client: Client, key: str, reason_type: str) -> None:
    response = get(client, f"/api/reasons/{reason_type}", key)

    assert response.status_code == 200
    assert body_of(response) == {"reasons": []}


def test_re02_of_an_unknown_type_is_a_400(client: Client, key: str) -> None:
    body = assert_error(get(client, "/api/reasons/REMBOURSEMENT", key), 400, "VALIDATION_ERROR")
    assert "REMBOURSEMENT" in body["message"]


def test_reasons_need_a_key(client: Client) -> None:
    assert_error(get(client, "/api/reasons", None), 401, "UNAUTHORIZED")
    assert_error(get(client, "/api/reasons/REFUND", "wrong"), 401, "UNAUTHORIZED")
