"""Operator shops: the commission rate edited with a French decimal, bad input refused and nothing changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from comptoir.shops.models import Shop

pytestmark = pytest.mark.django_db


def test_the_commission_form_shows_the_current_rate(operator_client: Client, shop: Shop) -> None:
    body = operator_client.get(f"/operateur/boutiques/{shop.id}/").content.decode()

    assert '<label for="id_rate">Taux de commission (%)</label>' in body and 'value="10"' in body


def test_a_new_rate_is_confirmed_then_saved(operator_client: Client, shop: Shop) -> None:
    url = f"/operateur/boutiques/{shop.id}/commission/"

    ask = operator_client.post(url, {"rate": "12,5"})
    assert "Commission : 10\u00a0% → 12,5\u00a0%" in ask.content.decode()
    assert Shop.objects.get(pk=shop.pk).commission_rate == Decimal("10")

    done = operator_client.post(url, {"rate": "12,5", "confirme": "1"}, follow=True)

    assert Shop.objects.get(pk=shop.pk).commission_rate == Decimal("12.5")
    assert "Commission de la boutique fixée à 12,5\u00a0%." in done.content.decode()


@pytest.mark.parametrize(("value", "message"), [
    ("", "Saisissez un taux de commission."),
    ("abc", "Saisissez un nombre, par exemple 12,5."),
    ("150", "Le taux de commission doit être compris entre 0 et 100 %."),
    ("-1", "Le taux de commission doit être compris entre 0 et 100 %."),
    ("1,23456", "Quatre décimales au plus."),
    ("NaN", "Saisissez un nombre, par exemple 12,5."),
])
def test_a_bad_rate_gets_a_french_error_and_changes_nothing(operator_client: Client, shop: Shop, value: str,
                                                            message: str) -> None:
    response = operator_client.post(f"/operateur/boutiques/{shop.id}/commission/", {"rate": value, "confirme": "1"})

    assert response.status_code == 400 and message in response.content.decode()
    assert Shop.objects.get(pk=shop.pk).commission_rate == Decimal("10")


def test_a_seller_cannot_change_a_commission(seller_client: Client, shop: Shop) -> None:
    response = seller_client.post(f"/operateur/boutiques/{shop.id}/commission/", {"rate": "0", "confirme": "1"})

    assert response.status_code == 302 and Shop.objects.get(pk=shop.pk).commission_rate == Decimal("10")


def test_an_unknown_shop_is_a_404(operator_client: Client) -> None:
    assert operator_client.post("/operateur/boutiques/9999/commission/", {"rate": "5"}).status_code == 404
