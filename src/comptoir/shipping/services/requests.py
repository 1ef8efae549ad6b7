"""What the shipping use cases take and give back: declarations (a parcel, its lines, its tracking) and the
per-item report of the bulk endpoints (ST01, ST23, ST24), where a refused item never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from comptoir.core.errors import ComptoirError, ValidationError
from comptoir.shipping import rules

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LineRequest:
    quantity: int
    order_line_id: str | None = None
    offer_sku: str | None = None
    package_reference: str = ""


@dataclass(frozen=True, slots=True)
class TrackingRequest:
    carrier_code: str | None = None
    carrier_name: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.carrier_code, self.carrier_name, self.tracking_number, self.tracking_url))


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    order_id: str
    lines: Sequence[LineRequest]
    tracking: TrackingRequest | None = None
    shipped: bool = True
    shipped_date: datetime | None = None  # the parcel's real departure; now when absent
    invoice_reference: str = ""


@dataclass(frozen=True, slots=True)
class ItemError:
    key: str  # the order_id (ST01) or shipment id (ST23, ST24) the error is about
    message: str
    code: str


@dataclass(slots=True)
class BatchReport:
    succeeded: list[Any] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


def check_batch_size(count: int) -> None:
    if count > rules.MAX_SHIPMENTS_PER_CALL:
        raise ValidationError(f"{rules.MAX_SHIPMENTS_PER_CALL} expéditions au plus par appel.", field="shipments")


def each(keys_and_items: Sequence[tuple[str, T]], one: Callable[[T], Any]) -> BatchReport:
    """Bulk endpoints: each item in its own transaction; a refused item is reported, the others go on."""
    check_batch_size(len(keys_and_items))
    report = BatchReport()
    for key, item in keys_and_items:
        try:
            report.succeeded.append(one(item))
        except ComptoirError as exc:
            report.errors.append(ItemError(key, exc.message, exc.code))
    return report
