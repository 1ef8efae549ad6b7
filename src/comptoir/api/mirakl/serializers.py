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
from comptoir.api.render import IsoDate
from comptoir.incidents.rules import api_line_state
from comptoir.orders.queries import RowPage
from comptoir.orders.rules import customer_view
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState
from comptoir.refunds.models import Refund
from comptoir.shipping import queries as shipping_queries
from comptoir.shipping.models import Shipment

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


_PROPORTIONAL = "PROPORTIONAL_TO_AMOUNT"


def line_json(line: Any, refunds: list[Refund] | None, notice: str | None) -> dict[str, Any]:
    """One row of LINE_COLUMNS; `refunds` are its refund rows, `notice` its order's tax legal notice. Amounts are
    amount(cents) written out (cents / 100: the columns are never null), ~180 lines a page."""
    quantity = line.quantity
    price = line.price_cents
    shipping = line.shipping_price_cents
    fee = line.commission_fee_cents
    vat = line.commission_vat_cents
    vat_rate = line.commission_vat_rate
    eco = line.eco_contribution_cents
    state = line.state
    unit_price = line.unit_price_cents / 100
    sku = line.offer_sku
    return {
        "order_line_id": line.line_id,
        "order_line_index": line.index,
        "order_line_state": api_line_state(state, line.incident_state),
        "order_line_state_reason_code": line.state_reason_code or None,
        "order_line_state_reason_label": line.state_reason_label or None,
        "offer_id": line.offer_id,
        "offer_sku": sku,
        "offer_state_code": "11",
        "product_sku": line.product_sku,
        "product_shop_sku": sku,
        "product_title": line.product_title,
        "product_medias": [],
        "category_code": line.category_code,
        "category_label": line.category_label,
        "description": None,
        "quantity": quantity,
        "price_unit": unit_price,
        "origin_unit_price": unit_price,
        "price": price / 100,
        "price_additional_info": None,
        "shipping_price": shipping / 100,
        "shipping_price_unit": (shipping // quantity if quantity else 0) / 100,
        "shipping_price_additional_unit": None,
        "total_price": (price + shipping) / 100,
        "taxes": [{"code": line.tax_code, "amount": line.tax_cents / 100, "rate": line.tax_rate,
                   "tax_calculation_rule": _PROPORTIONAL}],
        "shipping_taxes": [{"code": line.shipping_tax_code, "amount": line.shipping_tax_cents / 100,
                            "rate": line.shipping_tax_rate, "tax_calculation_rule": _PROPORTIONAL}],
        "tax_legal_notice": notice,
        "commission_fee": fee / 100,
        "commission_rate_vat": vat_rate,
        "commission_vat": vat / 100,
        "commission_taxes": [{"code": "TVA20", "amount": vat / 100, "rate": vat_rate}],
        "total_commission": (fee + vat) / 100,
        "fees": [],
        "eco_contributions": (
            [{"epr_category_code": None, "producer_id": None, "producer_id_owner": None,
              "unit_amount": eco / 100, "total_amount": eco * quantity / 100}]
            if eco else []
        ),
        "created_date": line.created_date,
        "last_updated_date": line.last_updated_date,
        "debited_date": line.debited_date,
        "shipped_date": line.shipped_date,
        "received_date": line.received_date,
        **refund_fields.line_fields(line, refunds, state not in DROPPED_LINE_STATES, notice),
        "promotions": [],
        "order_line_additional_fields": [],
        "shipping_from": None,
        "measurement": None,
    }


_NO_TRACKING = {"shipping_carrier_code": None, "shipping_carrier_standard_code": None, "shipping_company": None,
                "shipping_tracking": None, "shipping_tracking_url": None}
_STATES = {state.value: state for state in OrderState}


def _tracking_fields(shipment: Shipment | None) -> dict[str, Any]:
    if shipment is None:
        return _NO_TRACKING
    return {
        "shipping_carrier_code": shipment.carrier_code or None,
        "shipping_carrier_standard_code": shipment.carrier_standard_code or None,
        "shipping_company": shipment.carrier_name or None,
        "shipping_tracking": shipment.tracking_number or None,
        "shipping_tracking_url": shipment.tracking_url or None,
    }


def order_json(order: Any, lines: list[Any], refunds: dict[int, list[Refund]], tracking: Shipment | None,
               relay_domain: str) -> dict[str, Any]:
    """One row of ORDER_COLUMNS with its lines' rows; `refunds` by line pk (the page's), `tracking` its latest
    tracked parcel. Amounts as in line_json."""
    state = _STATES[order.state]
    shipping = state == OrderState.SHIPPING
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
        "price": order.price_cents / 100,
        "shipping_price": order.shipping_price_cents / 100,
        "total_price": order.total_price_cents / 100,
        "total_commission": order.total_commission_cents / 100,
        "order_tax_mode": "TAX_INCLUDED",
        "order_taxes": [],
        "order_refunds": refund_fields.order_refunds(lines, refunds) if refunds else [],
        "vat_collected_by": order.vat_collected_by,
        "payment_type": order.payment_type or None,
        "paymentType": order.payment_type or None,
        "payment_workflow": order.payment_workflow,
        "payment_duration": None,
        "customer_directly_pays_seller": False,
        "can_cancel": shipping and not any(line.shipped_date for line in lines) and not order.has_parcel,
        "can_shop_ship": shipping,
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
        "customer_notification_email": f"{order.relay_token}@{relay_domain}",
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
        "promotions": {"applied_promotions": [], "total_deduced_amount": 0},
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
    relay_domain = settings.COMPTOIR["RELAY_DOMAIN"]
    lines = page.lines
    return [order_json(order, lines[order.pk], refunds, trackings.get(order.pk), relay_domain)
            for order in page.orders]
