"""Forms of the refund and cancelation dialogs, shared by the seller and operator back offices: per line a mode,
units, amounts excluding tax and a reason (« Rembourser »); per line units and a reason (« Annuler »); one reason
(« Annuler la commande »). Each builds the refunds service's LineRequests; the service checks the figures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from comptoir.core.errors import ComptoirError
from comptoir.orders.models import OrderLine
from comptoir.refunds.models import Reason
from comptoir.refunds.rules import MODE_LABELS, LineAccount, RefundMode, proposed_excl_tax
from comptoir.refunds.services import LineRequest
from comptoir.web.errors import french_message
from comptoir.web.templatetags.comptoir_web import euros

MODE_CHOICES = [("", "— Ne pas rembourser cet article —"), *[(mode.value, MODE_LABELS[mode]) for mode in RefundMode]]
MAX_CENTS = 100_000_000  # 1 000 000 €: anything above is a typing error


def cents_input(cents: int | None) -> str:
    """Cents as typed in an amount field: 1234 → « 12,34 »."""
    if cents is None:
        return ""
    units, rest = divmod(int(cents), 100)
    return f"{units},{rest:02d}"


class EurosField(forms.CharField):
    """An amount in euros as a French seller types it (« 12,50 », « 12.5 », « 1 234 € ») → cents; empty → None."""

    default_error_messages = {"invalid": "Montant invalide : saisissez par exemple 12,50."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        for char in ("€", " ", "\u00a0", "\u202f"):
            text = text.replace(char, "")
        try:
            amount = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not amount.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if amount < 0:
            raise forms.ValidationError("Le montant ne peut pas être négatif.", code="negative")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError("Deux décimales au plus (les centimes).", code="decimals")
        cents = int(amount * 100)
        if cents > MAX_CENTS:
            raise forms.ValidationError("Montant trop élevé.", code="too_big")
        return cents


def _reason_field(reasons: list[Reason], label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, required=False, choices=[("", "— Choisir un motif —"), *[(r.code, r.label) for r in reasons]],
        error_messages={"invalid_choice": "Motif inconnu : choisissez un motif de la liste."})


@dataclass(frozen=True, slots=True)
class LineRow:
    """One line of a dialog: the order line, its account, and its bound fields by short name."""

    line: OrderLine
    account: LineAccount
    fields: dict[str, forms.BoundField]

    def __getattr__(self, name: str) -> forms.BoundField:
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None


class LineDialogForm(forms.Form):
    """Per-line fields named `<short>_<line id>`; a service refusal goes to the field it names, on its line."""

    SHORT: tuple[str, ...] = ()
    ERROR_FIELDS: dict[str, str] = {}  # the service's error.field → our short name
    FALLBACK = "motif"

    def __init__(self, *args: Any, lines: list[tuple[OrderLine, LineAccount]], reasons: list[Reason],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.reasons = reasons
        for line, account in lines:
            self.add_line_fields(line, account)

    def add_line_fields(self, line: OrderLine, account: LineAccount) -> None:
        raise NotImplementedError

    @staticmethod
    def name(short: str, line: OrderLine | str) -> str:
        return f"{short}_{line if isinstance(line, str) else line.line_id}"

    def rows(self) -> list[LineRow]:
        return [LineRow(line, account, {short: self[self.name(short, line)] for short in self.SHORT
                                        if self.name(short, line) in self.fields})
                for line, account in self.lines]

    def value(self, short: str, line: OrderLine) -> Any:
        return self.cleaned_data.get(self.name(short, line))

    def add_line_error(self, line_id: str, error: ComptoirError) -> None:
        """A refusal of the service about one line, without the line's id (the field is on the line)."""
        line = next(line for line, _ in self.lines if line.line_id == line_id)
        message = french_message(error)
        for prefix in (f"Ligne {line_id} : ", f"Ligne {line_id}, "):
            message = message.replace(prefix, "")
        message = message.replace(f"La ligne {line_id} ", "Cet article ").replace(f"ligne {line_id}",
                                                                                   f"« {line.product_title} »")
        message = message[:1].upper() + message[1:]
        short = self.ERROR_FIELDS.get(error.field or "", self.FALLBACK)
        self.add_error(self.name(short, line), message)

    def describe_errors(self) -> None:
        """Link each field to its error text (aria-describedby), as the template gives it the id `<id>_erreur`."""
        for name in self.errors:
            if name in self.fields:
                field = self.fields[name]
                ids = [f"id_{name}_erreur"] + ([f"id_{name}_helptext"] if field.help_text else [])
                field.widget.attrs["aria-describedby"] = " ".join(ids)


