"""The plain-SQL writes of the lifecycle's hot path (insert_rows, prepare_rows, shops.services.key_owner, the
SQLite writer lock) give what the ORM would: same prepared values, same rows, same defaults."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.notifications.services import insert_rows, prepare_rows, value_kinds
from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.orders.services import sql
from comptoir.orders.states import Actor, OrderState, TimerKind
from comptoir.shops import services as shop_services
from comptoir.shops.models import ApiKeyKind
from comptoir.timers.models import Timer, TimerState
from tests.factories import ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)

INSTANT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def test_prepare_rows_gives_what_each_field_would_prepare() -> None:
    # given values of every kind the fast path handles, and some it hands to the field
    names = ["state", "version", "last_updated_date", "acceptance_deadline", "shipping_late", "transaction_number",
             "state_reason_label", "shop", "total_price_cents"]
    fields = [Order._meta.get_field(name) for name in names]
    rows = [
        [OrderState.WAITING_DEBIT, 3, INSTANT, None, False, "", "motif é", 7, 1250],
        ["SHIPPING", 4, INSTANT + timedelta(days=1), INSTANT, True, "TX-1", "", 8, 0],
    ]
    # when the rows are prepared by the fast path
    prepared = prepare_rows(fields, value_kinds(fields), rows, connection)
    # then every value is what the field's own preparation gives
    expected = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows]
    assert prepared == expected


def test_prepare_rows_hands_other_types_to_the_field() -> None:
    # given a text column given an int and a datetime column given a date string
    fields = [OrderHistory._meta.get_field("line_id"), OrderHistory._meta.get_field("created_date"),
              OrderHistory._meta.get_field("details")]
    rows = [[12, "2026-03-01 12:30:15+00:00", {"accepted": ["L1"]}]]
    # when prepared, then as the fields would (the int becomes text, the string an instant, the dict JSON)
    prepared = prepare_rows(fields, value_kinds(fields), rows, connection)
    expected = [f.get_db_prep_save(v, connection) for f, v in zip(fields, rows[0], strict=True)]
    # PostgreSQL wraps JSON in an adapter (no equality): compare what it wraps
    unwrap = [getattr(v, "obj", v) for v in prepared[0]]
    assert unwrap == [getattr(v, "obj", v) for v in expected]
    assert prepared[0][0] == "12"


def test_insert_rows_fills_the_model_defaults() -> None:
    # given an outbox row named by a few fields only
    with transaction.atomic():
        insert_rows(OutboxEvent, [
            {"event_type": "OrderAccepted", "order_id": "O-1", "shop_id": 3, "audience": "CUSTOMER",
             "payload": {"order_id": "O-1", "n": 1.5}, "next_attempt_at": INSTANT,
             "created_date": INSTANT, "request_id": "req-1"},
            {"event_type": "OrderRefused", "order_id": "O-2", "shop_id": None, "audience": "SELLER",
             "payload": {}, "next_attempt_at": INSTANT, "created_date": INSTANT},
        ])
    # then the ORM reads back the values given and the model's defaults for the others
    first, second = OutboxEvent.objects.order_by("id")
    assert (first.event_type, first.order_id, first.shop_id, first.audience) == ("OrderAccepted", "O-1", 3, "CUSTOMER")
    assert first.payload == {"order_id": "O-1", "n": 1.5}
    assert first.next_attempt_at == INSTANT and first.created_date == INSTANT
    assert (first.state, first.attempts, first.claimed_by, first.claimed_until, first.sent_date) == (
        OutboxState.PENDING, 0, "", None, None)
    assert first.request_id == "req-1"
    assert (second.shop_id, second.payload, second.request_id) == (None, {}, "")


def test_insert_rows_returning_gives_the_ids_in_the_order_of_the_rows() -> None:
    # given more rows than one INSERT … RETURNING carries (32), each told apart by its order id
    rows = [{"event_type": "ShipmentShipped", "order_id": f"O-{n}", "shop_id": n, "audience": "CUSTOMER",
             "payload": {}, "next_attempt_at": INSTANT, "created_date": INSTANT} for n in range(70)]
    # when they are inserted with their ids read back
    with transaction.atomic():
        ids = insert_rows(OutboxEvent, rows, returning=True)
        nothing = insert_rows(OutboxEvent, rows[:1])
    # then each id is its own row's, and a plain insert reads nothing back
    assert dict(OutboxEvent.objects.filter(pk__in=ids).values_list("pk", "order_id")) == {
        pk: f"O-{n}" for n, pk in enumerate(ids)}
    assert len(set(ids)) == 70 and nothing == []


def test_insert_rows_of_history_and_timers_read_back_alike() -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    Timer.objects.all().delete()
    with transaction.atomic():
        insert_rows(OrderHistory, [{
            "order": order.pk, "line_id": "L-1", "created_date": INSTANT, "actor": Actor.SELLER,
            "actor_name": "API boutique 1", "trigger": "ACCEPT", "from_state": OrderState.WAITING_ACCEPTANCE,
            "to_state": OrderState.WAITING_DEBIT, "reason_code": "", "reason_label": "",
        }])
        insert_rows(Timer, [{"kind": str(TimerKind.DEBIT), "order": order.pk, "due_at": INSTANT,
                             "created_date": INSTANT}])
    row = OrderHistory.objects.get(order=order, line_id="L-1")
    assert (row.actor, row.from_state, row.to_state, row.details, row.created_date) == (
        "SELLER", "WAITING_ACCEPTANCE", "WAITING_DEBIT", {}, INSTANT)
    timer = Timer.objects.get(order=order)
    assert (timer.kind, timer.state, timer.attempts, timer.due_at, timer.done_date) == (
        "DEBIT", TimerState.PENDING, 0, INSTANT, None)


def test_write_updates_rows_as_the_orm_would() -> None:
    # given an order and its lines
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    line = OrderLine.objects.filter(order=order).first()
    build = sql.update_sql(OrderLine, ("state", "last_updated_date", "shipped_date"), ("id",))
    # when a compiled UPDATE writes a line
    with transaction.atomic():
        changed = sql.write(("test_write", "line"), build, [[OrderState.WAITING_DEBIT, INSTANT, None, line.pk]])
    # then one row changed, to the values given
    assert changed == 1
    line.refresh_from_db()
    assert (line.state, line.last_updated_date, line.shipped_date) == ("WAITING_DEBIT", INSTANT, None)


def test_key_owner_reads_the_key_at_every_call() -> None:
    # given a shop's key
    shop = ShopFactory()
    raw = shop_services.issue_api_key(shop_id=shop.id)
    # then it names its shop, with or without surrounding spaces
    assert shop_services.key_owner(raw) == shop_services.KeyOwner(ApiKeyKind.SHOP, shop.id)
    assert shop_services.key_owner(f" {raw} ") == shop_services.KeyOwner(ApiKeyKind.SHOP, shop.id)
    # an unknown or empty key names nobody
    assert shop_services.key_owner(raw + "x") is None
    assert shop_services.key_owner("") is None
    # when a new key is issued, the old one is refused at once (no cache of validity)
    new = shop_services.issue_api_key(shop_id=shop.id)
    assert shop_services.key_owner(raw) is None
    assert shop_services.key_owner(new) == shop_services.KeyOwner(ApiKeyKind.SHOP, shop.id)
    # an operator key has no shop
    operator = shop_services.issue_api_key(shop_id=None)
    assert shop_services.key_owner(operator) == shop_services.KeyOwner(ApiKeyKind.OPERATOR, None)


def test_writing_holds_the_sqlite_writer_lock_across_processes() -> None:
    with sql.writing():
        assert connection.in_atomic_block
        if connection.vendor != "sqlite":
            return  # PostgreSQL: row locks, no writer lock
        # while a lifecycle change runs, another descriptor (another process) cannot take the writer lock
        path = f"{connection.settings_dict['NAME']}-writer.lock"
        other = os.open(path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
    # and once it committed, the lock is free
    other = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)
