"""Claiming due timers: two workers never get the same row, a lapsed lease frees a row for another worker,
and a failing handler keeps its timer, records why and backs off."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.payments.adapter import ProviderResult
from comptoir.payments.models import Payment, SimulatedCharge
from comptoir.timers.models import Timer
from comptoir.timers.worker import claim_due, run_timer, run_until_idle, sweep_timers
from tests.factories import OfferFactory, ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class UnreachableProvider:
    """The acquirer's network is down: every call raises (an unknown outcome, to retry later)."""

    name = "unreachable"

    def capture(self, **_: object) -> ProviderResult:
        raise ConnectionError("acquirer unreachable")

    authorize = reauthorize = release = capture


def _orders_past_their_deadline(test_clock, count: int) -> list[Order]:
    test_clock.set(START)
    shop = ShopFactory()
    offer = OfferFactory(shop=shop, stock=100)
    orders = [make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, offers=[(offer, 1)]) for _ in range(count)]
    test_clock.advance(timedelta(days=10))  # every acceptance timer is due
    return orders


def _due_ids(test_clock) -> set[int]:
    return set(Timer.objects.filter(state="PENDING", due_at__lte=test_clock.now()).values_list("id", flat=True))


def test_two_workers_claim_disjoint_sets_of_timers(test_clock) -> None:
    # given three overdue orders: each has its auto-refusal, its warning and its renewal due
    _orders_past_their_deadline(test_clock, 3)
    due = _due_ids(test_clock)
    assert len(due) == 9

    # when two workers claim one after the other while the first still holds its batch
    first = {row[0] for row in claim_due("worker-1", 4)}
    second = {row[0] for row in claim_due("worker-2", 100)}

    # then they share the rows without overlap, and nothing is left for a third
    assert len(first) == 4
    assert first.isdisjoint(second)
    assert first | second == due
    assert claim_due("worker-3", 100) == []
    assert set(Timer.objects.filter(id__in=first).values_list("claimed_by", flat=True)) == {"worker-1"}
    assert set(Timer.objects.filter(id__in=second).values_list("claimed_by", flat=True)) == {"worker-2"}


def test_workers_claiming_at_the_same_instant_never_share_a_timer(test_clock) -> None:
    _orders_past_their_deadline(test_clock, 4)
    due = _due_ids(test_clock)
    barrier = threading.Barrier(4)
    claims: dict[str, set[int]] = {}
    errors: list[BaseException] = []

    def claim(worker_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            claims[worker_id] = {row[0] for row in claim_due(worker_id, 5)}
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(f"worker-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    batches = list(claims.values())
    assert sum(len(batch) for batch in batches) == len(set().union(*batches)) == len(due) == 12
    for worker_id, batch in claims.items():
        assert set(Timer.objects.filter(id__in=batch).values_list("claimed_by", flat=True)) <= {worker_id}


def test_an_expired_lease_lets_another_worker_take_the_row(test_clock) -> None:
    # given a worker that claimed an overdue auto-refusal and then died
    (order,) = _orders_past_their_deadline(test_clock, 1)
    claimed = {kind: pk for pk, kind, _ in claim_due("dead-worker", 100)}
    timer_pk = claimed["AUTO_REFUSE"]
    assert claim_due("worker-2", 100) == []  # leased: nobody else may take it yet

    # when its lease runs out
    test_clock.advance(timedelta(seconds=settings.COMPTOIR["WORKER_LEASE_SECONDS"] + 1))
    taken = {kind: pk for pk, kind, _ in claim_due("worker-2", 100)}

    # then the other worker takes the same rows, and the dead worker can no longer complete them
    assert taken == claimed
    timer = Timer.objects.get(pk=timer_pk)
    assert (timer.claimed_by, timer.attempts, timer.state) == ("worker-2", 2, "PENDING")
    assert run_timer(timer_pk, "AUTO_REFUSE", order.pk, "dead-worker") is False
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE
    assert run_timer(timer_pk, "AUTO_REFUSE", order.pk, "worker-2") is True
    assert Order.objects.get(pk=order.pk).state == OrderState.REFUSED
    assert Timer.objects.get(pk=timer_pk).state == "DONE"
    assert Order.objects.get(pk=order.pk).history.filter(trigger="AUTO_REFUSE", line_id="").count() == 1


def test_a_failing_handler_records_the_error_and_backs_off_without_losing_the_timer(
    test_clock, comptoir_settings
) -> None:
    # given an accepted order whose debit is due while the acquirer is unreachable
    test_clock.set(START)
    order = make_order(OrderState.WAITING_DEBIT)
    comptoir_settings(PAYMENT_ADAPTER=f"{__name__}.UnreachableProvider")
    test_clock.advance(timedelta(seconds=settings.COMPTOIR["DEBIT_DELAY_SECONDS"] + 1))

    # when the worker sweeps
    swept_at = test_clock.now()
    assert sweep_timers("worker-1") == 1

    # then the timer is still pending, says why, and is held back for a while
    timer = Timer.objects.get(order=order, kind="DEBIT")
    assert timer.state == "PENDING"
    assert timer.last_error == "ConnectionError: acquirer unreachable"
    assert timer.attempts == 1
    assert timer.claimed_until >= swept_at + timedelta(seconds=2)
    test_clock.set(swept_at)  # still within the backoff: nobody takes it
    assert claim_due("worker-2", 100) == []
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_DEBIT

    # when the acquirer is back and the backoff has passed
    comptoir_settings(PAYMENT_ADAPTER="comptoir.payments.simulated.SimulatedProvider")
    test_clock.set(timer.claimed_until + timedelta(seconds=1))
    run_until_idle("worker-2")

    # then the debit goes through, once
    timer.refresh_from_db()
    assert (timer.state, timer.attempts) == ("DONE", 2)
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING
    assert Payment.objects.get(order=order).status == "CAPTURED"
    assert SimulatedCharge.objects.filter(kind="CAPTURE").count() == 1


def test_the_backoff_grows_with_each_failure(test_clock, comptoir_settings) -> None:
    test_clock.set(START)
    order = make_order(OrderState.WAITING_DEBIT)
    comptoir_settings(PAYMENT_ADAPTER=f"{__name__}.UnreachableProvider")
    test_clock.advance(timedelta(seconds=10))
    waits = []
    for _ in range(3):
        swept_at = test_clock.now()
        assert sweep_timers("worker-1") == 1
        timer = Timer.objects.get(order=order, kind="DEBIT")
        waits.append(timer.claimed_until - swept_at)
        test_clock.set(timer.claimed_until + timedelta(seconds=1))

    # 2 s, 4 s, 8 s (plus the time the sweep itself took)
    for attempt, wait in enumerate(waits, start=1):
        assert timedelta(seconds=2**attempt) <= wait < timedelta(seconds=2**attempt + 20), (attempt, wait)
    timer = Timer.objects.get(order=order, kind="DEBIT")
    assert (timer.attempts, timer.state) == (3, "PENDING")
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_DEBIT