class RefundForm(LineDialogForm):
    """« Rembourser »: for each line, nothing or one of the four modes, with a reason. Amounts are EXCLUDING tax."""

    SHORT = ("mode", "quantite", "montant", "port", "motif")
    ERROR_FIELDS = {"amount": "montant", "quantity": "quantite", "shipping_amount": "port", "reason_code": "motif",
                    "mode": "mode", "order_line_id": "mode", "excluded_from_shipment": "quantite"}
    FALLBACK = "mode"

    def add_line_fields(self, line: OrderLine, account: LineAccount) -> None:
        self.fields[self.name("mode", line)] = forms.ChoiceField(
            label="Type de remboursement", choices=MODE_CHOICES, required=False,
            error_messages={"invalid_choice": "Type de remboursement inconnu."})
        self.fields[self.name("quantite", line)] = forms.IntegerField(
            label="Quantité (remboursement partiel)", required=False, min_value=1,
            max_value=max(1, account.remaining_quantity),
            widget=forms.NumberInput(attrs={"min": 1, "max": account.remaining_quantity}),
            help_text=(f"{account.remaining_quantity} unité(s) restante(s) à {euros(proposed_excl_tax(account, 1))} HT "
                       "l'unité : ce montant est proposé, modifiable." if account.remaining_quantity else
                       "Plus aucune unité à rembourser sur cet article."),
            error_messages={"invalid": "Quantité invalide : un nombre entier est attendu.",
                            "min_value": "La quantité doit être d'au moins 1.",
                            "max_value": "Au plus %(limit_value)s unité(s) restent à rembourser."})
        self.fields[self.name("montant", line)] = EurosField(
            label="Montant du produit HT (€)", required=False,
            help_text="Hors taxe : la TVA de l'article est ajoutée.")
        self.fields[self.name("port", line)] = EurosField(
            label="Frais de port HT (€)", required=False,
            help_text="Vide en « Frais de port uniquement » : tout le port restant.")
        self.fields[self.name("motif", line)] = _reason_field(self.reasons, "Motif du remboursement")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = 0
        for line, _account in self.lines:
            mode = data.get(self.name("mode", line))
            if not mode:
                continue
            chosen += 1
            if not data.get(self.name("motif", line)) and self.name("motif", line) not in self.errors:
                self.add_error(self.name("motif", line), "Choisissez le motif du remboursement.")
            if mode == RefundMode.QUANTITY and not data.get(self.name("quantite", line)) \
                    and self.name("quantite", line) not in self.errors:
                self.add_error(self.name("quantite", line), "Indiquez le nombre d'unités à rembourser.")
            if mode == RefundMode.AMOUNT and not data.get(self.name("montant", line)) \
                    and self.name("montant", line) not in self.errors:
                self.add_error(self.name("montant", line), "Indiquez le montant HT du geste commercial.")
            if mode == RefundMode.SHIPPING and data.get(self.name("montant", line)):
                self.add_error(self.name("montant", line), "« Frais de port uniquement » ne rembourse pas le "
                                                           "produit : laissez ce montant vide.")
        if not chosen and not self.errors:
            raise forms.ValidationError("Choisissez le type de remboursement d'au moins un article.")
        return data

    def requests(self) -> list[LineRequest]:
        result = []
        for line, _account in self.lines:
            mode = self.value("mode", line)
            if not mode:
                continue
            mode = RefundMode(mode)
            result.append(LineRequest(
                order_line_id=line.line_id, reason_code=self.value("motif", line), mode=mode,
                quantity=(self.value("quantite", line) or 0) if mode == RefundMode.QUANTITY else 0,
                amount_cents=self.value("montant", line) if mode in (RefundMode.QUANTITY, RefundMode.AMOUNT) else None,
                shipping_cents=self.value("port", line) if mode != RefundMode.FULL else None,
                tax_included=False,
            ))
        return result


class CancelLinesForm(LineDialogForm):
    """« Annuler »: units that are in no parcel yet, per line, with a reason; the customer is paid them back."""

    SHORT = ("annuler", "motif")
    ERROR_FIELDS = {"quantity": "annuler", "reason_code": "motif", "order_line_id": "annuler", "mode": "annuler"}
    FALLBACK = "annuler"

    def add_line_fields(self, line: OrderLine, account: LineAccount) -> None:
        self.fields[self.name("annuler", line)] = forms.IntegerField(
            label="Unités à annuler", required=False, min_value=0, max_value=account.cancelable_quantity,
            widget=forms.NumberInput(attrs={"min": 0, "max": account.cancelable_quantity}),
            help_text=f"{account.cancelable_quantity} unité(s) dans aucun colis.",
            error_messages={"invalid": "Quantité invalide : un nombre entier est attendu.",
                            "min_value": "La quantité ne peut pas être négative.",
                            "max_value": "Au plus %(limit_value)s unité(s) ne sont dans aucun colis."})
        self.fields[self.name("motif", line)] = _reason_field(self.reasons, "Motif de l'annulation")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = 0
        for line, _account in self.lines:
            if not data.get(self.name("annuler", line)):
                continue
            chosen += 1
            if not data.get(self.name("motif", line)) and self.name("motif", line) not in self.errors:
                self.add_error(self.name("motif", line), "Choisissez le motif de l'annulation.")
        if not chosen and not self.errors:
            raise forms.ValidationError("Indiquez le nombre d'unités à annuler sur au moins un article.")
        return data

    def requests(self) -> list[LineRequest]:
        return [LineRequest(order_line_id=line.line_id, reason_code=self.value("motif", line),
                            mode=RefundMode.QUANTITY, quantity=self.value("annuler", line))
                for line, _ in self.lines if self.value("annuler", line)]


class CancelOrderForm(LineDialogForm):
    """« Annuler la commande »: every unit (none is in a parcel), one reason."""

    SHORT = ()
    ERROR_FIELDS = {"reason_code": "motif"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["motif"] = _reason_field(self.reasons, "Motif de l'annulation")
        self.fields["motif"].required = True
        self.fields["motif"].error_messages["required"] = "Choisissez le motif de l'annulation."

    def add_line_fields(self, line: OrderLine, account: LineAccount) -> None:
        return None

    def add_line_error(self, line_id: str, error: ComptoirError) -> None:
        self.add_error("motif" if error.field == "reason_code" else None, french_message(error))

    def requests(self) -> list[LineRequest]:
        return [LineRequest(order_line_id=line.line_id, reason_code=self.cleaned_data["motif"],
                            mode=RefundMode.FULL) for line, _ in self.lines]
