"""The relay's use cases, called by its SMTP server: which recipients are accepted (`check_recipient`, at RCPT)
and what becomes of a mail (`receive`, at DATA): judged, logged, forwarded or kept for the operator.

Both return the SMTP answer. Replies are ASCII (SMTP without SMTPUTF8): French without accents.
"""

from __future__ import annotations

import logging
import re
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q

from comptoir.core import clock
from comptoir.notifications.services import record_events
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order
from comptoir.orders.states import FINAL_STATES, OrderState
from comptoir.relay import rules
from comptoir.relay.models import Direction, RelayMessage
from comptoir.relay.parsing import Parsed, parse
from comptoir.relay.rules import Verdict
from comptoir.shops.models import Shop, ShopMember

log = logging.getLogger("comptoir.relay")

BODY_TEXT_MAX_CHARS = 100_000
EXPIRED = ("relay.expired", "Adresse expirée (commande terminée depuis plus de {days} jours)")
SENDER_REFUSED = ("relay.sender_refused", "Expéditeur qui n'est ni la boutique ni le client")
NO_MAILBOX = ("relay.no_mailbox", "Aucune adresse de destination connue")


@dataclass(frozen=True, slots=True)
class Route:
    order: Order
    direction: Direction
    address: str  # the relay address, as the order spells it


def relay_address(order: Order) -> str:
    return f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}"


def shop_senders(shop: Shop) -> set[str]:
    """The addresses a shop may write from: its members' logins and its customer-service address."""
    emails = {e.lower() for e in ShopMember.objects.filter(shop=shop).values_list("user__email", flat=True) if e}
    if shop.customer_service_email:
        emails.add(shop.customer_service_email.lower())
    return emails


def shop_mailboxes(shop: Shop) -> list[str]:
    """Where a customer's mail goes: the customer-service address, else the members' (as notifications do)."""
    if shop.customer_service_email:
        return [shop.customer_service_email]
    return sorted({e for e in ShopMember.objects.filter(shop=shop).values_list("user__email", flat=True) if e})


def _ended_at(order: Order) -> datetime | None:
    if order.state == OrderState.CLOSED:
        return order.closed_date or order.last_updated_date
    return order.last_updated_date if OrderState(order.state) in FINAL_STATES else None


def _bounce(order: Order, direction: Direction, *, mail_from: str, recipient: str, rule: tuple[str, str]) -> None:
    """A refusal at RCPT for a real order is logged: the operator sees a seller writing from a wrong address."""
    RelayMessage.objects.create(order=order, shop_id=order.shop_id, direction=direction, mail_from=mail_from[:320],
                                recipient=recipient[:320], received_date=clock.now(), verdict=Verdict.BOUNCED,
                                rule_id=rule[0], rule_label=rule[1])


def resolve(*, mail_from: str, recipient: str, log_refusals: bool = True) -> tuple[Route | None, str]:
    """The route of a mail to `recipient`, or None and the SMTP refusal."""
    local, _, domain = recipient.strip().lower().rpartition("@")
    if domain != settings.COMPTOIR["RELAY_DOMAIN"].lower():
        return None, f"550 5.7.1 Relais refuse : ce serveur ne recoit que le domaine {settings.COMPTOIR['RELAY_DOMAIN']}"
    order = Order.objects.select_related("shop").filter(relay_token=local).first() if local else None
    if order is None:
        return None, "550 5.1.1 Adresse de relais inconnue"
    sender = mail_from.strip().lower()
    if sender and sender in shop_senders(order.shop):
        direction = Direction.TO_CUSTOMER
    elif sender and order.customer_email and sender == order.customer_email.lower():
        direction = Direction.TO_SHOP
    else:
        if log_refusals:
            _bounce(order, Direction.TO_CUSTOMER, mail_from=mail_from, recipient=recipient, rule=SENDER_REFUSED)
        return None, ("550 5.7.1 Expediteur non autorise : seules les adresses de la boutique et celle du client "
                      "peuvent ecrire a cette adresse")
    days = settings.COMPTOIR["RELAY_EXPIRY_DAYS"]
    ended = _ended_at(order)
    if rules.address_expired(ended_at=ended, now=clock.now(), expiry_days=days):
        if log_refusals:
            _bounce(order, direction, mail_from=mail_from, recipient=recipient,
                    rule=(EXPIRED[0], EXPIRED[1].format(days=days)))
        return None, f"550 5.1.1 Adresse de relais expiree : commande terminee depuis plus de {days} jours"
    if direction == Direction.TO_CUSTOMER and not order.customer_email or \
            direction == Direction.TO_SHOP and not shop_mailboxes(order.shop):
        if log_refusals:
            _bounce(order, direction, mail_from=mail_from, recipient=recipient, rule=NO_MAILBOX)
        return None, "550 5.1.1 Aucune boite de destination pour cette adresse"
    return Route(order, direction, relay_address(order)), ""


