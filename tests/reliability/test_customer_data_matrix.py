"""Customer-data matrix (issue 10, DESIGN §5): for an order in every state, every surface that shows it to its
seller — OR11, OR72/OR73, M10/M11, ST11/ST12, TL02, the back-office pages and CSV, the webhook payloads, the
seller's mails, the invoice — shows no address nor phone before SHIPPING (the API keys present and null), never
the customer's real e-mail, and the relay address as customer_notification_email.

Each order's customer has an e-mail, phone and street of its own: the raw bodies are searched for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from comptoir.core import clock
from comptoir.customer.links import customer_path
from comptoir.documents import checker
from comptoir.incidents import services as incident_services
from comptoir.notifications.models import OutboxEvent
from comptoir.notifications.rendering import render
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.refunds import services as refunds
from comptoir.shops.models import Shop
from comptoir.webhooks import queries as webhook_queries
from comptoir.webhooks import services as webhooks
from comptoir.webhooks.dispatch import request_of
from comptoir.webhooks.models import Delivery
from comptoir.webhooks.timers import fan_out
from tests.api.helpers import shared_rows
from tests.factories import CUSTOMER, SELLER, ShopFactory, ensure_carriers, make_order, shop_key
from tests.reliability.world import LEGAL, customer_named, storage
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db

S = OrderState
# case → (the state make_order reaches, what happens to the order next)
CASES: dict[str, tuple[OrderState, str]] = {
    "STAGING": (S.STAGING, ""), "WAITING_ACCEPTANCE": (S.WAITING_ACCEPTANCE, ""), "WAITING_DEBIT": (S.WAITING_DEBIT, ""),
    "WAITING_DEBIT_PAYMENT": (S.WAITING_DEBIT_PAYMENT, ""), "SHIPPING": (S.SHIPPING, ""), "SHIPPED": (S.SHIPPED, ""),
    "RECEIVED": (S.RECEIVED, ""), "CLOSED": (S.CLOSED, ""), "REFUSED": (S.REFUSED, ""), "CANCELED": (S.CANCELED, ""),
    "SHIPPED_REFUNDED": (S.SHIPPED, "refund"), "SHIPPED_INCIDENT": (S.SHIPPED, "incident"),
    "CANCELED_AFTER_DEBIT": (S.SHIPPING, "cancel"),  # canceled once debited: its details stay (orders.rules)
}
HIDDEN = {"STAGING", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "WAITING_DEBIT_PAYMENT", "REFUSED", "CANCELED"}
TABS = ("expedition", "contact", "messages", "historique", "documents")


@dataclass(frozen=True)
class Probe:
    """One order's customer, recognisable in any answer."""

    order: Order
    email: str
    phone: str
    street: str
    hidden: bool

    @property
    def relay(self) -> str:
        return f"{self.order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}"


@dataclass(frozen=True)
class Seller:
    shop: Shop
    key: str
    session: str
    probes: dict[str, Probe]

    def client(self) -> Client:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = self.session
        return client


def _make(case: str, index: int, shop: Shop) -> Probe:
    state, then = CASES[case]
    email, phone = f"{case.lower()}.reel@client-prive.test", f"0677{index:06d}"
    street = f"{index + 1} allée Secrète {case.title().replace('_', '')}"
    with customer_named(f"Client{index}", street, email=email, phone=phone):
        order = make_order(state, shop=shop)
    lines = list(order.lines.order_by("index").values_list("line_id", flat=True))
    if then == "refund":
        refunds.refund_lines(who=SELLER, shop_id=shop.id,
                             requests=[refunds.LineRequest(lines[0], "20", mode=None, amount_cents=100)])
    elif then == "incident":
        incident_services.open_incident(order_id=order.order_id, line_ids=lines[:1], reason_code="2", who=CUSTOMER,
                                        description="Colis abîmé")
    elif then == "cancel":
        refunds.cancel_order(order_id=order.order_id, who=SELLER, shop_id=shop.id, reason_code="34")
    order.refresh_from_db()
    return Probe(order, email, phone, street, case in HIDDEN)


