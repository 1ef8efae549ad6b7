"""Seller Comptabilité: balances from the ledger, the filtered transaction lines, their CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from comptoir.core import clock
from comptoir.ledger import services as ledger_services
from comptoir.ledger.models import LedgerEntry
from comptoir.ledger.rules import TransactionType
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.web.accounting import PAYMENT_STATE_LABELS, TRANSACTION_TYPE_LABELS, decimal_comma
from comptoir.web.templatetags.comptoir_web import euros
from tests.factories import make_order

pytestmark = pytest.mark.django_db
URL = "/vendeur/comptabilite/"
CSV_URL = "/vendeur/comptabilite/export.csv"
MAX_QUERIES = 7  # session, user, memberships, balances, count, page (+ slack): the same for 1 or 60 lines


def _net(order: Order) -> int:
    """What the shop is owed for an order, by hand from its lines: price and shipping, less the commission."""
    return sum(line.price_cents + line.shipping_price_cents - line.commission_fee_cents - line.commission_vat_cents
               for line in order.lines.all())


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_the_page_shows_the_balances_computed_from_the_orders(seller_client: Client, shop: Shop,
                                                              other_shop: Shop) -> None:
    received = make_order(OrderState.RECEIVED, shop=shop)
    shipped = make_order(OrderState.SHIPPED, shop=shop)
    make_order(OrderState.RECEIVED, shop=other_shop)
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)  # not debited: owes nothing yet

    response = seller_client.get(URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["balances"] == {"pending": _net(shipped), "payable": _net(received), "paid": 0}
    assert euros(_net(shipped)) in body and euros(_net(received)) in body
    assert "En attente" in body and "Payable" in body and "Versé" in body


def test_a_payout_moves_the_payable_balance_to_paid(seller_client: Client, shop: Shop) -> None:
    received = make_order(OrderState.RECEIVED, shop=shop)
    ledger_services.run_payout(by="tests")

    response = seller_client.get(URL)

    assert response.context["balances"] == {"pending": 0, "payable": 0, "paid": _net(received)}
    assert "Versement" in response.content.decode()


def test_the_menu_and_the_home_balance_lead_to_the_accounting_page(seller_client: Client) -> None:
    body = seller_client.get("/vendeur/").content.decode()

    assert re.search(r'<a href="/vendeur/comptabilite/"\s*>Comptabilité</a>', body)
    assert '<a class="card indicator" href="/vendeur/comptabilite/">' in body


def test_the_list_shows_only_the_shops_own_lines_with_french_labels(seller_client: Client, shop: Shop,
                                                                     other_shop: Shop) -> None:
    mine = make_order(OrderState.SHIPPED, shop=shop)
    theirs = make_order(OrderState.SHIPPED, shop=other_shop)

    body = seller_client.get(URL).content.decode()

    assert mine.order_id in body and theirs.order_id not in body
    for label in ("Montant des produits", "Frais de port", "Commission", "TVA sur la commission", "En attente"):
        assert label in body
    assert "ORDER_AMOUNT" not in body.split("<table", 1)[1]  # codes never leak into the table


def test_every_transaction_type_and_payment_state_has_a_french_label() -> None:
    assert set(TRANSACTION_TYPE_LABELS) == {t.value for t in TransactionType}
    assert PAYMENT_STATE_LABELS == {"PENDING": "En attente", "PAYABLE": "Payable", "PAID": "Versé"}


def test_filters_by_payment_state_type_order_and_dates(seller_client: Client, shop: Shop) -> None:
    received = make_order(OrderState.RECEIVED, shop=shop)
    shipped = make_order(OrderState.SHIPPED, shop=shop)
    today = timezone.localdate(clock.now())  # the back office reads days in Paris time

    payable = seller_client.get(URL, {"etat": "PAYABLE"})
    commission = seller_client.get(URL, {"type": "COMMISSION_FEE"})
    one_order = seller_client.get(URL, {"commande": shipped.order_id})
    yesterday = seller_client.get(URL, {"au": (today - timedelta(days=1)).isoformat()})
    today_only = seller_client.get(URL, {"du": today.isoformat(), "au": today.isoformat()})

    assert {e.account for e, _t, _s in payable.context["rows"]} == {"SHOP_PAYABLE"}
    assert {e.order_id for e, _t, _s in payable.context["rows"]} == {received.order_id}
    assert {e.transaction_type for e, _t, _s in commission.context["rows"]} == {"COMMISSION_FEE"}
    assert {e.order_id for e, _t, _s in one_order.context["rows"]} == {shipped.order_id}
    assert yesterday.context["total"] == 0 and "Aucune opération" in yesterday.content.decode()
    assert today_only.context["total"] == LedgerEntry.objects.filter(
        shop=shop, account__in=["SHOP_PENDING", "SHOP_PAYABLE", "SHOP_PAID"]).count()


@pytest.mark.parametrize(("params", "message"), [
    ({"du": "2026-13-45"}, "Date invalide"),
    ({"du": "2026-05-02", "au": "2026-05-01"}, "La date de début doit précéder la date de fin."),
    ({"type": "NOPE"}, "Type d&#x27;opération inconnu : NOPE."),
    ({"etat": "LOST"}, "État du paiement inconnu : LOST."),
    ({"commande": "x" * 200}, "N° de commande trop long"),
])
def test_bad_filters_get_a_french_message_and_no_error_page(seller_client: Client, shop: Shop,
                                                             params: dict[str, str], message: str) -> None:
    make_order(OrderState.SHIPPED, shop=shop)

    response = seller_client.get(URL, params)

    body = response.content.decode()
    assert response.status_code == 400
    assert message in body and "Filtres invalides" in body
    assert response.context["total"] > 0  # the list is shown unfiltered, not a blank page


def test_a_bad_page_number_shows_a_page(seller_client: Client) -> None:
    assert seller_client.get(URL, {"page": "abc"}).status_code == 200
    assert seller_client.get(URL, {"page": "9999"}).status_code == 200


def test_the_list_is_paginated_with_bounded_queries(seller_client: Client, shop: Shop,
                                                    django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    make_order(OrderState.SHIPPED, shop=shop, lines=1)
    with django_assert_max_num_queries(MAX_QUERIES):
        seller_client.get(URL)
    for _ in range(3):
        make_order(OrderState.RECEIVED, shop=shop, lines=2)
    total = LedgerEntry.objects.filter(shop=shop, account__in=["SHOP_PENDING", "SHOP_PAYABLE"]).count()
    assert 50 < total <= 100

    with django_assert_max_num_queries(MAX_QUERIES):
        first = seller_client.get(URL)
    with django_assert_max_num_queries(MAX_QUERIES):
        second = seller_client.get(URL, {"page": "2", "etat": ["PENDING", "PAYABLE"]})

    assert first.context["total"] == total and len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == total - 50
    assert "Page 1 sur 2" in first.content.decode() and "page=2" in first.content.decode()


def test_the_csv_export_lists_the_filtered_lines_in_french(seller_client: Client, shop: Shop) -> None:
    received = make_order(OrderState.RECEIVED, shop=shop)
    make_order(OrderState.SHIPPED, shop=shop)

    response = seller_client.get(CSV_URL, {"etat": "PAYABLE"})
    header, *rows = _csv(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="comptabilite-{shop.id}.csv"'
    assert header == ["Date", "Type d'opération", "État du paiement", "N° de commande", "Ligne de commande",
                      "Montant", "Devise", "N° de versement"]
    assert {row[2] for row in rows} == {"Payable"} and {row[3] for row in rows} == {received.order_id}
    assert len(rows) == LedgerEntry.objects.filter(shop=shop, account="SHOP_PAYABLE").count()
    total = sum(int(row[5].replace(",", "").replace("-", "")) * (-1 if row[5].startswith("-") else 1)
                for row in rows)
    assert total == _net(received)
    assert all("," in row[5] and "." not in row[5] for row in rows)
    assert "Commission" in {row[1] for row in rows}


def test_the_csv_export_holds_every_line_not_just_one_page(seller_client: Client, shop: Shop) -> None:
    for _ in range(6):
        make_order(OrderState.RECEIVED, shop=shop, lines=2)

    _header, *rows = _csv(seller_client.get(CSV_URL))

    assert len(rows) == LedgerEntry.objects.filter(
        shop=shop, account__in=["SHOP_PENDING", "SHOP_PAYABLE", "SHOP_PAID"]).count() > 50


def test_exporting_with_bad_filters_sends_back_to_the_page_in_french(seller_client: Client) -> None:
    response = seller_client.get(CSV_URL, {"type": "NOPE"}, follow=True)

    assert response.redirect_chain[0][0].startswith(URL)
    assert "corrigez-les avant d&#x27;exporter" in response.content.decode()


def test_amounts_are_written_exactly_with_a_decimal_comma() -> None:
    assert [decimal_comma(c) for c in (0, 5, 123456, -1999, -7)] == ["0,00", "0,05", "1234,56", "-19,99", "-0,07"]


def test_anonymous_visitors_are_sent_to_the_login(db) -> None:  # type: ignore[no-untyped-def]
    for url in (URL, CSV_URL):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/vendeur/connexion/")
