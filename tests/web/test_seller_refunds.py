"""« Rembourser », « Annuler » and « Annuler la commande » on the seller's order detail (and the operator's): the
four modes, the preview before confirming, French errors next to their field with nothing written, the reasons
each actor may use, buttons only when the table allows them, and what the pages show afterwards."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from comptoir.customer.links import customer_path
from comptoir.ledger.services import run_payout
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import facts_of
from comptoir.orders.states import Actor, OrderState, Trigger, allowed_triggers
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shops.models import Shop
from comptoir.timers.worker import run_until_idle
from tests.factories import ensure_carriers, make_order

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _reasons(db) -> None:  # type: ignore[no-untyped-def]
    ensure_default_reasons()


def _url(order: Order, suffix: str = "rembourser/", space: str = "vendeur") -> str:
    return f"/{space}/commandes/{order.order_id}/{suffix}"


def _lines(order: Order) -> list[OrderLine]:
    return list(order.lines.order_by("index"))


def _eur(text: str) -> str:
    """« 12,50 € » as the pages write it (no-break space before the sign)."""
    return text.replace(" €", f"{NBSP}€")


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</dd>', html, re.S)
    assert match, element_id
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _refund(client: Client, order: Order, data: dict[str, str], *, confirm: bool = False,
            suffix: str = "rembourser/", space: str = "vendeur"):  # type: ignore[no-untyped-def]
    payload = {**data, **({"confirme": "1"} if confirm else {})}
    return client.post(_url(order, suffix, space), payload)


# --- buttons only when the table allows them ------------------------------------------------------------------

STATES = [OrderState.WAITING_ACCEPTANCE, OrderState.WAITING_DEBIT, OrderState.SHIPPING, OrderState.SHIPPED,
          OrderState.RECEIVED, OrderState.CLOSED, OrderState.REFUSED, OrderState.CANCELED]


@pytest.mark.parametrize("state", STATES)
def test_the_buttons_follow_the_lifecycle_table(state: OrderState, seller_client: Client, shop: Shop) -> None:
    order = make_order(state, shop=shop)
    allowed = allowed_triggers(facts_of(order, _lines(order)), Actor.SELLER)

    body = seller_client.get(_url(order, "")).content.decode()

    assert ('id="refund-button"' in body) == (Trigger.REFUND in allowed)
    assert ("Annuler la commande</a>" in body) == (Trigger.CANCEL in allowed)
    assert (">Annuler</a>" in body) == (Trigger.CANCEL_LINES in allowed)
    if Trigger.REFUND not in allowed:
        response = seller_client.get(_url(order))
        assert response.status_code == 302
        after = seller_client.get(response["Location"]).content.decode()
        assert "pas possible sur cette commande" in after


def test_a_fully_refunded_order_offers_no_more_refund(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    (line,) = _lines(order)
    _refund(seller_client, order, {f"mode_{line.line_id}": "FULL", f"motif_{line.line_id}": "17"}, confirm=True)

    body = seller_client.get(_url(order, "")).content.decode()

    assert 'id="refund-button"' not in body and "Remboursée" in body


# --- the dialog -----------------------------------------------------------------------------------------------

def test_the_dialog_warns_amounts_are_excluding_tax_and_offers_shop_reasons_only(seller_client: Client,
                                                                                  shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)

    body = seller_client.get(_url(order)).content.decode()

    assert "Le montant que vous renseignez est hors taxe. Faites bien attention au montant total qui " \
           "s&#x27;apprête à être remboursé." in body
    for label in ("Remboursement intégral", "Remboursement partiel par quantité", "Geste commercial",
                  "Frais de port uniquement", "Produit retourné par le client"):
        assert label in body
    assert "Absence de réponse de la boutique" not in body  # an operator reason
    assert _eur("8,33 €") in body and _eur("4,08 €") in body  # what remains, excluding tax
    assert "<html" in body  # a whole page without JS


def test_through_htmx_the_dialog_is_a_fragment_and_errors_stay_in_it(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)
    line = _lines(order)[0]

    fragment = seller_client.get(_url(order), headers={"HX-Request": "true"})
    invalid = seller_client.post(_url(order), {f"mode_{line.line_id}": "FULL"}, headers={"HX-Request": "true"})

    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert 'hx-post="' in fragment.content.decode()
    assert invalid.status_code == 200 and "Choisissez le motif du remboursement." in invalid.content.decode()
    assert not Refund.objects.exists()


def test_full_refund_shows_the_preview_then_refunds_the_whole_line(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)
    line = _lines(order)[0]  # 10,00 € + 4,90 € shipping, 20 % VAT; commission 1,49 € + 0,30 € VAT
    data = {f"mode_{line.line_id}": "FULL", f"motif_{line.line_id}": "17"}

    preview = _refund(seller_client, order, data).content.decode()

    assert _text(preview, "preview-excl-tax") == _eur("12,41 €")
    assert _text(preview, "preview-tax") == _eur("2,49 €")
    assert _text(preview, "preview-total") == _eur("14,90 €")
    assert _text(preview, "preview-commission") == _eur("1,79 €")
    before = int(_text(preview, "balance-before").replace(",", "").split(NBSP)[0])
    after = int(_text(preview, "balance-after").replace(",", "").split(NBSP)[0])
    assert before - after == 1490 - 179 and "Solde en attente avant" in preview
    assert "Confirmer le remboursement" in preview
    assert not Refund.objects.exists()  # the preview writes nothing

    response = _refund(seller_client, order, data, confirm=True)

    assert response.status_code == 302 and response["Location"] == _url(order, "")
    (refund,) = Refund.objects.all()
    assert (refund.mode, refund.amount_cents, refund.shipping_cents, refund.reason_code) == ("FULL", 1000, 490, "17")
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.REFUNDED
    page = seller_client.get(response["Location"]).content.decode()
    assert "Remboursement enregistré" in page and _eur("14,90 €") in page
    assert "En attente de remboursement" in page and "Produit retourné par le client" in page
    assert 'id="amount-refunded">' + _eur("14,90 €") in page

    run_until_idle()  # the worker pays the refund back

    assert "Remboursé</span>" in seller_client.get(_url(order, "")).content.decode()


def test_partial_by_quantity_proposes_the_amount_and_keeps_an_edited_one(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, quantity=2)
    line = _lines(order)[0]  # 2 × 10,00 €
    proposal = seller_client.get(_url(order, "rembourser/proposition/"),
                                 {"ligne": line.line_id, f"quantite_{line.line_id}": "1"}).content.decode()
    assert 'value="8,33"' in proposal and f'name="montant_{line.line_id}"' in proposal
    data = {f"mode_{line.line_id}": "QUANTITY", f"quantite_{line.line_id}": "1", f"motif_{line.line_id}": "20"}

    proposed = _refund(seller_client, order, data).content.decode()
    edited = _refund(seller_client, order, {**data, f"montant_{line.line_id}": "7,50"}).content.decode()

    assert _text(proposed, "preview-total") == _eur("10,00 €")
    assert _text(edited, "preview-excl-tax") == _eur("7,50 €") and _text(edited, "preview-total") == _eur("9,00 €")
    _refund(seller_client, order, {**data, f"montant_{line.line_id}": "7,50"}, confirm=True)
    (refund,) = Refund.objects.all()
    assert (refund.mode, refund.quantity, refund.amount_cents, refund.amount_tax_cents) == ("QUANTITY", 1, 900, 150)
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.SHIPPED


def test_a_commercial_gesture_is_an_amount_excluding_tax(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.RECEIVED, shop=shop)
    line = _lines(order)[1]  # 20,00 €
    data = {f"mode_{line.line_id}": "AMOUNT", f"montant_{line.line_id}": "5", f"motif_{line.line_id}": "22"}

    preview = _refund(seller_client, order, data).content.decode()
    _refund(seller_client, order, data, confirm=True)

    assert _text(preview, "preview-tax") == _eur("1,00 €") and _text(preview, "preview-total") == _eur("6,00 €")
    assert "Solde payable avant" in preview  # a received order's money is payable
    refund = Refund.objects.get()
    assert (refund.mode, refund.amount_cents, refund.shipping_cents, refund.from_payable) == ("AMOUNT", 600, 0, True)


def test_shipping_only_gives_back_the_remaining_shipping(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)
    line = _lines(order)[0]
    data = {f"mode_{line.line_id}": "SHIPPING", f"motif_{line.line_id}": "23"}

    preview = _refund(seller_client, order, data).content.decode()
    _refund(seller_client, order, data, confirm=True)

    assert _text(preview, "preview-total") == _eur("4,90 €") and _text(preview, "preview-excl-tax") == _eur("4,08 €")
    refund = Refund.objects.get()
    assert (refund.mode, refund.amount_cents, refund.shipping_cents) == ("SHIPPING", 0, 490)


def test_several_lines_in_one_refund(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)
    first, second = _lines(order)
    data = {f"mode_{first.line_id}": "FULL", f"motif_{first.line_id}": "17",
            f"mode_{second.line_id}": "AMOUNT", f"montant_{second.line_id}": "2,50", f"motif_{second.line_id}": "22"}

    preview = _refund(seller_client, order, data).content.decode()
    _refund(seller_client, order, data, confirm=True)

    assert _text(preview, "preview-total") == _eur("17,90 €")  # 14,90 + 3,00
    rows = list(Refund.objects.order_by("id"))
    assert len(rows) == 2 and rows[0].group_id == rows[1].group_id
    history = order.history.filter(trigger="REFUND", line_id="").get()
    assert history.details["total_cents"] == 1790
    page = seller_client.get(_url(order, "?onglet=historique")).content.decode()
    assert "Remboursement" in page and _eur("17,90 €") + " TTC rendus au client" in page


def test_modify_goes_back_to_the_form_with_what_was_typed(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)
    line = _lines(order)[0]

    body = seller_client.post(_url(order), {f"mode_{line.line_id}": "AMOUNT", f"montant_{line.line_id}": "3,20",
                                            f"motif_{line.line_id}": "22", "modifier": "1"}).content.decode()

    assert 'value="3,20"' in body and '<option value="AMOUNT" selected>' in body
    assert 'class="field-error"' not in body and "Vérifier le remboursement" in body
    assert not Refund.objects.exists()


# --- errors: in French, next to the field, nothing written ----------------------------------------------------

@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, None, "Choisissez le type de remboursement d&#x27;au moins un article."),
    ({"mode": "FULL"}, "motif", "Choisissez le motif du remboursement."),
    ({"mode": "QUANTITY", "motif": "17"}, "quantite", "Indiquez le nombre d&#x27;unités à rembourser."),
    ({"mode": "QUANTITY", "motif": "17", "quantite": "5"}, "quantite", "Au plus 1 unité(s) restent à rembourser."),
    ({"mode": "AMOUNT", "motif": "22"}, "montant", "Indiquez le montant HT du geste commercial."),
    ({"mode": "AMOUNT", "motif": "22", "montant": "douze"}, "montant", "Montant invalide"),
    ({"mode": "AMOUNT", "motif": "22", "montant": "-3"}, "montant", "ne peut pas être négatif"),
    ({"mode": "AMOUNT", "motif": "22", "montant": "1,234"}, "montant", "Deux décimales au plus"),
    ({"mode": "AMOUNT", "motif": "22", "montant": "50"}, "montant", "dépasse ce qui reste remboursable"),
    ({"mode": "SHIPPING", "motif": "23", "port": "10"}, "port", "Le montant des frais de port"),
    ({"mode": "SHIPPING", "motif": "23", "montant": "1"}, "montant", "ne rembourse pas le produit"),
    ({"mode": "FULL", "motif": "14"}, "motif", "Motif inconnu"),  # an operator reason
    ({"mode": "FULL", "motif": "nope"}, "motif", "Motif inconnu"),
])
def test_bad_input_is_refused_in_french_next_to_its_field(seller_client: Client, shop: Shop, data, field,
                                                          message) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPED, shop=shop)
    line = _lines(order)[0]
    version = order.version

    response = _refund(seller_client, order, {f"{k}_{line.line_id}": v for k, v in data.items()}, confirm=True)

    body = response.content.decode()
    assert response.status_code == 400 and message in body
    if field:
        error_id = f"id_{field}_{line.line_id}_erreur"
        assert f'id="{error_id}"' in body
        assert re.search(rf'name="{field}_{line.line_id}"[^>]*aria-describedby="{error_id}', body) or \
            re.search(rf'aria-describedby="{error_id}[^"]*"[^>]*name="{field}_{line.line_id}"', body)
    assert not Refund.objects.exists()
    assert Order.objects.get(pk=order.pk).version == version


def test_a_full_refund_of_units_not_shipped_yet_is_refused_cancel_them_instead(seller_client: Client,
                                                                               shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop)
    line = _lines(order)[0]

    response = _refund(seller_client, order, {f"mode_{line.line_id}": "FULL", f"motif_{line.line_id}": "16"})

    body = response.content.decode()
    assert response.status_code == 400 and "pas encore expédiées" in body and "Annulez-les" in body
    assert f'id="id_mode_{line.line_id}_erreur"' in body and f"Ligne {line.line_id}" not in body
    assert not Refund.objects.exists()


def test_a_balance_that_cannot_cover_the_refund_is_refused_without_a_confirm_button(seller_client: Client,
                                                                                    shop: Shop) -> None:
    order = make_order(OrderState.RECEIVED, shop=shop)
    run_payout(by="test")  # the payable balance is paid out: nothing left to take the refund from
    line = _lines(order)[0]
    data = {f"mode_{line.line_id}": "FULL", f"motif_{line.line_id}": "17"}

    preview = _refund(seller_client, order, data)
    forced = _refund(seller_client, order, data, confirm=True)

    body = preview.content.decode()
    assert preview.status_code == 400 and "service client" in body and "ne couvre pas" in body
    assert "Confirmer le remboursement" not in body
    assert _text(body, "balance-before") == _eur("0,00 €") and _text(body, "balance-after") == _eur("-13,11 €")
    assert forced.status_code == 400 and "service client" in forced.content.decode()
    assert not Refund.objects.exists()


def test_another_shops_order_is_a_404(other_seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop)
    line = _lines(order)[0]

    for suffix in ("rembourser/", "annuler/", "annuler-commande/"):
        assert other_seller_client.get(_url(order, suffix)).status_code == 404
        assert other_seller_client.post(_url(order, suffix), {f"mode_{line.line_id}": "SHIPPING",
                                                              f"motif_{line.line_id}": "23", "confirme": "1",
                                                              f"annuler_{line.line_id}": "1",
                                                              "motif": "34"}).status_code == 404
    assert other_seller_client.get(_url(order, "rembourser/proposition/"), {"ligne": line.line_id}).status_code == 404
    assert not Refund.objects.exists()


# --- cancelations ---------------------------------------------------------------------------------------------

def test_cancel_units_that_are_in_no_parcel(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, quantity=2)
    line = _lines(order)[0]  # 2 × 10,00 €, shipping 4,90 €
    page = seller_client.get(_url(order, "")).content.decode()
    assert f"annuler/?ligne={line.line_id}" in page
    form = seller_client.get(_url(order, "annuler/"), {"ligne": line.line_id}).content.decode()
    assert f'name="annuler_{line.line_id}" value="2"' in form  # the line chosen is prefilled
    data = {f"annuler_{line.line_id}": "1", f"motif_{line.line_id}": "35"}

    preview = _refund(seller_client, order, data, suffix="annuler/").content.decode()
    response = _refund(seller_client, order, data, suffix="annuler/", confirm=True)

    assert _text(preview, "preview-total") == _eur("12,45 €")  # one unit and half the shipping
    assert "Confirmer l&#x27;annulation" in preview and "Produit en rupture de stock" in preview
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.canceled_quantity == 1 and Order.objects.get(pk=order.pk).state == OrderState.SHIPPING
    refund = Refund.objects.get()
    assert (refund.kind, refund.quantity, refund.total_cents) == ("CANCELATION", 1, 1245)
    after = seller_client.get(_url(order, "?onglet=historique")).content.decode()
    assert "1 unité(s) annulée(s)" in after and "dont 1 annulée(s)" in after
    assert "Annulation d&#x27;articles" in after and "Annulation</td>" not in after


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Indiquez le nombre d&#x27;unités à annuler"),
    ({"annuler": "1"}, "Choisissez le motif de l&#x27;annulation."),
    ({"annuler": "3", "motif": "35"}, "Au plus 2 unité(s) ne sont dans aucun colis."),
    ({"annuler": "1", "motif": "17"}, "Motif inconnu"),  # a refund reason is not a cancelation reason
])
def test_bad_cancelations_are_refused_and_write_nothing(seller_client: Client, shop: Shop, data,
                                                        message) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=shop, quantity=2)
    line = _lines(order)[0]

    response = _refund(seller_client, order, {f"{k}_{line.line_id}": v for k, v in data.items()},
                       suffix="annuler/", confirm=True)

    assert response.status_code == 400 and message in response.content.decode()
    assert not Refund.objects.exists()


def test_cancel_the_whole_order_when_nothing_is_in_a_parcel(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop)
    assert "Annuler la commande</a>" in seller_client.get(_url(order, "")).content.decode()

    missing = _refund(seller_client, order, {}, suffix="annuler-commande/")
    preview = _refund(seller_client, order, {"motif": "34"}, suffix="annuler-commande/").content.decode()
    response = _refund(seller_client, order, {"motif": "34"}, suffix="annuler-commande/", confirm=True)

    assert missing.status_code == 400 and "Choisissez le motif de l&#x27;annulation." in missing.content.decode()
    assert _text(preview, "preview-total") == _eur("39,80 €")
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).state == OrderState.CANCELED
    assert Refund.objects.filter(kind="CANCELATION").count() == 2
    page = seller_client.get(_url(order, "")).content.decode()
    assert "Commande annulée : " + _eur("39,80 €") in page and 'id="amount-refunded">' + _eur("39,80 €") in page


def test_once_a_parcel_is_declared_only_the_other_units_can_be_canceled(seller_client: Client, shop: Shop) -> None:
    ensure_carriers()
    order = make_order(OrderState.SHIPPING, shop=shop)
    first, second = _lines(order)
    seller_client.post(_url(order, "expedition/"), {
        "carrier_code": "colissimo", "tracking_number": "6A1", "shipped_date": timezone.localdate().isoformat(),
        "mode": "colis", f"quantite_{first.line_id}": "1", f"quantite_{second.line_id}": "0", "confirme": "1"})

    page = seller_client.get(_url(order, "")).content.decode()
    blocked = _refund(seller_client, order, {"motif": "34"}, suffix="annuler-commande/", confirm=True)

    assert "Annuler la commande</a>" not in page
    assert f"annuler/?ligne={second.line_id}" in page and f"annuler/?ligne={first.line_id}" not in page
    assert blocked.status_code == 302 and Order.objects.get(pk=order.pk).state == OrderState.SHIPPING
    assert not Refund.objects.exists()


# --- the customer and the operator ----------------------------------------------------------------------------

def test_the_customer_space_lists_refunds_and_canceled_units(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, quantity=2)
    first, second = _lines(order)
    _refund(seller_client, order, {f"annuler_{first.line_id}": "1", f"motif_{first.line_id}": "35"},
            suffix="annuler/", confirm=True)
    _refund(seller_client, order, {f"mode_{second.line_id}": "AMOUNT", f"montant_{second.line_id}": "5",
                                   f"motif_{second.line_id}": "22"}, confirm=True)

    body = Client().get(customer_path(order)).content.decode()

    assert "Vos remboursements" in body and "(dont 1 annulée)" in body
    assert _eur("12,45 €") in body and _eur("6,00 €") in body and "En attente de remboursement" in body
    assert "Article annulé" in body and first.product_title in body and "Geste commercial" in body
    assert "Remboursement de " + _eur("6,00 €") in body  # the timeline says it in words
    assert 'id="refunded-total">' + _eur("18,45 €") in body


def test_the_operator_refunds_with_operator_reasons(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)
    line = _lines(order)[0]
    detail = operator_client.get(_url(order, "", "operateur")).content.decode()
    dialog = operator_client.get(_url(order, space="operateur")).content.decode()
    data = {f"mode_{line.line_id}": "FULL", f"motif_{line.line_id}": "14"}

    preview = _refund(operator_client, order, data, space="operateur").content.decode()
    response = _refund(operator_client, order, data, space="operateur", confirm=True)

    assert 'id="refund-button"' in detail and "Espace opérateur" in dialog
    assert "Absence de réponse de la boutique" in dialog  # operator-only reasons are offered
    assert _text(preview, "preview-total") == _eur("14,90 €")
    assert response.status_code == 302 and response["Location"] == _url(order, "", "operateur")
    refund = Refund.objects.get()
    assert (refund.actor, refund.reason_code) == ("OPERATOR", "14")
    page = operator_client.get(response["Location"]).content.decode()
    assert "Remboursements et annulations" in page and "Absence de réponse de la boutique" in page


def test_the_operator_detail_shows_the_sellers_refunds(seller_client: Client, operator_client: Client,
                                                       shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop)
    line = _lines(order)[0]
    _refund(seller_client, order, {f"mode_{line.line_id}": "SHIPPING", f"motif_{line.line_id}": "23"}, confirm=True)

    page = operator_client.get(_url(order, "", "operateur")).content.decode()

    assert "Frais de port uniquement" in page and 'id="amount-refunded">' + _eur("4,90 €") in page
