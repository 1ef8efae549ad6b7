"""Money follows orders: pending on debit, payable on reception, paid on payout; the books always balance."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db.models import Sum
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from comptoir.ledger import queries, services
from comptoir.ledger.models import LedgerEntry
from comptoir.orders.states import OrderState
from tests.factories import OfferFactory, ShopFactory, make_order, operator_key, shop_key

pytestmark = pytest.mark.django_db(transaction=True)


def _net(order) -> int:
    return order.total_price_cents - order.total_commission_cents


def _postings_balance() -> bool:
    sums = defaultdict(int)
    for posting, cents in LedgerEntry.objects.values_list("posting", "amount_cents"):
        sums[posting] += cents
    return all(total == 0 for total in sums.values())


def test_a_debited_order_is_pending_for_the_shop_net_of_commission() -> None:
    order = make_order(OrderState.SHIPPING)

    assert queries.balances(order.shop_id) == {"pending": _net(order), "payable": 0, "paid": 0}
    assert _postings_balance()


def test_reception_moves_the_order_value_to_payable() -> None:
    order = make_order(OrderState.RECEIVED)

    assert queries.balances(order.shop_id) == {"pending": 0, "payable": _net(order), "paid": 0}
    assert _postings_balance()


def test_the_locked_balances_of_a_refund_are_the_sums_of_the_shops_entries_only() -> None:
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    # given one shop with a pending and a payable order, and another shop's order
    pending = make_order(OrderState.SHIPPING)
    received = make_order(OrderState.RECEIVED, shop=pending.shop)
    make_order(OrderState.RECEIVED)

    # when a refund locks the shop and reads its balances (in its transaction; never outside one)
    with transaction.atomic():
        locked = services.lock_shop_balances(pending.shop_id)
    with pytest.raises(TransactionManagementError):
        services.lock_shop_balances(pending.shop_id)

    # then they are that shop's own sums, as the back office reads them, with no entry making a zero
    assert locked == {"pending": _net(pending), "payable": _net(received), "paid": 0}
    assert locked == queries.balances(pending.shop_id)
    with transaction.atomic():
        assert services.lock_shop_balances(ShopFactory().pk) == {"pending": 0, "payable": 0, "paid": 0}


def test_refused_lines_are_never_credited() -> None:
    from comptoir.orders import services as order_services
    from comptoir.orders.rules import Decision
    from tests.factories import SELLER, _run_debit

    order = make_order(OrderState.WAITING_ACCEPTANCE, lines=2)
    kept, refused = order.lines.order_by("index")
    order_services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                                decisions=[Decision(kept.line_id, True), Decision(refused.line_id, False)])
    _run_debit(order)

    expected = kept.price_cents + kept.shipping_price_cents - kept.commission_fee_cents - kept.commission_vat_cents
    assert queries.balances(order.shop_id)["pending"] == expected
    assert not LedgerEntry.objects.filter(order_line_id=refused.line_id).exists()


def test_a_payout_pays_every_payable_balance_once_and_its_statement_lists_each_shop() -> None:
    first = make_order(OrderState.RECEIVED)
    second = make_order(OrderState.RECEIVED)
    pending = make_order(OrderState.SHIPPED)
    client = Client()
    key = operator_key()

    response = client.post("/api/operator/payouts", HTTP_AUTHORIZATION=key)
    again = client.post("/api/operator/payouts", HTTP_AUTHORIZATION=key)

    assert response.status_code == 201
    assert response.json()["total"] == (_net(first) + _net(second)) / 100
    assert again.json()["total"] == 0 and again.json()["shops_count"] == 0
    assert queries.balances(first.shop_id) == {"pending": 0, "payable": 0, "paid": _net(first)}
    assert queries.balances(pending.shop_id)["pending"] == _net(pending)
    csv_text = client.get(f"/api/operator/payouts/{response.json()['id']}/statement.csv",
                          HTTP_AUTHORIZATION=key).content.decode("utf-8-sig")
    rows = csv_text.strip().splitlines()
    assert rows[0].startswith("versement;date;boutique")
    assert len(rows) == 3 and str(first.shop_id) in csv_text and str(pending.shop_id) not in csv_text
    assert client.get("/api/operator/payouts/424242/statement.csv", HTTP_AUTHORIZATION=key).status_code == 404


def test_a01_and_tl02_show_the_ledger_to_the_seller_and_only_theirs() -> None:
    order = make_order(OrderState.RECEIVED)
    other = make_order(OrderState.RECEIVED)
    client = Client()
    key = shop_key(order.shop)

    account = client.get("/api/account", HTTP_AUTHORIZATION=key).json()
    assert account["payment_details"]["payable_balance"] == _net(order) / 100

    page = client.get("/api/sellerpayment/transactions_logs?limit=3&payment_state=PAYABLE",
                      HTTP_AUTHORIZATION=key).json()
    assert len(page["data"]) == 3 and "next_page_token" in page
    rest = client.get(f"/api/sellerpayment/transactions_logs?limit=100&payment_state=PAYABLE"
                      f"&page_token={page['next_page_token']}", HTTP_AUTHORIZATION=key).json()
    lines = page["data"] + rest["data"]
    assert {line["payment_state"] for line in lines} == {"PAYABLE"}
    assert round(sum(line["amount"] for line in lines), 2) == _net(order) / 100
    assert all(line["entities"]["order"]["id"] == order.order_id for line in lines)
    assert other.order_id not in str(lines)
    bad = client.get("/api/sellerpayment/transactions_logs?transaction_type=NOPE", HTTP_AUTHORIZATION=key)
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(["ship", "receive", "payout"]), min_size=1, max_size=6))
def test_books_balance_and_no_balance_goes_negative_whatever_the_sequence(steps) -> None:
    shop = ShopFactory()
    offer = OfferFactory(shop=shop, price_cents=1999)
    for step in steps:
        if step == "ship":
            make_order(OrderState.SHIPPED, shop=shop, offers=[(offer, 2)])
        elif step == "receive":
            make_order(OrderState.RECEIVED, shop=shop, offers=[(offer, 1)])
        else:
            services.run_payout(by="hypothesis")
        balances = queries.balances(shop.id)
        assert all(value >= 0 for value in balances.values())
        by_account = dict(LedgerEntry.objects.filter(shop=shop).values("account")
                          .annotate(t=Sum("amount_cents")).values_list("account", "t"))
        assert balances["pending"] == (by_account.get("SHOP_PENDING") or 0)
        assert balances["payable"] == (by_account.get("SHOP_PAYABLE") or 0)
    assert LedgerEntry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0
    assert _postings_balance()


def test_a_category_rate_overrides_the_shop_commission_rate() -> None:
    from decimal import Decimal

    from comptoir.shops.models import CategoryCommission

    shop = ShopFactory(commission_rate=Decimal("10"))
    books = OfferFactory(shop=shop, category_code="LIVRES", price_cents=2000)
    lamp = OfferFactory(shop=shop, category_code="MAISON", price_cents=2000)
    CategoryCommission.objects.create(shop=shop, category_code="LIVRES", rate=Decimal("5"))

    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, offers=[(books, 1), (lamp, 1)])

    book_line, lamp_line = order.lines.order_by("index")
    # (20.00 + 4.90 shipping) × 5 % = 1.245 → 1.25 ; × 10 % = 2.49
    assert (book_line.commission_rate, book_line.commission_fee_cents) == (Decimal("5"), 125)
    assert (lamp_line.commission_rate, lamp_line.commission_fee_cents) == (Decimal("10"), 249)
