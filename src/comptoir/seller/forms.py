"""Seller back-office forms: login (members of a shop only), the per-line acceptance decision, the shop's
profile and users, and the accounting filters."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from comptoir.core.errors import ComptoirError
from comptoir.ledger.queries import TransactionFilter
from comptoir.orders.models import OrderLine
from comptoir.shops.models import Shop, ShopMember
from comptoir.shops.services import PROFILE_FIELDS
from comptoir.web.accounting import PAYMENT_STATE_LABELS, TRANSACTION_TYPE_LABELS
from comptoir.web.errors import french_message
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


def apply_error(form: forms.Form, error: ComptoirError) -> None:
    """A service's refusal, in French, on the field it names (or on the whole form)."""
    message = french_message(error)
    if error.field and error.field in form.fields:
        prefix = f"{error.field} : "
        form.add_error(error.field, message.removeprefix(prefix))
    else:
        form.add_error(None, message)


PROFILE_LABELS = {
    "name": "Nom de la boutique", "legal_name": "Raison sociale", "legal_form": "Forme juridique",
    "share_capital": "Capital social", "identification_number": "SIREN / SIRET", "rcs": "RCS",
    "vat_number": "N° de TVA intracommunautaire", "head_office_street": "Adresse du siège social",
    "head_office_zip_code": "Code postal du siège", "head_office_city": "Ville du siège",
    "head_office_country_iso_code": "Pays du siège (code ISO à 3 lettres, ex. FRA)",
    "customer_service_email": "E-mail du service client", "contact_phone": "Téléphone",
    "producer_registration_number": "N° d'enregistrement au registre des producteurs",
    "warranty_duration": "Durée de garantie",
}


class ShopProfileForm(forms.Form):
    """The legal mentions the shop's invoices carry; saved by shops.services.update_shop_profile."""

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {name: getattr(shop, name) for name in PROFILE_FIELDS})
        super().__init__(*args, **kwargs)
        # Lengths, required-ness and e-mail syntax come from the model, the labels are ours.
        self.fields.update(forms.fields_for_model(Shop, fields=PROFILE_FIELDS, labels=PROFILE_LABELS))
        self.fields["name"].error_messages["required"] = "Le nom de la boutique est obligatoire."
        self.fields["customer_service_email"].error_messages["invalid"] = "Adresse e-mail invalide."

    def values(self) -> dict[str, str]:
        return {name: str(self.cleaned_data.get(name) or "") for name in PROFILE_FIELDS}


class AddUserForm(forms.Form):
    email = forms.EmailField(label="Adresse e-mail (identifiant de connexion)", max_length=150,
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}),
                             error_messages={"required": "L'adresse e-mail est obligatoire.",
                                             "invalid": "Adresse e-mail invalide."})
    password = forms.CharField(label="Mot de passe", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text="Au moins 8 caractères, pas un mot de passe courant.",
                               error_messages={"required": "Le mot de passe est obligatoire."})


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(label=label, required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                           widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"invalid": "Date invalide (format attendu : jj/mm/aaaa)."})


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_end(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


class TransactionFilterForm(forms.Form):
    """Filters of the Comptabilité page (and of its CSV export)."""

    du = _date_field("Du")
    au = _date_field("Au")
    type = forms.MultipleChoiceField(
        label="Type d'opération", required=False, widget=forms.CheckboxSelectMultiple,
        choices=list(TRANSACTION_TYPE_LABELS.items()),
        error_messages={"invalid_choice": "Type d'opération inconnu : %(value)s."})
    etat = forms.MultipleChoiceField(
        label="État du paiement", required=False, widget=forms.CheckboxSelectMultiple,
        choices=list(PAYMENT_STATE_LABELS.items()),
        error_messages={"invalid_choice": "État du paiement inconnu : %(value)s."})
    commande = forms.CharField(label="N° de commande", required=False, max_length=120,
                               error_messages={"max_length": "N° de commande trop long (120 caractères au plus)."})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            raise forms.ValidationError("La date de début doit précéder la date de fin.")
        return data

    def transaction_filter(self, shop_id: int) -> TransactionFilter:
        """The filter of a valid form; an invalid (or unbound) one filters nothing but the shop."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return TransactionFilter(
            shop_id=shop_id,
            created_from=_day_start(data["du"]) if data.get("du") else None,
            created_to=_day_end(data["au"]) if data.get("au") else None,
            types=tuple(data.get("type") or ()), payment_states=tuple(data.get("etat") or ()),
            order_id=(data.get("commande") or "").strip(),
        )
