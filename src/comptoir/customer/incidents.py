"""Customer space incidents: « Signaler un problème » on articles the incident rules let the customer report (shipped,
or late to ship), the ongoing and closed reports with their state, and « Mon problème est réglé », which closes the
customer's own incident. Another order's incident is a 404. Thin: incidents services write, incidents queries read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from comptoir.core.errors import ComptoirError
from comptoir.customer.messages import customer_order
from comptoir.incidents import queries, rules, services
from comptoir.incidents.models import Incident
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor
from comptoir.refunds.models import Reason, ReasonType
from comptoir.web.errors import french_message

MAX_DESCRIPTION = 5000
CUSTOMER_STATES = {
    "OPEN": "En cours de traitement",
    "SHOP_RESOLVED": "Le vendeur indique l'avoir résolu",
    "CLOSED": "Clos",
}


class ReportForm(forms.Form):
    articles = forms.MultipleChoiceField(label="Article(s) concerné(s)", widget=forms.CheckboxSelectMultiple,
                                         error_messages={
                                             "required": "Choisissez au moins un article.",
                                             "invalid_choice": "Cet article ne peut pas faire l'objet d'un "
                                                               "signalement.",
                                         })
    motif = forms.ChoiceField(label="Problème rencontré", error_messages={
        "required": "Choisissez le problème rencontré.",
        "invalid_choice": "Problème inconnu : choisissez-en un dans la liste.",
    })
    description = forms.CharField(label="Décrivez le problème", max_length=MAX_DESCRIPTION,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text="Par exemple : l'état du colis à la réception, ce qui manque.",
                                  error_messages={"required": "Décrivez le problème en quelques mots.",
                                                  "max_length": "Votre description est trop longue "
                                                                "(%(limit_value)d caractères au plus)."})

    def __init__(self, *args: Any, lines: list[OrderLine], reasons: list[Reason], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["articles"].choices = [(line.line_id, line.product_title) for line in lines]
        self.fields["motif"].choices = [("", "— Choisir —"), *((r.code, r.label) for r in reasons)]
        if len(lines) == 1:
            self.fields["articles"].initial = [lines[0].line_id]


def _who(order: Order) -> Who:
    return Who(Actor.CUSTOMER, f"{order.customer_firstname} {order.customer_lastname}".strip() or "Client")


def customer_reasons(order: Order) -> list[Reason]:
    """The opening reasons a customer may give: the operator's own (no answer from the shop) is not one."""
    return [r for r in services.reasons(ReasonType.INCIDENT_OPEN, _who(order)) if r.code != rules.NO_SHOP_ANSWER]


def _form(order: Order, lines: list[OrderLine], incidents: list[Incident], data: Any = None) -> ReportForm | None:
    reportable = queries.customer_reportable_lines(order, lines, incidents)
    if not reportable:
        return None
    return ReportForm(data, lines=reportable, reasons=customer_reasons(order), auto_id="incident_%s")


def order_incidents(order: Order, lines: list[OrderLine]) -> dict[str, Any]:
    """What the order page shows: the form (None when no article can be reported), ongoing and closed reports."""
    incidents = queries.order_incidents(order.pk, history=())
    for incident in incidents:
        incident.customer_state = CUSTOMER_STATES.get(incident.state, incident.state)  # type: ignore[attr-defined]
    return {"form": _form(order, lines, incidents),
            "ongoing": [i for i in incidents if i.live], "closed": [i for i in incidents if not i.live]}


def _back(token: str) -> HttpResponse:
    return redirect(f"{reverse('customer:order', args=[token])}#incidents")


@require_POST
def report(request: HttpRequest, token: str) -> HttpResponse:
    """« Signaler un problème »: one incident per chosen article. Any refusal changes nothing."""
    order = customer_order(token)
    lines = list(order.lines.all())
    form = _form(order, lines, queries.order_incidents(order.pk, history=()), request.POST)
    if form is None:
        flash.error(request, "Votre signalement n'a pas été envoyé : aucun article de cette commande ne peut "
                             "faire l'objet d'un signalement pour l'instant.")
        return _back(token)
    if not form.is_valid():
        errors = " ".join(str(e) for field in form.errors.values() for e in field)
        flash.error(request, f"Votre signalement n'a pas été envoyé : {errors}")
        return _back(token)
    try:
        opened = services.open_incident(order_id=order.order_id, line_ids=form.cleaned_data["articles"],
                                        reason_code=form.cleaned_data["motif"], who=_who(order),
                                        description=form.cleaned_data["description"])
    except ComptoirError as exc:
        flash.error(request, f"Votre signalement n'a pas été envoyé : {french_message(exc)}")
        return _back(token)
    if opened:
        flash.success(request, "Votre signalement a été transmis au vendeur. Vous serez prévenu par e-mail de "
                               "son traitement.")
    else:
        flash.info(request, "Un signalement est déjà en cours pour cet article.")
    return _back(token)


@require_POST
def settle(request: HttpRequest, token: str, incident_id: int) -> HttpResponse:
    """« Mon problème est réglé »: the customer closes its own report (scoped to the order of the link)."""
    order = customer_order(token)
    try:
        services.close(incident_id=incident_id, who=_who(order), order_id=order.order_id)
    except ComptoirError as exc:
        if exc.status == 404:
            raise Http404("Signalement introuvable") from None
        flash.error(request, f"Votre signalement n'a pas été clos : {french_message(exc)}")
        return _back(token)
    flash.success(request, "Merci : votre signalement est clos.")
    return _back(token)
