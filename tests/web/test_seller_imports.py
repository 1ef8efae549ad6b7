"""Seller « Import d'expéditions »: upload, preview (nothing written), confirm, chunked apply with a
progress bar (htmx or plain posts), errors CSV, another shop's import is a 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.seller import imports as seller_imports
from comptoir.shipping.models import Shipment, ShipmentImport
from tests.factories import ensure_carriers, make_order

pytestmark = pytest.mark.django_db
URL = "/vendeur/expeditions/import/"
HEADER = "Commande;Ligne;Quantité;Transporteur;Numéro de suivi\r\n"


@pytest.fixture(autouse=True)
def _carriers(db) -> None:  # type: ignore[no-untyped-def]
    ensure_carriers()


def _upload(client: Client, data: bytes, name: str = "colis.csv"):  # type: ignore[no-untyped-def]
    return client.post(URL, {"fichier": SimpleUploadedFile(name, data, "text/csv")})


def test_menu_link_and_form(seller_client: Client) -> None:
    page = seller_client.get(URL).content.decode()
    assert "Import d'expéditions" in page and 'enctype="multipart/form-data"' in page


def test_preview_confirm_apply_in_chunks(seller_client: Client, shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(seller_imports, "CHUNK_PARCELS", 1)
    orders = [make_order(OrderState.SHIPPING, shop=shop, lines=1) for _ in range(2)]
    rows = "".join(f"{o.order_id};{o.lines.get().line_id};1;Colissimo;6A{i}\r\n" for i, o in enumerate(orders))
    data = (HEADER + rows + "INCONNUE;L;1;Colissimo;X\r\n").encode("cp1252")
    response = _upload(seller_client, data)
    assert response.status_code == 302
    job = ShipmentImport.objects.get()
    page = seller_client.get(response["Location"]).content.decode()
    assert "rien n'a encore été enregistré" in page and "Commande INCONNUE introuvable." in page
    assert not Shipment.objects.exists()

    csv = seller_client.get(f"{URL}{job.pk}/erreurs.csv")
    assert csv["Content-Type"].startswith("text/csv") and csv.content.startswith(b"\xef\xbb\xbf")
    assert "Commande INCONNUE introuvable." in csv.content.decode("utf-8-sig")

    step = seller_client.post(f"{URL}{job.pk}/appliquer/")
    assert "Déclarer les colis" in step.content.decode() and not Shipment.objects.exists()
    assert seller_client.post(f"{URL}{job.pk}/appliquer/", {"confirme": "1"}).status_code == 302
    page = seller_client.get(f"{URL}{job.pk}/").content.decode()
    assert "<progress" in page and 'hx-trigger="load' in page

    bar = seller_client.post(f"{URL}{job.pk}/progression/", HTTP_HX_REQUEST="true")
    assert bar.status_code == 200 and "1 / 2 (50 %)" in bar.content.decode()
    last = seller_client.post(f"{URL}{job.pk}/progression/", HTTP_HX_REQUEST="true")
    assert last.status_code == 204 and last["HX-Redirect"] == f"{URL}{job.pk}/"
    assert Shipment.objects.count() == 2
    assert all(Order.objects.get(pk=o.pk).state == OrderState.SHIPPED for o in orders)
    assert "Import terminé : 2 lignes expédiées, 1 en erreur." in seller_client.get(f"{URL}{job.pk}/").content.decode()
    # Posting again (a second tab, a replay) declares nothing more.
    assert seller_client.post(f"{URL}{job.pk}/progression/").status_code == 302
    assert seller_client.post(f"{URL}{job.pk}/appliquer/", {"confirme": "1"}).status_code == 302
    assert Shipment.objects.count() == 2


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "vide.csv", "vide"),
    (HEADER.encode(), "entete.csv", "aucune ligne de données"),
    (b"foo;bar\r\n1;2\r\n", "cols.csv", "colonnes manquantes"),
])
def test_refused_files_change_nothing(seller_client: Client, data: bytes, name: str, message: str) -> None:
    response = _upload(seller_client, data, name)
    assert response.status_code == 400
    assert "Fichier refusé, rien n&#x27;a été importé" in response.content.decode()
    assert message in response.content.decode()
    assert not ShipmentImport.objects.exists()


def test_another_shops_import_is_a_404(seller_client: Client, other_seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    _upload(seller_client, (HEADER + f"{order.order_id};{order.lines.get().line_id};1;Colissimo;6A1\r\n").encode())
    job = ShipmentImport.objects.get()
    for path in ("", "erreurs.csv"):
        assert other_seller_client.get(f"{URL}{job.pk}/{path}").status_code == 404
    assert other_seller_client.post(f"{URL}{job.pk}/appliquer/", {"confirme": "1"}).status_code == 404
    assert ShipmentImport.objects.get().status == "PREVIEW"
