"""Customer space: each parcel with its carrier, tracking number and a link to follow it."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.customer.links import customer_path
from comptoir.orders.states import OrderState
from comptoir.shipping import services
from tests.factories import SELLER, ensure_carriers, make_order

pytestmark = pytest.mark.django_db


def _ship(order, line_id: str, tracking: services.TrackingRequest | None) -> None:  # type: ignore[no-untyped-def]
    services.create_shipment(shop_id=order.shop_id, who=SELLER, request=services.ShipmentRequest(
        order_id=order.order_id, lines=[services.LineRequest(quantity=1, order_line_id=line_id)],
        tracking=tracking))


def test_the_customer_sees_every_parcel_with_its_link(client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    ensure_carriers()
    order = make_order(OrderState.SHIPPING, shop=shop)
    first, second = order.lines.order_by("index").values_list("line_id", flat=True)
    assert "Vos colis" not in client.get(customer_path(order)).content.decode()
    _ship(order, first, services.TrackingRequest(carrier_code="colissimo", tracking_number="6A42"))
    _ship(order, second, services.TrackingRequest(carrier_code="autre", carrier_name="Coursier Lyon",
                                                  tracking_number="CL-1", tracking_url="https://coursier.example/CL-1"))
    page = client.get(customer_path(order)).content.decode()
    assert "Vos colis" in page and "Colissimo" in page and "6A42" in page and "Coursier Lyon" in page
    assert 'href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A42" target="_blank" rel="noopener' in page
    assert 'href="https://coursier.example/CL-1" target="_blank" rel="noopener' in page


def test_a_parcel_without_tracking_says_so(client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    ensure_carriers()
    order = make_order(OrderState.SHIPPING, shop=shop)
    _ship(order, order.lines.order_by("index").values_list("line_id", flat=True)[0], None)
    page = client.get(customer_path(order)).content.decode()
    assert "pas encore communiqué de suivi" in page