def check_recipient(*, mail_from: str, recipient: str) -> str | None:
    """None when the relay takes mail for `recipient` from `mail_from`, else the SMTP refusal (550)."""
    route, refusal = resolve(mail_from=mail_from, recipient=recipient)
    return None if route is not None else refusal


def _context(route: Route, mail_from: str, parsed: Parsed) -> rules.Context:
    order = route.order
    ids = list(parsed.references)[:50]
    is_reply = bool(ids) and RelayMessage.objects.filter(order=order, direction=Direction.TO_SHOP).filter(
        Q(message_id__in=ids) | Q(forwarded_message_id__in=ids)).exists()
    hosts = {settings.COMPTOIR["RELAY_DOMAIN"].lower()}
    public = urlsplit(settings.COMPTOIR["PUBLIC_URL"]).hostname
    if public:
        hosts.add(public.lower().removeprefix("www."))
    return rules.Context(sender=mail_from.lower(), shop_name=order.shop.name, allowed_hosts=frozenset(hosts),
                         is_reply=is_reply, bulk=parsed.bulk)


def _judge(route: Route, mail_from: str, parsed: Parsed) -> rules.Classification:
    """A customer's mail is never blocked; a seller's is judged on what the seller wrote (not on the quoted
    lines of the customer's own messages)."""
    if route.direction == Direction.TO_SHOP:
        return rules.Classification(Verdict.ALLOWED)
    known = RelayMessage.objects.filter(order=route.order, direction=Direction.TO_SHOP, verdict=Verdict.ALLOWED) \
        .order_by("-received_date").values_list("body_text", flat=True)[:20]
    text = rules.strip_known_quotes(parsed.text, list(known))
    return rules.classify(parsed.subject, text, _context(route, mail_from, parsed))


def _blocked_reply(label: str, rule_id: str) -> str:
    return (f"550 5.7.1 Message non transmis par le relais de {rules.smtp_text(settings.COMPTOIR['OPERATOR_NAME'])}"
            f" : {rules.smtp_text(label)} (regle {rule_id}). Il est conserve pour l'operateur.")


