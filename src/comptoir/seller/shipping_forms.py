"""The « Expédition » tab's forms and context: declare a parcel (all that remains, or chosen quantities per
line) with its carrier and tracking, and correct a parcel's tracking. The forms check the same pure shipping
rules the services apply, so the confirmation step can show the tracking link; the services check again
under the order's lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.shipments import TRACKING_STATES, accepted_quantities
from comptoir.orders.states import OrderState
from comptoir.shipping import queries as shipping_queries
from comptoir.shipping import rules
from comptoir.shipping import services as shipping_services
from comptoir.shipping.models import Shipment

OTHER = "autre"
WHOLE, PARCEL = "tout", "colis"


def _order_postcode(order: Order) -> str:
    return str((order.shipping_address or {}).get("zip_code") or "")


def shipped_at_from_day(day: date, now: datetime) -> datetime:
    """Today means now; an earlier day means that day's evening (after any payment that day); a later day
    stays in the future so the shipping rules refuse it."""
    if day == timezone.localdate(now):
        return now
    return timezone.make_aware(datetime.combine(day, time(23, 59) if day < timezone.localdate(now) else time.min))


class TrackingForm(forms.Form):
    """A registered carrier and its parcel number (the link is built), or « Autre »: name, number, https link."""

    carrier_code = forms.ChoiceField(label="Transporteur", error_messages={
        "required": "Choisissez un transporteur (ou « Autre »).", "invalid_choice": "Transporteur inconnu."})
    tracking_number = forms.CharField(label="Numéro de suivi", required=False, max_length=100,
                                      widget=forms.TextInput(attrs={"autocomplete": "off"}))
    carrier_name = forms.CharField(label="Nom du transporteur (« Autre »)", required=False, max_length=100)
    tracking_url = forms.CharField(label="Lien de suivi https:// (« Autre »)", required=False, max_length=1000)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.carriers = shipping_queries.carriers()
        self.fields["carrier_code"].choices = [("", "— Choisir —"), *[(c.code, c.label) for c in self.carriers],
                                               (OTHER, "Autre transporteur")]
        self.tracking: rules.Tracking | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        code = data.get("carrier_code")
        if code:
            try:
                self.tracking = rules.resolve_tracking(
                    carrier=shipping_services.active_carrier(code), carrier_code=code,
                    carrier_name=data.get("carrier_name"), tracking_number=data.get("tracking_number"),
                    tracking_url=data.get("tracking_url"), postcode=_order_postcode(self.order))
            except ComptoirError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return data

    def tracking_request(self) -> shipping_services.TrackingRequest:
        data = self.cleaned_data
        other = data["carrier_code"] == OTHER
        return shipping_services.TrackingRequest(
            carrier_code=OTHER if other else data["carrier_code"], tracking_number=data.get("tracking_number"),
            carrier_name=data.get("carrier_name") if other else None,
            tracking_url=data.get("tracking_url") if other else None)


class ShipmentForm(TrackingForm):
    """One parcel: its carrier and tracking, its ship date and, per line, how many units it carries."""

    shipped_date = forms.DateField(label="Date d'expédition", input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                   error_messages={"required": "La date d'expédition est obligatoire.",
                                                   "invalid": "Date invalide (format attendu : jj/mm/aaaa)."})

    def __init__(self, *args: Any, order: Order, lines: list[OrderLine], remaining: dict[int, int],
                 in_shipments: dict[str, int], **kwargs: Any) -> None:
        now = clock.now()
        kwargs.setdefault("initial", {"shipped_date": timezone.localdate(now)})
        super().__init__(*args, order=order, **kwargs)
        self.now = now
        self.shippable = [line for line in lines if remaining.get(line.pk, 0) > 0]
        self.remaining = remaining
        self.accepted = accepted_quantities(lines)
        self.in_shipments = in_shipments
        self.shipped_at: datetime | None = None
        self.requested: list[tuple[OrderLine, int]] = []
        for line in self.shippable:
            self.fields[self.quantity_field(line)] = forms.IntegerField(
                label=f"Quantité de « {line.product_title} » dans ce colis", min_value=0,
                initial=remaining[line.pk], required=False,
                widget=forms.NumberInput(attrs={"min": 0, "max": remaining[line.pk]}),
                error_messages={"invalid": "Quantité invalide : un nombre entier est attendu.",
                                "min_value": "La quantité ne peut pas être négative."})

    @staticmethod
    def quantity_field(line: OrderLine) -> str:
        return f"quantite_{line.line_id}"

    def line_fields(self) -> list[tuple[OrderLine, int, forms.BoundField]]:
        return [(line, self.remaining[line.pk], self[self.quantity_field(line)]) for line in self.shippable]

    @property
    def mode(self) -> str:
        return WHOLE if self.data.get("mode") == WHOLE else PARCEL

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("shipped_date"):
            self.shipped_at = shipped_at_from_day(data["shipped_date"], self.now)
            try:
                rules.check_ship_date(self.shipped_at, now=self.now, debited_at=self.order.customer_debited_date)
            except ComptoirError as error:
                self.add_error("shipped_date", error.message)
        if self.mode == WHOLE:
            self.requested = [(line, self.remaining[line.pk]) for line in self.shippable]
        else:
            self.requested = [(line, data[self.quantity_field(line)]) for line in self.shippable
                              if data.get(self.quantity_field(line))]
        if not self.shippable:
            self.add_error(None, "Tous les articles de cette commande sont déjà dans un colis.")
        elif not any(self.errors.get(self.quantity_field(line)) for line in self.shippable):
            try:
                rules.check_quantities({line.line_id: qty for line, qty in self.requested},
                                       accepted=self.accepted, in_shipments=self.in_shipments)
            except ComptoirError as error:
                self.add_error(None, _quantity_message(error, self.requested) if self.requested
                               else "Indiquez la quantité d'au moins un article à mettre dans ce colis.")
        return data

    def shipment_request(self) -> shipping_services.ShipmentRequest:
        return shipping_services.ShipmentRequest(
            order_id=self.order.order_id, tracking=self.tracking_request(), shipped=True,
            shipped_date=self.shipped_at,
            lines=[shipping_services.LineRequest(quantity=qty, order_line_id=line.line_id)
                   for line, qty in self.requested])


def _quantity_message(error: ComptoirError, requested: list[tuple[OrderLine, int]]) -> str:
    """The rule's message names lines by id; the seller knows them by title."""
    message = error.message
    for line, _ in requested:
        message = message.replace(f"Ligne {line.line_id} ", f"« {line.product_title} » ")
    return message


