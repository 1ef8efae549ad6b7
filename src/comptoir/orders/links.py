"""The customer's signed, unguessable link to the space of one order (put in every notification).

The token signs the order id and its relay token: rotating the relay token revokes every link sent.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from comptoir.orders.models import Order

SALT = "comptoir.customer.order-link"
PATH = "/client/commande/{token}/"


def order_token(order: Order) -> str:
    return signing.dumps({"o": order.order_id, "r": order.relay_token}, salt=SALT, compress=True)


def order_id_from_token(token: str) -> tuple[str, str] | None:
    """(order_id, relay_token) or None when the signature is wrong (or the token made up)."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("o"), str):
        return None
    return data["o"], str(data.get("r", ""))


def customer_path(order: Order) -> str:
    return PATH.format(token=order_token(order))


def customer_link(order: Order) -> str:
    """The absolute link sent to the customer (COMPTOIR PUBLIC_URL + signed path)."""
    return settings.COMPTOIR["PUBLIC_URL"].rstrip("/") + customer_path(order)
