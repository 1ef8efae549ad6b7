"""Shipping use cases, by sub-process: `carriers` (the operator's list), `declaring` (new parcels: ST01, the
seller's form, the bulk import, in batches), `shipments` (parcels already declared: tracking, ST24, OR23,
OR24) and `tracking` (the 24-business-hour check). Every write locks the order first, so two concurrent
declarations cannot ship the same unit twice. Callers use this package's names."""

from comptoir.shipping.services.carriers import (
    active_carrier,
    active_carriers,
    create_carrier,
    disable_carrier,
    ensure_default_carriers,
    preview_link,
    update_carrier,
)
from comptoir.shipping.services.declaring import create_shipment, create_shipments, ship_parcels
from comptoir.shipping.services.requests import (
    BatchReport,
    ItemError,
    LineRequest,
    ShipmentRequest,
    TrackingRequest,
)
from comptoir.shipping.services.shipments import (
    set_order_tracking,
    ship_remaining,
    ship_shipment,
    ship_shipments,
    update_tracking,
    update_trackings,
)
from comptoir.shipping.services.tracking import (
    schedule_tracking_check,
    schedule_tracking_checks,
    tracking_due_at,
    untracked_shipments,
)

__all__ = [
    "BatchReport", "ItemError", "LineRequest", "ShipmentRequest", "TrackingRequest", "active_carrier",
    "active_carriers", "create_carrier", "create_shipment", "create_shipments", "disable_carrier",
    "ensure_default_carriers", "preview_link", "schedule_tracking_check", "schedule_tracking_checks",
    "set_order_tracking", "ship_parcels", "ship_remaining", "ship_shipment", "ship_shipments",
    "tracking_due_at", "untracked_shipments", "update_carrier", "update_tracking", "update_trackings",
]