@dataclass(frozen=True, slots=True)
class ShippingTab:
    shipments: list[Shipment]
    form: ShipmentForm | None
    corrections: dict[str, TrackingForm]
    can_correct: bool

    @property
    def correction_rows(self) -> list[tuple[int, Shipment, TrackingForm]]:
        return [(n, s, self.corrections[s.shipment_id]) for n, s in enumerate(self.shipments, 1)
                if s.shipment_id in self.corrections]

    @property
    def untracked(self) -> list[Shipment]:
        return [s for s in self.shipments if s.tracking_missing]


def shipping_state(order: Order, lines: list[OrderLine]) -> tuple[dict[int, int], dict[str, int]]:
    """(units left to ship per line pk, units already in a shipment per line id)."""
    units = shipping_queries.shipped_units(order.pk)
    accepted = accepted_quantities(lines)
    remaining = {line.pk: max(0, accepted[line.line_id] - units.get(line.pk, 0)) for line in lines
                 if line.line_id in accepted}
    return remaining, {line.line_id: units.get(line.pk, 0) for line in lines if line.line_id in accepted}


def new_shipment_form(order: Order, lines: list[OrderLine], data: Any = None) -> ShipmentForm:
    remaining, in_shipments = shipping_state(order, lines)
    return ShipmentForm(data, order=order, lines=lines, remaining=remaining, in_shipments=in_shipments)


def shipping_tab(order: Order, lines: list[OrderLine], *, form: ShipmentForm | None = None,
                 correction: tuple[str, TrackingForm] | None = None) -> ShippingTab:
    shipments = shipping_queries.shipments_of_order(order.pk)
    can_correct = order.state in TRACKING_STATES
    if form is None and order.state == OrderState.SHIPPING:
        form = new_shipment_form(order, lines)
        if not form.shippable:
            form = None
    corrections: dict[str, TrackingForm] = {}
    if can_correct:
        for shipment in shipments:
            corrections[shipment.shipment_id] = TrackingForm(order=order, prefix=f"suivi-{shipment.pk}", initial={
                "carrier_code": shipment.carrier_code or (OTHER if shipment.carrier_name else ""),
                "tracking_number": shipment.tracking_number, "carrier_name": shipment.carrier_name,
                "tracking_url": shipment.tracking_url})
        if correction is not None:
            corrections[correction[0]] = correction[1]
    return ShippingTab(shipments, form, corrections, can_correct)
