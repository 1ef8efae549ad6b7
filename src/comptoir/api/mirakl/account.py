"""Mirakl seller API: A01 (the shop's account and balances) and V01 (version)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from comptoir import __version__
from comptoir.api.render import amount, iso, json_response
from comptoir.orders import queries

router = Router(tags=["Account"])


@router.get("/account", summary="A01 - Shop account", operation_id="A01")
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


@router.get("/version", auth=None, summary="V01 - Version", operation_id="V01")
def version(request: HttpRequest) -> HttpResponse:
    return json_response({"version": __version__})
