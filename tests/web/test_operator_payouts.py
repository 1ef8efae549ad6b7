"""Operator payouts: the list, running one after confirmation, the statement as a page and as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from comptoir.ledger.models import Payout
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.factories import OfferFactory, make_order

pytestmark = pytest.mark.django_db


def _order(shop: Shop, price_cents: int, state: OrderState = OrderState.RECEIVED) -> None:
    # One line, shipping 4,90 €: commission 10 % of (price + shipping), its VAT 20 % of the commission.
    make_order(state, shop=shop, offers=[(OfferFactory(shop=shop, price_cents=price_cents), 1)])


@pytest.fixture
def payable(shop: Shop, other_shop: Shop) -> None:
    _order(shop, 2010)  # 25,00 € paid: commission 2,50 € + VAT 0,50 € → net 22,00 €
    _order(shop, 4510)  # 50,00 € paid: commission 5,00 € + VAT 1,00 € → net 44,00 €
    _order(other_shop, 510)  # 10,00 € paid: commission 1,00 € + VAT 0,20 € → net 8,80 €
    _order(other_shop, 9510, OrderState.SHIPPING)  # 100,00 € − 10,00 € − 2,00 € = 88,00 €, pending: not paid


def test_the_page_shows_what_the_next_payout_would_pay(operator_client: Client, payable: None) -> None:
    body = operator_client.get("/operateur/versements/").content.decode()

    assert "2 boutiques ont un solde payable" in body and "74,80\u00a0€" in body
    assert "Lancer un versement" in body


def test_running_a_payout_asks_confirmation_then_pays_the_hand_computed_nets(operator_client: Client,
                                                                            payable: None) -> None:
    ask = operator_client.post("/operateur/versements/lancer/")
    assert ask.status_code == 200 and "Lancer le versement" in ask.content.decode()
    assert not Payout.objects.exists()

    done = operator_client.post("/operateur/versements/lancer/", {"confirme": "1"})

    payout = Payout.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/operateur/versements/{payout.id}/"
    assert (payout.shops_count, payout.total_cents, payout.created_by) == (2, 7480, "operateur@marche.test")
    page = operator_client.get(done["Location"]).content.decode()
    assert "Boutique Lumière" in page and "66,00\u00a0€" in page
    assert "Boutique Voisine" in page and "8,80\u00a0€" in page
    assert "74,80\u00a0€" in page


def test_the_statement_downloads_as_csv_one_row_per_shop(operator_client: Client, payable: None) -> None:
    operator_client.post("/operateur/versements/lancer/", {"confirme": "1"})
    payout = Payout.objects.get()

    response = operator_client.get(f"/operateur/versements/{payout.id}/releve.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="versement-{payout.id}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["versement", "date", "boutique", "nom", "montant_verse", "devise"]
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in rows[1:]] == [
        (str(payout.id), "2001", "Boutique Lumière", "66,00", "EUR"),
        (str(payout.id), "2002", "Boutique Voisine", "8,80", "EUR"),
    ]
    assert rows[1][1].endswith("Z")


def test_the_shops_page_shows_pending_payable_and_paid(operator_client: Client, payable: None) -> None:
    before = operator_client.get("/operateur/boutiques/").content.decode()
    operator_client.post("/operateur/versements/lancer/", {"confirme": "1"})
    after = operator_client.get("/operateur/boutiques/").content.decode()

    assert "66,00\u00a0€" in before and "8,80\u00a0€" in before  # payable
    assert "88,00\u00a0€" in before  # pending
    assert after.count("66,00\u00a0€") == 1 and "88,00\u00a0€" in after  # now paid; still pending


def test_with_nothing_payable_no_payout_is_created(operator_client: Client, shop: Shop) -> None:
    _order(shop, 2010, OrderState.SHIPPING)

    response = operator_client.post("/operateur/versements/lancer/", {"confirme": "1"}, follow=True)

    assert "rien à verser" in response.content.decode()
    assert not Payout.objects.exists()


def test_an_unknown_payout_is_a_404(operator_client: Client) -> None:
    assert operator_client.get("/operateur/versements/999/").status_code == 404
    assert operator_client.get("/operateur/versements/999/releve.csv").status_code == 404


def test_sellers_and_anonymous_visitors_cannot_run_or_read_payouts(seller_client: Client, payable: None) -> None:
    run = seller_client.post("/operateur/versements/lancer/", {"confirme": "1"})
    listing = Client().get("/operateur/versements/")

    assert run.status_code == 302 and run["Location"].startswith("/operateur/connexion/")
    assert listing.status_code == 302 and listing["Location"].startswith("/operateur/connexion/")
    assert not Payout.objects.exists()


def test_the_payout_needs_the_csrf_token(payable: None) -> None:
    from tests.web_factories import make_operator

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_operator())

    response = client.post("/operateur/versements/lancer/", {"confirme": "1"})

    assert response.status_code == 403 and not Payout.objects.exists()


def test_the_payouts_page_runs_a_bounded_number_of_queries(operator_client: Client, payable: None,
                                                           django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        operator_client.post("/operateur/versements/lancer/", {"confirme": "1"})
        _order(Shop.objects.get(id=2001), 2010)
    payout = Payout.objects.first()
    for url in ("/operateur/versements/", f"/operateur/versements/{payout.id}/"):
        with django_assert_max_num_queries(7):
            assert operator_client.get(url).status_code == 200
