"""The dataset of the authorization matrix: a victim shop owning one of every kind of object (so every path
parameter of every route gets a real id), an intruder shop with orders of its own, and every credential."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from comptoir.customer.links import order_token
from comptoir.documents.models import ShopDocument
from comptoir.documents.services import generate_invoice
from comptoir.incidents import services as incident_services
from comptoir.ledger.services import run_payout
from comptoir.messaging import services as messaging
from comptoir.messaging.rules import Participant
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.refunds import services as refunds
from comptoir.relay import services as relay
from comptoir.shipping import services as shipping
from comptoir.shipping.imports.applying import preview
from comptoir.shops.models import Shop
from comptoir.webhooks import services as webhooks
from comptoir.webhooks.timers import fan_out
from tests import factories
from tests.factories import CUSTOMER, SELLER, ShopFactory, ensure_carriers, make_order, operator_key, shop_key
from tests.unit.documents.pdfs import png_bytes
from tests.web_factories import make_operator, make_seller, make_user

VICTIM_SHOP = "Boutique Victime Alpha"
INTRUDER_SHOP = "Boutique Intruse Beta"
VICTIM_CUSTOMER = "Vasseur-Victimaire"
VICTIM_MESSAGE = "Message confidentiel victime 7731"
VICTIM_STREET = "7 impasse des Secrets"
LEGAL = {"legal_name": "Alpha Légal SARL", "legal_form": "SARL", "share_capital": "10 000 €",
         "identification_number": "123456789", "rcs": "Paris B 123 456 789", "vat_number": "FR12123456789",
         "head_office_street": "1 rue de la Paix", "head_office_zip_code": "75002", "head_office_city": "Paris",
         "customer_service_email": "sav@victime.test", "producer_registration_number": "FR123456_01ABCD",
         "warranty_duration": "2 ans"}


@dataclass
class World:
    victim: Shop
    intruder: Shop
    order: Order  # the victim's order every object hangs on: shipped in a parcel, with an incident
    second: Order  # another order of the victim (a customer link that is not the order's)
    keys: dict[str, str | None]
    sessions: dict[str, str | None]
    ids: dict[str, str]
    overrides: dict[tuple[str, str], str]
    markers: list[str]  # strings only the victim's data contains
    order_markers: list[str] = field(default_factory=list)  # strings only `order` (not `second`) shows

    def client(self, credential: str) -> Client:
        """A fresh client carrying the credential's session (a logout in one test never logs out the next)."""
        client = Client()
        session = self.sessions.get(credential)
        if session:
            client.cookies[settings.SESSION_COOKIE_NAME] = session
        return client

    def value(self, route: str, name: str) -> str:
        return self.overrides[(route, name)] if (route, name) in self.overrides else self.ids[name]


