"""The outbox delivers notifications by real SMTP, retries with backoff, dead-letters, and can replay."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.test import Client

from comptoir.notifications.dispatch import sweep_outbox
from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.orders.states import OrderState
from comptoir.timers.worker import run_until_idle, sweep_timers
from tests.factories import make_order, operator_key

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_seller_hears_of_a_new_order_to_accept_by_mail(smtp_inbox, django_user_model) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    from comptoir.shops.models import ShopMember

    user = django_user_model.objects.create_user("vendeur@example.com", "vendeur@example.com", "x")
    ShopMember.objects.create(shop=order.shop, user=user)

    sweep_outbox("w1")

    subjects = {m["Subject"]: m for m in smtp_inbox.messages}
    mail = subjects[f"Nouvelle commande {order.order_id} à accepter"]
    assert mail["To"] == "vendeur@example.com"
    assert "5 jours ouvrés" in mail.get_content()
    assert OutboxEvent.objects.get(event_type="OrderAwaitingAcceptance").state == OutboxState.SENT


def test_customer_is_told_of_partial_refusal_with_the_link_to_their_space(smtp_inbox) -> None:
    from comptoir.orders import services
    from comptoir.orders.rules import Decision
    from tests.factories import SELLER

    order = make_order(OrderState.WAITING_ACCEPTANCE, lines=2)
    first, second = order.lines.order_by("index")
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(first.line_id, True), Decision(second.line_id, False)])

    sweep_outbox("w1")

    to_customer = [m for m in smtp_inbox.messages if m["To"] == "jeanne.martin@example.com"]
    subjects = sorted(m["Subject"] for m in to_customer)
    assert subjects == [f"Une partie de votre commande {order.order_id} n'est pas disponible",
                        f"Votre commande {order.order_id} est confirmée"]
    refused = next(m for m in to_customer if "partie" in m["Subject"]).get_content()
    assert second.product_title in refused and first.product_title not in refused
    assert "/client/" in refused
    assert all(m["X-Comptoir-Event"] for m in to_customer)


def test_smtp_down_means_retry_with_backoff_then_dead_letter_then_replay(settings, comptoir_settings,
                                                                          smtp_inbox, test_clock) -> None:
    order = make_order(OrderState.STAGING)
    from comptoir.orders import services
    from tests.factories import OPERATOR

    services.reject_order(order_id=order.order_id, reason="Carte volée", who=OPERATOR)
    live_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _free_port()  # nobody listens there
    comptoir_settings(OUTBOX_MAX_ATTEMPTS=3)
    event = OutboxEvent.objects.get(event_type="OrderCanceled", audience="CUSTOMER")

    sweep_outbox("w1")
    event.refresh_from_db()
    assert (event.state, event.attempts) == (OutboxState.PENDING, 1)
    assert event.next_attempt_at > test_clock.now() + timedelta(seconds=20)
    assert sweep_outbox("w1") == 0  # not due yet: backoff respected

    for _ in range(2):
        test_clock.advance(timedelta(hours=1))
        sweep_outbox("w1")
    event.refresh_from_db()
    assert event.state == OutboxState.DEAD and event.attempts == 3 and "Error" in event.last_error
    assert smtp_inbox.messages == []

    settings.EMAIL_PORT = live_port
    key = operator_key()
    client = Client()
    listed = client.get("/api/operator/outbox?state=DEAD", HTTP_AUTHORIZATION=key).json()["events"]
    assert [e["id"] for e in listed if e["event_type"] == "OrderCanceled"] == [event.id]
    assert client.post(f"/api/operator/outbox/{event.id}/replay", HTTP_AUTHORIZATION=key).status_code == 204
    run_until_idle()

    event.refresh_from_db()
    assert event.state == OutboxState.SENT
    assert [m["Subject"] for m in smtp_inbox.messages] == [f"Votre commande {order.order_id} est annulée"]
    assert "Carte volée" in smtp_inbox.messages[0].get_content()


def test_replaying_an_unknown_event_is_a_404() -> None:
    response = Client().post("/api/operator/outbox/999999/replay", HTTP_AUTHORIZATION=operator_key())
    assert response.status_code == 404
    assert response.json()["code"] == "OUTBOX_EVENT_NOT_FOUND"


def test_an_event_without_template_for_its_audience_is_marked_sent_without_mail(smtp_inbox) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    OutboxEvent.objects.create(event_type="OrderClosed", order_id=order.order_id, shop_id=order.shop_id,
                               audience="SELLER", next_attempt_at=order.created_date,
                               created_date=order.created_date)
    sweep_timers("w1")
    sweep_outbox("w1")
    assert OutboxEvent.objects.get(event_type="OrderClosed").state == OutboxState.SENT
    assert not [m for m in smtp_inbox.messages if "OrderClosed" in (m["X-Comptoir-Event"] or "")]


def test_every_customer_notification_is_a_french_template_file_with_the_customer_space_link() -> None:
    """The operator tells the customer of every status change (issue 7): each CUSTOMER event has its template
    file (which an operator may override), and each gives the customer-space link."""
    from django.template.loader import get_template

    from comptoir.orders.events import AUDIENCES

    customer_events = sorted(name for name, audiences in AUDIENCES.items() if "CUSTOMER" in audiences)
    assert {"OrderAccepted", "LinesRefused", "OrderCanceled", "OrderShipped", "OrderRefunded", "IncidentOpened",
            "IncidentClosed", "SellerMessageReceived"} <= set(customer_events)
    for name in customer_events:
        template = get_template(f"notifications/{name}.CUSTOMER.txt")
        assert "customer_url" in template.template.source, name
