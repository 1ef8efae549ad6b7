"""Incidents end to end in Chromium: the customer reports a damaged article from the customer space → the seller
sees it on the home page, in « Service client > Incidents » and on the order → signals it resolved with a reason
(confirmed in the dialog) → the operator closes it (its service, called directly) → the incident moves to
« Terminés », and the customer space shows it closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from comptoir.customer.links import customer_path
from comptoir.incidents import services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds.services import ensure_default_reasons
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)

DAMAGED = "Le carton est arrivé écrasé et la lampe est fendue."


@pytest.fixture(autouse=True)
def _setup(settings: Any, tmp_path: Path) -> None:
    ensure_default_reasons()  # a transactional test starts from flushed tables
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def test_customer_reports_damage_seller_signals_it_resolved_operator_closes(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    damaged, intact = order.lines.order_by("index")

    # The customer reports the damaged article from the link of the notification mails.
    customer = new_page()
    customer.goto(customer_path(order))
    report = customer.locator("#report-problem")
    expect(report).to_have_attribute("open", "")
    report.get_by_label(damaged.product_title).check()
    report.get_by_label("Problème rencontré").select_option(label="Article endommagé")
    report.get_by_label("Décrivez le problème").fill(DAMAGED)
    report.get_by_role("button", name="Envoyer le signalement").click()
    expect(customer.locator(".messages[role=status]")).to_contain_text("Votre signalement a été transmis au vendeur.")
    incident = Incident.objects.get()
    ongoing = customer.locator(f"#incident-{incident.pk}")
    expect(ongoing).to_contain_text("Article endommagé")
    expect(ongoing).to_contain_text("En cours de traitement")

    # The seller sees it on the home page and in « Service client > Incidents ».
    seller = new_page()
    login(seller, "/vendeur/connexion/", "anne@lumiere.test")
    expect(seller.locator("#incidents-indicator .value")).to_have_text("1")
    seller.get_by_role("link", name="Service client › Incidents").click()
    expect(seller.get_by_role("tab", name="En cours (1)")).to_have_attribute("aria-selected", "true")
    row = seller.locator("table.incidents tbody tr")
    expect(row).to_have_count(1)
    for text in (damaged.product_title, "Article endommagé", "Client", "En cours"):
        expect(row).to_contain_text(text)
    row.get_by_role("link", name=order.order_id).click()

    # On the order: the incident of the damaged line, the customer's words, no way to charge the customer.
    zone = seller.locator("#incidents")
    expect(zone).to_contain_text(DAMAGED)
    expect(zone).to_contain_text("Aucun recouvrement auprès du client sans l'accord de l'opérateur")
    expect(zone.locator(".incident-line")).to_have_count(1)
    expect(zone.locator(".incident-line")).not_to_contain_text(intact.product_title)

    # A submit without a reason is refused in the dialog; with one, the dialog asks to confirm.
    article = zone.locator(f"#incident-{incident.pk}")
    article.get_by_role("button", name="Signaler comme résolu…").click()
    dialog = seller.locator("dialog#dialog")
    expect(dialog).to_contain_text("Choisissez un motif de résolution.")
    dialog.get_by_role("button", name="Corriger").click()
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.OPEN
    article.get_by_label("Motif de résolution").select_option(label="Article remplacé")
    article.get_by_role("button", name="Signaler comme résolu…").click()
    expect(dialog).to_contain_text("Motif de résolution : Article remplacé")
    dialog.get_by_role("button", name="Signaler comme résolu").click()
    expect(seller.locator(".messages[role=status]")).to_contain_text("Incident signalé comme résolu")
    expect(seller.locator(f"#incident-{incident.pk}")).to_contain_text("Résolu selon le vendeur")
    expect(seller.locator(f"#incident-{incident.pk}")).to_contain_text("Article remplacé")
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.SHOP_RESOLVED

    # Still ongoing until the operator confirms it.
    seller.get_by_role("link", name="Service client › Incidents").click()
    expect(seller.locator("table.incidents tbody tr")).to_contain_text("Résolu selon le vendeur")

    # The operator confirms (closes) it: the list moves it to « Terminés ».
    services.close(incident_id=incident.pk, who=Who(Actor.OPERATOR, "Support"))
    seller.reload()
    expect(seller.get_by_role("tab", name="En cours (0)")).to_be_visible()
    expect(seller.locator("[role=tabpanel]")).to_contain_text("Aucun incident en cours.")
    seller.get_by_role("tab", name="Terminés (1)").click()
    closed = seller.locator("table.incidents tbody tr")
    expect(closed).to_have_count(1)
    expect(closed).to_contain_text("Clos")
    expect(closed).to_contain_text("Article remplacé")
    seller.goto("/vendeur/")
    expect(seller.locator("#incidents-indicator .value")).to_have_text("0")

    # The customer space shows it closed.
    customer.reload()
    expect(customer.locator(".incidents-closed")).to_contain_text("Article endommagé")
    expect(customer.locator(".incidents-closed")).to_contain_text("Article remplacé")
