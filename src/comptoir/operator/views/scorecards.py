"""Operator page of the scorecard thresholds: the list per measure and a form to set or clear one; the
scorecards service validates (French message, nothing changed on bad input)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from comptoir.core.errors import ComptoirError
from comptoir.operator.scorecard_forms import ThresholdForm
from comptoir.operator.views.common import FORM_ERROR, operator_view
from comptoir.scorecards import queries, services
from comptoir.scorecards.rules import DEFINITIONS, Measure
from comptoir.web.errors import french_message


def _page(request: HttpRequest, form: ThresholdForm, *, status: int = 200, error: str = "") -> HttpResponse:
    current = {t.measure: t for t in queries.thresholds()}
    rows = [(definition, current.get(measure.value)) for measure, definition in DEFINITIONS.items()]
    return render(request, "operator/scorecard_thresholds.html",
                  {"rows": rows, "form": form, "form_error": error, "nav": "shops"}, status=status)


@operator_view
def scorecard_thresholds(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, ThresholdForm())
    form = ThresholdForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400, error=FORM_ERROR)
    data = form.cleaned_data
    try:
        services.set_threshold(measure=data["measure"], warning_level=data["warning_level"],
                               suspension_level=data["suspension_level"],
                               suspension_enabled=data["suspension_enabled"], window_days=data["window_days"])
    except ComptoirError as error:
        return _page(request, form, status=400, error=french_message(error))
    messages.success(request, f"Seuils de « {DEFINITIONS[Measure(data['measure'])].label} » enregistrés.")
    return redirect("operator:scorecard_thresholds")
