"""POST /api/shipments/imports (Comptoir extension): multipart file → per-row report; file errors are
Mirakl error bodies and change nothing; another shop's orders are not found."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.orders.states import OrderState
from comptoir.shipping import imports
from comptoir.shipping.models import Shipment, ShipmentImport
from tests.api.helpers import assert_error, auth, body_of
from tests.factories import ensure_carriers, make_order

pytestmark = pytest.mark.django_db
URL = "/api/shipments/imports"
HEADER = "order_id,order_line_id,quantity,carrier,tracking_number,tracking_url,ship_date\n"


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()


def _upload(client: Client, key: str, data: bytes, query: str = ""):  # type: ignore[no-untyped-def]
    return client.post(URL + query, {"file": SimpleUploadedFile("f.csv", data, "text/csv")}, **auth(key))


def test_dry_run_then_import(client: Client, shop, key: str, other_shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    foreign = make_order(OrderState.SHIPPING, shop=other_shop, lines=1)
    line = order.lines.get().line_id
    data = (HEADER + f"{order.order_id},{line},1,colissimo,6A1,,\n"
            f"{foreign.order_id},{foreign.lines.get().line_id},1,colissimo,6A2,,\n").encode()
    dry = body_of(_upload(client, key, data, "?dry_run=true"))
    assert dry["dry_run"] is True and dry["rows_valid"] == 1 and dry["rows_in_error"] == 1
    assert dry["rows"][0] == {"row": 2, "order_id": order.order_id, "order_line_id": line, "status": "VALID",
                              "message": None, "code": None, "shipment_id": None}
    assert dry["rows"][1]["message"] == f"Commande {foreign.order_id} introuvable." and \
        dry["rows"][1]["code"] == "ORDER_NOT_FOUND"
    assert not Shipment.objects.exists()
    done = body_of(_upload(client, key, data))
    assert done["rows_shipped"] == 1 and done["shipments_created"] == 1
    assert done["rows"][0]["status"] == "SHIPPED"
    assert done["rows"][0]["shipment_id"] == Shipment.objects.get(order=order).shipment_id
    assert not Shipment.objects.filter(order=foreign).exists()


@pytest.mark.parametrize(("data", "message"), [
    (HEADER.encode(), "aucune ligne"),
    (b"commande;quantite\nC;1\n", "colonnes manquantes"),
])
def test_file_errors_are_400_and_change_nothing(client: Client, key: str, data: bytes, message: str) -> None:
    body = assert_error(_upload(client, key, data), 400, "IMPORT_FILE_INVALID")
    assert message in body["message"] and body["field"] == "file"
    assert not ShipmentImport.objects.exists()


def test_too_large_is_refused_before_reading(client: Client, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 20)
    body = assert_error(_upload(client, key, HEADER.encode()), 400, "IMPORT_FILE_INVALID")
    assert "trop volumineux" in body["message"]


def test_needs_a_key_and_a_file(client: Client, key: str) -> None:
    assert client.post(URL, {}).status_code == 401
    assert client.post(URL, {}, **auth(key)).status_code == 400


def test_openapi_says_it_is_an_extension(client: Client) -> None:
    spec = body_of(client.get("/api/openapi.json"))
    summary = spec["paths"]["/api/shipments/imports"]["post"]["summary"]
    assert "Comptoir extension" in summary
