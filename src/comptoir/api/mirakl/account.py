"""Mirakl seller API: A01 (the shop's account and balances) and V01 (version)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from comptoir import __version__
from comptoir.api.render import amount, iso, json_response
from comptoir.orders import queries

router = Router(tags=["Account"])


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class ContactInformations(Schema):
    email: str | None
    phone: str | None
    street1: str | None
    street2: None
    zip_code: str | None
    city: str | None
    country: str | None
    civility: None
    firstname: None
    lastname: None
    phone_secondary: None
    fax: None
    state: None
    web_site: None


class CorporateInformation(Schema):
    company_registration_name: str | None
    company_registration_number: str | None
    legal_form: str | None
    share_capital: str | None
    rcs: str | None


class FiscalInformation(Schema):
    local_tax_number: str | None
    tax_identification_number: str | None
    tax_identification_country: str


class RegistrationAddress(Schema):
    street_1: str | None
    zip_code: str | None
    city: str | None
    country_iso_code: str | None


class BillingInformation(Schema):
    corporate_information: CorporateInformation
    fiscal_information: FiscalInformation
    registration_address: RegistrationAddress


class PaymentDetails(Schema):
    paid_balance: float
    payable_balance: float
    pending_balance: float
    reserve_balance: float


class ShopAccount(Schema):
    shop_id: int
    shop_name: str
    shop_state: str
    suspension_type: str | None
    suspension_reason: str | None
    is_professional: bool
    premium: bool
    currency_iso_code: str
    date_created: str | None
    last_updated_date: str | None
    description: None
    return_policy: None
    approval_delay: None
    approval_rate: None
    order_messages_response_delay: None
    shipping_country: str
    contact_informations: ContactInformations
    default_billing_information: BillingInformation
    payment_details: PaymentDetails
    model: str
    shop_additional_fields: list[Any]
    channels: list[Any]
    domains: list[Any]


class Version(Schema):
    version: str


@router.get("/account", response=ShopAccount, summary="A01 - Shop account", operation_id="A01")
def account(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    balances = queries.shop_balances(shop.id)
    return json_response({
        "shop_id": shop.id,
        "shop_name": shop.name,
        "shop_state": shop.state,
        "suspension_type": "AUTOMATIC" if shop.is_suspended else None,
        "suspension_reason": shop.suspension_reason or None,
        "is_professional": shop.is_professional,
        "premium": False,
        "currency_iso_code": shop.currency_iso_code,
        "date_created": iso(shop.created_date),
        "last_updated_date": iso(shop.last_updated_date),
        "description": None,
        "return_policy": None,
        "approval_delay": None,
        "approval_rate": None,
        "order_messages_response_delay": None,
        "shipping_country": "FRA",
        "contact_informations": {
            "email": shop.customer_service_email or None, "phone": shop.contact_phone or None,
            "street1": shop.head_office_street or None, "street2": None,
            "zip_code": shop.head_office_zip_code or None, "city": shop.head_office_city or None,
            "country": shop.head_office_country_iso_code, "civility": None, "firstname": None,
            "lastname": None, "phone_secondary": None, "fax": None, "state": None, "web_site": None,
        },
        "default_billing_information": {
            "corporate_information": {
                "company_registration_name": shop.legal_name or None,
                "company_registration_number": shop.identification_number or None,
                "legal_form": shop.legal_form or None,
                "share_capital": shop.share_capital or None,
                "rcs": shop.rcs or None,
            },
            "fiscal_information": {
                "local_tax_number": shop.vat_number or None,
                "tax_identification_number": shop.vat_number or None,
                "tax_identification_country": "FRA",
            },
            "registration_address": {
                "street_1": shop.head_office_street or None, "zip_code": shop.head_office_zip_code or None,
                "city": shop.head_office_city or None, "country_iso_code": shop.head_office_country_iso_code,
            },
        },
        "payment_details": {
            "paid_balance": amount(balances["paid"]),
            "payable_balance": amount(balances["payable"]),
            "pending_balance": amount(balances["pending"]),
            "reserve_balance": 0.0,
        },
        "model": "MARKETPLACE",
        "shop_additional_fields": [],
        "channels": [],
        "domains": [],
    })


@router.get("/version", response=Version, auth=None, summary="V01 - Version", operation_id="V01")
def version(request: HttpRequest) -> HttpResponse:
    return json_response({"version": __version__})
