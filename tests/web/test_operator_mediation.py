"""The operator's « Médiation » board: the tabs and their counts, the shop filter, one incident (order, line,
timeline, conversations), each act confirmed first (start the mediation, formal notice with a full refund or an
amount, impose once the deadline passed, confirm or reopen the seller's resolution, close with a reason), bad
input and too-early acts refused in French with nothing changed, and « Ouvrir un incident » from the order page."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from comptoir.incidents import services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState, Solution, SolutionKind
from comptoir.messaging import services as messaging
from comptoir.messaging.rules import Participant
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
CUSTOMER = Who(Actor.CUSTOMER, "Jeanne Martin")
OPERATOR = Who(Actor.OPERATOR, "Support")
SELLER = Who(Actor.SELLER, "Boutique")
MONDAY_10 = datetime(2026, 7, 6, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _reasons(settings: Any, tmp_path: Path) -> None:
    ensure_default_reasons()
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def open_on(order: Order, index: int = 0, *, reason: str = "2") -> Incident:
    line_id = list(order.lines.order_by("index").values_list("line_id", flat=True))[index]
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[line_id], reason_code=reason,
                                         who=CUSTOMER, description="Le carton est arrivé écrasé.")
    return incident


def fresh(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def act(client: Client, incident: Incident, action: str, data: dict[str, str] | None = None, *,
        confirm: bool = True):  # type: ignore[no-untyped-def]
    payload = {**(data or {}), **({"confirme": "1"} if confirm else {})}
    return client.post(f"/operateur/incidents/{incident.pk}/{action}/", payload)


def notice(incident: Incident, amount_cents: int | None = None) -> None:
    services.send_formal_notice(incident_id=incident.pk, who=OPERATOR,
                                solution=Solution(SolutionKind.REFUND, amount_cents, "Geste attendu"))


# --- the board --------------------------------------------------------------------------------------------------


def test_the_board_counts_each_stage_and_lists_the_chosen_one(operator_client: Client, shop: Shop, other_shop: Shop,
                                                              test_clock, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    test_clock.set(MONDAY_10)
    order = make_order(OrderState.SHIPPED, shop=shop, lines=6)
    plain, resolved, mediated, expired, running, closed = (open_on(order, i) for i in range(6))
    services.resolve(order_id=order.order_id, line_id=resolved.line.line_id, reason_code="11", who=SELLER,
                     shop_id=shop.id)
    services.start_mediation(incident_id=mediated.pk, who=OPERATOR)
    notice(expired)
    test_clock.advance(timedelta(days=2))  # Wednesday: the first notice has expired
    notice(running)
    services.close(incident_id=closed.pk, who=OPERATOR, reason_code="12")
    theirs = open_on(make_order(OrderState.SHIPPED, shop=other_shop, lines=1))

    with django_assert_max_num_queries(8):
        body = operator_client.get("/operateur/incidents/").content.decode()
    expired_tab = operator_client.get("/operateur/incidents/", {"filtre": "delai-expire"}).content.decode()
    closed_tab = operator_client.get("/operateur/incidents/", {"filtre": "clos"}).content.decode()
    of_other = operator_client.get("/operateur/incidents/", {"boutique": other_shop.id}).content.decode()

    assert 'aria-current="page">Médiation</a>' in body
    for label in ("En cours (6)", "Résolus selon le vendeur, à confirmer (1)", "En médiation (1)",
                  "Mise en demeure en cours (1)", "Délai expiré (1)", "Clos (1)"):
        assert label in body
    assert all(f'id="incident-{i.pk}"' in body for i in (plain, resolved, mediated, expired, running, theirs))
    assert f'id="incident-{closed.pk}"' not in body
    assert f'id="incident-{expired.pk}"' in expired_tab and f'id="incident-{running.pk}"' not in expired_tab
    assert "Délai expiré</span>" in expired_tab
    assert f'id="incident-{closed.pk}"' in closed_tab and "Article livré au client" not in closed_tab
    assert f'id="incident-{theirs.pk}"' in of_other and f'id="incident-{plain.pk}"' not in of_other
    assert "En cours (1)" in of_other and "Clos (0)" in of_other


@pytest.mark.parametrize("query", [{"filtre": "perdu"}, {"boutique": "abc"}, {"boutique": "0"}])
def test_a_bad_board_filter_is_refused_and_lists_nothing(operator_client: Client, shop: Shop, query) -> None:  # type: ignore[no-untyped-def]
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))

    response = operator_client.get("/operateur/incidents/", query)

    assert response.status_code == 400
    body = response.content.decode()
    assert "Filtre invalide" in body and f'id="incident-{incident.pk}"' not in body


def test_the_board_is_for_staff_only(seller_client: Client, shop: Shop) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))
    for url in ("/operateur/incidents/", f"/operateur/incidents/{incident.pk}/", "/operateur/messages/"):
        response = seller_client.get(url)
        assert response.status_code == 302 and "/operateur/connexion/" in response["Location"]
    assert act(seller_client, incident, "demarrer-mediation").status_code == 302
    assert fresh(incident).mediation_started_at is None


# --- one incident -----------------------------------------------------------------------------------------------


def test_the_incident_page_shows_the_order_the_line_the_timeline_and_every_conversation(
        operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    messaging.start_thread(order_id=order.order_id, author=messaging.Author(Participant.CUSTOMER, "Jeanne"),
                           body="Mon colis est arrivé abîmé.", topic_value="Colis abîmé")
    messaging.start_thread(order_id=order.order_id, author=messaging.Author(Participant.SHOP, "Lumière"),
                           body="Note interne pour le service client.", to=["OPERATOR"], topic_value="Au support")
    incident = open_on(order, 1)

    response = operator_client.get(f"/operateur/incidents/{incident.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert order.order_id in body and incident.line.product_title in body and "Boutique Lumière" in body
    assert "Article endommagé" in body and "Le carton est arrivé écrasé." in body
    assert "Incident ouvert" in body and "Incident ouvert" in body.split('id="chronologie"')[1]
    assert "Mon colis est arrivé abîmé." in body and "Note interne pour le service client." in body
    assert "Démarrer une conversation" in body and "Le vendeur seulement" in body
    assert "Démarrer la médiation…" in body and "Mettre en demeure…" in body and "Clore l'incident…" in body
    assert "Imposer la solution…" not in body  # no formal notice yet


def test_an_unknown_incident_or_action_is_not_found(operator_client: Client, shop: Shop) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))
    assert operator_client.get("/operateur/incidents/999999/").status_code == 404
    assert act(operator_client, incident, "effacer").status_code == 404
    assert operator_client.get(f"/operateur/incidents/{incident.pk}/clore/").status_code == 405


def test_starting_the_mediation_is_confirmed_then_recorded(operator_client: Client, shop: Shop) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))

    ask = act(operator_client, incident, "demarrer-mediation", confirm=False)
    assert ask.status_code == 200 and "Démarrer la médiation" in ask.content.decode()
    assert fresh(incident).mediation_started_at is None
    done = act(operator_client, incident, "demarrer-mediation")

    assert done.status_code == 302 and done["Location"] == f"/operateur/incidents/{incident.pk}/"
    assert fresh(incident).mediation_started_at is not None
    assert OrderHistory.objects.filter(trigger="START_MEDIATION", actor="OPERATOR",
                                       details__incident_id=incident.pk).count() == 1
    again = act(operator_client, incident, "demarrer-mediation")
    assert again.status_code == 400 and "La médiation est déjà en cours." in again.content.decode()


def test_a_formal_notice_with_a_full_refund_shows_the_deadline_in_local_time(
        operator_client: Client, shop: Shop, test_clock) -> None:  # type: ignore[no-untyped-def]
    test_clock.set(datetime(2026, 7, 10, 15, 0, tzinfo=PARIS))  # Friday 15:00; 14 July is a holiday
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))
    form = {"notice-solution": "INTEGRAL", "notice-note": "Remboursez le client."}

    page = operator_client.get(f"/operateur/incidents/{incident.pk}/").content.decode()
    ask = act(operator_client, incident, "mise-en-demeure", form, confirm=False).content.decode()
    assert "lundi 13/07/2026 à 15:00" in page  # 24 business hours from Friday 15:00
    assert "échéance le 13/07/2026 à 15:00" in ask and "remboursement intégral de la ligne" in ask
    assert "Le client serait remboursé de" in ask and fresh(incident).formal_notice_at is None
    done = act(operator_client, incident, "mise-en-demeure", form)

    incident = fresh(incident)
    assert done.status_code == 302
    assert abs(incident.formal_notice_due - datetime(2026, 7, 13, 15, 0, tzinfo=PARIS)) < timedelta(seconds=5)
    assert incident.solution == {"kind": "REFUND", "amount_cents": None, "note": "Remboursez le client."}
    assert incident.mediation_started_at is not None
    body = operator_client.get(f"/operateur/incidents/{incident.pk}/").content.decode()
    assert "lundi 13/07/2026 à 15:00" in body and "Mise en demeure" in body
    assert "Échéance de la mise en demeure : 13/07/2026 à 15:00" in body  # the timeline's note
    assert "Le délai de la mise en demeure court jusqu&#x27;au 13/07/2026 à 15:00" in body
    order_page = operator_client.get(f"/operateur/commandes/{incident.order.order_id}/").content.decode()
    assert "Mise en demeure" in order_page.split("Historique")[-1]


def test_a_formal_notice_for_an_amount_takes_french_euros(operator_client: Client, shop: Shop) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))

    response = act(operator_client, incident, "mise-en-demeure",
                   {"notice-solution": "MONTANT", "notice-montant": "7,50", "notice-note": ""})

    assert response.status_code == 302
    assert fresh(incident).solution == {"kind": "REFUND", "amount_cents": 750, "note": ""}


@pytest.mark.parametrize(("data", "message"), [
    ({"notice-solution": "MONTANT", "notice-montant": ""}, "Indiquez le montant à rembourser"),
    ({"notice-solution": "MONTANT", "notice-montant": "douze"}, "Montant invalide"),
    ({"notice-solution": "MONTANT", "notice-montant": "0"}, "doit être positif"),
    ({"notice-solution": "MONTANT", "notice-montant": "12,505"}, "Deux décimales au plus"),
    ({"notice-solution": "MONTANT", "notice-montant": "5000"}, "rembours"),  # more than the line: the refund service
    ({"notice-solution": "TOUT"}, "Solution inconnue."),
])
def test_a_bad_formal_notice_is_refused_and_changes_nothing(operator_client: Client, shop: Shop, data,  # type: ignore[no-untyped-def]
                                                            message: str) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))

    response = act(operator_client, incident, "mise-en-demeure", data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert fresh(incident).formal_notice_at is None
    assert not OrderHistory.objects.filter(trigger="FORMAL_NOTICE").exists()


def test_imposing_before_the_deadline_is_explained_and_refused(operator_client: Client, shop: Shop) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))
    notice(incident)

    body = operator_client.get(f"/operateur/incidents/{incident.pk}/").content.decode()
    response = act(operator_client, incident, "imposer")

    assert 'id="impose-refusal"' in body and "Imposer la solution…" not in body
    assert response.status_code == 400
    assert "Le délai de la mise en demeure court jusqu&#x27;au" in response.content.decode()
    assert fresh(incident).state == IncidentState.OPEN and not Refund.objects.exists()
    no_notice = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))
    refused = act(operator_client, no_notice, "imposer")
    assert refused.status_code == 400 and "Aucune mise en demeure" in refused.content.decode()


def test_imposing_after_the_deadline_refunds_the_line_and_closes_the_incident_for_good(
        operator_client: Client, shop: Shop, test_clock) -> None:  # type: ignore[no-untyped-def]
    test_clock.set(MONDAY_10)
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))
    notice(incident)
    test_clock.advance(timedelta(days=1, minutes=1))

    ask = act(operator_client, incident, "imposer", confirm=False)
    assert ask.status_code == 200 and "définitive" in ask.content.decode() and not Refund.objects.exists()
    done = act(operator_client, incident, "imposer")

    incident = fresh(incident)
    assert done.status_code == 302
    assert incident.state == IncidentState.CLOSED and incident.imposed_at is not None
    refund = Refund.objects.get()
    assert refund.reason_code == "OPERATOR_MEDIATION" and refund.line_id == incident.line_id
    body = operator_client.get(f"/operateur/incidents/{incident.pk}/").content.decode()
    assert "elle est définitive et ne peut plus être remise en question" in body
    assert "Clore l'incident…" not in body
    timeline = body.split('id="chronologie"')[1]
    assert "Solution imposée" in timeline
    refused = act(operator_client, incident, "clore", {"clore-motif": "12"})
    assert refused.status_code == 400 and fresh(incident).close_reason_code == "OPERATOR_MEDIATION"


def test_the_seller_resolution_is_confirmed_or_reopened(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    confirmed, reopened = open_on(order, 0), open_on(order, 1)
    for incident in (confirmed, reopened):
        services.resolve(order_id=order.order_id, line_id=incident.line.line_id, reason_code="11", who=SELLER,
                         shop_id=shop.id)

    body = operator_client.get(f"/operateur/incidents/{confirmed.pk}/").content.decode()
    assert "Article livré au client" in body and "Confirmer la résolution…" in body
    ask = act(operator_client, confirmed, "confirmer", confirm=False).content.decode()
    assert "Résolution du vendeur : Article livré au client." in ask
    assert act(operator_client, confirmed, "confirmer").status_code == 302
    empty = act(operator_client, reopened, "rouvrir", {"rouvrir-note": "  "})
    assert empty.status_code == 400 and "Expliquez au vendeur" in empty.content.decode()
    assert fresh(reopened).state == IncidentState.SHOP_RESOLVED
    assert act(operator_client, reopened, "rouvrir", {"rouvrir-note": "Le client n'a rien reçu."}).status_code == 302

    assert fresh(confirmed).state == IncidentState.CLOSED
    assert fresh(confirmed).close_reason_label == "Article livré au client"
    assert fresh(reopened).state == IncidentState.OPEN
    row = OrderHistory.objects.get(trigger="REOPEN_INCIDENT")
    assert row.reason_label == "Le client n'a rien reçu." and row.actor == "OPERATOR"
    too_early = act(operator_client, reopened, "confirmer")
    assert too_early.status_code == 400 and "Le vendeur n&#x27;a pas signalé" in too_early.content.decode()


@pytest.mark.parametrize(("motif", "message"), [
    ("", "Le motif de clôture est obligatoire."),
    ("99", "Motif de clôture inconnu."),
    ("OPERATOR_MEDIATION", "Motif de clôture inconnu."),  # only an imposed solution closes with it
    ("REFUNDED", "Motif de clôture inconnu."),  # only a refund of the line
])
def test_closing_needs_a_reason_of_the_list(operator_client: Client, shop: Shop, motif: str, message: str) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))

    response = act(operator_client, incident, "clore", {"clore-motif": motif})

    assert response.status_code == 400 and message in response.content.decode()
    assert fresh(incident).state == IncidentState.OPEN


def test_closing_with_a_reason_is_recorded_with_its_note(operator_client: Client, shop: Shop) -> None:
    incident = open_on(make_order(OrderState.SHIPPED, shop=shop, lines=1))

    ask = act(operator_client, incident, "clore", {"clore-motif": "12", "clore-note": "Vu au téléphone."},
              confirm=False).content.decode()
    done = act(operator_client, incident, "clore", {"clore-motif": "12", "clore-note": "Vu au téléphone."})

    assert "Motif : " in ask and done.status_code == 302
    incident = fresh(incident)
    assert incident.state == IncidentState.CLOSED and incident.close_reason_code == "12"
    row = OrderHistory.objects.get(trigger="CLOSE_INCIDENT")
    assert row.details["note"] == "Vu au téléphone." and row.actor_name
    body = operator_client.get(f"/operateur/commandes/{incident.order.order_id}/").content.decode()
    assert "Incident clos" in body and "Incident ouvert" in body
