"""The operator tells the customer of each parcel, with its tracking link, by real SMTP (sellers never do)."""

from __future__ import annotations

import pytest

from comptoir.notifications.dispatch import sweep_outbox
from comptoir.orders.states import OrderState
from comptoir.shipping import services
from tests.factories import SELLER, ensure_carriers, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_gets_a_mail_per_parcel_then_the_shipped_mail_with_every_link(smtp_inbox) -> None:  # type: ignore[no-untyped-def]
    # given an order of two lines and the seeded carriers
    ensure_carriers()
    order = make_order(OrderState.SHIPPING, lines=2)
    first, second = order.lines.order_by("index").values_list("line_id", flat=True)
    sweep_outbox("w0")
    smtp_inbox.messages.clear()

    # when the first line leaves with Chronopost, then the second with an « autre » carrier
    services.create_shipment(shop_id=order.shop_id, who=SELLER, request=services.ShipmentRequest(
        order_id=order.order_id, lines=[services.LineRequest(1, first)], shipped=True,
        tracking=services.TrackingRequest(carrier_code="chronopost", tracking_number="XY123456789FR")))
    sweep_outbox("w1")
    services.create_shipment(shop_id=order.shop_id, who=SELLER, request=services.ShipmentRequest(
        order_id=order.order_id, lines=[services.LineRequest(1, second)], shipped=True,
        tracking=services.TrackingRequest(carrier_name="Coursier Lyon", tracking_number="L-42",
                                          tracking_url="https://coursier.example/suivi?n=L-42&x=1")))
    sweep_outbox("w2")

    # then the customer got the parcel mail, then the order-shipped mail listing both links (unescaped)
    chrono = "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=XY123456789FR"
    by_subject = {m["Subject"]: m for m in smtp_inbox.messages}
    parcel = by_subject[f"Un colis de votre commande {order.order_id} est parti"]
    assert parcel["To"] == "jeanne.martin@example.com"
    assert chrono in parcel.get_content()
    shipped = by_subject[f"Votre commande {order.order_id} est expédiée"].get_content()
    assert chrono in shipped
    assert "https://coursier.example/suivi?n=L-42&x=1" in shipped
    assert "Coursier Lyon" in shipped
    assert len(smtp_inbox.messages) == 2  # no duplicate: the last parcel's news is the order-shipped mail
