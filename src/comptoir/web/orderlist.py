"""The order list shared by the seller and operator back offices: filter form → queryset, sort, page, CSV.

Builds on `orders.queries.filtered_orders`; everything here is read-only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from comptoir.orders.models import Order, OrderLine
from comptoir.orders.queries import OrderFilter, filtered_orders
from comptoir.orders.rules import customer_view
from comptoir.orders.states import STATE_LABELS, OrderState

# Order states a list filters on (line-only states are not offered), with their French labels.
LISTED_STATES = [
    OrderState.STAGING, OrderState.WAITING_ACCEPTANCE, OrderState.WAITING_DEBIT, OrderState.SHIPPING,
    OrderState.SHIPPED, OrderState.RECEIVED, OrderState.CLOSED, OrderState.REFUSED, OrderState.CANCELED,
]
STATE_FILTER_CHOICES = [(s.value, STATE_LABELS[s]) for s in LISTED_STATES]
# "Débit en cours" covers both debit states.
STATE_ALIASES = {OrderState.WAITING_DEBIT.value: [OrderState.WAITING_DEBIT, OrderState.WAITING_DEBIT_PAYMENT]}

SORTS = {
    "date": ("created_date", "Date de commande"),
    "numero": ("order_id", "Numéro"),
    "montant": ("total_price_cents", "Montant"),
    "acceptation": ("acceptance_deadline", "Échéance d'acceptation"),
    "expedition": ("shipping_deadline", "Date limite d'expédition"),
    "etat": ("state", "Statut"),
}
SORT_CHOICES = [(key, label) for key, (_f, label) in SORTS.items()] + [
    (f"-{key}", f"{label} (décroissant)") for key, (_f, label) in SORTS.items()
]
PAGE_SIZES = [(20, "20"), (50, "50"), (100, "100")]


class OrderFilterForm(forms.Form):
    etat = forms.MultipleChoiceField(label="Statut", choices=STATE_FILTER_CHOICES, required=False,
                                     widget=forms.CheckboxSelectMultiple)
    du = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": "Date invalide (format attendu : jj/mm/aaaa)."})
    au = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": "Date invalide (format attendu : jj/mm/aaaa)."})
    numero = forms.CharField(label="N° de commande", required=False, max_length=120)
    client = forms.CharField(label="Nom du client", required=False, max_length=100)
    sku = forms.CharField(label="SKU", required=False, max_length=100)
    retard = forms.BooleanField(label="En retard d'expédition uniquement", required=False)
    tri = forms.ChoiceField(label="Trier par", choices=SORT_CHOICES, required=False, initial="-date")
    par_page = forms.TypedChoiceField(label="Par page", choices=PAGE_SIZES, coerce=int, required=False,
                                      empty_value=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("du", "au"):
            self.fields[name].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            raise forms.ValidationError("La date de début doit précéder la date de fin.")
        return data


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_end(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


def filter_orders(data: dict[str, Any], *, shop_id: int | None, extra: Q | None = None) -> QuerySet[Order]:
    """`data` is a valid OrderFilterForm's cleaned_data (or {}), applied over orders.queries."""
    states: list[str] = []
    for state in data.get("etat") or []:
        states.extend(STATE_ALIASES.get(state, [state]))
    query = filtered_orders(OrderFilter(
        shop_id=shop_id, states=states,
        created_from=_day_start(data["du"]) if data.get("du") else None,
        created_to=_day_end(data["au"]) if data.get("au") else None,
        order_id_contains=data.get("numero") or "", customer_name=data.get("client") or "",
        sku=data.get("sku") or "",
    ))
    if extra is not None:
        query = query.filter(extra)
    if data.get("retard"):
        query = query.filter(state=OrderState.SHIPPING, shipping_late=True)
    sort = data.get("tri") or "-date"
    field, _label = SORTS[sort.lstrip("-")]
    direction = "-" if sort.startswith("-") else ""
    return query.order_by(f"{direction}{field}", f"{direction}id")


def with_lines(query: QuerySet[Order]) -> QuerySet[Order]:
    return query.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("index")))


def paginate(query: QuerySet[Order], page_number: str | None, per_page: int) -> Page:
    return Paginator(with_lines(query), per_page).get_page(page_number)


def seen_customer(order: Order) -> dict[str, Any]:
    return customer_view(
        state=OrderState(order.state), debited=order.customer_debited_date is not None,
        customer_id=order.customer_id, civility=order.customer_civility, firstname=order.customer_firstname,
        lastname=order.customer_lastname, locale=order.customer_locale,
        billing_address=order.billing_address, shipping_address=order.shipping_address,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _fmt_date(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def _fmt_amount(cents: int) -> str:
    return f"{cents / 100:.2f}".replace(".", ",") if isinstance(cents, int) else ""


def csv_response(query: QuerySet[Order], filename: str, *, with_shop: bool = False) -> StreamingHttpResponse:
    """The whole filtered list as CSV (semicolon-separated, UTF-8 with BOM so spreadsheets read accents)."""
    header = ["Numéro", "Date", "Statut", "Client", "Articles", "SKU", "Montant TTC", "Devise",
              "Échéance d'acceptation", "Date limite d'expédition", "En retard"]
    if with_shop:
        header.insert(1, "Boutique")

    def rows() -> Iterator[str]:
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow(header)
        for order in with_lines(query).iterator(chunk_size=500):
            customer = seen_customer(order)
            lines = list(order.lines.all())
            row = [
                order.order_id, _fmt_date(order.created_date), STATE_LABELS[OrderState(order.state)],
                f"{customer['firstname']} {customer['lastname']}".strip(),
                sum(line.quantity for line in lines), " ".join(line.offer_sku for line in lines),
                _fmt_amount(order.total_price_cents), order.currency_iso_code,
                _fmt_date(order.acceptance_deadline), _fmt_date(order.shipping_deadline),
                "oui" if order.shipping_late else "non",
            ]
            if with_shop:
                row.insert(1, order.shop_id)
            yield writer.writerow(row)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def shop_indicators(shop_id: int) -> dict[str, Any]:
    """The seller home's counters in one query."""
    from django.db.models import Count, Min

    waiting = Q(state=OrderState.WAITING_ACCEPTANCE)
    shipping = Q(state=OrderState.SHIPPING)
    return filtered_orders(OrderFilter(shop_id=shop_id)).aggregate(
        to_accept=Count("id", filter=waiting),
        nearest_deadline=Min("acceptance_deadline", filter=waiting),
        to_ship=Count("id", filter=shipping),
        late=Count("id", filter=shipping & Q(shipping_late=True)),
    )
