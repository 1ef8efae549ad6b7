"""The operator's « Médiation » board (/operateur/incidents/): incidents by stage and shop with the counts in the
menu; one incident with its order, its line, its timeline and the order's conversations; the operator's acts
(start the mediation, formal notice, impose the solution, confirm or reopen the seller's resolution, close),
each confirmed first; and « Ouvrir un incident » from the order page. Writes through the incidents and messaging
services, reads through their queries; every step lands in the order's « Historique »."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.incidents import mediation, queries
from comptoir.incidents import services as incident_services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import Solution
from comptoir.operator import conversations
from comptoir.operator.incident_forms import BoardFilterForm, CloseForm, FormalNoticeForm, ReopenForm
from comptoir.operator.incident_pages import ACTIONS, local, notice_due, open_form, refusals
from comptoir.operator.views.common import BASE, FORM_ERROR, operator_view, who
from comptoir.operator.views.orders import _detail_context, _order
from comptoir.refunds import services as refund_services
from comptoir.refunds.models import ReasonType
from comptoir.web.errors import french_message
from comptoir.web.templatetags.comptoir_web import euros
from comptoir.web.views import confirmation, is_confirmed

PER_PAGE = 50


@require_GET
@operator_view
def board(request: HttpRequest) -> HttpResponse:
    form = BoardFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    key, shop_id, now = data.get("filtre") or "en-cours", data.get("boutique"), clock.now()
    query = queries.board(key, now=now, shop_id=shop_id)
    page = Paginator(query if valid else query.none(), PER_PAGE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(request, "operator/incidents.html", {
        "nav": "incidents", "form": form, "page": page, "rows": list(page.object_list), "current": key,
        "tabs": [(k, label, count) for (k, label), count in zip(
            queries.BOARD_FILTERS.items(), queries.board_counts(now=now, shop_id=shop_id).values(), strict=True)],
        "shop_id": shop_id, "querystring_nopage": kept.urlencode(), "now": now,
        "form_error": "" if valid else "Filtre invalide : corrigez-le ci-dessous.",
    }, status=200 if valid else 400)


def _incident(incident_id: int) -> Incident:
    found = queries.board_incident(incident_id)
    if found is None:
        raise Http404("Incident introuvable")
    return found


def _close_form(request: HttpRequest, data: Any = None) -> CloseForm:
    return CloseForm(data, prefix="clore", reasons=incident_services.reasons(ReasonType.INCIDENT_CLOSE, who(request)))


def _page(request: HttpRequest, incident: Incident, *, forms: dict[str, Any] | None = None,
          posted: conversations.Posted | None = None, error: str = "", status: int = 200) -> HttpResponse:
    """The incident page; `forms` / `posted` carry the forms that came back with errors."""
    now, bound = clock.now(), forms or {}
    start_posted = posted if posted is not None and posted.thread_id is None else None
    order = incident.order
    conversations.mark_read(order)
    return render(request, "operator/incident_detail.html", {
        "nav": "incidents", "incident": incident, "order": order, "line": incident.line, "now": now,
        "solution": incident.solution and Solution.from_json(incident.solution).describe(),
        "refused": {key.replace("-", "_"): why for key, why in refusals(incident, now).items()},
        "notice_due_now": notice_due(now),
        "timeline": queries.incident_timeline(incident),
        "threads": conversations.threads(order, bound=posted if posted and posted.thread_id else None),
        "start_form": start_posted.form if start_posted else conversations.start_form(),
        "notice_form": bound.get("mise-en-demeure") or FormalNoticeForm(prefix="notice"),
        "close_form": bound.get("clore") or _close_form(request),
        "reopen_form": bound.get("rouvrir") or ReopenForm(prefix="rouvrir"),
        "form_error": error,
    }, status=status)


@require_GET
@operator_view
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _page(request, _incident(incident_id))


def _refused(request: HttpRequest, incident: Incident, why: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]  # htmx swaps only 2xx answers into the dialog
        return render(request, "operator/_refusal_dialog.html", {"why": why})
    return _page(request, incident, error=why, status=400)


def _notice_summary(request: HttpRequest, incident: Incident, form: FormalNoticeForm) -> list[str]:
    """The formal notice's figures from the refund service's own preview (raises its errors, nothing written)."""
    solution = form.solution_value()
    plan = refund_services.preview_request(requests=[mediation.refund_request(incident.line.line_id, solution)],
                                           who=who(request), shop_id=None)
    lines = [f"Solution imposée à l'échéance : {solution.describe()}.",
             f"Le client serait remboursé de {euros(plan.preview.total_cents)} TTC, "
             f"à la charge du vendeur ({euros(plan.preview.seller_cost_cents)} après commission rendue).",
             f"Le vendeur a 24 h ouvrées pour régler le problème : échéance le {local(notice_due(clock.now()))} "
             "(heure de Paris)."]
    if plan.refusal is not None:
        lines.append("Attention : le solde du vendeur ne couvre pas ce remboursement aujourd'hui ; s'il ne change "
                     "pas, l'imposition échouera et l'incident vous reviendra.")
    return lines


@require_POST
@operator_view
def incident_action(request: HttpRequest, incident_id: int, action: str) -> HttpResponse:
    item = ACTIONS.get(action)
    if item is None:
        raise Http404()
    incident = _incident(incident_id)
    why = refusals(incident, clock.now())[action]
    if why:
        return _refused(request, incident, why)
    form: Any = {"mise-en-demeure": lambda: FormalNoticeForm(request.POST, prefix="notice"),
                 "clore": lambda: _close_form(request, request.POST),
                 "rouvrir": lambda: ReopenForm(request.POST, prefix="rouvrir")}.get(action, lambda: None)()
    line = incident.line
    summary = [f"Incident n° {incident.pk} : commande {incident.order.order_id}, article « {line.product_title} » "
               f"(boutique {incident.order.shop.name}).", item.effect]
    if form is not None:
        if form.is_valid() and action == "mise-en-demeure":
            try:
                summary += _notice_summary(request, incident, form)
            except ComptoirError as exc:
                form.add_error("montant" if form.cleaned_data.get("montant") else None, french_message(exc))
        if not form.is_valid():
            if request.htmx:  # type: ignore[attr-defined]
                return render(request, "web/form_errors_dialog.html", {"errors": list(form.errors.items())})
            return _page(request, incident, forms={action: form}, error=FORM_ERROR, status=400)
        if action == "clore":
            summary.append(f"Motif : {dict(form.fields['motif'].choices)[form.cleaned_data['motif']]}.")
        if action == "rouvrir":
            summary.append(f"Message au vendeur : {form.cleaned_data['note']}")
    if action == "confirmer":
        summary.append(f"Résolution du vendeur : {incident.shop_resolution_label}.")
    detail_url = reverse("operator:incident", args=[incident.pk])
    if not is_confirmed(request):
        return confirmation(request, surface_base=BASE, title=item.title, summary=summary,
                            action=reverse("operator:incident_action", args=[incident.pk, action]),
                            cancel_url=detail_url, confirm_label=item.title, danger=item.danger)
    try:
        _run(request, incident, action, form)
    except ComptoirError as exc:
        return _page(request, _incident(incident_id), forms={action: form} if form else None,
                     error=french_message(exc), status=400)
    messages.success(request, item.done)
    return redirect(detail_url)


def _run(request: HttpRequest, incident: Incident, action: str, form: Any) -> None:
    operator = who(request)
    if action == "demarrer-mediation":
        incident_services.start_mediation(incident_id=incident.pk, who=operator)
    elif action == "mise-en-demeure":
        incident_services.send_formal_notice(incident_id=incident.pk, who=operator, solution=form.solution_value())
    elif action == "imposer":
        mediation.impose(incident_id=incident.pk, who=operator)
    elif action == "confirmer":
        incident_services.close(incident_id=incident.pk, who=operator)
    elif action == "rouvrir":
        incident_services.reopen(incident_id=incident.pk, who=operator, note=form.cleaned_data["note"])
    else:
        incident_services.close(incident_id=incident.pk, who=operator, reason_code=form.cleaned_data["motif"],
                                note=form.cleaned_data["note"])


@require_POST
@operator_view
def incident_reply(request: HttpRequest, incident_id: int, thread_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    posted = conversations.post_reply(request, incident.order, thread_id)
    if posted.error:
        return _page(request, incident, posted=posted, error=posted.error, status=400)
    messages.success(request, "Réponse envoyée.")
    return redirect(f"{reverse('operator:incident', args=[incident.pk])}#conversation-{thread_id}")


@require_POST
@operator_view
def incident_start(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    posted = conversations.post_start(request, incident.order)
    if posted.error:
        return _page(request, incident, posted=posted, error=posted.error, status=400)
    messages.success(request, "Conversation démarrée.")
    return redirect(f"{reverse('operator:incident', args=[incident.pk])}#conversation-{posted.thread_id}")


@require_POST
@operator_view
def open_incident(request: HttpRequest, order_id: str) -> HttpResponse:
    """« Ouvrir un incident » from the operator's order page, on the lines chosen, with an INCIDENT_OPEN reason."""
    order = _order(order_id)
    form = open_form(order, list(order.lines.all()), request.POST)
    order_url = reverse("operator:order", args=[order.order_id])
    if form is None or not form.is_valid():
        if form is not None and request.htmx:  # type: ignore[attr-defined]
            return render(request, "web/form_errors_dialog.html", {"errors": list(form.errors.items())})
        context = _detail_context(order)
        context["open_incident_form"] = form or context["open_incident_form"]
        context["form_error"] = FORM_ERROR if form else "Aucun article de cette commande ne peut recevoir d'incident."
        return render(request, "operator/order_detail.html", context, status=400)
    chosen = [label for value, label in form.fields["lignes"].choices if value in form.cleaned_data["lignes"]]
    reason = dict(form.fields["motif"].choices)[form.cleaned_data["motif"]]
    if not is_confirmed(request):
        summary = [f"Commande {order.order_id} (boutique {order.shop.name}).", f"Articles : {', '.join(chosen)}.",
                   f"Motif : {reason}.", "Le vendeur et le client sont avertis de chaque nouvel incident."]
        if form.cleaned_data["description"]:
            summary.append(f"Description : {form.cleaned_data['description']}")
        return confirmation(request, surface_base=BASE, title="Ouvrir un incident", summary=summary,
                            action=reverse("operator:open_incident", args=[order.order_id]), cancel_url=order_url,
                            confirm_label="Ouvrir l'incident")
    try:
        opened = incident_services.open_incident(
            order_id=order.order_id, line_ids=form.cleaned_data["lignes"], reason_code=form.cleaned_data["motif"],
            who=who(request), description=form.cleaned_data["description"])
    except ComptoirError as exc:
        context = _detail_context(_order(order_id))
        context.update(open_incident_form=form, form_error=french_message(exc))
        return render(request, "operator/order_detail.html", context, status=400)
    if not opened:
        messages.info(request, "Un incident était déjà ouvert sur ces articles : rien de nouveau.")
        return redirect(order_url)
    messages.success(request, f"Incident ouvert sur {len(opened)} article{'s' if len(opened) > 1 else ''}.")
    return redirect("operator:incident", opened[0].pk)
