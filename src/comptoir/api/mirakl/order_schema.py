"""The schema of an order as OR11 answers it, also the operator API's order list: documentation only, the views
build the JSON themselves (api/mirakl/serializers.py). Every key present, null when hidden or unknown."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class RateTax(Schema):
    code: str
    amount: float
    rate: float | None


class OrderLineTax(Schema):
    code: str
    amount: float
    rate: float
    tax_calculation_rule: str


class EcoContribution(Schema):
    epr_category_code: None
    producer_id: None
    producer_id_owner: None
    unit_amount: float
    total_amount: float


class LineCancelation(Schema):
    id: str
    amount: float
    shipping_amount: float
    quantity: int
    reason_code: str
    created_date: str
    taxes: list[RateTax]
    shipping_taxes: list[RateTax]
    fees: list[Any]
    commission_amount: float
    commission_taxes: list[RateTax]
    commission_total_amount: float
    eco_contributions: list[Any]


class LineRefund(LineCancelation):
    state: str
    refund_state: str
    transaction_date: str | None
    transaction_number: str | None
    commission_tax_amount: float
    order_refund_id: str
    tax_legal_notice: str | None


class MiraklOrderLine(Schema):
    order_line_id: str
    order_line_index: int
    order_line_state: str
    order_line_state_reason_code: str | None
    order_line_state_reason_label: str | None
    offer_id: int | None
    offer_sku: str
    offer_state_code: str
    product_sku: str
    product_shop_sku: str
    product_title: str
    product_medias: list[Any]
    category_code: str
    category_label: str
    description: None
    quantity: int
    price_unit: float
    origin_unit_price: float
    price: float
    price_additional_info: None
    shipping_price: float
    shipping_price_unit: float
    shipping_price_additional_unit: None
    total_price: float
    taxes: list[OrderLineTax]
    shipping_taxes: list[OrderLineTax]
    tax_legal_notice: str | None
    commission_fee: float
    commission_rate_vat: float
    commission_vat: float
    commission_taxes: list[RateTax]
    total_commission: float
    fees: list[Any]
    eco_contributions: list[EcoContribution]
    created_date: str
    last_updated_date: str
    debited_date: str | None
    shipped_date: str | None
    received_date: str | None
    can_refund: bool
    refunds: list[LineRefund]
    cancelations: list[LineCancelation]
    promotions: list[Any]
    order_line_additional_fields: list[Any]
    shipping_from: None
    measurement: None


class OrderRefundTaxes(Schema):
    order_refund_id: str
    taxes: list[RateTax]
    shipping_taxes: list[RateTax]


class CustomerAddress(Schema):
    civility: str | None
    firstname: str | None
    lastname: str | None
    company: str | None
    company_2: str | None
    street_1: str | None
    street_2: str | None
    zip_code: str | None
    city: str | None
    state: str | None
    country: str | None
    country_iso_code: str | None
    phone: str | None
    phone_secondary: str | None


class CustomerShippingAddress(CustomerAddress):
    additional_info: str | None


class OrderCustomer(Schema):
    customer_id: str
    civility: str | None
    firstname: str
    lastname: str
    locale: str | None
    billing_address: CustomerAddress | None = Field(description="null until the customer is debited")
    shipping_address: CustomerShippingAddress | None
    email: str | None = Field(default=None, description="The operator API only: the customer's real e-mail")


class OrderChannel(Schema):
    code: str
    label: str


class OrderReferencesOut(Schema):
    order_reference_for_customer: str | None
    order_reference_for_seller: str | None


class OrderPromotions(Schema):
    applied_promotions: list[Any]
    total_deduced_amount: float


class OrderFulfillmentCenter(Schema):
    code: str


class OrderFulfillment(Schema):
    center: OrderFulfillmentCenter


class MiraklOrder(Schema):
    order_id: str
    commercial_id: str
    shop_id: int
    order_state: str
    order_state_reason_code: str | None
    order_state_reason_label: str | None
    created_date: str
    last_updated_date: str
    acceptance_decision_date: str | None
    acceptance_deadline: str | None
    customer_debited_date: str | None
    transaction_date: str | None
    transaction_number: str | None
    shipping_deadline: str | None
    delivery_date: None
    leadtime_to_ship: int
    currency_iso_code: str
    price: float
    shipping_price: float
    total_price: float
    total_commission: float
    order_tax_mode: str
    order_taxes: list[Any]
    order_refunds: list[OrderRefundTaxes]
    vat_collected_by: str
    payment_type: str | None
    paymentType: str | None  # noqa: N815 (Mirakl's own spelling, beside payment_type)
    payment_workflow: str
    payment_duration: None
    customer_directly_pays_seller: bool
    can_cancel: bool
    can_shop_ship: bool
    has_customer_message: bool
    has_incident: bool
    has_invoice: bool
    fully_refunded: bool
    customer: OrderCustomer
    customer_notification_email: str
    shipping_zone_code: str
    shipping_zone_label: str
    shipping_type_code: str
    shipping_type_label: str
    shipping_type_standard_code: None
    shipping_carrier_code: str | None
    shipping_carrier_standard_code: str | None
    shipping_company: str | None
    shipping_tracking: str | None
    shipping_tracking_url: str | None
    shipping_pudo_id: str | None
    channel: OrderChannel | None
    references: OrderReferencesOut
    order_additional_fields: list[Any]
    promotions: OrderPromotions
    fulfillment: OrderFulfillment
    invoice_details: None
    quote_id: None
    order_lines: list[MiraklOrderLine]
