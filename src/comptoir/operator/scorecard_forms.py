"""The operator's form for one measure's thresholds; the domain checks the levels' consistency."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from comptoir.scorecards.models import MEASURE_CHOICES
from comptoir.scorecards.rules import WINDOWS


class ThresholdForm(forms.Form):
    measure = forms.ChoiceField(label="Indicateur", choices=MEASURE_CHOICES,
                                error_messages={"invalid_choice": "Indicateur inconnu."})
    warning_level = forms.DecimalField(label="Seuil d'avertissement", required=False, max_digits=9, decimal_places=2,
                                       min_value=Decimal(0), localize=True,
                                       help_text="En % pour un taux, en jours ouvrés, heures ouvrées ou commandes sinon. "
                                       "Vide : pas d'avertissement.")
    suspension_level = forms.DecimalField(label="Seuil de suspension", required=False, max_digits=9,
                                          decimal_places=2, min_value=Decimal(0), localize=True)
    suspension_enabled = forms.BooleanField(label="Suspendre automatiquement la boutique", required=False)
    window_days = forms.TypedChoiceField(label="Période", coerce=int, initial=30,
                                         choices=[(d, f"{d} derniers jours") for d in WINDOWS])
