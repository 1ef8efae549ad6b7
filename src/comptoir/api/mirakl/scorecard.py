"""Seller API (a Comptoir extension; Mirakl documents no shop statistics endpoint): the shop's scorecard over
the last 30 or 90 days, one object per measure with its value, numerator, denominator, unit and French label."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from comptoir.api.openapi import one_of, parameters
from comptoir.api.render import iso, json_response
from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.scorecards import queries
from comptoir.scorecards.rules import WINDOWS, Value

router = Router(tags=["Scorecard"])


class Measure(Schema):
    code: str
    label: str
    unit: str
    value: float | None = Field(description="null when there is nothing to measure (denominator 0)")
    numerator: float | None
    denominator: int
    higher_is_better: bool


class Scorecard(Schema):
    shop_id: int
    window_days: int
    date_from: str
    date_to: str
    measures: list[Measure]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _measure(value: Value) -> dict[str, Any]:
    return {"code": value.measure.value, "label": value.label, "unit": value.unit, "value": _number(value.value),
            "numerator": _number(value.numerator), "denominator": value.denominator,
            "higher_is_better": value.definition.higher_is_better}


@router.get("/shops/scorecard", summary="Shop scorecard (Comptoir extension)", operation_id="shop_scorecard", response=Scorecard,
            openapi_extra=parameters(window=one_of(*(str(days) for days in WINDOWS))),
            description="The shop's performance measures over the `window` last days (30 or 90, default 30) ending "
            "now. `value` is null when there is nothing to measure (denominator 0). Rates are percentages; delays "
            "are in business days (acceptance) or business hours (messages).")
def scorecard(request: HttpRequest, window: str = "30") -> HttpResponse:
    days = {str(w): w for w in WINDOWS}.get(window.strip(), 0)
    if days not in WINDOWS:
        raise ValidationError("window : valeur non autorisée (30 ou 90).", field="window")
    shop = request.shop  # type: ignore[attr-defined]
    end = clock.now()
    card = queries.scorecard(shop.id, days, end=end)
    return json_response({"shop_id": shop.id, "window_days": days, "date_from": iso(end - timedelta(days=days)),
                          "date_to": iso(end), "measures": [_measure(v) for v in card.values()]})
