"""Seller back-office forms: login (members of a shop only) and the per-line acceptance decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from comptoir.orders.models import OrderLine
from comptoir.shops.models import ShopMember
from comptoir.web.forms import EmailLoginForm

ACCEPT, REFUSE = "accepter", "refuser"


class SellerLoginForm(EmailLoginForm):
    def has_access(self, user: AbstractBaseUser) -> bool:
        return ShopMember.objects.filter(user_id=user.pk).exists()


class DecisionForm(forms.Form):
    """One « Accepter / Refuser » choice per line awaiting acceptance, and the reason of any refusal."""

    motif = forms.CharField(label="Motif du refus", max_length=300, required=False,
                            widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="Obligatoire si vous refusez un article.")

    def __init__(self, *args: Any, lines: list[OrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line)] = forms.ChoiceField(
                label=f"{line.product_title} ({line.offer_sku}) × {line.quantity}",
                choices=[(ACCEPT, "Accepter"), (REFUSE, "Refuser")],
                widget=forms.RadioSelect,
                error_messages={"required": "Choisissez « Accepter » ou « Refuser » pour cet article.",
                                "invalid_choice": "Choix invalide."},
            )

    @staticmethod
    def field_name(line: OrderLine) -> str:
        return f"ligne_{line.line_id}"

    def line_fields(self) -> list[tuple[OrderLine, forms.BoundField]]:
        return [(line, self[self.field_name(line)]) for line in self.lines]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        refused = [line for line in self.lines if data.get(self.field_name(line)) == REFUSE]
        if refused and not (data.get("motif") or "").strip():
            self.add_error("motif", "Indiquez le motif du refus.")
        return data

    def decisions(self) -> list[tuple[OrderLine, bool]]:
        return [(line, self.cleaned_data[self.field_name(line)] == ACCEPT) for line in self.lines]
