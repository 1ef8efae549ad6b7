"""Turn an outbox event into a French e-mail: recipients by audience, subject and body from template files.

Templates live in `notifications/templates/notifications/<Event>.<AUDIENCE>.txt`: the first line is the
subject, the rest the body. An operator overrides any of them by putting a file of the same name in the
directory named by COMPTOIR_TEMPLATES_DIR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from comptoir.notifications.models import OutboxEvent
from comptoir.orders.links import customer_link
from comptoir.orders.models import Order
from comptoir.orders.states import STATE_LABELS, OrderState
from comptoir.shops.models import Shop


@dataclass(frozen=True, slots=True)
class Mail:
    to: list[str]
    subject: str
    body: str


def _recipients(event: OutboxEvent, order: Order | None, shop: Shop | None) -> list[str]:
    if event.audience == "CUSTOMER":
        return [order.customer_email] if order and order.customer_email else []
    if event.audience == "SELLER" and shop is not None:
        emails = sorted({m.user.email for m in shop.members.select_related("user") if m.user.email})
        return emails or ([shop.customer_service_email] if shop.customer_service_email else [])
    if event.audience == "OPERATOR":
        return [settings.COMPTOIR["OPERATOR_EMAIL"]]
    return []


def render(event: OutboxEvent) -> Mail | None:
    """None when the event has no template for this audience or nobody to send it to (nothing to do)."""
    try:
        template = get_template(f"notifications/{event.event_type}.{event.audience}.txt")
    except TemplateDoesNotExist:
        return None
    order = Order.objects.select_related("shop").filter(order_id=event.order_id).first() if event.order_id else None
    shop = order.shop if order else Shop.objects.filter(id=event.shop_id).first()
    recipients = _recipients(event, order, shop)
    if not recipients:
        return None
    lines = list(order.lines.order_by("index")) if order else []
    context: dict[str, Any] = {
        "operator": settings.COMPTOIR["OPERATOR_NAME"],
        "order": order,
        "shop": shop,
        "lines": lines,
        "refused_lines": [line for line in lines if line.line_id in event.payload.get("refused_lines", [])],
        "state_label": STATE_LABELS.get(OrderState(order.state), order.state) if order else "",
        "customer_url": customer_link(order) if order else "",
        "seller_url": f"{settings.COMPTOIR['PUBLIC_URL'].rstrip('/')}/vendeur/commandes/{order.order_id}/"
        if order else "",
        "payload": event.payload,
        "total": f"{order.total_price_cents / 100:.2f}".replace(".", ",") if order else "",
    }
    text = template.render(context).strip()
    subject, _, body = text.partition("\n")
    return Mail(to=recipients, subject=subject.strip(), body=body.strip() + "\n")
