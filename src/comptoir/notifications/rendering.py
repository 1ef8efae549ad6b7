"""Turn an outbox event into a French e-mail: recipients by audience, subject and body from template files.

Templates live in `notifications/templates/notifications/<Event>.<AUDIENCE>.txt`: the first line is the
subject, the rest the body. An operator overrides any of them by putting a file of the same name in the
directory named by COMPTOIR_TEMPLATES_DIR. The dispatcher reads what a batch of events needs at once (`load`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from comptoir.notifications.models import OutboxEvent
from comptoir.orders.links import customer_link
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.states import STATE_LABELS, OrderState
from comptoir.shops.models import Shop, ShopMember


@dataclass(frozen=True, slots=True)
class Mail:
    to: list[str]
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the mails of a batch of events need, read with a few queries for the whole batch."""

    orders: dict[str, Order]  # by order_id, with their shop
    lines: dict[int, list[OrderLine]]  # by order pk, in index order
    shops: dict[int, Shop]
    seller_emails: dict[int, list[str]]  # by shop id: its members' e-mails, sorted


def load(events: list[OutboxEvent]) -> Loaded:
    order_ids = {event.order_id for event in events if event.order_id}
    orders = {o.order_id: o for o in Order.objects.select_related("shop").filter(order_id__in=order_ids)} \
        if order_ids else {}
    lines: dict[int, list[OrderLine]] = {order.pk: [] for order in orders.values()}
    if orders:
        for line in OrderLine.objects.filter(order_id__in=list(lines)).order_by("order_id", "index"):
            lines[line.order_id].append(line)
    shops = {order.shop_id: order.shop for order in orders.values()}
    wanted = {e.shop_id for e in events if e.order_id not in orders and e.shop_id is not None} - set(shops)
    if wanted:
        shops.update(Shop.objects.in_bulk(list(wanted)))
    sellers = {e.shop_id for e in events if e.audience == "SELLER" and e.shop_id is not None}
    emails: dict[int, set[str]] = {shop_id: set() for shop_id in sellers}
    if sellers:
        for shop_id, email in ShopMember.objects.filter(shop_id__in=sellers).values_list("shop_id", "user__email"):
            if email:
                emails[shop_id].add(email)
    return Loaded(orders, lines, shops, {shop_id: sorted(found) for shop_id, found in emails.items()})


def _recipients(event: OutboxEvent, order: Order | None, shop: Shop | None, loaded: Loaded) -> list[str]:
    if event.audience == "CUSTOMER":
        return [order.customer_email] if order and order.customer_email else []
    if event.audience == "SELLER" and shop is not None:
        emails = loaded.seller_emails.get(shop.id)
        if emails is None:  # the shop of an order whose event named none
            emails = sorted({m.user.email for m in shop.members.select_related("user") if m.user.email})
        return emails or ([shop.customer_service_email] if shop.customer_service_email else [])
    if event.audience == "OPERATOR":
        return [settings.COMPTOIR["OPERATOR_EMAIL"]]
    return []


def render(event: OutboxEvent, loaded: Loaded | None = None) -> Mail | None:
    """None when the event has no template for this audience or nobody to send it to (nothing to do).
    `loaded`: what `load` read for a batch of events including this one (read for this event alone if None)."""
    try:
        template = get_template(f"notifications/{event.event_type}.{event.audience}.txt")
    except TemplateDoesNotExist:
        return None
    if loaded is None:
        loaded = load([event])
    order = loaded.orders.get(event.order_id) if event.order_id else None
    shop = order.shop if order else loaded.shops.get(event.shop_id) if event.shop_id is not None else None
    recipients = _recipients(event, order, shop, loaded)
    if not recipients:
        return None
    lines = loaded.lines.get(order.pk, []) if order else []
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
