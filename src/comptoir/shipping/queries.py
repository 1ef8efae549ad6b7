"""Every read of carriers and shipments the surfaces need: seek pages (ST11, ST12), each in a fixed, small
number of queries whatever the page size, and the latest tracking of a page of orders (OR11)."""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum

from comptoir.core.errors import ValidationError
from comptoir.orders import queries as order_queries
from comptoir.orders.services.shipments import accepted_quantities
from comptoir.shipping.models import Carrier, Shipment, ShipmentLine


def carriers(*, include_inactive: bool = False) -> list[Carrier]:
    query = Carrier.objects.all() if include_inactive else Carrier.objects.filter(active=True)
    return list(query.order_by("label", "code"))


def carrier(code: str) -> Carrier | None:
    return Carrier.objects.filter(code=code).first()


# --- seek pagination ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_token: str | None
    previous_token: str | None


def _token(direction: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{direction}:{pk}".encode()).decode().rstrip("=")


def _read_token(token: str | None) -> tuple[str, int] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        direction, pk = raw.split(":")
        if direction not in ("n", "p"):
            raise ValueError(direction)
        return direction, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("Paramètre page_token invalide.", field="page_token") from None


def _seek(query: QuerySet[Any], *, limit: int, page_token: str | None) -> Page:
    """Pages in ascending id order; a token says "after id N" or "before id N"."""
    token = _read_token(page_token)
    if token is not None and token[0] == "p":
        rows = list(query.filter(pk__lt=token[1]).order_by("-pk")[: limit + 1])
        more_before = len(rows) > limit
        items = list(reversed(rows[:limit]))
        return Page(items, _token("n", items[-1].pk) if items else None,
                    _token("p", items[0].pk) if items and more_before else None)
    if token is not None:
        query = query.filter(pk__gt=token[1])
    rows = list(query.order_by("pk")[: limit + 1])
    items = rows[:limit]
    return Page(items, _token("n", items[-1].pk) if len(rows) > limit else None,
                _token("p", items[0].pk) if items and token is not None else None)


# --- shipments (ST11) --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShipmentFilter:
    shop_id: int
    order_ids: Sequence[str] = ()
    statuses: Sequence[str] = ()
    updated_from: datetime | None = None
    updated_to: datetime | None = None


def _with_details(query: QuerySet[Shipment]) -> QuerySet[Shipment]:
    return query.select_related("order").prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line").order_by("id"))
    )


def shipments_page(f: ShipmentFilter, *, limit: int, page_token: str | None) -> Page:
    query = Shipment.objects.filter(shop_id=f.shop_id)
    if f.order_ids:
        query = query.filter(order__order_id__in=list(f.order_ids))
    if f.statuses:
        query = query.filter(status__in=list(f.statuses))
    if f.updated_from:
        query = query.filter(last_updated_date__gte=f.updated_from)
    if f.updated_to:
        query = query.filter(last_updated_date__lte=f.updated_to)
    return _seek(_with_details(query), limit=limit, page_token=page_token)


def shipments_of_order(order_pk: int) -> list[Shipment]:
    return list(_with_details(Shipment.objects.filter(order_id=order_pk)).order_by("id"))


def latest_trackings(order_pks: Sequence[int]) -> dict[int, Shipment]:
    """Per order, its latest shipment that has tracking (the order's shipping_* fields in OR11)."""
    latest: dict[int, Shipment] = {}
    rows = (Shipment.objects.filter(order_id__in=list(order_pks))
            .filter(~Q(tracking_number="") | ~Q(carrier_name="") | ~Q(tracking_url=""))
            .only("order_id", "carrier_code", "carrier_standard_code", "carrier_name", "tracking_number",
                  "tracking_url").order_by("order_id", "-id"))
    for shipment in rows:
        latest.setdefault(shipment.order_id, shipment)
    return latest


# --- items to ship (ST12) ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemToShip:
    order: Any
    lines: list[tuple[Any, int]] = field(default_factory=list)  # (order line, units left to ship)


def items_to_ship(*, shop_id: int, order_ids: Sequence[str], limit: int, page_token: str | None) -> Page:
    """Orders waiting for shipment with what is left to ship per line. An order whose every unit is already
    in a prepared shipment has nothing left and is skipped (the page may then hold fewer items)."""
    orders = order_queries.filtered_orders(order_queries.OrderFilter(
        shop_id=shop_id, order_ids=order_ids, states=["SHIPPING"],
    )).prefetch_related("lines")
    page = _seek(orders, limit=limit, page_token=page_token)
    in_shipments: dict[int, int] = defaultdict(int)
    rows = (ShipmentLine.objects.filter(shipment__order_id__in=[o.pk for o in page.items])
            .values("order_line_id").annotate(units=Sum("quantity")))
    for row in rows:
        in_shipments[row["order_line_id"]] = row["units"]
    items = []
    for order in page.items:
        lines = list(order.lines.all())
        accepted = accepted_quantities(lines)
        left = [(line, accepted[line.line_id] - in_shipments[line.pk]) for line in lines
                if accepted.get(line.line_id, 0) > in_shipments[line.pk]]
        if left:
            items.append(ItemToShip(order, sorted(left, key=lambda pair: pair[0].index)))
    return Page(items, page.next_token, page.previous_token)


# --- parcels without tracking (DESIGN §3) -------------------------------------------------------------------


def untracked_flagged_count(shop_id: int) -> int:
    """The shop's parcels flagged for missing tracking that still have none (seller home « colis sans suivi »)."""
    return Shipment.objects.filter(shop_id=shop_id, tracking_missing_flagged=True, tracking_number="").count()


def shipped_units(order_pk: int) -> dict[int, int]:
    """Per order line pk: units already in a shipment (prepared or shipped)."""
    rows = (ShipmentLine.objects.filter(shipment__order_id=order_pk)
            .values("order_line_id").annotate(units=Sum("quantity")))
    return {row["order_line_id"]: row["units"] for row in rows}
