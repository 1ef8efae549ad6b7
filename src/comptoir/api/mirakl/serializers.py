"""Orders in Mirakl's OR11 shape: every key present (null when hidden or unknown), lists never omitted."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from comptoir.api.mirakl import refund_fields
from comptoir.api.render import amount, iso, rate
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.rules import customer_view
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState
from comptoir.shipping import queries as shipping_queries

_EMPTY_PROMOTIONS = {"applied_promotions": [], "total_deduced_amount": 0}
TAX_LEGAL_NOTICES = {
    "OPERATOR": "TVA collectée par la marketplace (art. 293 A octies du CGI, régime de l'assujetti présumé).",
    "SHOP": None,
}


def _tax(code: str, cents: int, tax_rate: Any) -> dict[str, Any]:
    return {"code": code, "amount": amount(cents), "rate": rate(tax_rate), "tax_calculation_rule": "PROPORTIONAL_TO_AMOUNT"}


def line_json(line: OrderLine, order: Order) -> dict[str, Any]:
    commission_total = line.commission_fee_cents + line.commission_vat_cents
    live = line.state not in DROPPED_LINE_STATES
    return {
        "order_line_id": line.line_id,
        "order_line_index": line.index,
        "order_line_state": line.state,
        "order_line_state_reason_code": line.state_reason_code or None,
        "order_line_state_reason_label": line.state_reason_label or None,
        "offer_id": line.offer_id,
        "offer_sku": line.offer_sku,
        "offer_state_code": "11",
        "product_sku": line.product_sku,
        "product_shop_sku": line.offer_sku,
        "product_title": line.product_title,
        "product_medias": [],
        "category_code": line.category_code,
        "category_label": line.category_label,
        "description": None,
        "quantity": line.quantity,
        "price_unit": amount(line.unit_price_cents),
        "origin_unit_price": amount(line.unit_price_cents),
        "price": amount(line.price_cents),
        "price_additional_info": None,
        "shipping_price": amount(line.shipping_price_cents),
        "shipping_price_unit": amount(line.shipping_price_cents // line.quantity if line.quantity else 0),
        "shipping_price_additional_unit": None,
        "total_price": amount(line.price_cents + line.shipping_price_cents),
        "taxes": [_tax(line.tax_code, line.tax_cents, line.tax_rate)],
        "shipping_taxes": [_tax(line.shipping_tax_code, line.shipping_tax_cents, line.shipping_tax_rate)],
        "tax_legal_notice": TAX_LEGAL_NOTICES.get(order.vat_collected_by),
        "commission_fee": amount(line.commission_fee_cents),
        "commission_rate_vat": rate(line.commission_vat_rate),
        "commission_vat": amount(line.commission_vat_cents),
        "commission_taxes": [{"code": "TVA20", "amount": amount(line.commission_vat_cents),
                              "rate": rate(line.commission_vat_rate)}],
        "total_commission": amount(commission_total),
        "fees": [],
        "eco_contributions": (
            [{"epr_category_code": None, "producer_id": None, "producer_id_owner": None,
              "unit_amount": amount(line.eco_contribution_cents),
              "total_amount": amount(line.eco_contribution_cents * line.quantity)}]
            if line.eco_contribution_cents else []
        ),
        "created_date": iso(line.created_date),
        "last_updated_date": iso(line.last_updated_date),
        "debited_date": iso(line.debited_date),
        "shipped_date": iso(line.shipped_date),
        "received_date": iso(line.received_date),
        **refund_fields.line_fields(line, order, live, TAX_LEGAL_NOTICES.get(order.vat_collected_by)),
        "promotions": [],
        "order_line_additional_fields": [],
        "shipping_from": None,
        "measurement": None,
    }


_UNSET = object()


def attach_trackings(orders: list[Order]) -> None:
    """One query for a page of orders: each gets its latest tracked shipment (read by order_json)."""
    latest = shipping_queries.latest_trackings([order.pk for order in orders])
    for order in orders:
        order.page_tracking = latest.get(order.pk)  # type: ignore[attr-defined]


def _tracking_fields(order: Order) -> dict[str, Any]:
    shipment = getattr(order, "page_tracking", _UNSET)
    if shipment is _UNSET:
        shipment = shipping_queries.latest_trackings([order.pk]).get(order.pk)
    if shipment is None:
        return {"shipping_carrier_code": None, "shipping_carrier_standard_code": None, "shipping_company": None,
                "shipping_tracking": None, "shipping_tracking_url": None}
    return {
        "shipping_carrier_code": shipment.carrier_code or None,
        "shipping_carrier_standard_code": shipment.carrier_standard_code or None,
        "shipping_company": shipment.carrier_name or None,
        "shipping_tracking": shipment.tracking_number or None,
        "shipping_tracking_url": shipment.tracking_url or None,
    }


def order_json(order: Order, lines: list[OrderLine] | None = None) -> dict[str, Any]:
    if lines is None:
        lines = getattr(order, "page_lines", None)  # queries.orders_page prefetches there
    if lines is None:
        lines = list(order.lines.all())
    state = OrderState(order.state)
    relay = f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}"
    return {
        "order_id": order.order_id,
        "commercial_id": order.order_id.rsplit("-", 1)[0],
        "shop_id": order.shop_id,
        "order_state": order.state,
        "order_state_reason_code": order.state_reason_code or None,
        "order_state_reason_label": order.state_reason_label or None,
        "created_date": iso(order.created_date),
        "last_updated_date": iso(order.last_updated_date),
        "acceptance_decision_date": iso(order.acceptance_decision_date),
        "acceptance_deadline": iso(order.acceptance_deadline),
        "customer_debited_date": iso(order.customer_debited_date),
        "transaction_date": iso(order.customer_debited_date),
        "transaction_number": order.transaction_number or None,
        "shipping_deadline": iso(order.shipping_deadline),
        "delivery_date": None,
        "leadtime_to_ship": order.leadtime_to_ship,
        "currency_iso_code": order.currency_iso_code,
        "price": amount(order.price_cents),
        "shipping_price": amount(order.shipping_price_cents),
        "total_price": amount(order.total_price_cents),
        "total_commission": amount(order.total_commission_cents),
        "order_tax_mode": "TAX_INCLUDED",
        "order_taxes": [],
        "order_refunds": refund_fields.order_refunds(order, lines),
        "vat_collected_by": order.vat_collected_by,
        "payment_type": order.payment_type or None,
        "paymentType": order.payment_type or None,
        "payment_workflow": order.payment_workflow,
        "payment_duration": None,
        "customer_directly_pays_seller": False,
        "can_cancel": state == OrderState.SHIPPING and not any(line.shipped_date for line in lines)
        and not refund_fields.in_parcel(order),
        "can_shop_ship": state == OrderState.SHIPPING,
        "has_customer_message": order.has_customer_message,
        "has_incident": order.has_incident,
        "has_invoice": order.has_invoice,
        "fully_refunded": refund_fields.fully_refunded(lines),
        "customer": customer_view(
            state=state, debited=order.customer_debited_date is not None, customer_id=order.customer_id,
            civility=order.customer_civility, firstname=order.customer_firstname,
            lastname=order.customer_lastname, locale=order.customer_locale,
            billing_address=order.billing_address, shipping_address=order.shipping_address,
        ),
        "customer_notification_email": relay,
        "shipping_zone_code": order.shipping_zone_code,
        "shipping_zone_label": order.shipping_zone_label,
        "shipping_type_code": order.shipping_type_code,
        "shipping_type_label": order.shipping_type_label,
        "shipping_type_standard_code": None,
        **_tracking_fields(order),
        "shipping_pudo_id": order.shipping_pudo_id or None,
        "channel": {"code": order.channel_code, "label": order.channel_code} if order.channel_code else None,
        "references": {
            "order_reference_for_customer": order.order_reference_for_customer or None,
            "order_reference_for_seller": order.order_reference_for_seller or None,
        },
        "order_additional_fields": [],
        "promotions": dict(_EMPTY_PROMOTIONS),
        "fulfillment": {"center": {"code": "DEFAULT"}},
        "invoice_details": None,
        "quote_id": None,
        "order_lines": [line_json(line, order) for line in lines],
    }
