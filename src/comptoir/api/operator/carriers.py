"""Operator API: the carriers sellers choose from (list, create, update, disable) and a link preview."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool

from comptoir.api.render import iso, json_response
from comptoir.shipping import queries, services
from comptoir.shipping.errors import CarrierNotFound
from comptoir.shipping.models import Carrier

router = Router(tags=["Operator"])


def carrier_json(carrier: Carrier) -> dict[str, Any]:
    return {"code": carrier.code, "label": carrier.label, "standard_code": carrier.standard_code or None,
            "tracking_url": carrier.tracking_url, "active": carrier.active,
            "created_date": iso(carrier.created_date), "last_updated_date": iso(carrier.last_updated_date)}


class OperatorCarrier(Schema):
    code: str
    label: str
    standard_code: str | None
    tracking_url: str
    active: bool
    created_date: str
    last_updated_date: str


class OperatorCarrierList(Schema):
    carriers: list[OperatorCarrier]


class LinkPreview(Schema):
    tracking_url: str


# Documented only (the service checks the template and says what is wrong): « {tracking_number} » inside.
TEMPLATE_PATTERN = r"^https://[^{}\s]*\{tracking_number\}[^{}\s]*$"


class CarrierIn(Schema):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
    label: str = Field(min_length=1, max_length=100)
    standard_code: str = Field(default="", max_length=50)
    tracking_url: str = Field(min_length=1, max_length=500, json_schema_extra={"pattern": TEMPLATE_PATTERN})


class CarrierUpdate(Schema):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, min_length=1, max_length=100)
    standard_code: str | None = Field(default=None, max_length=50)
    tracking_url: str | None = Field(default=None, min_length=1, max_length=500,
                                      json_schema_extra={"pattern": TEMPLATE_PATTERN})
    active: StrictBool | None = None


class PreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    tracking_url: str = Field(min_length=1, max_length=500, json_schema_extra={"pattern": TEMPLATE_PATTERN})
    tracking_number: str = Field(min_length=1, max_length=100)
    postcode: str = Field(default="", max_length=20)


@router.get("/carriers", response=OperatorCarrierList, summary="List carriers (active and disabled)")
def list_carriers(request: HttpRequest) -> HttpResponse:
    return json_response({"carriers": [carrier_json(c) for c in queries.carriers(include_inactive=True)]})


@router.post("/carriers", response={201: OperatorCarrier}, summary="Create a carrier")
def create_carrier(request: HttpRequest, body: CarrierIn) -> HttpResponse:
    carrier = services.create_carrier(code=body.code, label=body.label, tracking_url=body.tracking_url,
                                      standard_code=body.standard_code)
    return json_response(carrier_json(carrier), 201)


@router.post("/carriers/preview", response=LinkPreview, summary="Preview a tracking link from a template")
def preview(request: HttpRequest, body: PreviewIn) -> HttpResponse:
    link = services.preview_link(tracking_url=body.tracking_url, tracking_number=body.tracking_number,
                                 postcode=body.postcode)
    return json_response({"tracking_url": link})


@router.get("/carriers/{code}", response=OperatorCarrier, summary="One carrier")
def get_carrier(request: HttpRequest, code: str) -> HttpResponse:
    carrier = queries.carrier(code)
    if carrier is None:
        raise CarrierNotFound(f"Transporteur {code} introuvable.")
    return json_response(carrier_json(carrier))


@router.put("/carriers/{code}", response=OperatorCarrier, summary="Update a carrier (label, template, active)")
def update_carrier(request: HttpRequest, code: str, body: CarrierUpdate) -> HttpResponse:
    carrier = services.update_carrier(code=code, label=body.label, tracking_url=body.tracking_url,
                                      standard_code=body.standard_code, active=body.active)
    return json_response(carrier_json(carrier))


@router.put("/carriers/{code}/disable", response=OperatorCarrier, summary="Disable a carrier (hidden from sellers)")
def disable_carrier(request: HttpRequest, code: str) -> HttpResponse:
    return json_response(carrier_json(services.disable_carrier(code=code)))