def _converse(probe: Probe, key: str) -> None:
    """The customer writes through its space (where the state allows it), the seller answers through OR43."""
    page = Client().post(f"{customer_path(probe.order)}messages/", {"body": "Bonjour, où en est ma commande ?",
                                                                     "sujet": "Suivi"})
    assert page.status_code < 500
    thread = json.dumps({"body": "Bonjour, nous revenons vers vous.", "to": ["CUSTOMER"],
                         "topic": {"type": "FREE_TEXT", "value": "Votre commande"}})
    answer = Client().post(f"/api/orders/{probe.order.order_id}/threads", {"thread_input": thread},
                           HTTP_AUTHORIZATION=key)
    assert answer.status_code == 201, answer.content


@pytest.fixture(scope="module")
def seller(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Seller]:
    with storage(tmp_path_factory.mktemp("documents")), shared_rows(django_db_blocker):
        refunds.ensure_default_reasons()
        ensure_carriers()
        shop = ShopFactory(name="Boutique Données Client")
        Shop.objects.filter(pk=shop.pk).update(**LEGAL)
        webhooks.create_endpoint(shop_id=shop.id, url="https://hooks.donnees.example/comptoir")  # every event
        key = shop_key(shop)
        client = Client()
        client.force_login(make_seller(shop))
        probes = {case: _make(case, index, shop) for index, case in enumerate(CASES)}
        for probe in probes.values():
            _converse(probe, key)
            invoice = Client().post(f"/api/orders/{probe.order.order_id}/invoice", HTTP_AUTHORIZATION=key)
            assert invoice.status_code < 500 and not (probe.hidden and invoice.status_code == 201), invoice.content
        fan_out(10_000)
        yield Seller(shop, key, client.cookies[settings.SESSION_COOKIE_NAME].value, probes)
    webhook_queries.reset_subscriptions()


# --- what the seller is shown ---------------------------------------------------------------------------------

def _body(response: Any) -> str:
    assert response.status_code < 400, (response.status_code, response.content[:300])
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return checker.pdf_text(raw) + (checker.embedded_xml(raw) or b"").decode()
    return raw.decode("utf-8", errors="replace")


def _api(seller: Seller, path: str, **query: Any) -> str:
    return _body(Client().get(path, query, HTTP_AUTHORIZATION=seller.key))


def _order_surfaces(seller: Seller, order: Order) -> dict[str, str]:
    """Every answer about this order that its seller can get, by name."""
    o = order.order_id
    web = seller.client()
    base = f"/vendeur/commandes/{o}/"
    texts = {
        "OR11": _api(seller, "/api/orders", order_ids=o), "OR72": _api(seller, "/api/orders/documents", order_ids=o),
        "M11": _api(seller, "/api/inbox/threads", entity_type="MMP_ORDER", entity_id=o, with_messages="true"),
        "ST11": _api(seller, "/api/shipments", order_id=o), "ST12": _api(seller, "/api/shipments/items_to_ship",
                                                                         order_id=o),
        "TL02": _api(seller, "/api/sellerpayment/transactions_logs", order_id=o),
        "list": _body(web.get("/vendeur/commandes/", {"numero": o})),
        "csv": _body(web.get("/vendeur/commandes/export.csv", {"numero": o})),
        "messages tab": _body(web.get(f"{base}messages/")), "documents tab": _body(web.get(f"{base}documents/")),
        **{f"detail {tab}": _body(web.get(base, {"onglet": tab})) for tab in TABS},
        **{f"dialog {page}": _body(web.get(f"{base}{page}/")) for page in ("rembourser", "annuler",
                                                                           "annuler-commande")},
    }
    for thread in json.loads(texts["M11"])["data"]:
        texts[f"M10 {thread['id']}"] = _api(seller, f"/api/inbox/threads/{thread['id']}")
    for document in json.loads(texts["OR72"])["order_documents"]:
        texts[f"OR73 {document['id']}"] = _api(seller, "/api/orders/documents/download", document_ids=document["id"])
    now = clock.now()
    for delivery in Delivery.objects.filter(event__order_id=o).select_related("event", "endpoint"):
        texts[f"webhook {delivery.event.event_type} {delivery.pk}"] = request_of(delivery, now)[0].decode()
    for event in OutboxEvent.objects.filter(order_id=o, audience="SELLER"):
        mail = render(event)
        if mail is not None:
            texts[f"mail {event.event_type}"] = f"{mail.subject}\n{mail.body}"
    return texts


