"""Listing reads on a read replica (comptoir/replica.py): the router's choices, with a `replica` alias mirroring
the test database (Django's TEST MIRROR: a second connection to the same database, as a replica would hold the
same rows). Inside listing_reads() and out of a transaction → replica; inside an atomic block → default; writes →
default; no replica configured → default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from comptoir import replica
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.replica import REPLICA, listing_reads, read_connection
from comptoir.shops.models import Shop
from tests.factories import ShopFactory, make_order


@pytest.fixture(scope="module")
def replica_alias(django_db_setup: None) -> Iterator[None]:
    """A `replica` alias on the test database (what TEST {"MIRROR": "default"} gives when
    COMPTOIR_REPLICA_DATABASE_URL is set). Module-scoped: it exists before the test's database access is set up,
    which allows it (django_db's `databases`)."""
    connections.settings[REPLICA] = {**connections[DEFAULT_DB_ALIAS].settings_dict,
                                     "TEST": {"MIRROR": DEFAULT_DB_ALIAS}}
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def mirrored(replica_alias: None, settings: Any) -> None:
    """The alias and the router of settings.py, out of a test transaction (the router sends nothing to the
    replica inside one): the tests using it are marked REPLICA_DB."""
    settings.DATABASE_ROUTERS = ["comptoir.replica.ReplicaRouter"]


REPLICA_DB = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


def test_without_a_replica_everything_reads_the_primary(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(connections.settings, REPLICA, raising=False)
    assert not replica.replica_configured()
    with listing_reads():
        assert read_connection().alias == DEFAULT_DB_ALIAS
        assert Order.objects.all().db == DEFAULT_DB_ALIAS


@REPLICA_DB
def test_listing_reads_go_to_the_replica_out_of_a_transaction(mirrored: None) -> None:
    order = make_order(OrderState.SHIPPING, shop=ShopFactory(), lines=1)

    # outside listing_reads: the primary
    assert router.db_for_read(Order) == DEFAULT_DB_ALIAS
    assert read_connection().alias == DEFAULT_DB_ALIAS

    # inside: the replica, for the ORM and for raw SQL through read_connection()
    with listing_reads():
        assert router.db_for_read(Order) == REPLICA
        assert read_connection().alias == REPLICA
        with CaptureQueriesContext(connections[REPLICA]) as on_replica, \
                CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary:
            found = list(Order.objects.filter(pk=order.pk).values_list("order_id", flat=True))
        assert found == [order.order_id]
        assert len(on_replica.captured_queries) == 1 and not on_primary.captured_queries

    # and back to the primary after the block
    assert router.db_for_read(Order) == DEFAULT_DB_ALIAS


@REPLICA_DB
def test_inside_an_atomic_block_reads_stay_on_the_primary(mirrored: None) -> None:
    shop = ShopFactory()
    with listing_reads(), transaction.atomic():
        assert router.db_for_read(Order) == DEFAULT_DB_ALIAS
        assert read_connection().alias == DEFAULT_DB_ALIAS
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert Shop.objects.filter(pk=shop.pk).exists()  # its own transaction's view
        assert not on_replica.captured_queries


@REPLICA_DB
def test_writes_go_to_the_primary_even_inside_listing_reads(mirrored: None) -> None:
    with listing_reads():
        assert router.db_for_write(Order) == DEFAULT_DB_ALIAS
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            shop = ShopFactory()
            shop.name = "Renommée"
            shop.save()
        assert not [q for q in on_replica.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert Shop.objects.using(DEFAULT_DB_ALIAS).get(pk=shop.pk).name == "Renommée"
    assert not router.allow_migrate(REPLICA, "orders")
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "orders")


@REPLICA_DB
def test_the_operator_order_list_page_reads_the_replica(mirrored: None) -> None:
    from django.contrib.auth import get_user_model

    make_order(OrderState.SHIPPING, shop=ShopFactory(), lines=1)
    user = get_user_model().objects.create_user("ops@example.test", "ops@example.test", "x" * 12, is_staff=True)
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        answer = client.get("/operateur/commandes/")
    assert answer.status_code == 200, answer.status_code
    assert any("orders_order" in q["sql"] for q in on_replica.captured_queries)
