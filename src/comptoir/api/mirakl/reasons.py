"""Mirakl seller API: RE01 and RE02, the reason codes a shop gives with a refund, a cancelation or an incident it
signals resolved (OR64), and the ones incidents are opened with on its lines."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from comptoir.api.openapi import one_of, parameters
from comptoir.api.render import json_response
from comptoir.core.errors import ValidationError
from comptoir.incidents import queries as incident_queries
from comptoir.orders.services import Who
from comptoir.orders.states import Actor
from comptoir.refunds import services
from comptoir.refunds.models import Reason, ReasonType

router = Router(tags=["Reasons"])


class ReasonOut(Schema):
    code: str
    label: str
    type: str
    is_shop_right: bool


class ReasonList(Schema):
    reasons: list[ReasonOut]

# Mirakl's reason types (reference §2.2). Comptoir has reasons for REFUND, CANCELATION, INCIDENT_OPEN and
# INCIDENT_CLOSE; the others are valid and empty, anything else is a 400.
MIRAKL_REASON_TYPES = frozenset({
    "CANCELATION", "CANCELED", "INCIDENT_OPEN", "INCIDENT_CLOSE", "REFUND", "REFUSED", "RETURN",
    "RETURN_REJECTION", "MESSAGING", "ORDER_MESSAGING", "OFFER_MESSAGING", "MMP_SELLER_MESSAGING",
})


def _who(request: HttpRequest) -> Who:
    return Who(Actor.SELLER, f"API boutique {request.shop.id}")  # type: ignore[attr-defined]


def _shop_reasons(reason_type: str, who: Who) -> list[Reason]:
    """The reasons the shop may give; for INCIDENT_OPEN, which a shop never gives, the ones incidents are opened
    with on its lines (`is_shop_right: false`), so that a connector can name them."""
    if reason_type == ReasonType.INCIDENT_OPEN:
        return incident_queries.opening_reasons()
    return services.reasons(reason_type, who)


def _reasons_json(reasons: list[Reason]) -> dict[str, Any]:
    ordered = sorted(reasons, key=lambda r: (r.type, r.position, r.code))
    return {"reasons": [{"code": r.code, "label": r.label, "type": r.type, "is_shop_right": r.is_shop_right}
                        for r in ordered]}


@router.get("/reasons", response=ReasonList, summary="RE01 - List reasons", operation_id="RE01",
            description="The reasons this shop may give (`is_shop_right: true`; the operator's own reasons are not "
            "listed), sorted by type then position. Types: REFUND (OR28), CANCELATION (OR29, OR30), "
            "INCIDENT_CLOSE (OR64); and INCIDENT_OPEN, the reasons incidents are opened with on the shop's lines "
            "(`is_shop_right: false`: a shop never opens one).")
def list_reasons(request: HttpRequest) -> HttpResponse:
    who = _who(request)
    return json_response(_reasons_json([r for t in ReasonType.values for r in _shop_reasons(t, who)]))


@router.get("/reasons/{reason_type}", response=ReasonList, summary="RE02 - List reasons of one type", operation_id="RE02",
            openapi_extra=parameters("path", reason_type=one_of(*sorted(MIRAKL_REASON_TYPES))),
            description="Same shape as RE01 for one Mirakl reason type; a Mirakl type Comptoir has no reason for "
            "(MESSAGING, RETURN, ...) gives an empty list, an unknown type a 400.")
def list_reasons_of_type(request: HttpRequest, reason_type: str) -> HttpResponse:
    wanted = reason_type.strip().upper()
    if wanted not in MIRAKL_REASON_TYPES and not wanted.startswith("MPS_"):
        raise ValidationError(f"Type de motif inconnu : {reason_type!r}.", field="reason_type")
    if wanted not in ReasonType.values:
        return json_response({"reasons": []})
    return json_response(_reasons_json(_shop_reasons(wanted, _who(request))))
