"""Orders in Mirakl's OR11 shape: every key present (null when hidden or unknown), lists never omitted.

A page is read as rows of the columns below (orders.queries.order_rows_page), dates already in Mirakl's format and
rates as floats from the database; its parcels and refunds are read only for the orders that have some."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.db.models import FloatField, TextField
from django.db.models.functions import Cast

from comptoir.api.mirakl import refund_fields
from comptoir.api.render import IsoDate, amount
from comptoir.incidents.rules import api_line_state
from comptoir.orders.queries import RowPage
from comptoir.orders.rules import customer_view
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState
from comptoir.refunds.models import Refund
from comptoir.shipping import queries as shipping_queries
from comptoir.shipping.models import Shipment

_EMPTY_PROMOTIONS = {"applied_promotions": [], "total_deduced_amount": 0}
TAX_LEGAL_NOTICES = {
    "OPERATOR": "TVA collectée par la marketplace (art. 293 A octies du CGI, régime de l'assujetti présumé).",
    "SHOP": None,
}


def _columns(fields: str, dates: str, rates: str = "", json: str = "") -> dict[str, Any]:
    return {**{name: name for name in fields.split()}, **{name: IsoDate(name) for name in dates.split()},
            **{name: Cast(name, FloatField()) for name in rates.split()},
            **{name: Cast(name, TextField()) for name in json.split()}}  # parsed by orjson, 4 times faster


# What order_json and line_json read of a row (orders.queries.order_rows_page adds `pk`, and `order_pk` to lines).
ORDER_COLUMNS = {
    **_columns(
        """order_id shop_id state state_reason_code state_reason_label transaction_number leadtime_to_ship
        currency_iso_code price_cents shipping_price_cents total_price_cents total_commission_cents vat_collected_by
        payment_type payment_workflow has_customer_message has_incident has_invoice customer_id customer_civility
        customer_firstname customer_lastname customer_locale relay_token
        shipping_zone_code shipping_zone_label shipping_type_code shipping_type_label shipping_pudo_id channel_code
        order_reference_for_customer order_reference_for_seller""",
        dates="""created_date last_updated_date acceptance_decision_date acceptance_deadline customer_debited_date
        shipping_deadline""",
        json="billing_address shipping_address",
    ),
    **refund_fields.ORDER_FLAGS,
}
LINE_COLUMNS = _columns(
    """line_id index state incident_state state_reason_code state_reason_label offer_id offer_sku product_sku
    product_title category_code category_label quantity unit_price_cents price_cents shipping_price_cents tax_code
    tax_cents shipping_tax_code shipping_tax_cents eco_contribution_cents commission_fee_cents commission_vat_cents""",
    dates="created_date last_updated_date debited_date shipped_date received_date",
    rates="tax_rate shipping_tax_rate commission_vat_rate",
)


def _tax(code: str, cents: int, tax_rate: float) -> dict[str, Any]:
    return {"code": code, "amount": amount(cents), "rate": tax_rate, "tax_calculation_rule": "PROPORTIONAL_TO_AMOUNT"}


def line_json(line: Any, refunds: list[Refund] | None, notice: str | None) -> dict[str, Any]:
    """One row of LINE_COLUMNS; `refunds` are its refund rows, `notice` its order's tax legal notice."""
    commission_total = line.commission_fee_cents + line.commission_vat_cents
    live = line.state not in DROPPED_LINE_STATES
    return {
        "order_line_id": line.line_id,
        "order_line_index": line.index,
        "order_line_state": api_line_state(line.state, line.incident_state),
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
        "tax_legal_notice": notice,
        "commission_fee": amount(line.commission_fee_cents),
        "commission_rate_vat": line.commission_vat_rate,
        "commission_vat": amount(line.commission_vat_cents),
        "commission_taxes": [{"code": "TVA20", "amount": amount(line.commission_vat_cents),
                              "rate": line.commission_vat_rate}],
        "total_commission": amount(commission_total),
        "fees": [],
        "eco_contributions": (
            [{"epr_category_code": None, "producer_id": None, "producer_id_owner": None,
              "unit_amount": amount(line.eco_contribution_cents),
              "total_amount": amount(line.eco_contribution_cents * line.quantity)}]
            if line.eco_contribution_cents else []
        ),
        "created_date": line.created_date,
        "last_updated_date": line.last_updated_date,
        "debited_date": line.debited_date,
        "shipped_date": line.shipped_date,
        "received_date": line.received_date,
        **refund_fields.line_fields(line, refunds, live, notice),
        "promotions": [],
        "order_line_additional_fields": [],
        "shipping_from": None,
        "measurement": None,
    }