@pytest.mark.parametrize("case", CASES)
def test_the_seller_sees_of_the_customer_what_the_state_allows(seller: Seller, case: str) -> None:
    # given an order of the seller in this state, with messages both ways and the events it produced
    probe = seller.probes[case]
    assert probe.order.state == (S.CANCELED if case == "CANCELED_AFTER_DEBIT" else CASES[case][0]), probe.order.state

    # when the seller reads it through every surface
    texts = _order_surfaces(seller, probe.order)

    # then never the real e-mail; before SHIPPING, no address nor phone anywhere
    assert any(name.startswith("webhook") for name in texts) and any(name.startswith("mail") for name in texts)
    for name, text in texts.items():
        assert probe.email not in text, f"{case}: the real e-mail in {name}"
        if probe.hidden:
            assert probe.phone not in text, f"{case}: the phone in {name} before SHIPPING"
            assert probe.street not in text, f"{case}: the address in {name} before SHIPPING"
    (data,) = json.loads(texts["OR11"])["orders"]
    customer = data["customer"]
    assert data["customer_notification_email"] == probe.relay
    assert {"billing_address", "shipping_address"} <= set(customer)
    if probe.hidden:
        assert customer["billing_address"] is None and customer["shipping_address"] is None
    else:  # the details are there from SHIPPING on: the searches above could have found them
        assert customer["shipping_address"]["phone"] == probe.phone
        assert probe.street in texts["OR11"] and probe.phone in texts["detail expedition"]
        invoices = [text for name, text in texts.items() if name.startswith("OR73")]
        assert invoices or case == "CANCELED_AFTER_DEBIT"  # invoiced from SHIPPING on (not once canceled)
        assert all(probe.street in text for text in invoices)  # the invoice PDF was read: the buyer's address
    assert probe.relay in texts["detail contact"]


def test_shop_wide_pages_and_lists_show_no_hidden_detail_nor_any_email(seller: Seller) -> None:
    # given the seller's orders in every state
    web = seller.client()
    endpoint = seller.shop.webhook_endpoints.get()

    # when the seller opens every page and list covering several orders
    texts = {
        "home": _body(web.get("/vendeur/")), "orders": _body(web.get("/vendeur/commandes/", {"par_page": 100})),
        "orders csv": _body(web.get("/vendeur/commandes/export.csv")),
        "inbox": _body(web.get("/vendeur/messages/")), "incidents": _body(web.get("/vendeur/service-client/incidents/")),
        "invoices missing": _body(web.get("/vendeur/factures-manquantes/")),
        "accounting": _body(web.get("/vendeur/comptabilite/")),
        "accounting csv": _body(web.get("/vendeur/comptabilite/export.csv")),
        "deliveries": _body(web.get(f"/vendeur/parametres/webhooks/{endpoint.pk}/envois/")),
        "WH06": _api(seller, f"/api/webhooks/{endpoint.pk}/deliveries"),
        "OR11": _api(seller, "/api/orders", max=100), "M11": _api(seller, "/api/inbox/threads", with_messages="true"),
        "ST11": _api(seller, "/api/shipments", limit=100), "ST12": _api(seller, "/api/shipments/items_to_ship",
                                                                        limit=100),
        "TL02": _api(seller, "/api/sellerpayment/transactions_logs"),
    }

    # then no e-mail of any customer, no detail of an order before SHIPPING
    for probe in seller.probes.values():
        for name, text in texts.items():
            assert probe.email not in text, f"the real e-mail of {probe.order.order_id} in {name}"
            if probe.hidden:
                assert probe.phone not in text and probe.street not in text, f"{probe.order.order_id} in {name}"
    assert all(probe.order.order_id in texts["OR11"] for probe in seller.probes.values())
