"""RE01 GET /api/reasons and RE02 GET /api/reasons/{reason_type} over HTTP: the reasons a shop may give."""

from __future__ import annotations

import pytest
from django.db.models import Q
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

    # then Mirakl's shape, cancelations first (type order), then by position, only the shop's active reasons,
    # and the reasons incidents are opened with on its lines (a shop never gives one: is_shop_right false)
    assert response.status_code == 200
    reasons = body_of(response)["reasons"]
    assert all(set(r) == {"code", "label", "type", "is_shop_right"} for r in reasons)
    expected = sorted(Reason.objects.filter(active=True).filter(Q(is_shop_right=True) | Q(type="INCIDENT_OPEN"))
                      .values_list("type", "position", "code"))
    assert [(r["type"], r["code"]) for r in reasons] == [(t, c) for t, _, c in expected]
    assert [r["code"] for r in reasons if r["type"] == "REFUND"][:2] == ["23", "15"]
    assert {r["type"] for r in reasons} == {"REFUND", "CANCELATION", "INCIDENT_OPEN", "INCIDENT_CLOSE"}
    assert reasons[0]["type"] == "CANCELATION"
    assert all(r["is_shop_right"] is (r["type"] != "INCIDENT_OPEN") for r in reasons)
    codes = {(r["type"], r["code"]) for r in reasons}
    assert ("REFUND", "21") not in codes and ("REFUND", "14") not in codes
    assert not {c for _, c in codes} & {"OPERATOR_MEDIATION", "REFUNDED"}  # the operator's own
    refund_15 = next(r for r in reasons if r["code"] == "15" and r["type"] == "REFUND")
    assert refund_15["label"] == "Produit en rupture de stock"


@pytest.mark.parametrize("reason_type", ["REFUND", "refund", "CANCELATION", "INCIDENT_CLOSE"])
def test_re02_lists_one_type(client: Client, key: str, reason_type: str) -> None:
    response = get(client, f"/api/reasons/{reason_type}", key)

    assert response.status_code == 200
    reasons = body_of(response)["reasons"]
    wanted = reason_type.upper()
    assert reasons and {r["type"] for r in reasons} == {wanted}
    assert [r["code"] for r in reasons] == list(
        Reason.objects.filter(type=wanted, active=True, is_shop_right=True).order_by("position", "code")
        .values_list("code", flat=True))


def test_re02_incident_reasons_the_close_ones_the_shop_gives_the_open_ones_it_reads(client: Client, key: str) -> None:
    # given an opening reason the operator deactivated
    Reason.objects.filter(type="INCIDENT_OPEN", code="6").update(active=False)

    # when the shop lists both incident types
    closing = body_of(get(client, "/api/reasons/INCIDENT_CLOSE", key))["reasons"]
    opening = body_of(get(client, "/api/reasons/incident_open", key))["reasons"]

    # then OR64's reasons without the operator's own, and every active opening reason, marked not the shop's
    assert [(r["code"], r["is_shop_right"]) for r in closing] == [(c, True) for c in ("10", "11", "12", "13", "14")]
    assert closing[1]["label"] == "Article livré au client"
    assert [r["code"] for r in opening] == ["1", "2", "3", "4", "5", "NO_SHOP_ANSWER"]
    assert {r["type"] for r in opening} == {"INCIDENT_OPEN"} and not any(r["is_shop_right"] for r in opening)
    assert opening[1]["label"] == "Article endommagé"


@pytest.mark.parametrize("reason_type", ["MESSAGING", "RETURN", "MPS_REFUND"])
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
