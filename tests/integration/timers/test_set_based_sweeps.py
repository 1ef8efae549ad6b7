"""The set-based writes of a sweep's batch (`lifecycle.apply_transitions`): one UPDATE … RETURNING suspends the
batch's shops, the orders and lines write only the columns that moved (alike ones by one UPDATE … IN, under the
version check), ledger entries, history and outbox rows go by multi-row INSERTs. Each order still ends exactly
as a person's action (or the timer run alone) would leave it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F, Sum
from django.test.utils import CaptureQueriesContext

from comptoir.catalog import services as catalog_services
from comptoir.catalog.models import Offer
from comptoir.ledger import services as ledger_services
from comptoir.ledger.models import LedgerEntry
from comptoir.notifications import services as notification_services
from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.orders import services
from comptoir.orders import timers as order_timers
from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState, TimerKind
from comptoir.shops import services as shop_services
from comptoir.shops.models import Shop, ShopState
from comptoir.timers import worker
from comptoir.timers.models import Timer
from tests.factories import SELLER, OfferFactory, ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
REASON = "Délai d'acceptation de 5 jours ouvrés dépassé"


def _claimed(worker_id: str, kind: str) -> list[tuple[int, int]]:
    """Claim everything due and keep the timers of `kind` (timer pk, order pk), in due order."""
    return [(pk, order_pk) for pk, k, order_pk in worker.claim_due(worker_id, 500) if k == kind]


def _no_fallback(monkeypatch) -> None:  # noqa: ANN001
    """From now on, the batch must not fail over to running its timers one by one (which would hide what the
    batch wrote)."""
    def fail(*args, **kwargs):
        raise AssertionError(f"the batch failed and ran its timers one by one: {args}")

    monkeypatch.setattr(worker, "run_timer", fail)


def test_two_orders_of_one_shop_refused_in_one_batch_suspend_it_once_announced_by_the_first(
    test_clock, monkeypatch,
) -> None:
    # given two overdue orders of one shop and a third of another shop
    test_clock.set(START)
    shop, other = ShopFactory(), ShopFactory()
    first = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    test_clock.advance(timedelta(minutes=1))
    second = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    test_clock.advance(timedelta(minutes=1))
    third = make_order(OrderState.WAITING_ACCEPTANCE, shop=other)
    test_clock.advance(timedelta(days=10))

    # when their three auto-refusals run as one batch
    timers = _claimed("worker-1", "AUTO_REFUSE")
    assert [order_pk for _, order_pk in timers] == [first.pk, second.pk, third.pk]
    t0 = test_clock.now()
    _no_fallback(monkeypatch)
    worker.run_batch("AUTO_REFUSE", timers, "worker-1")
    t1 = test_clock.now()

    # then each shop is suspended once, at the sweep's time, with the table's reason
    for s in (shop, other):
        s = Shop.objects.get(pk=s.pk)
        assert (s.state, s.suspension_reason) == (ShopState.SUSPENDED, REASON)
        assert t0 <= s.suspended_at <= t1
    # and announced once per audience, by the shop's first order of the batch, as before
    suspended = OutboxEvent.objects.filter(event_type="ShopSuspended")
    assert sorted(suspended.values_list("shop_id", "audience", "order_id")) == sorted([
        (shop.pk, "OPERATOR", first.order_id), (shop.pk, "SELLER", first.order_id),
        (other.pk, "OPERATOR", third.order_id), (other.pk, "SELLER", third.order_id)])
    assert suspended.get(shop_id=shop.pk, audience="SELLER").payload["reason"] == REASON
    # and every order is refused with its lines, one history row each, its offers deactivated with its own reason
    for order in (first, second, third):
        refused = Order.objects.get(pk=order.pk)
        assert (refused.state, refused.version, refused.state_reason_code) == (
            OrderState.REFUSED, order.version + 1, "AUTO_REFUSED")
        lines = list(refused.lines.all())
        assert {(line.state, line.state_reason_code) for line in lines} == {(OrderState.REFUSED, "AUTO_REFUSED")}
        assert OrderHistory.objects.filter(order=order, trigger="AUTO_REFUSE").count() == len(lines) + 1
        assert OutboxEvent.objects.filter(event_type="OrderAutoRefused", order_id=order.order_id).count() == 2
        for offer in Offer.objects.filter(id__in=[line.offer_id for line in lines]):
            assert (offer.active, offer.deactivation_reason) == (
                False, f"Commande {order.order_id} refusée automatiquement")


def test_a_batch_mixing_timers_cancelled_meanwhile_moves_only_the_others_and_leaves_suspended_shops_alone(
    test_clock, monkeypatch,
) -> None:
    # given three overdue orders; the third's shop already suspended by the operator
    test_clock.set(START)
    shops = [ShopFactory(), ShopFactory(), ShopFactory()]
    orders = [make_order(OrderState.WAITING_ACCEPTANCE, shop=s) for s in shops]
    earlier = START + timedelta(days=1)
    Shop.objects.filter(pk=shops[2].pk).update(state=ShopState.SUSPENDED, suspension_reason="Opérateur",
                                               suspended_at=earlier)
    test_clock.advance(timedelta(days=10))
    timers = _claimed("worker-1", "AUTO_REFUSE")
    assert len(timers) == 3

    # when the seller accepts the second order after the worker claimed the timers, before the batch runs
    accepted = orders[1]
    services.decide_lines(order_id=accepted.order_id, shop_id=accepted.shop_id, who=SELLER,
                          decisions=[Decision(line_id, True)
                                     for line_id in accepted.lines.values_list("line_id", flat=True)])
    version = Order.objects.get(pk=accepted.pk).version
    _no_fallback(monkeypatch)
    worker.run_batch("AUTO_REFUSE", timers, "worker-1")

    # then the accepted order is untouched and its cancelled timer stays cancelled
    after = Order.objects.get(pk=accepted.pk)
    assert (after.state, after.version) == (OrderState.WAITING_DEBIT, version)
    assert Timer.objects.get(order=accepted, kind="AUTO_REFUSE").state == "CANCELED"
    assert not OrderHistory.objects.filter(order=accepted, trigger="AUTO_REFUSE").exists()
    assert Shop.objects.get(pk=shops[1].pk).state == ShopState.OPEN
    # and the two others are refused, their timers done
    for order in (orders[0], orders[2]):
        assert Order.objects.get(pk=order.pk).state == OrderState.REFUSED
        assert Timer.objects.get(order=order, kind="AUTO_REFUSE").state == "DONE"
    # and only the open shop is suspended and announced; the operator's suspension is kept as it was
    assert Shop.objects.get(pk=shops[0].pk).state == ShopState.SUSPENDED
    kept = Shop.objects.get(pk=shops[2].pk)
    assert (kept.suspension_reason, kept.suspended_at) == ("Opérateur", earlier)
    assert sorted(OutboxEvent.objects.filter(event_type="ShopSuspended").values_list("shop_id", flat=True)) == [
        shops[0].pk, shops[0].pk]


def test_a_reception_batch_writes_only_what_moved_and_keeps_each_rows_own_values(
    test_clock, monkeypatch,
) -> None:
    # given three shipped orders shipped at different times (their lines' dates differ), and multi-row ledger
    # INSERTs of three entries at most (on SQLite a batch then takes several; PostgreSQL's are one array a column)
    monkeypatch.setattr(ledger_services, "_ROWS_PER_INSERT", 3)
    orders = []
    for hours in (0, 5, 9):
        test_clock.set(START + timedelta(hours=hours))
        orders.append(make_order(OrderState.SHIPPED, lines=2))
    order_cols = [f.attname for f in Order._meta.concrete_fields]
    line_cols = [f.attname for f in OrderLine._meta.concrete_fields]
    before = {o["id"]: o for o in Order.objects.filter(pk__in=[o.pk for o in orders]).values(*order_cols)}
    lines_before = {line["id"]: line for line in OrderLine.objects.filter(order__in=orders).values(*line_cols)}
    pending = {o.pk: LedgerEntry.objects.filter(order_id=o.order_id, account="SHOP_PENDING").aggregate(
        t=Sum("amount_cents"))["t"] for o in orders}

    # when their receptions run as one batch
    test_clock.set(START + timedelta(days=20))
    timers = _claimed("worker-1", "AUTO_RECEIVE")
    assert len(timers) == 3
    t0 = test_clock.now()
    _no_fallback(monkeypatch)
    entries_before = LedgerEntry.objects.count()
    with CaptureQueriesContext(connection) as queries:
        worker.run_batch("AUTO_RECEIVE", timers, "worker-1")

    # then the batch's postings were written by one INSERT on PostgreSQL, by INSERTs of three rows on SQLite
    inserts = [q["sql"] for q in queries if q["sql"].startswith(f'INSERT INTO "{LedgerEntry._meta.db_table}"')]
    written = LedgerEntry.objects.count() - entries_before
    assert written > 3
    assert len(inserts) == (1 if connection.vendor == "postgresql" else -(-written // 3))
    # and each order moved its state, version and dates (the batch's one instant), every other column as it was
    now = Order.objects.get(pk=orders[0].pk).received_date
    assert t0 <= now <= test_clock.now()
    for row in Order.objects.filter(pk__in=[o.pk for o in orders]).values(*order_cols):
        old = before[row["id"]]
        assert (row["state"], row["version"], row["last_updated_date"], row["received_date"]) == (
            OrderState.RECEIVED, old["version"] + 1, now, now)
        moved = {"state", "version", "last_updated_date", "received_date"}
        assert {k: v for k, v in row.items() if k not in moved} == {k: v for k, v in old.items() if k not in moved}
    assert len({o["shipped_date"] for o in before.values()}) == 3
    for row in OrderLine.objects.filter(order__in=orders).values(*line_cols):
        old = lines_before[row["id"]]
        assert (row["state"], row["last_updated_date"], row["received_date"]) == (OrderState.RECEIVED, now, now)
        moved = {"state", "last_updated_date", "received_date"}
        assert {k: v for k, v in row.items() if k not in moved} == {k: v for k, v in old.items() if k not in moved}
    # and each pending balance became payable, once, in one posting
    for order in orders:
        entries = LedgerEntry.objects.filter(order_id=order.order_id)
        assert entries.filter(account="SHOP_PENDING").aggregate(t=Sum("amount_cents"))["t"] == 0
        assert entries.filter(account="SHOP_PAYABLE").aggregate(t=Sum("amount_cents"))["t"] == pending[order.pk]
        assert entries.filter(account="SHOP_PAYABLE").values("posting").distinct().count() == 1
        assert set(entries.values_list("shop_id", flat=True)) == {order.shop_id}


def test_an_order_whose_version_moved_under_the_batch_makes_it_a_conflict_then_each_order_moves_alone(
    test_clock, monkeypatch,
) -> None:
    # given three shipped orders, and a writer that bumps the second one's version inside the batch (as a lost
    # race would), once
    test_clock.set(START)
    orders = [make_order(OrderState.SHIPPED) for _ in range(3)]
    versions = {o.pk: Order.objects.get(pk=o.pk).version for o in orders}
    trigger, prepare, reason = order_timers.FIRING[TimerKind.AUTO_RECEIVE]
    bumped: list[int] = []

    def racing(order, lines, now) -> None:  # noqa: ANN001
        if order.pk == orders[1].pk and not bumped:
            bumped.append(order.pk)
            Order.objects.filter(pk=order.pk).update(version=F("version") + 1)
        prepare(order, lines, now)

    monkeypatch.setitem(order_timers.FIRING, TimerKind.AUTO_RECEIVE, (trigger, racing, reason))
    alone: list[int] = []
    run_timer = worker.run_timer
    monkeypatch.setattr(worker, "run_timer", lambda pk, kind, order_pk, wid: alone.append(order_pk)
                        or run_timer(pk, kind, order_pk, wid))

    # when their receptions run as one batch
    test_clock.advance(timedelta(days=16))
    worker.run_batch("AUTO_RECEIVE", _claimed("worker-1", "AUTO_RECEIVE"), "worker-1")

    # then the batch's version check failed (nothing of it written, the racing bump rolled back with it) and each
    # order was then received alone, once
    assert bumped and alone == [o.pk for o in orders]
    for order in orders:
        moved = Order.objects.get(pk=order.pk)
        assert moved.state == OrderState.RECEIVED
        assert moved.version == versions[order.pk] + 1
        assert OrderHistory.objects.filter(order=order, trigger="RECEIVE", line_id="").count() == 1
        assert LedgerEntry.objects.filter(order_id=order.order_id, account="SHOP_PAYABLE").values(
            "posting").distinct().count() == 1


def test_insert_rows_splits_a_batch_at_the_parameter_limit_and_keeps_every_row(monkeypatch) -> None:
    # given an outbox row of 16 columns, at most 40 parameters a statement (two rows), and 41 rows
    monkeypatch.setattr(notification_services, "_MAX_PARAMS", 40)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    rows = [{"event_type": "OrderReceived", "order_id": f"O-{n}", "shop_id": n, "audience": "SELLER",
             "payload": {"n": n}, "next_attempt_at": now, "created_date": now} for n in range(41)]
    # when inserted
    with transaction.atomic():
        notification_services.insert_rows(OutboxEvent, rows)
    # then every row is there, in order, with its values and the defaults
    got = list(OutboxEvent.objects.order_by("id").values_list("order_id", "shop_id", "payload", "state"))
    assert got == [(f"O-{n}", n, {"n": n}, OutboxState.PENDING) for n in range(41)]


def test_deactivating_the_offers_of_many_orders_keeps_the_first_reason_and_leaves_inactive_offers_alone(
    monkeypatch,
) -> None:
    # given five offers, one already inactive, and statements of two offers at most
    monkeypatch.setattr(catalog_services, "_OFFERS_PER_STATEMENT", 2)
    offers = [OfferFactory() for _ in range(5)]
    Offer.objects.filter(pk=offers[4].pk).update(active=False, deactivation_reason="Retirée")
    ids = [o.pk for o in offers]
    # when three orders name them, the second offer by two of them
    with transaction.atomic():
        changed = catalog_services.deactivate_offers_of_orders(offers=[
            ([ids[0], ids[1]], "Commande A refusée"), ([ids[1], ids[2]], "Commande B refusée"),
            ([ids[3], ids[4]], "Commande C refusée")])
    # then the active ones are deactivated, each with the reason of the first order naming it
    assert changed == 4
    got = dict(Offer.objects.filter(pk__in=ids).values_list("pk", "deactivation_reason"))
    assert got == {ids[0]: "Commande A refusée", ids[1]: "Commande A refusée", ids[2]: "Commande B refusée",
                   ids[3]: "Commande C refusée", ids[4]: "Retirée"}
    assert not Offer.objects.filter(pk__in=ids, active=True).exists()


def test_suspend_shops_suspends_the_open_ones_only_and_says_which() -> None:
    shops = [ShopFactory(), ShopFactory(), ShopFactory()]
    Shop.objects.filter(pk=shops[1].pk).update(state=ShopState.SUSPENDED, suspension_reason="Avant")
    with transaction.atomic():
        done = shop_services.suspend_shops(shop_ids=[shops[0].pk, shops[1].pk, shops[0].pk], reason="Motif")
    assert done == {shops[0].pk}
    assert dict(Shop.objects.filter(pk__in=[s.pk for s in shops]).values_list("pk", "suspension_reason")) == {
        shops[0].pk: "Motif", shops[1].pk: "Avant", shops[2].pk: ""}
    with pytest.raises(shop_services.ValidationError):
        shop_services.suspend_shops(shop_ids=[shops[2].pk], reason="  ")


def test_worker_once_only_timers_leaves_the_outbox_and_only_outbox_delivers_it(test_clock) -> None:
    # given an overdue order
    test_clock.set(START)
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    worker.run_until_idle()
    test_clock.advance(timedelta(days=10))
    # when the worker runs the timers only
    call_command("worker", "--once", "--only", "timers")
    # then the order is refused and its events wait in the outbox
    assert Order.objects.get(pk=order.pk).state == OrderState.REFUSED
    events = OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderAutoRefused")
    assert set(events.values_list("state", flat=True)) == {OutboxState.PENDING}
    # when it then runs the outbox only, they are delivered
    call_command("worker", "--once", "--only", "outbox")
    assert set(events.values_list("state", flat=True)) == {OutboxState.SENT}


def test_insert_rows_of_a_batch_keeps_awkward_values_as_given() -> None:
    # given outbox rows whose texts hold quotes, commas, braces, backslashes and accents, a column of NULLs only,
    # and nested JSON (PostgreSQL sends them as one array per column)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    texts = ['a "quoted", {braced} \\ back', "l'été, NULL", "", "{}", "NULL"]
    rows = [{"event_type": text or "x", "order_id": text, "shop_id": None, "audience": "SELLER",
             "payload": {"text": text, "list": [1, {"k": None}]}, "next_attempt_at": now, "created_date": now,
             "request_id": text} for text in texts]
    # when inserted as one batch
    with transaction.atomic():
        notification_services.insert_rows(OutboxEvent, rows)
    # then each reads back exactly as given
    got = list(OutboxEvent.objects.order_by("id").values_list("order_id", "shop_id", "payload", "request_id",
                                                              "claimed_until", "created_date"))
    assert got == [(text, None, {"text": text, "list": [1, {"k": None}]}, text, None, now) for text in texts]
