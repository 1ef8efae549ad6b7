"""Operator API for incidents and mediation: open an incident on an order line (OR62's body) or close it (OR63's),
list and read incidents across shops, start the mediation, serve a formal notice, impose its solution once the
notice has expired, reopen an incident the seller signaled resolved. Every call goes through the incidents
services (each step is a history row of the order); the answers are the incident in snake_case."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from comptoir.api.mirakl.incidents import line_in_path
from comptoir.api.openapi import integer, one_of, parameters, values
from comptoir.api.render import amount, iso, json_response, parse_bool, parse_int, parse_list
from comptoir.core import clock
from comptoir.core.errors import NotFound, ValidationError
from comptoir.core.money import decimal_to_cents
from comptoir.incidents import mediation, queries, rules, services
from comptoir.incidents.errors import IncidentInvalidState, IncidentNotFound
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState, Solution, SolutionKind
from comptoir.orders.errors import OrderNotFound
from comptoir.orders.services import Who
from comptoir.orders.states import Actor

router = Router(tags=["Operator incidents"])

STATES = {s.value for s in IncidentState}


def _operator(request: HttpRequest) -> Who:
    key = request.auth  # type: ignore[attr-defined]
    return Who(Actor.OPERATOR, key.label or "API opérateur")


# --- the incident in JSON ----------------------------------------------------------------------------------------

def _solution_json(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return None
    solution = Solution.from_json(data)
    return {"kind": solution.kind.value, "amount": amount(solution.amount_cents), "note": solution.note,
            "label": solution.describe()}


def incident_json(incident: Incident) -> dict[str, Any]:
    """The order and the line are read from the incident's cached relations (select_related by the queries)."""
    line = incident.line
    return {
        "incident_id": incident.pk,
        "order_id": incident.order.order_id,
        "order_line_id": line.line_id,
        "order_line_state": rules.api_line_state(line.state, line.incident_state),
        "shop_id": incident.shop_id,
        "state": incident.state,
        "state_label": incident.state_label,
        "reason_code": incident.reason_code,
        "reason_label": incident.reason_label,
        "description": incident.description or None,
        "opened_by": incident.opened_by,
        "opened_by_name": incident.opened_by_name or None,
        "opened_date": iso(incident.opened_at),
        "thread_id": str(incident.thread_id) if incident.thread_id is not None else None,
        "shop_resolution": None if incident.shop_resolved_at is None else {
            "date": iso(incident.shop_resolved_at), "reason_code": incident.shop_resolution_code,
            "reason_label": incident.shop_resolution_label},
        "mediation": incident.in_mediation,
        "mediation_started_date": iso(incident.mediation_started_at),
        "formal_notice_date": iso(incident.formal_notice_at),
        "formal_notice_due": iso(incident.formal_notice_due),
        "solution": _solution_json(incident.solution),
        "imposed": incident.imposed_at is not None,
        "imposed_date": iso(incident.imposed_at),
        "impose_error": incident.impose_error or None,
        "closed_date": iso(incident.closed_at),
        "closed_by": incident.closed_by or None,
        "close_reason_code": incident.close_reason_code or None,
        "close_reason_label": incident.close_reason_label or None,
        "last_updated_date": iso(incident.updated_at),
    }


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class SolutionOut(Schema):
    kind: str
    amount: float | None = Field(description="Euros tax included; null: the whole line")
    note: str
    label: str


class ShopResolution(Schema):
    date: str | None
    reason_code: str
    reason_label: str


class IncidentOut(Schema):
    incident_id: int
    order_id: str
    order_line_id: str
    order_line_state: str
    shop_id: int
    state: str
    state_label: str
    reason_code: str
    reason_label: str
    description: str | None
    opened_by: str
    opened_by_name: str | None
    opened_date: str
    thread_id: str | None
    shop_resolution: ShopResolution | None
    mediation: bool
    mediation_started_date: str | None
    formal_notice_date: str | None
    formal_notice_due: str | None
    solution: SolutionOut | None
    imposed: bool
    imposed_date: str | None
    impose_error: str | None
    closed_date: str | None
    closed_by: str | None
    close_reason_code: str | None
    close_reason_label: str | None
    last_updated_date: str


class IncidentList(Schema):
    incidents: list[IncidentOut]
    total_count: int


def _answer(incident_id: int, status: int = 200) -> HttpResponse:
    """The incident as it is now (re-read: the services update the line and the order beside it)."""
    found = queries.incident(incident_id)
    if found is None:  # deleted with its order between the write and this read
        raise IncidentNotFound(f"Incident {incident_id} introuvable.")
    return json_response(incident_json(found), status=status)