def receive(*, mail_from: str, recipient: str, content: bytes) -> str:
    """Judge, log and forward one mail to one relay address; returns the SMTP answer to DATA."""
    route, refusal = resolve(mail_from=mail_from, recipient=recipient, log_refusals=False)
    if route is None:  # the order changed between RCPT and DATA
        return refusal
    parsed = parse(content)
    if parsed.message_id:  # the sender retried after losing our answer: same answer, nothing sent twice
        previous = RelayMessage.objects.filter(order=route.order, direction=route.direction,
                                               message_id=parsed.message_id,
                                               verdict__in=[Verdict.ALLOWED, Verdict.BLOCKED]).first()
        if previous is not None and previous.verdict == Verdict.BLOCKED:
            return _blocked_reply(previous.rule_label, previous.rule_id)
        if previous is not None and previous.forwarded_date is not None:
            return "250 2.0.0 Message deja transmis"
    result = _judge(route, mail_from, parsed)
    limit = settings.COMPTOIR["RELAY_RAW_MAX_BYTES"]
    order = route.order
    with transaction.atomic():
        row = RelayMessage.objects.create(
            order=order, shop_id=order.shop_id, direction=route.direction, mail_from=mail_from[:320],
            from_header=parsed.from_header[:500], recipient=recipient[:320], subject=parsed.subject[:500],
            message_id=parsed.message_id[:500], received_date=clock.now(), size=len(content), verdict=result.verdict,
            rule_id=result.match.rule_id if result.match else "",
            rule_label=result.match.label if result.match else "",
            excerpt=result.match.excerpt if result.match else "", body_text=parsed.text[:BODY_TEXT_MAX_CHARS],
            raw=content[:limit], raw_truncated=len(content) > limit,
        )
        if result.match is not None:
            record_events([OrderEvent("RelayMailBlocked", order.order_id, order.shop_id, row.received_date, {
                "relay_message_id": row.id, "rule_id": result.match.rule_id, "rule_label": result.match.label,
                "excerpt": result.match.excerpt, "subject": parsed.subject[:300], "mail_from": mail_from,
            })])
    if result.match is not None:
        log.info("relay %s blocked for order %s: %s", row.id, order.order_id, result.match.rule_id)
        return _blocked_reply(result.match.label, result.match.rule_id)
    try:
        forwarded_id = _forward(route, parsed, row.id)
    except smtplib.SMTPRecipientsRefused:
        row.delete()
        return "550 5.1.1 Le serveur du destinataire refuse son adresse"
    except (smtplib.SMTPException, OSError) as exc:  # our outgoing SMTP is down: the sender's server retries
        row.delete()
        log.warning("relay forward for order %s failed: %s", order.order_id, exc)
        return "451 4.4.1 Relais momentanement indisponible, reessayez plus tard"
    RelayMessage.objects.filter(pk=row.pk).update(forwarded_date=clock.now(), forwarded_message_id=forwarded_id)
    return "250 2.0.0 Message transmis"


def _footer(route: Route) -> str:
    operator = settings.COMPTOIR["OPERATOR_NAME"]
    order = route.order
    if route.direction == Direction.TO_CUSTOMER:
        return (f"Message de la boutique {order.shop.name} au sujet de votre commande {order.order_id} sur "
                f"{operator}. Pour lui répondre, répondez simplement à ce message.")
    return (f"Message du client de la commande {order.order_id}, transmis par le relais de {operator}. "
            "Répondez à ce message pour lui répondre : votre réponse passe par le relais et suit les règles "
            "du guide vendeur.")


def _forward(route: Route, parsed: Parsed, row_id: int) -> str:
    """Send the mail on with Django's mail framework; returns the Message-ID it went with."""
    order = route.order
    text = parsed.text
    if route.direction == Direction.TO_SHOP:
        # The customer's real address never reaches the seller, not even in a quoted « ... a écrit : » line.
        text = re.sub(re.escape(order.customer_email), route.address, text, flags=re.IGNORECASE)
        sender_name, to = f"Client de la commande {order.order_id}", shop_mailboxes(order.shop)
    else:
        sender_name, to = order.shop.name, [order.customer_email]
    budget = settings.COMPTOIR["RELAY_MAX_ATTACHMENT_BYTES"]
    kept, dropped = [], []
    for attachment in parsed.attachments:
        if len(attachment.content) <= budget:
            kept.append(attachment)
            budget -= len(attachment.content)
        else:
            dropped.append(attachment.filename)
    if dropped:
        text += "\n\n[Pièces jointes non transmises, trop volumineuses : " + ", ".join(dropped) + "]"
    message_id = f"<relay-{row_id}@{settings.COMPTOIR['RELAY_DOMAIN']}>"
    headers = {"Message-ID": message_id, "X-Comptoir-Relay": str(row_id)}
    if parsed.in_reply_to:
        headers["In-Reply-To"] = parsed.in_reply_to
    if parsed.references:
        headers["References"] = " ".join(parsed.references)
    mail = EmailMessage(subject=parsed.subject.replace("\n", " ").replace("\r", " "),
                        body=f"{text.rstrip()}\n\n-- \n{_footer(route)}\n",
                        from_email=formataddr((sender_name, route.address)), to=to, reply_to=[route.address],
                        headers=headers)
    for attachment in kept:
        mail.attach(attachment.filename, attachment.content, attachment.mimetype)
    get_connection(fail_silently=False).send_messages([mail])
    return message_id
