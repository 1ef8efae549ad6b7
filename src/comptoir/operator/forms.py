"""Operator back-office forms: staff login, the fraud decisions' reasons, the all-shops order filter,
the commission rate, the outbox filter."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from comptoir.notifications.models import OutboxState
from comptoir.web.forms import EmailLoginForm, ReasonForm
from comptoir.web.orderlist import OrderFilterForm


class OperatorLoginForm(EmailLoginForm):
    def has_access(self, user: AbstractBaseUser) -> bool:
        return bool(getattr(user, "is_staff", False))


class OperatorOrderFilterForm(OrderFilterForm):
    boutique = forms.IntegerField(label="N° de boutique", required=False, min_value=1,
                                  error_messages={"invalid": "Saisissez un numéro de boutique."})


class NoteForm(forms.Form):
    note = forms.CharField(label="Justificatifs demandés", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "Précisez les justificatifs demandés au client."})


class CommissionForm(forms.Form):
    """A percentage between 0 and 100, with a French decimal comma (a dot is accepted too)."""

    rate = forms.DecimalField(
        label="Taux de commission (%)", localize=True, min_value=Decimal(0), max_value=Decimal(100),
        max_digits=7, decimal_places=4, help_text="Entre 0 et 100, par exemple 12,5.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": "Saisissez un taux de commission.",
            "invalid": "Saisissez un nombre, par exemple 12,5.",
            # These messages get %-formatted with the limit: "%%" is a literal percent sign.
            "min_value": "Le taux de commission doit être compris entre 0 et 100 %%.",
            "max_value": "Le taux de commission doit être compris entre 0 et 100 %%.",
            "max_digits": "Le taux de commission doit être compris entre 0 et 100 %%.",
            "max_decimal_places": "Quatre décimales au plus.",
            "max_whole_digits": "Le taux de commission doit être compris entre 0 et 100 %%.",
        },
    )

    @staticmethod
    def display(rate: Decimal) -> Decimal:
        """10.0000 → 10 and 12.5000 → 12.5, without the exponent Decimal.normalize() would give."""
        text = f"{rate:f}"
        return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


OUTBOX_STATE_LABELS = {
    OutboxState.PENDING: "En attente",
    OutboxState.SENT: "Envoyé",
    OutboxState.DEAD: "En échec définitif",
}


class OutboxFilterForm(forms.Form):
    etat = forms.ChoiceField(
        label="État", required=False,
        choices=[("", "Tous")] + [(state.value, label) for state, label in OUTBOX_STATE_LABELS.items()],
        error_messages={"invalid_choice": "État inconnu : choisissez En attente, Envoyé ou En échec définitif."},
    )
    commande = forms.CharField(label="N° de commande", required=False, max_length=120,
                               error_messages={"max_length": "Numéro de commande trop long."})

    def clean_commande(self) -> str:
        return self.cleaned_data["commande"].strip()


__all__ = ["CommissionForm", "NoteForm", "OperatorLoginForm", "OperatorOrderFilterForm", "OutboxFilterForm",
           "ReasonForm"]