# --- reading -----------------------------------------------------------------------------------------------------

@router.get("/incidents", summary="List incidents across shops", operation_id="operator_list_incidents", response=IncidentList,
            openapi_extra=parameters(state=values(one_of(*sorted(STATES))), shop_id=integer(),
                                     order_id={"type": "string"}, in_mediation={"type": "boolean"},
                                     formal_notice=one_of(*queries.FORMAL_NOTICE_FILTERS), offset=integer(),
                                     max=integer(1, settings.COMPTOIR["API_MAX_PAGE_SIZE"])),
            description="Newest first. Filters: `state` (OPEN, SHOP_RESOLVED, CLOSED; comma-separated or "
            "repeated), `shop_id`, `order_id`, `in_mediation` (true/false), `formal_notice` (`none`; `running`: "
            "the seller's 24 business hours are not over; `expired`: over and nothing imposed yet, the solution "
            "can be imposed). `max` (1-100, default 10), `offset`. Answer: `incidents` and `total_count`.")
def list_incidents(request: HttpRequest) -> HttpResponse:
    q = request.GET
    states = [s.upper() for s in parse_list(request, "state")]
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise ValidationError(f"Paramètre state : état inconnu {unknown[0]!r} ({', '.join(sorted(STATES))}).",
                              field="state")
    notice = (q.get("formal_notice") or "").strip().lower()
    if notice and notice not in queries.FORMAL_NOTICE_FILTERS:
        raise ValidationError(f"Paramètre formal_notice : {', '.join(queries.FORMAL_NOTICE_FILTERS)}.",
                              field="formal_notice")
    shop_id = parse_int(q.get("shop_id"), "shop_id", default=0, minimum=0) or None
    incidents, total = queries.incidents_page(
        queries.IncidentFilter(states=states, shop_id=shop_id, order_id=(q.get("order_id") or "").strip(),
                               in_mediation=parse_bool(q.get("in_mediation"), "in_mediation"),
                               formal_notice=notice, now=clock.now()),
        offset=parse_int(q.get("offset"), "offset", default=0),
        limit=parse_int(q.get("max"), "max", default=10, minimum=1, maximum=settings.COMPTOIR["API_MAX_PAGE_SIZE"]),
    )
    return json_response({"incidents": [incident_json(i) for i in incidents], "total_count": total})


@router.get("/incidents/{incident_id}", summary="One incident", operation_id="operator_get_incident", response=IncidentOut)
def get_incident(request: HttpRequest, incident_id: str) -> HttpResponse:
    found = queries.incident(incident_id)
    if found is None:
        raise IncidentNotFound(f"Incident {incident_id} introuvable.")
    return json_response(incident_json(found))


# --- opening and closing on a line (OR62 / OR63 bodies) ------------------------------------------------------------

class OpenIn(Schema):
    model_config = ConfigDict(extra="ignore")
    reason_code: str = Field(max_length=50, description="An INCIDENT_OPEN reason (RE02 INCIDENT_OPEN)")
    description: str = Field(default="", max_length=5000)


class CloseIn(Schema):
    model_config = ConfigDict(extra="ignore")
    reason_code: str = Field(default="", max_length=50,
                             description="An INCIDENT_CLOSE reason; absent: the seller's resolution's, if any")
    note: str = Field(default="", max_length=500)


@router.put("/orders/{order_id}/lines/{order_line_id}/open_incident", summary="Open an incident on a line (OR62)",
            operation_id="operator_open_incident", response={200: IncidentOut, 201: IncidentOut},
            description="Any shop's order line that is shipped (or to ship). 201 with the new incident; 200 with the "
            "line's live incident when it already has one (a second claim joins the first). 404 for an unknown "
            "order or line; 400 INCIDENT_REASON_INVALID, INCIDENT_NOT_ALLOWED (line not shipped, refused, ...).")
def open_incident(request: HttpRequest, order_id: str, order_line_id: str, body: OpenIn) -> HttpResponse:
    with line_in_path():
        opened = services.open_incident(order_id=order_id, line_ids=[order_line_id], reason_code=body.reason_code,
                                        who=_operator(request), description=body.description)
    if opened:
        return _answer(opened[0].pk, status=201)
    live = queries.live_incident_on_line(order_id, order_line_id)
    if live is None:  # closed between the call and this read
        raise IncidentInvalidState(f"Aucun incident en cours sur la ligne {order_line_id}.")
    return json_response(incident_json(live))


