"""Mediation end to end in Chromium, as the seller guide tells it: the customer writes to the seller from the
customer space → nobody answers for 72 business hours (the sandbox clock moves, the worker runs) → the claim is an
incident in mediation on the operator's board → the operator serves a formal notice with a full refund → 24
business hours later the worker imposes it (a refund for OPERATOR_MEDIATION, the incident closed for good) → the
customer's mails (incident settled, refund) arrive at a real SMTP server, and every step is in the history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from comptoir.core import clock
from comptoir.customer.links import customer_path
from comptoir.incidents.models import Incident
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.services.lifecycle import calendar
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from comptoir.timers.sandbox import advance_clock, reset_clock
from comptoir.timers.worker import run_until_idle
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_operator, make_seller

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "Bonjour, mon colis est arrivé ouvert et la lampe est cassée. Que faites-vous ?"


@pytest.fixture
def sandbox(comptoir_settings: Any, settings: Any, tmp_path: Path) -> Iterator[None]:
    """Sandbox mode (the clock may move), files in a temporary folder; the clock back at real time afterwards."""
    comptoir_settings(SANDBOX=True)
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    ensure_default_reasons()
    try:
        yield
    finally:
        reset_clock()
        clock.forget_offset()


def pass_business_hours(hours: int) -> None:
    """The sandbox clock jumps to one minute after `hours` business hours from now (weekends and holidays skipped)."""
    now = clock.now()
    advance_clock(by=calendar().add_business_hours(now, hours) - now + timedelta(minutes=1))


def test_an_unanswered_claim_ends_in_an_imposed_refund_and_the_customer_is_told(  # type: ignore[no-untyped-def]
        new_page, sandbox, smtp_inbox) -> None:
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    make_operator("ops@marche.test")
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)

    # The customer writes to the seller from the link of the notification mails.
    customer = new_page()
    customer.goto(customer_path(order))
    customer.get_by_label("Sujet").fill("Lampe cassée")
    customer.get_by_label("Votre message").fill(QUESTION)
    customer.get_by_role("button", name="Envoyer au vendeur").click()
    expect(customer.locator(".messages[role=status]")).to_contain_text("Votre message a été envoyé au vendeur.")

    # The seller does not answer: 72 business hours pass, the worker reminds at 48 then escalates at 72.
    pass_business_hours(72)
    run_until_idle()
    incident = Incident.objects.get()
    assert incident.in_mediation and incident.reason_code == "NO_SHOP_ANSWER"

    # The incident waits on the operator's board, in mediation.
    ops = new_page()
    login(ops, "/operateur/connexion/", "ops@marche.test")
    ops.get_by_role("link", name="Médiation").click()
    ops.locator("#incident-tabs").get_by_role("link", name="En médiation (1)").click()
    row = ops.locator("table.incidents tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Absence de réponse de la boutique sous 72 h ouvrées")
    expect(row).to_contain_text("En médiation")
    row.get_by_role("link", name=f"n° {incident.pk}").click()
    expect(ops.locator("h1")).to_contain_text(f"Incident n° {incident.pk}")
    expect(ops.locator("#conversations")).to_contain_text(QUESTION)
    expect(ops.locator("#chronologie")).to_contain_text("Relance : message client sans réponse (48 h ouvrées)")

    # The operator serves a formal notice: a full refund of the line, 24 business hours to settle.
    notice = ops.locator("#formal-notice-form")
    notice.get_by_label("Remboursement intégral de la ligne (article et port)").check()
    notice.get_by_label("Note pour le vendeur").fill("Le client doit être remboursé.")
    notice.get_by_role("button", name="Mettre en demeure…").click()
    dialog = ops.locator("dialog#dialog")
    expect(dialog).to_contain_text("remboursement intégral de la ligne — Le client doit être remboursé.")
    expect(dialog).to_contain_text("Le vendeur a 24 h ouvrées pour régler le problème : échéance le")
    dialog.get_by_role("button", name="Mettre le vendeur en demeure").click()
    expect(ops.locator(".messages[role=status]")).to_contain_text("Mise en demeure envoyée au vendeur.")
    expect(ops.locator("#impose-refusal")).to_contain_text("Le délai de la mise en demeure court jusqu'au")
    expect(ops.get_by_role("button", name="Imposer la solution…")).to_have_count(0)
    assert not Refund.objects.exists()

    # 24 business hours later the worker imposes the refund: final.
    pass_business_hours(24)
    run_until_idle()
    incident.refresh_from_db()
    assert incident.state == "CLOSED" and incident.imposed_at is not None
    assert incident.close_reason_code == "OPERATOR_MEDIATION"
    refund = Refund.objects.get()
    assert refund.reason_code == "OPERATOR_MEDIATION" and refund.line_id == incident.line_id
    ops.reload()
    expect(ops.locator("#actions")).to_contain_text("elle est définitive et ne peut plus être remise en question")
    ops.goto(f"/operateur/commandes/{order.order_id}/")
    history = ops.locator("table.history")
    for label in ("Message client sans réponse (72 h ouvrées) : incident et médiation", "Incident ouvert",
                  "Mise en demeure", "Solution imposée", "Remboursement"):
        expect(history).to_contain_text(label)

    # The customer hears of it: the settled incident and the refund reach a real SMTP server.
    to_customer = {e.event_type: e.state for e in OutboxEvent.objects.filter(audience="CUSTOMER")}
    assert to_customer.get("IncidentClosed") == "SENT" and to_customer.get("OrderRefunded") == "SENT"
    mails = [m for m in smtp_inbox.messages if m["To"] == order.customer_email]
    subjects = [str(m["Subject"]).strip() for m in mails]
    assert any(s.startswith(f"Incident réglé sur votre commande {order.order_id}") for s in subjects), subjects
    assert any(s.startswith("Remboursement de") for s in subjects), subjects
    settled = next(m for m in mails if str(m["Subject"]).strip().startswith("Incident réglé"))
    assert "Notre service client a imposé cette solution au vendeur Boutique Lumière." in settled.get_content()
