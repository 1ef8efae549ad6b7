"""Real `comptoir worker` processes: two share the work without doing anything twice, and a worker killed
with SIGKILL mid-batch loses and duplicates nothing once another one takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection

from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.states import OrderState
from comptoir.timers.models import SandboxClock, Timer
from tests.factories import OfferFactory, ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgresql://{settings.get('USER') or 'postgres'}@{host}:{port}/{settings['NAME']}"


def _worker(*args: str, batch: int = 20) -> subprocess.Popen:
    env = {**os.environ, "COMPTOIR_DATABASE_URL": _database_url(), "COMPTOIR_WORKER_BATCH_SIZE": str(batch),
           "COMPTOIR_WORKER_LEASE_SECONDS": "3", "COMPTOIR_WORKER_IDLE_SECONDS": "0.2", "COMPTOIR_SANDBOX": "1"}
    return subprocess.Popen([sys.executable, "-m", "comptoir.cli", "worker", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _orders_past_their_deadline(count: int) -> list[str]:
    shop = ShopFactory()
    offer = OfferFactory(shop=shop, stock=10_000)
    ids = [make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, offers=[(offer, 1)]).order_id for _ in range(count)]
    # The sandbox clock jumps 8 days ahead for every process reading this database.
    SandboxClock.objects.update_or_create(id=1, defaults={"enabled": True,
                                                          "offset_seconds": int(timedelta(days=8).total_seconds())})
    return ids


def _assert_each_order_auto_refused_exactly_once(order_ids: list[str]) -> None:
    states = set(Order.objects.filter(order_id__in=order_ids).values_list("state", flat=True))
    assert states == {OrderState.REFUSED}
    rows = OrderHistory.objects.filter(order__order_id__in=order_ids, trigger="AUTO_REFUSE", line_id="")
    assert rows.count() == len(order_ids)
    assert len(set(rows.values_list("order_id", flat=True))) == len(order_ids)
    events = OutboxEvent.objects.filter(order_id__in=order_ids, event_type="OrderAutoRefused", audience="SELLER")
    assert events.count() == len(order_ids)
    assert OutboxEvent.objects.filter(event_type="ShopSuspended", audience="SELLER").count() == 1
    assert not Timer.objects.filter(order__order_id__in=order_ids, kind="AUTO_REFUSE", state="PENDING").exists()


def test_two_worker_processes_share_the_sweep_without_doing_anything_twice() -> None:
    order_ids = _orders_past_their_deadline(60)

    workers = [_worker("--once", batch=5) for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]

    assert [w.returncode for w in workers] == [0, 0], outputs
    _assert_each_order_auto_refused_exactly_once(order_ids)
    done = [int(out.decode().split()[0]) for out, _ in outputs]
    assert sum(done) >= len(order_ids)  # both claimed work (timers plus outbox rows)


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing() -> None:
    order_ids = _orders_past_their_deadline(100)

    victim = _worker(batch=20)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        refused = Order.objects.filter(order_id__in=order_ids, state=OrderState.REFUSED).count()
        if refused >= 3:
            break
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    refused_at_kill = Order.objects.filter(order_id__in=order_ids, state=OrderState.REFUSED).count()
    assert 0 < refused_at_kill < len(order_ids), "the kill must land in the middle of the sweep"
    # Its claimed rows stay leased for a few seconds, then the next worker takes them over.
    time.sleep(3.5)

    survivor = _worker("--once", batch=50)
    out, err = survivor.communicate(timeout=120)

    assert survivor.returncode == 0, err.decode()
    _assert_each_order_auto_refused_exactly_once(order_ids)