@router.put("/orders/{order_id}/lines/{order_line_id}/close_incident", summary="Close a line's incident (OR63)",
            operation_id="operator_close_incident", response=IncidentOut,
            description="Closes the line's live incident (open, or signaled resolved by the seller: this confirms "
            "it). `reason_code` is an INCIDENT_CLOSE reason; without one, the seller's resolution's (400 when the "
            "seller gave none). 404 for an unknown order or line; 400 INCIDENT_INVALID_STATE without a live "
            "incident.")
def close_incident(request: HttpRequest, order_id: str, order_line_id: str, body: CloseIn) -> HttpResponse:
    live = queries.live_incident_on_line(order_id, order_line_id)
    if live is None:
        known = queries.line_known(order_id, order_line_id)
        if known is None:
            raise OrderNotFound(f"Commande {order_id} introuvable.")
        if not known:
            raise NotFound(f"Ligne {order_line_id} introuvable sur la commande {order_id}.",
                           code="ORDER_LINE_NOT_FOUND")
        raise IncidentInvalidState(f"Aucun incident en cours sur la ligne {order_line_id}.")
    closed = services.close(incident_id=live.pk, who=_operator(request), reason_code=body.reason_code.strip(),
                            note=body.note)
    return _answer(closed.pk)


# --- mediation ---------------------------------------------------------------------------------------------------

class NoteIn(Schema):
    model_config = ConfigDict(extra="ignore")
    note: str = Field(default="", max_length=500)


class FormalNoticeIn(Schema):
    model_config = ConfigDict(extra="ignore")
    amount: Decimal | None = Field(default=None, description="Euros, tax included, to refund; absent: the whole "
                                   "line (price and shipping still refundable)")
    note: str = Field(default="", max_length=500)


@router.post("/incidents/{incident_id}/start_mediation", summary="Start the operator's mediation",
             operation_id="operator_start_mediation", response=IncidentOut,
             description="400 INCIDENT_INVALID_STATE when closed or already in mediation.")
def start_mediation(request: HttpRequest, incident_id: str) -> HttpResponse:
    incident = services.start_mediation(incident_id=incident_id, who=_operator(request))
    return _answer(incident.pk)


@router.post("/incidents/{incident_id}/formal_notice", summary="Serve the seller a formal notice",
             operation_id="operator_formal_notice", response=IncidentOut,
             description="The seller has 24 business hours to settle; then `solution` (a refund of `amount` euros "
                         "tax included, or of the whole line when absent) is imposed by the worker, or here with "
                         "`impose`. Starts the mediation if it was not. 400 INCIDENT_SOLUTION_INVALID for an amount "
                         "not positive or with more than two decimals; 400 INCIDENT_INVALID_STATE unless the "
                         "incident is open without a notice already.")
def formal_notice(request: HttpRequest, incident_id: str, body: FormalNoticeIn) -> HttpResponse:
    cents = None
    if body.amount is not None:
        try:
            cents = decimal_to_cents(body.amount)
        except ValueError:
            raise ValidationError(f"amount : montant invalide ({body.amount}) ; deux décimales au plus.",
                                  code="INCIDENT_SOLUTION_INVALID", field="amount") from None
    incident = services.send_formal_notice(incident_id=incident_id, who=_operator(request),
                                           solution=Solution(SolutionKind.REFUND, cents, body.note.strip()))
    return _answer(incident.pk)


@router.post("/incidents/{incident_id}/impose", summary="Impose the formal notice's solution",
             operation_id="operator_impose", response=IncidentOut,
             description="Once the formal notice has expired: refunds the line (reason OPERATOR_MEDIATION, debited "
                         "from the seller), which closes the incident for good. 400 INCIDENT_INVALID_STATE before the "
                         "deadline, without a notice, or when not open; a refund the seller's balance cannot cover is "
                         "the refund's 400 and is kept on the incident (`impose_error`).")
def impose(request: HttpRequest, incident_id: str) -> HttpResponse:
    incident = mediation.impose(incident_id=incident_id, who=_operator(request))
    return _answer(incident.pk)


@router.post("/incidents/{incident_id}/reopen", summary="Reopen an incident the seller signaled resolved",
             operation_id="operator_reopen_incident", response=IncidentOut,
             description="Only from SHOP_RESOLVED (400 INCIDENT_INVALID_STATE otherwise). Optional body "
                         "`{\"note\"}`: why, kept in the order's history.")
def reopen(request: HttpRequest, incident_id: str, body: NoteIn | None = None) -> HttpResponse:
    incident = services.reopen(incident_id=incident_id, who=_operator(request), note=body.note if body else "")
    return _answer(incident.pk)
