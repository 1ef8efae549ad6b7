"""The capture: a webhook event row written in the transaction of the change, only for shops with an enabled
endpoint wanting its type; no query at all for a shop without one (the hot path: OR21, sweeps of many orders)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from comptoir.core import clock
from comptoir.messaging.rules import Participant
from comptoir.messaging.services import Author, start_thread
from comptoir.notifications import services as notification_services
from comptoir.orders import services
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.timers.models import Timer
from comptoir.timers.sandbox import advance_clock
from comptoir.timers.worker import sweep_timers
from comptoir.webhooks import queries
from comptoir.webhooks import services as webhook_services
from comptoir.webhooks.models import Endpoint, WebhookEvent
from tests.factories import SELLER, ShopFactory, make_order

pytestmark = pytest.mark.django_db


def _endpoint(shop: Shop, types: list[str] | None = None) -> Endpoint:
    return webhook_services.create_endpoint(shop_id=shop.id, url="https://erp.example.com/hooks", event_types=types)


def _accept(order: Order) -> None:
    line_ids = list(order.lines.order_by("index").values_list("line_id", flat=True))
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(line_id, True) for line_id in line_ids])


@contextmanager
def _capture_disabled() -> Iterator[None]:
    """The baseline: the same change with the webhook capture switched off."""
    saved = webhook_services.record_events, webhook_services.record_state_changes
    webhook_services.record_events = lambda *a, **k: None  # type: ignore[assignment]
    webhook_services.record_state_changes = lambda *a, **k: None  # type: ignore[assignment]
    try:
        yield
    finally:
        webhook_services.record_events, webhook_services.record_state_changes = saved


def _statements(run: Callable[[], Any]) -> list[str]:
    clock.offset()  # the sandbox clock's cache warm, as in a running server
    queries.subscriptions()  # the subscriptions' map warm, as in a running server
    with CaptureQueriesContext(connection) as captured:
        run()
    return [q["sql"] for q in captured.captured_queries]


def test_an_accept_for_a_shop_without_endpoint_costs_no_extra_query() -> None:
    # given another shop with an endpoint (so the map is not empty), and two waiting orders of a shop without one
    _endpoint(ShopFactory())
    shop = ShopFactory()
    first, second = make_order(shop=shop), make_order(shop=shop)

    # when one is accepted with the capture switched off, and the other with it on
    with _capture_disabled():
        baseline = _statements(lambda: _accept(first))
    measured = _statements(lambda: _accept(second))

    # then the same statements, none of them on a webhook table
    assert len(measured) == len(baseline), (len(measured), len(baseline))
    assert not [sql for sql in measured if "webhooks_" in sql]
    assert WebhookEvent.objects.count() == 0


def test_an_accept_for_a_shop_with_an_endpoint_costs_one_insert() -> None:
    shop = ShopFactory()
    _endpoint(shop)
    first, second = make_order(shop=shop), make_order(shop=shop)
    with _capture_disabled():
        baseline = _statements(lambda: _accept(first))
    before = WebhookEvent.objects.count()

    measured = _statements(lambda: _accept(second))

    webhook_sql = [sql for sql in measured if "webhooks_" in sql]
    assert len(measured) == len(baseline) + 1 and len(webhook_sql) == 1 and webhook_sql[0].startswith("INSERT")
    assert WebhookEvent.objects.count() == before + 1


def test_a_sweep_of_many_orders_writes_one_insert_for_the_batch(comptoir_settings: Any) -> None:
    # given five orders left waiting, of a shop with an endpoint and of a shop without one
    comptoir_settings(SANDBOX=True)
    with_hooks, without = ShopFactory(), ShopFactory()
    _endpoint(with_hooks, ["OrderStateChanged"])
    orders = [make_order(shop=with_hooks) for _ in range(3)] + [make_order(shop=without) for _ in range(2)]
    advance_clock(by=timedelta(days=10))  # past the acceptance deadline: the sweep auto-refuses them all

    statements = _statements(lambda: sweep_timers("test-worker"))

    assert {o.state for o in Order.objects.filter(pk__in=[o.pk for o in orders])} == {OrderState.REFUSED}
    assert len([sql for sql in statements if "webhooks_" in sql]) == 1
    refused = WebhookEvent.objects.filter(event_type="OrderStateChanged", data__to_state="REFUSED")
    assert sorted(refused.values_list("order_id", flat=True)) == sorted(o.order_id for o in orders[:3])


def test_a_state_change_carries_the_order_its_states_and_its_lines() -> None:
    shop = ShopFactory()
    _endpoint(shop)
    order = make_order(shop=shop, lines=2)

    _accept(order)

    event = WebhookEvent.objects.filter(event_type="OrderStateChanged", order_id=order.order_id).latest("id")
    lines = list(order.lines.order_by("index").values_list("line_id", flat=True))
    assert event.shop_id == shop.id and event.event_id.startswith("evt_")
    assert event.data == {
        "order_id": order.order_id, "shop_id": shop.id, "occurred_at": event.data["occurred_at"],
        "from_state": "WAITING_ACCEPTANCE", "to_state": "WAITING_DEBIT", "trigger": "ACCEPT", "actor": "SELLER",
        "reason_code": None, "lines": [{"line_id": lines[0], "state": "WAITING_DEBIT"},
                                       {"line_id": lines[1], "state": "WAITING_DEBIT"}],
    }
    assert event.data["occurred_at"].endswith("Z")


def test_a_new_order_to_accept_is_captured_with_its_state_change() -> None:
    shop = ShopFactory()
    _endpoint(shop)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    types = list(WebhookEvent.objects.filter(order_id=order.order_id).order_by("id").values_list("event_type",
                                                                                                 flat=True))
    assert sorted(types) == ["OrderAwaitingAcceptance", "OrderStateChanged"]


def test_only_the_subscribed_types_are_captured() -> None:
    shop = ShopFactory()
    _endpoint(shop, ["OrderAwaitingAcceptance"])
    order = make_order(OrderState.WAITING_DEBIT, shop=shop)
    assert list(WebhookEvent.objects.filter(order_id=order.order_id).values_list("event_type", flat=True)) == [
        "OrderAwaitingAcceptance"]


def test_a_disabled_endpoint_captures_nothing() -> None:
    shop = ShopFactory()
    endpoint = _endpoint(shop)
    webhook_services.update_endpoint(shop_id=shop.id, endpoint_id=endpoint.id, enabled=False)
    make_order(OrderState.WAITING_DEBIT, shop=shop)
    assert WebhookEvent.objects.count() == 0


def test_a_change_rolled_back_leaves_no_webhook_event() -> None:
    shop = ShopFactory()
    _endpoint(shop)
    order = make_order(shop=shop)
    before = WebhookEvent.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        _accept(order)
        raise RuntimeError("the request fails after the accept")

    assert WebhookEvent.objects.count() == before


def test_an_incident_a_message_and_a_deadline_warning_are_captured(comptoir_settings: Any) -> None:
    comptoir_settings(SANDBOX=True)
    shop = ShopFactory()
    _endpoint(shop, ["IncidentOpened", "CustomerMessageReceived", "AcceptanceDeadlineSoon"])
    order = make_order(shop=shop)

    # the incidents app's event, as it records it
    with transaction.atomic():
        notification_services.record_events([OrderEvent("IncidentOpened", order.order_id, shop.id, clock.now(), {
            "line_id": f"{order.order_id}-1", "incident_id": 12, "reason_code": "DAMAGED"})])
    start_thread(order_id=order.order_id, author=Author(Participant.CUSTOMER, "Jeanne"), body="Bonjour, où en est ma "
                 "commande ?")
    warning = Timer.objects.get(order=order, kind="ACCEPTANCE_WARNING", state="PENDING")
    advance_clock(by=warning.due_at - clock.now() + timedelta(minutes=1))  # one business day before the deadline
    while sweep_timers("test-worker"):  # every due timer (the unanswered message's reminder is due first)
        pass

    events = {e.event_type: e for e in WebhookEvent.objects.filter(order_id=order.order_id)}
    assert "AcceptanceDeadlineSoon" in events, list(Timer.objects.filter(order=order).values_list(
        "kind", "state", "due_at", "last_error"))
    assert set(events) == {"IncidentOpened", "CustomerMessageReceived", "AcceptanceDeadlineSoon"}
    assert events["IncidentOpened"].data | {"occurred_at": ""} == {
        "order_id": order.order_id, "shop_id": shop.id, "occurred_at": "", "line_id": f"{order.order_id}-1",
        "incident_id": 12, "reason_code": "DAMAGED"}
    assert events["CustomerMessageReceived"].data["thread_id"]


def test_another_process_change_is_seen_within_the_cache_delay(comptoir_settings: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # given a process whose map was read (no endpoint yet), trusted for 5 seconds
    comptoir_settings(WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS=5)
    shop = ShopFactory()
    first, second = make_order(shop=shop), make_order(shop=shop)
    assert queries.subscriptions() == {}
    # when another process registers an endpoint (a row written without this process's services)
    Endpoint.objects.create(shop=shop, url="https://erp.example.com/hooks", secret="whsec_x",
                            created_date=clock.now(), updated_date=clock.now())

    # then this process does not capture before the delay, and does after it
    _accept(first)
    assert WebhookEvent.objects.count() == 0
    later = queries.time.monotonic() + 6
    monkeypatch.setattr(queries.time, "monotonic", lambda: later)
    _accept(second)
    assert list(WebhookEvent.objects.values_list("order_id", flat=True)) == [second.order_id]
