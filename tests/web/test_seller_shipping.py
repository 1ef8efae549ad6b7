"""Seller « Expédition » tab: parcels with carriers and links, whole order or split, French errors, nothing
half-saved, another shop's order is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from comptoir.core import clock
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shipping.models import Shipment
from tests.factories import ensure_carriers, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _carriers(db) -> None:  # type: ignore[no-untyped-def]
    ensure_carriers()


def _url(order: Order, suffix: str = "expedition/") -> str:
    return f"/vendeur/commandes/{order.order_id}/{suffix}"


def _post(client: Client, order: Order, data: dict[str, str], *, confirm: bool = True):  # type: ignore[no-untyped-def]
    base = {"carrier_code": "colissimo", "tracking_number": "6A123", "shipped_date": timezone.localdate().isoformat()}
    payload = {**base, **data}
    if confirm:
        payload["confirme"] = "1"
    return client.post(_url(order), payload)


def test_the_tab_offers_the_form_with_active_carriers(seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    page = seller_client.get(_url(order, "")).content.decode()
    assert "Expédier toute la commande…" in page and "Colissimo" in page and "Autre transporteur" in page
    assert "prochaine version" not in page


def test_whole_order_in_one_click_creates_a_tracked_shipment(seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop, quantity=2)
    step = _post(seller_client, order, {"mode": "tout"}, confirm=False)
    assert step.status_code == 200 and "Confirmer l&#x27;expédition" in step.content.decode()
    assert "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123" in step.content.decode()
    assert not Shipment.objects.filter(order=order).exists()  # the confirmation step writes nothing

    response = _post(seller_client, order, {"mode": "tout"})
    assert response.status_code == 302
    shipment = Shipment.objects.get(order=order)
    assert shipment.status == "SHIPPED" and shipment.carrier_code == "colissimo"
    assert shipment.tracking_url.endswith("code=6A123")
    assert sorted(sl.quantity for sl in shipment.lines.all()) == [2, 2]
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    page = seller_client.get(response["Location"]).content.decode()
    assert 'href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A123"' in page and "Colissimo" in page


def test_split_parcels_with_two_carriers(seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    first, second = order.lines.order_by("index")
    _post(seller_client, order, {"mode": "colis", f"quantite_{first.line_id}": "1",
                                 f"quantite_{second.line_id}": "0"})
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING
    page = seller_client.get(_url(order, "")).content.decode()
    assert f'name="quantite_{first.line_id}"' not in page and f'name="quantite_{second.line_id}"' in page
    _post(seller_client, order, {"mode": "colis", "carrier_code": "autre", "carrier_name": "Coursier Lyon",
                                 "tracking_number": "CL-42", "tracking_url": "https://coursier.example/s/CL-42",
                                 f"quantite_{second.line_id}": "1"})
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    names = list(Shipment.objects.filter(order=order).order_by("id").values_list("carrier_name", flat=True))
    assert names == ["Colissimo", "Coursier Lyon"]


@pytest.mark.parametrize(("data", "message"), [
    ({"shipped_date": (timezone.localdate() + timedelta(days=2)).isoformat()}, "ne peut pas être dans le futur"),
    ({"mode": "colis", "QTY": "5"}, "seulement reste à expédier"),
    ({"carrier_code": "autre", "carrier_name": "Coursier", "tracking_url": ""}, "lien de suivi https:// est obligatoire"),
    ({"carrier_code": "autre", "carrier_name": "Coursier", "tracking_url": "http://coursier.example/x"},
     "lien de suivi https:// est obligatoire"),
    ({"carrier_code": "autre", "carrier_name": "", "tracking_url": "https://c.example/x"}, "nom du transporteur"),
    ({"tracking_number": ""}, "Numéro de suivi obligatoire"),
    ({"carrier_code": ""}, "Choisissez un transporteur"),
])
def test_bad_input_gets_a_french_error_and_writes_nothing(seller_client: Client, shop, data, message) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    first = order.lines.order_by("index").first()
    if data.pop("QTY", None):
        data[f"quantite_{first.line_id}"] = "5"
    version = order.version
    response = _post(seller_client, order, {"mode": "tout", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Shipment.objects.filter(order=order).exists()
    assert Order.objects.get(pk=order.pk).version == version


def test_bad_input_through_htmx_opens_the_error_dialog(seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    response = seller_client.post(_url(order), {"carrier_code": "autre", "tracking_number": "X1",
                                                "shipped_date": timezone.localdate().isoformat()},
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Le formulaire contient des erreurs" in response.content.decode()
    assert not Shipment.objects.exists()


def test_a_refusal_by_the_service_changes_nothing(seller_client: Client, shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    from comptoir.shipping import services

    monkeypatch.setattr(services, "active_carrier", lambda code: None)  # carrier disabled meanwhile
    response = _post(seller_client, order, {"mode": "tout"})
    assert response.status_code == 400 and "Transporteur inconnu ou désactivé" in response.content.decode()
    assert not Shipment.objects.exists()


def test_another_shops_order_is_a_404(other_seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    assert _post(other_seller_client, order, {"mode": "tout"}).status_code == 404
    assert other_seller_client.get(_url(order, "expedition/apercu/") + "?carrier_code=ups&tracking_number=1"
                                   ).status_code == 404
    assert not Shipment.objects.exists()


def test_the_link_preview(seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    url = _url(order, "expedition/apercu/")
    body = seller_client.get(url, {"carrier_code": "ups", "tracking_number": "1Z 99"}).content.decode()
    assert "https://www.ups.com/track?loc=fr_FR&amp;tracknum=1Z%2099" in body and 'rel="noopener' in body
    relay = seller_client.get(url, {"carrier_code": "mondial-relay", "tracking_number": "MR1"}).content.decode()
    assert "codePostal=69003" in relay
    assert "Autre" in seller_client.get(url, {"carrier_code": "autre"}).content.decode()


def test_correcting_the_tracking_of_a_shipped_order(seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    _post(seller_client, order, {"mode": "tout"})
    shipment = Shipment.objects.get(order=order)
    prefix = f"suivi-{shipment.pk}"
    response = seller_client.post(_url(order, f"expedition/{shipment.shipment_id}/suivi/"), {
        f"{prefix}-carrier_code": "gls", f"{prefix}-tracking_number": "GLS7", "confirme": "1"})
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.carrier_name == "GLS" and shipment.tracking_url.endswith("match=GLS7")
    bad = seller_client.post(_url(order, f"expedition/{shipment.shipment_id}/suivi/"), {
        f"{prefix}-carrier_code": "autre", f"{prefix}-carrier_name": "X", f"{prefix}-tracking_number": "1",
        f"{prefix}-tracking_url": "http://x.example"})
    assert bad.status_code == 400 and "https://" in bad.content.decode()
    shipment.refresh_from_db()
    assert shipment.carrier_name == "GLS"


def test_past_ship_date_is_kept(seller_client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop)
    Order.objects.filter(pk=order.pk).update(customer_debited_date=clock.now() - timedelta(days=3))
    yesterday = timezone.localdate() - timedelta(days=1)
    _post(seller_client, order, {"mode": "tout", "shipped_date": yesterday.isoformat()})
    shipment = Shipment.objects.get(order=order)
    assert timezone.localdate(shipment.shipped_date) == yesterday