@contextmanager
def storage(directory: Path) -> Iterator[None]:
    documents = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(directory)}}
    with override_settings(STORAGES={**settings.STORAGES, "documents": documents},
                           PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@contextmanager
def customer_named(lastname: str, street: str, *, email: str | None = None, phone: str | None = None
                   ) -> Iterator[None]:
    """make_order's customer under another name, street (and e-mail, phone), recognisable in any answer."""
    original: Callable[..., Any] = factories.import_request

    def renamed(*args: Any, **kwargs: Any) -> Any:
        request = original(*args, **kwargs)
        address = {**factories.ADDRESS, "street_1": street, "lastname": lastname,
                   "phone": phone or factories.ADDRESS["phone"]}
        customer = dataclasses.replace(request.customer, lastname=lastname, email=email or request.customer.email,
                                       billing_address=dict(address), shipping_address=dict(address))
        return dataclasses.replace(request, customer=customer)

    factories.import_request = renamed  # type: ignore[assignment]
    try:
        yield
    finally:
        factories.import_request = original  # type: ignore[assignment]


def _session(client: Client, user: Any) -> str:
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _relay_mail(order: Order, sender: str) -> None:
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = sender, "Votre colis", make_msgid()
    message["To"] = relay.relay_address(order)
    message.set_content("Bonjour, votre colis est parti ce matin.")
    relay.receive(mail_from=sender, recipient=message["To"], content=message.as_bytes())


def build() -> World:
    refunds.ensure_default_reasons()
    ensure_carriers()
    victim = ShopFactory(name=VICTIM_SHOP)
    Shop.objects.filter(pk=victim.pk).update(**LEGAL)
    victim.refresh_from_db()
    intruder = ShopFactory(name=INTRUDER_SHOP)
    endpoint = webhooks.create_endpoint(shop_id=victim.id, url="https://hooks.victime.example/comptoir")
    with customer_named(VICTIM_CUSTOMER, VICTIM_STREET):
        order = make_order(OrderState.SHIPPING, shop=victim)
        second = make_order(OrderState.WAITING_ACCEPTANCE, shop=victim)
        make_order(OrderState.RECEIVED, shop=victim)  # a payable balance: the payout and its commission invoice
    make_order(OrderState.SHIPPED, shop=intruder)
    make_order(OrderState.WAITING_ACCEPTANCE, shop=intruder)
    lines = list(order.lines.order_by("index").values_list("line_id", flat=True))
    # Both lines leave in one parcel (with its tracking): the customer may then open an incident.
    shipment = shipping.create_shipment(shop_id=victim.id, who=SELLER, request=shipping.ShipmentRequest(
        order_id=order.order_id, lines=[shipping.LineRequest(1, order_line_id=line) for line in lines],
        tracking=shipping.TrackingRequest(carrier_code="colissimo", tracking_number="6A0001")))
    document = generate_invoice(order_id=order.order_id, shop_id=victim.id, who=SELLER)
    thread, message = messaging.start_thread(
        order_id=order.order_id, author=messaging.Author(Participant.CUSTOMER, f"Jeanne {VICTIM_CUSTOMER}"),
        body=VICTIM_MESSAGE, to=["SHOP"], topic_value="Question victime",
        files=[messaging.File("photo-victime.png", png_bytes())])
    (incident,) = incident_services.open_incident(order_id=order.order_id, line_ids=lines[:1], reason_code="2",
                                                  who=CUSTOMER, description="Lampe fendue chez la victime")
    (refund, *_rest) = refunds.refund_lines(who=SELLER, shop_id=victim.id, requests=[refunds.LineRequest(
        lines[1], "20", mode=None, amount_cents=100)])
    job = preview(shop_id=victim.id, filename="colis.csv", created_by="tests", data=(
        f"Commande;Ligne;Quantité;Transporteur;Numéro de suivi\r\n{order.order_id};{lines[1]};1;Colissimo;6A1\r\n"
    ).encode())
    payout = run_payout(by="tests")
    invoice = ShopDocument.objects.get(shop=victim, payout=payout)
    _relay_mail(order, LEGAL["customer_service_email"])
    fan_out(1000)
    delivery = endpoint.deliveries.order_by("id").first()
    assert delivery is not None
    seller, other_seller = make_seller(victim), make_seller(intruder)
    sessions: dict[str, str | None] = {"none": None, "customer": None, "customer_other": None}
    sessions.update(own=_session(Client(), seller), foreign=_session(Client(), other_seller),
                    operator=_session(Client(), make_operator()),
                    wrong=_session(Client(), make_user("sans-boutique@exemple.test")))
    token = order_token(order)
    keys = {"none": None, "wrong": "cle-inconnue-0000", "foreign": shop_key(intruder), "own": shop_key(victim),
            "operator": operator_key(), "customer": token, "customer_other": order_token(second)}
    ids = {
        "order_id": order.order_id, "order_line_id": lines[0], "line_id": lines[0], "document_id": str(document.pk),
        "thread_id": thread.thread_id, "attachment_id": str(message.attachments.get().pk),
        "endpoint_id": str(endpoint.pk), "delivery_id": str(delivery.pk),
        "shipment_id": shipment.shipment_id, "job_id": str(job.pk), "user_id": str(seller.pk),
        "incident_id": str(incident.pk), "payout_id": str(payout.pk), "shop_id": str(victim.id),
        "event_id": str(OutboxEvent.objects.filter(order_id=order.order_id).order_by("id").first().pk),  # type: ignore[union-attr]
        "code": "colissimo", "reason_type": "REFUND", "name": "absent.eml", "token": token, "refund_id": refund.group_id,
        "message_id": str(victim_relay_id(order)),
    }
    overrides = {("seller:commission_invoice", "document_id"): str(invoice.pk),
                 ("operator:payout_invoice", "document_id"): str(invoice.pk),
                 ("operator:fraud", "action"): "approuver", ("operator:shop_state", "action"): "suspendre",
                 ("operator:incident_action", "action"): "clore"}
    markers = [VICTIM_SHOP, VICTIM_CUSTOMER, VICTIM_MESSAGE, VICTIM_STREET, order.order_id, second.order_id,
               LEGAL["legal_name"]]
    return World(victim=victim, intruder=intruder, order=order, second=second, keys=keys, sessions=sessions,
                 ids=ids, overrides=overrides, markers=markers,
                 order_markers=[order.order_id, VICTIM_MESSAGE, document.file_name, "Lampe fendue"])


def victim_relay_id(order: Order) -> int:
    from comptoir.relay.models import RelayMessage

    return RelayMessage.objects.filter(order=order).order_by("id").values_list("id", flat=True).first() or 0


# Rows a refused write must leave as they were: counted in one query.
SNAPSHOT_TABLES = (
    "orders_order", "orders_orderline", "orders_orderhistory", "notifications_outboxevent", "refunds_refund",
    "documents_orderdocument", "messaging_thread", "messaging_message", "incidents_incident", "shipping_shipment",
    "webhooks_endpoint", "webhooks_delivery", "shops_apikey", "shops_shopmember", "ledger_payout", "ledger_ledgerentry",
    "timers_timer",
)


def snapshot() -> tuple[Any, ...]:
    counts = ", ".join(f"(SELECT COUNT(*) FROM {table})" for table in SNAPSHOT_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}, (SELECT SUM(version) FROM orders_order), "  # noqa: S608 (fixed names)
                       "(SELECT MAX(last_updated_date) FROM orders_order)")
        return tuple(cursor.fetchone())
