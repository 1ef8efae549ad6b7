"""Pure order rules: line amounts, acceptance decisions, and what a viewer sees of the customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from comptoir.core.money import percentage_of, tax_included_part
from comptoir.orders.errors import (
    AcceptanceDecisionMissing,
    OrderLineDuplicateId,
    OrderLineNotFound,
    OrderLineNullElement,
)
from comptoir.orders.states import CUSTOMER_DETAILS_STATES, OrderState

ADDRESS_KEYS = (
    "civility", "firstname", "lastname", "company", "company_2", "street_1", "street_2",
    "zip_code", "city", "state", "country", "country_iso_code", "phone", "phone_secondary",
)
SHIPPING_ADDRESS_KEYS = (*ADDRESS_KEYS, "additional_info")


@dataclass(frozen=True, slots=True)
class LineAmounts:
    price_cents: int
    tax_cents: int
    shipping_tax_cents: int
    commission_fee_cents: int
    commission_vat_cents: int


def line_amounts(
    *,
    unit_price_cents: int,
    quantity: int,
    shipping_price_cents: int,
    tax_rate: Decimal,
    shipping_tax_rate: Decimal,
    commission_rate: Decimal,
    commission_vat_rate: Decimal,
) -> LineAmounts:
    """Prices include tax; VAT is extracted once per line; commission is on the line total and shipping."""
    price = unit_price_cents * quantity
    commission = percentage_of(price + shipping_price_cents, commission_rate)
    return LineAmounts(
        price_cents=price,
        tax_cents=tax_included_part(price, tax_rate),
        shipping_tax_cents=tax_included_part(shipping_price_cents, shipping_tax_rate),
        commission_fee_cents=commission,
        commission_vat_cents=percentage_of(commission, commission_vat_rate),
    )


@dataclass(frozen=True, slots=True)
class Decision:
    line_id: str
    accepted: bool


def check_decisions(waiting_line_ids: Sequence[str], decisions: Iterable[Decision | None]) -> list[Decision]:
    """OR21's rules: no null item, no line twice, only known lines, every waiting line decided."""
    seen: dict[str, Decision] = {}
    for decision in decisions:
        if decision is None:
            raise OrderLineNullElement()
        if decision.line_id in seen:
            raise OrderLineDuplicateId(f"La ligne {decision.line_id} apparaît deux fois.", field="order_lines")
        seen[decision.line_id] = decision
    unknown = [line_id for line_id in seen if line_id not in set(waiting_line_ids)]
    if unknown:
        raise OrderLineNotFound(f"Ligne inconnue ou non en attente d'acceptation : {unknown[0]}.")
    missing = [line_id for line_id in waiting_line_ids if line_id not in seen]
    if missing:
        raise AcceptanceDecisionMissing(
            f"Aucune décision pour la ligne {missing[0]} : chaque ligne doit être acceptée ou refusée."
        )
    return [seen[line_id] for line_id in waiting_line_ids]


def customer_details_visible(state: OrderState, *, debited: bool) -> bool:
    """DESIGN §5: addresses and phone from SHIPPING on (and kept for orders cancelled after that)."""
    return state in CUSTOMER_DETAILS_STATES or (state == OrderState.CANCELED and debited)


def _address(raw: Mapping[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if not raw:
        return None
    return {key: raw.get(key) for key in keys}


def customer_view(
    *,
    state: OrderState,
    debited: bool,
    customer_id: str,
    civility: str,
    firstname: str,
    lastname: str,
    locale: str,
    billing_address: Mapping[str, Any] | None,
    shipping_address: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The one function deciding what a seller sees of a customer. Never the real e-mail; keys always present."""
    visible = customer_details_visible(state, debited=debited)
    return {
        "customer_id": customer_id,
        "civility": civility or None,
        "firstname": firstname,
        "lastname": lastname,
        "locale": locale or None,
        "billing_address": _address(billing_address, ADDRESS_KEYS) if visible else None,
        "shipping_address": _address(shipping_address, SHIPPING_ADDRESS_KEYS) if visible else None,
    }