def _tracking_fields(shipment: Shipment | None) -> dict[str, Any]:
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


def order_json(order: Any, lines: list[Any], refunds: dict[int, list[Refund]], tracking: Shipment | None) -> dict[str, Any]:
    """One row of ORDER_COLUMNS with its lines' rows; `refunds` by line pk, `tracking` its latest tracked parcel."""
    state = OrderState(order.state)
    relay = f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}"
    notice = TAX_LEGAL_NOTICES.get(order.vat_collected_by)
    return {
        "order_id": order.order_id,
        "commercial_id": order.order_id.rsplit("-", 1)[0],
        "shop_id": order.shop_id,
        "order_state": order.state,
        "order_state_reason_code": order.state_reason_code or None,
        "order_state_reason_label": order.state_reason_label or None,
        "created_date": order.created_date,
        "last_updated_date": order.last_updated_date,
        "acceptance_decision_date": order.acceptance_decision_date,
        "acceptance_deadline": order.acceptance_deadline,
        "customer_debited_date": order.customer_debited_date,
        "transaction_date": order.customer_debited_date,
        "transaction_number": order.transaction_number or None,
        "shipping_deadline": order.shipping_deadline,
        "delivery_date": None,
        "leadtime_to_ship": order.leadtime_to_ship,
        "currency_iso_code": order.currency_iso_code,
        "price": amount(order.price_cents),
        "shipping_price": amount(order.shipping_price_cents),
        "total_price": amount(order.total_price_cents),
        "total_commission": amount(order.total_commission_cents),
        "order_tax_mode": "TAX_INCLUDED",
        "order_taxes": [],
        "order_refunds": refund_fields.order_refunds(lines, refunds),
        "vat_collected_by": order.vat_collected_by,
        "payment_type": order.payment_type or None,
        "paymentType": order.payment_type or None,
        "payment_workflow": order.payment_workflow,
        "payment_duration": None,
        "customer_directly_pays_seller": False,
        "can_cancel": state == OrderState.SHIPPING and not any(line.shipped_date for line in lines)
        and not order.has_parcel,
        "can_shop_ship": state == OrderState.SHIPPING,
        "has_customer_message": order.has_customer_message,
        "has_incident": order.has_incident,
        "has_invoice": order.has_invoice,
        "fully_refunded": refund_fields.fully_refunded(lines),
        "customer": customer_view(
            state=state, debited=order.customer_debited_date is not None, customer_id=order.customer_id,
            civility=order.customer_civility, firstname=order.customer_firstname,
            lastname=order.customer_lastname, locale=order.customer_locale,
            billing_address=orjson.loads(order.billing_address),
            shipping_address=orjson.loads(order.shipping_address),
        ),
        "customer_notification_email": relay,
        "shipping_zone_code": order.shipping_zone_code,
        "shipping_zone_label": order.shipping_zone_label,
        "shipping_type_code": order.shipping_type_code,
        "shipping_type_label": order.shipping_type_label,
        "shipping_type_standard_code": None,
        **_tracking_fields(tracking),
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
        "order_lines": [line_json(line, refunds.get(line.pk), notice) for line in lines],
    }


def page_json(page: RowPage) -> list[dict[str, Any]]:
    """The orders of a page read with ORDER_COLUMNS and LINE_COLUMNS: at most two more queries, for the refund rows
    and the tracked parcels of the orders that have some."""
    refunds = refund_fields.refunds_of_page(page.orders)
    with_parcels = [order.pk for order in page.orders if order.has_parcel]
    trackings = shipping_queries.latest_trackings(with_parcels) if with_parcels else {}
    return [order_json(order, page.lines[order.pk], refunds, trackings.get(order.pk)) for order in page.orders]
