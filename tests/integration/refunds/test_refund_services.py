"""Refunds and cancelations through the services: amounts, the ledger, the lifecycle, the payment back."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from comptoir.core.errors import ComptoirError
from comptoir.ledger import queries as ledger_queries
from comptoir.ledger.models import LedgerEntry
from comptoir.ledger.services import run_payout
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.services import confirm_reception
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds import services
from comptoir.refunds.errors import (
    BalanceInsufficient,
    CancelationQuantityExceeded,
    RefundAmountExceeded,
    RefundLineNotShipped,
    RefundReasonInvalid,
)
from comptoir.refunds.models import Refund
from comptoir.refunds.rules import RefundMode, RefundState
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_timer
from tests.factories import OfferFactory, ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)

SELLER = Who(Actor.SELLER, "Vendeur")
OPERATOR = Who(Actor.OPERATOR, "Opérateur")


@pytest.fixture(autouse=True)
def _reasons() -> None:
    services.ensure_default_reasons()


def _books_balance() -> bool:
    sums: dict[object, int] = defaultdict(int)
    for posting, cents in LedgerEntry.objects.values_list("posting", "amount_cents"):
        sums[posting] += cents
    return all(total == 0 for total in sums.values())


def _lines(order):
    return list(order.lines.order_by("index"))


def test_a_full_refund_of_a_shipped_line_gives_back_everything_and_settles_the_line() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _lines(order)[0]
    pending_before = ledger_queries.balances(order.shop_id)["pending"]

    (refund,) = services.refund_lines(requests=[services.LineRequest(line.line_id, "17")], who=SELLER,
                                      shop_id=order.shop_id)

    assert refund.amount_cents == line.price_cents and refund.shipping_cents == line.shipping_price_cents
    assert refund.amount_tax_cents == line.tax_cents and refund.shipping_tax_cents == line.shipping_tax_cents
    assert refund.commission_fee_cents == line.commission_fee_cents
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.state == OrderState.REFUNDED and order.state == OrderState.SHIPPED
    cost = line.price_cents + line.shipping_price_cents - line.commission_fee_cents - line.commission_vat_cents
    assert ledger_queries.balances(order.shop_id)["pending"] == pending_before - cost
    assert _books_balance()
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderRefunded",
                                      audience="CUSTOMER").exists()


def test_a_partial_amount_is_typed_excluding_tax_and_the_tax_is_added() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _lines(order)[0]  # 10.00 € incl. 20 % VAT

    (refund,) = services.refund_lines(requests=[services.LineRequest(
        line.line_id, "22", RefundMode.AMOUNT, amount_cents=500)], who=SELLER, shop_id=order.shop_id)

    assert (refund.amount_cents, refund.amount_tax_cents) == (600, 100)
    line.refresh_from_db()
    assert line.state == OrderState.SHIPPED  # not everything given back


def test_never_more_than_paid_across_refunds() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _lines(order)[0]
    services.refund_lines(requests=[services.LineRequest(line.line_id, "22", RefundMode.AMOUNT, amount_cents=700)],
                          who=SELLER, shop_id=order.shop_id)

    with pytest.raises(RefundAmountExceeded):
        services.refund_lines(requests=[services.LineRequest(line.line_id, "22", RefundMode.AMOUNT,
                                                             amount_cents=200)], who=SELLER, shop_id=order.shop_id)
    assert Refund.objects.count() == 1


def test_a_reason_is_required_and_operator_reasons_are_not_for_shops() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _lines(order)[0]
    for code in ("", "nope", "14"):
        with pytest.raises(RefundReasonInvalid):
            services.refund_lines(requests=[services.LineRequest(line.line_id, code)], who=SELLER,
                                  shop_id=order.shop_id)
    assert not Refund.objects.exists()
    services.refund_lines(requests=[services.LineRequest(line.line_id, "14")], who=OPERATOR, shop_id=None)
    assert Refund.objects.count() == 1


def test_after_payout_a_refund_the_payable_balance_cannot_cover_is_refused() -> None:
    order = make_order(OrderState.RECEIVED)
    run_payout(by="test")
    line = _lines(order)[0]

    with pytest.raises(BalanceInsufficient) as error:
        services.refund_lines(requests=[services.LineRequest(line.line_id, "17")], who=SELLER,
                              shop_id=order.shop_id)
    assert "service client" in error.value.message
    assert not Refund.objects.exists()


def test_a_full_refund_of_an_unshipped_line_must_be_a_cancelation() -> None:
    order = make_order(OrderState.SHIPPING)
    line = _lines(order)[0]
    with pytest.raises(RefundLineNotShipped):
        services.refund_lines(requests=[services.LineRequest(line.line_id, "17")], who=SELLER,
                              shop_id=order.shop_id)


def test_canceling_every_line_cancels_the_order_and_pays_the_customer_back() -> None:
    order = make_order(OrderState.SHIPPING)

    refunds = services.cancel_order(order_id=order.order_id, who=SELLER, shop_id=order.shop_id)

    order.refresh_from_db()
    assert order.state == OrderState.CANCELED
    assert sum(r.total_cents for r in refunds) == order.total_price_cents
    assert ledger_queries.balances(order.shop_id)["pending"] == 0
    assert _books_balance()
    timer = Timer.objects.get(order=order, kind="REFUND_PAYMENT", state="PENDING")
    Timer.objects.filter(pk=timer.pk).update(claimed_by="w")
    assert run_timer(timer.pk, timer.kind, order.pk, "w")
    assert set(Refund.objects.values_list("state", flat=True)) == {RefundState.REFUNDED}
    assert all(r.transaction_number for r in Refund.objects.all())


def test_canceling_some_units_keeps_the_order_and_lowers_what_ships() -> None:
    order = make_order(OrderState.SHIPPING, lines=1, quantity=3)
    line = _lines(order)[0]

    (refund,) = services.cancel_lines(requests=[services.LineRequest(line.line_id, "35", RefundMode.QUANTITY,
                                                                     quantity=2)], who=SELLER, shop_id=order.shop_id)

    line.refresh_from_db()
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPING and line.state == OrderState.SHIPPING
    assert line.canceled_quantity == 2 and refund.amount_cents == 2 * line.unit_price_cents
    with pytest.raises(CancelationQuantityExceeded):
        services.cancel_lines(requests=[services.LineRequest(line.line_id, "35", RefundMode.QUANTITY, quantity=2)],
                              who=SELLER, shop_id=order.shop_id)


STEPS = st.lists(st.tuples(
    st.sampled_from(["order", "receive", "payout", "refund", "cancel"]),
    st.sampled_from(list(RefundMode)), st.integers(0, 3), st.one_of(st.none(), st.integers(1, 4000)),
    st.booleans(),
), min_size=1, max_size=10)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_books_balance_and_nothing_goes_below_zero_whatever_the_refunds(steps) -> None:
    shop = ShopFactory()
    offer = OfferFactory(shop=shop, price_cents=1999)
    orders = [make_order(OrderState.SHIPPED, shop=shop, offers=[(offer, 2)])]
    for step, mode, quantity, amount, shipping in steps:
        order = orders[-1]
        order.refresh_from_db()
        line = order.lines.order_by("index").first()
        try:
            if step == "order":
                orders.append(make_order(OrderState.SHIPPING, shop=shop, offers=[(offer, 3)]))
            elif step == "receive" and order.state == OrderState.SHIPPED:
                confirm_reception(order_id=order.order_id, who=Who(Actor.CUSTOMER))
            elif step == "payout":
                run_payout(by="hypothesis")
            elif step == "refund":
                services.refund_lines(requests=[services.LineRequest(
                    line.line_id, "19", mode, quantity, amount, 200 if shipping else None)],
                    who=SELLER, shop_id=shop.id)
            elif step == "cancel":
                services.cancel_lines(requests=[services.LineRequest(
                    line.line_id, "35", RefundMode.QUANTITY if quantity else RefundMode.FULL, quantity)],
                    who=SELLER, shop_id=shop.id)
        except ComptoirError:
            pass  # refused requests change nothing: the checks below hold either way
        balances = ledger_queries.balances(shop.id)
        assert balances["pending"] >= 0 and balances["payable"] >= 0
    assert _books_balance()
    for order in orders:
        for line in order.lines.all():
            given_back = Refund.objects.filter(line=line).aggregate(a=Sum("amount_cents"), s=Sum("shipping_cents"))
            assert (given_back["a"] or 0) <= line.price_cents
            assert (given_back["s"] or 0) <= line.shipping_price_cents
            ledger_back = LedgerEntry.objects.filter(
                order_line_id=line.line_id, account="CUSTOMER_FUNDS",
                transaction_type__in=["REFUND_ORDER_AMOUNT", "REFUND_ORDER_SHIPPING_AMOUNT"],
            ).aggregate(t=Sum("amount_cents"))["t"] or 0
            assert ledger_back == (given_back["a"] or 0) + (given_back["s"] or 0)


def _run_refund_payment(order) -> bool:
    timer = Timer.objects.get(order=order, kind="REFUND_PAYMENT", state="PENDING")
    Timer.objects.filter(pk=timer.pk).update(claimed_by="w")
    return run_timer(timer.pk, timer.kind, order.pk, "w")


def test_a_refund_the_provider_refuses_is_retried_with_a_new_key_and_the_operator_told(test_clock) -> None:
    from comptoir.payments.models import PaymentOperation
    from comptoir.payments.services import set_simulated_directive

    order = make_order(OrderState.SHIPPED)
    line = _lines(order)[0]
    set_simulated_directive(order_id=order.order_id, refuse_capture=False, refuse_reauthorization=False,
                            refuse_refund=True)
    (refund,) = services.refund_lines(requests=[services.LineRequest(line.line_id, "17")], who=SELLER,
                                      shop_id=order.shop_id)

    assert _run_refund_payment(order)
    refund.refresh_from_db()
    assert refund.state == RefundState.WAITING_REFUND_PAYMENT and refund.payment_refusals == 1
    assert "refusé" in refund.failure_reason
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="RefundPaymentFailed",
                                      audience="OPERATOR").count() == 1
    retry = Timer.objects.get(order=order, kind="REFUND_PAYMENT", state="PENDING")
    assert retry.due_at > test_clock.now()

    # the bank accepts again: the next try (a new key) pays the customer back once
    set_simulated_directive(order_id=order.order_id, refuse_capture=False, refuse_reauthorization=False)
    Timer.objects.filter(pk=retry.pk).update(due_at=test_clock.now())
    assert _run_refund_payment(order)
    refund.refresh_from_db()
    assert refund.state == RefundState.REFUNDED and refund.transaction_number.startswith("sim_refund_")
    keys = sorted(PaymentOperation.objects.filter(kind="REFUND").values_list("idempotency_key", "succeeded"))
    assert keys == [(f"refund:{refund.pk}", False), (f"refund:{refund.pk}:retry1", True)]


def test_line_accounts_sum_the_refunds_and_the_parcels_of_each_line() -> None:
    # given a line with a shipped and a prepared parcel, a refund and a cancelation, and a line with neither
    from comptoir.core import clock
    from comptoir.refunds import queries
    from comptoir.shipping import services as shipping_services

    order = make_order(OrderState.SHIPPING, lines=2, quantity=3)
    first, second = order.lines.order_by("index")
    for shipped in (True, False):
        shipping_services.create_shipment(shop_id=order.shop_id, who=SELLER, request=shipping_services.ShipmentRequest(
            order_id=order.order_id, lines=[shipping_services.LineRequest(quantity=1, order_line_id=first.line_id)],
            shipped=shipped))
    for kind, n in (("REFUND", 1), ("CANCELATION", 2)):
        Refund.objects.create(order=order, line=first, shop_id=order.shop_id, group_id=f"G{n}", kind=kind,
                              mode="FULL", reason_code="22", reason_label="Geste", quantity=n, amount_cents=100 * n,
                              amount_tax_cents=10 * n, shipping_cents=5 * n, shipping_tax_cents=n,
                              commission_fee_cents=7 * n, commission_vat_cents=3 * n, actor="SELLER",
                              created_date=clock.now())

    # when the accounts are read
    accounts = queries.line_accounts(order.pk, [first, second])

    # then each sum is the line's own (refunded units count the REFUND rows only), as plain ints
    a, b = accounts[first.line_id], accounts[second.line_id]
    assert (a.back_amount_cents, a.back_amount_tax_cents, a.back_shipping_cents, a.back_shipping_tax_cents,
            a.back_commission_fee_cents, a.back_commission_vat_cents) == (300, 30, 15, 3, 21, 9)
    assert type(a.back_amount_cents) is int and type(a.in_shipments_quantity) is int
    assert (a.refunded_quantity, a.in_shipments_quantity, a.shipped_quantity) == (1, 2, 1)
    assert (b.back_amount_cents, b.back_commission_vat_cents, b.refunded_quantity, b.in_shipments_quantity,
            b.shipped_quantity) == (0, 0, 0, 0, 0)
