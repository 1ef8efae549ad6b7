"""Operator notifications: the outbox filtered by state and order, dead letters counted, replay."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from comptoir.notifications.dispatch import sweep_outbox
from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.operator.labels import EVENT_LABELS
from comptoir.orders.events import AUDIENCES
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(shop: Shop, settings, comptoir_settings) -> Order:  # type: ignore[no-untyped-def]
    """A shipped order whose customer mails all failed once, with one attempt allowed: dead letters."""
    with socket.socket() as probe:  # a port nobody listens on: the SMTP connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    comptoir_settings(OUTBOX_MAX_ATTEMPTS=1)
    order = make_order(OrderState.SHIPPED, shop=shop)
    sweep_outbox("test-worker")
    return order


def _dead(order: Order) -> OutboxEvent:
    return OutboxEvent.objects.get(order_id=order.order_id, event_type="OrderShipped", audience="CUSTOMER")


def test_a_dead_event_is_listed_with_its_error(operator_client: Client, shipped: Order) -> None:
    event = _dead(shipped)
    assert event.state == OutboxState.DEAD

    body = operator_client.get("/operateur/notifications/", {"etat": "DEAD"}).content.decode()

    assert f'id="notification-{event.id}"' in body
    assert "Commande expédiée" in body and "pour : Client" in body and "En échec définitif" in body
    assert "ConnectionRefusedError" in body and "1 tentative" in body
    assert "Renvoyer…" in body


def test_dead_letters_are_counted_in_the_menu_and_on_the_home_page(operator_client: Client,
                                                                   shipped: Order) -> None:
    dead = OutboxEvent.objects.filter(state=OutboxState.DEAD).count()

    home = operator_client.get("/operateur/").content.decode()

    assert dead > 0
    assert f'{dead}<span class="sr-only"> en échec définitif</span>' in home
    assert f"{dead} notification{'s' if dead > 1 else ''} en échec définitif" in home


def test_filtering_by_order_shows_only_its_events(operator_client: Client, shipped: Order, shop: Shop) -> None:
    other = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    body = operator_client.get("/operateur/notifications/", {"commande": shipped.order_id}).content.decode()

    assert shipped.order_id in body and other.order_id not in body


def test_replay_asks_confirmation_then_puts_the_event_back_pending(operator_client: Client,
                                                                   shipped: Order) -> None:
    event = _dead(shipped)
    url = f"/operateur/notifications/{event.id}/renvoyer/"

    ask = operator_client.post(url, {"retour": "etat=DEAD"})
    assert "Renvoyer la notification" in ask.content.decode()
    assert OutboxEvent.objects.get(pk=event.pk).state == OutboxState.DEAD

    done = operator_client.post(url, {"retour": "etat=DEAD&next=//evil.test", "confirme": "1"})

    event.refresh_from_db()
    assert done.status_code == 302 and done["Location"] == "/operateur/notifications/?etat=DEAD"
    assert (event.state, event.attempts, event.last_error) == (OutboxState.PENDING, 0, "")


def test_a_sent_event_can_be_replayed_with_a_warning(operator_client: Client, shipped: Order) -> None:
    sent = OutboxEvent.objects.filter(state=OutboxState.SENT).first()
    assert sent is not None

    ask = operator_client.post(f"/operateur/notifications/{sent.id}/renvoyer/").content.decode()

    assert "une seconde fois" in ask


def test_replaying_a_pending_event_changes_nothing(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    pending = OutboxEvent.objects.filter(order_id=order.order_id).first()
    assert pending is not None and pending.state == OutboxState.PENDING

    response = operator_client.post(f"/operateur/notifications/{pending.id}/renvoyer/", {"confirme": "1"},
                                    follow=True)

    assert "déjà en attente" in response.content.decode()
    assert OutboxEvent.objects.get(pk=pending.pk).next_attempt_at == pending.next_attempt_at


def test_an_unknown_event_is_a_404(operator_client: Client) -> None:
    response = operator_client.post("/operateur/notifications/987654/renvoyer/", {"confirme": "1"})

    assert response.status_code == 404


def test_a_bad_state_filter_gets_a_french_message(operator_client: Client) -> None:
    response = operator_client.get("/operateur/notifications/", {"etat": "BOGUS"})

    assert response.status_code == 400
    assert "État inconnu : choisissez En attente, Envoyé ou En échec définitif." in response.content.decode()


def test_replay_is_staff_only(seller_client: Client, shipped: Order) -> None:
    event = _dead(shipped)

    response = seller_client.post(f"/operateur/notifications/{event.id}/renvoyer/", {"confirme": "1"})

    assert response.status_code == 302 and response["Location"].startswith("/operateur/connexion/")
    assert OutboxEvent.objects.get(pk=event.pk).state == OutboxState.DEAD


def test_every_event_type_has_a_french_label() -> None:
    assert set(AUDIENCES) <= set(EVENT_LABELS)


def test_the_outbox_page_runs_a_bounded_number_of_queries(operator_client: Client, shipped: Order,
                                                          django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(6):
        assert operator_client.get("/operateur/notifications/").status_code == 200
