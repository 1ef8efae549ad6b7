"""Forms of the operator's mediation board: the board's filter, the formal notice (a full refund of the line or
an amount in euros, and a note), closing with a reason, reopening, opening incidents on an order's lines, and
the conversations (reply, « Démarrer une conversation »). The services check the figures and the states."""

from __future__ import annotations

from typing import Any

from django import forms

from comptoir.incidents import rules
from comptoir.incidents.queries import BOARD_FILTERS
from comptoir.incidents.rules import Solution, SolutionKind
from comptoir.messaging import rules as message_rules
from comptoir.orders.models import OrderLine
from comptoir.refunds.models import Reason
from comptoir.web.forms import FilesField, MultipleFileInput
from comptoir.web.refund_forms import EurosField

# Reasons the system gives by itself: a refund of the line, an imposed solution. Never chosen to close by hand.
SYSTEM_CLOSE_REASONS = frozenset({rules.REFUNDED, rules.OPERATOR_MEDIATION})


class BoardFilterForm(forms.Form):
    filtre = forms.ChoiceField(label="Incidents", required=False, choices=list(BOARD_FILTERS.items()),
                               error_messages={"invalid_choice": "Filtre inconnu."})
    boutique = forms.IntegerField(label="N° de boutique", required=False, min_value=1,
                                  error_messages={"invalid": "Saisissez un numéro de boutique.",
                                                  "min_value": "Saisissez un numéro de boutique."})


FULL, AMOUNT = "INTEGRAL", "MONTANT"


class FormalNoticeForm(forms.Form):
    solution = forms.ChoiceField(
        label="Solution imposée à l'échéance", widget=forms.RadioSelect, initial=FULL,
        choices=[(FULL, "Remboursement intégral de la ligne (article et port)"),
                 (AMOUNT, "Remboursement d'un montant")],
        error_messages={"required": "Choisissez la solution.", "invalid_choice": "Solution inconnue."})
    montant = EurosField(label="Montant TTC à rembourser (€)", required=False,
                         help_text="Seulement pour un remboursement d'un montant, par exemple 12,50.")
    note = forms.CharField(label="Note pour le vendeur", required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"max_length": "La note dépasse 500 caractères."})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("solution") == AMOUNT:
            amount = data.get("montant")
            if amount is None and "montant" not in self.errors:
                self.add_error("montant", "Indiquez le montant à rembourser, par exemple 12,50.")
            elif amount == 0:
                self.add_error("montant", "Le montant à rembourser doit être positif.")
        return data

    def solution_value(self) -> Solution:
        data = self.cleaned_data
        amount = data.get("montant") if data.get("solution") == AMOUNT else None
        return Solution(SolutionKind.REFUND, amount, (data.get("note") or "").strip())


def _reason_choices(reasons: list[Reason]) -> list[tuple[str, str]]:
    return [("", "— Choisissez un motif —")] + [(r.code, r.label) for r in reasons]


class CloseForm(forms.Form):
    motif = forms.ChoiceField(label="Motif de clôture",
                              error_messages={"required": "Le motif de clôture est obligatoire.",
                                              "invalid_choice": "Motif de clôture inconnu."})
    note = forms.CharField(label="Note (facultative)", required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"max_length": "La note dépasse 500 caractères."})

    def __init__(self, *args: Any, reasons: list[Reason], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["motif"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _reason_choices([r for r in reasons if r.code not in SYSTEM_CLOSE_REASONS])


class ReopenForm(forms.Form):
    note = forms.CharField(label="Pourquoi la résolution n'est pas confirmée", max_length=300,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": "Expliquez au vendeur pourquoi l'incident est rouvert.",
                                           "max_length": "Le texte dépasse 300 caractères."})

    def clean_note(self) -> str:
        value = self.cleaned_data["note"].strip()
        if not value:
            raise forms.ValidationError("Expliquez au vendeur pourquoi l'incident est rouvert.")
        return value


class OpenIncidentForm(forms.Form):
    lignes = forms.MultipleChoiceField(
        label="Articles concernés", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Cochez au moins un article.",
                        "invalid_choice": "Article inconnu ou sur lequel un incident ne peut pas être ouvert."})
    motif = forms.ChoiceField(label="Motif de l'incident",
                              error_messages={"required": "Le motif est obligatoire.",
                                              "invalid_choice": "Motif d'incident inconnu."})
    description = forms.CharField(label="Description (facultative)", required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  error_messages={"max_length": "La description dépasse 5 000 caractères."})

    def __init__(self, *args: Any, lines: list[OrderLine], reasons: list[Reason], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lignes, motif = self.fields["lignes"], self.fields["motif"]
        assert isinstance(lignes, forms.MultipleChoiceField) and isinstance(motif, forms.ChoiceField)
        lignes.choices = [(line.line_id, f"{line.product_title} ({line.line_id})") for line in lines]
        motif.choices = _reason_choices(reasons)


# --- conversations --------------------------------------------------------------------------------------------

RECIPIENTS = [("SHOP", "Le vendeur seulement"), ("BOTH", "Le client et le vendeur")]
RECIPIENTS_TO = {"SHOP": ["SHOP"], "BOTH": ["CUSTOMER", "SHOP"]}


class ReplyForm(forms.Form):
    body = forms.CharField(label="Votre message", widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=message_rules.MAX_BODY_LENGTH,
                           error_messages={"required": "Le message est vide : écrivez quelque chose avant d'envoyer."})
    files = FilesField(label="Pièces jointes", required=False, widget=MultipleFileInput(),
                       help_text="PDF, JPEG ou PNG, 5 Mo au plus chacune.")


class StartForm(ReplyForm):
    field_order = ["destinataire", "sujet", "body", "files"]
    destinataire = forms.ChoiceField(label="Destinataire", choices=RECIPIENTS, initial="BOTH",
                                     error_messages={"invalid_choice": "Destinataire inconnu."})
    sujet = forms.CharField(label="Sujet", max_length=message_rules.MAX_SUBJECT_LENGTH,
                            initial="Médiation de la marketplace",
                            error_messages={"required": "Le sujet est obligatoire."})
