"""The filter of the operator's « Relais e-mail » page: verdict and shop."""

from __future__ import annotations

from django import forms

from comptoir.relay.models import VERDICT_LABELS


class RelayFilterForm(forms.Form):
    verdict = forms.ChoiceField(
        label="Verdict", required=False,
        choices=[("", "Tous")] + [(verdict.value, label) for verdict, label in VERDICT_LABELS.items()],
        error_messages={"invalid_choice": "Verdict inconnu : choisissez Transmis, Bloqué ou Refusé."},
    )
    boutique = forms.IntegerField(label="N° de boutique", required=False, min_value=1,
                                  error_messages={"invalid": "Saisissez un numéro de boutique.",
                                                  "min_value": "Saisissez un numéro de boutique."})
