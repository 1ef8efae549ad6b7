"""Operator pages over the notification outbox: events filtered by state and order, and replay.

Reads through notifications.queries, writes through notifications.services.replay.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from comptoir.notifications import queries as outbox_queries
from comptoir.notifications import services as outbox_services
from comptoir.notifications.models import OutboxState
from comptoir.operator.forms import OUTBOX_STATE_LABELS, OutboxFilterForm
from comptoir.operator.labels import AUDIENCE_LABELS, event_label
from comptoir.operator.views.common import BASE, operator_view
from comptoir.web.views import confirmation, is_confirmed

EVENTS_SHOWN = 100
REPLAYABLE = (OutboxState.DEAD, OutboxState.SENT)


@operator_view
def outbox_list(request: HttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    events = outbox_queries.outbox_events(state=data.get("etat") or None, order_id=data.get("commande") or "",
                                          limit=EVENTS_SHOWN) if valid else []
    rows = [{
        "event": event, "label": event_label(event.event_type),
        "audience": AUDIENCE_LABELS.get(event.audience, event.audience),
        "state": OUTBOX_STATE_LABELS.get(OutboxState(event.state), event.state),
        "replayable": event.state in REPLAYABLE,
    } for event in events]
    return render(request, "operator/outbox.html", {
        "nav": "outbox", "form": form, "rows": rows, "counts": outbox_queries.outbox_counts(),
        "events_shown": EVENTS_SHOWN, "querystring": request.GET.urlencode(),
        "form_error": "" if valid else "Filtre invalide : corrigez-le ci-dessous.",
    }, status=200 if valid else 400)


def _list_url(querystring: str) -> str:
    """Back to the list with its filters; only the filter's own keys survive the round trip."""
    kept = QueryDict(querystring).copy()
    for key in list(kept):
        if key not in OutboxFilterForm.base_fields:
            del kept[key]
    return reverse("operator:outbox") + (f"?{kept.urlencode()}" if kept else "")


@require_POST
@operator_view
def outbox_replay(request: HttpRequest, event_id: int) -> HttpResponse:
    """Queue a dead (or already sent) event again, after confirmation."""
    event = outbox_queries.outbox_event(event_id)
    if event is None:
        raise Http404("Notification introuvable")
    list_url = _list_url(request.POST.get("retour", ""))
    if event.state not in REPLAYABLE:
        messages.error(request, "Cette notification est déjà en attente d'envoi : rien n'a changé.")
        return redirect(list_url)
    if not is_confirmed(request):
        summary = [f"{event_label(event.event_type)} — {AUDIENCE_LABELS.get(event.audience, event.audience)}"]
        if event.order_id:
            summary.append(f"Commande {event.order_id}")
        summary.append("La notification repasse en attente : le worker l'enverra à nouveau dans quelques secondes.")
        warning = ("Elle a déjà été envoyée : le destinataire la recevra une seconde fois."
                   if event.state == OutboxState.SENT else "")
        return confirmation(request, surface_base=BASE, title="Renvoyer la notification", summary=summary,
                            warning=warning, action=reverse("operator:outbox_replay", args=[event.id]),
                            cancel_url=list_url, confirm_label="Renvoyer")
    if outbox_services.replay(event_id=event.id):
        messages.success(request, f"Notification n° {event.id} remise en attente d'envoi.")
    else:
        messages.error(request, "Cette notification est déjà en attente d'envoi : rien n'a changé.")
    return redirect(list_url)
