"""The demo marketplace's customer service: conversations and incidents at each step of the guide's
« Gérer le service client », written through the same services as a customer, a seller, the operator and the
worker, at instants replayed by the demo's time machine (after each order's last move, before « now »):

- 2001: a question answered by the seller, then an incident the customer opens (« Article endommagé »);
- 2001: a customer question still waiting for the seller (the reply clock runs);
- 2002: a message unanswered for 72 business hours: reminded at 48, then an incident in the operator's mediation,
  and a formal notice whose 24 business hours are still running;
- 2003: a received order whose incident the seller signals resolved, for the operator to confirm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from comptoir.incidents import services as incidents
from comptoir.incidents.rules import Solution, SolutionKind
from comptoir.messaging import services as messaging
from comptoir.messaging.rules import Participant
from comptoir.orders.models import Order
from comptoir.orders.services.lifecycle import Who, calendar
from comptoir.orders.states import Actor, FlagTimerKind, OrderState

Travel = Callable[[datetime], None]
RunTimer = Callable[[Order, FlagTimerKind, datetime, Travel], None]
OPERATOR = Who(Actor.OPERATOR, "Claire Dupont")


def _last_move(order: Order) -> datetime:
    return order.history.order_by("-created_date").values_list("created_date", flat=True).first() or order.created_date


def _pick(shop_id: int, state: OrderState, latest: Callable[[datetime], bool]) -> Order | None:
    """The last order of the shop in `state` (the refund scenes take the first ones) whose last move fits."""
    for order in Order.objects.filter(shop_id=shop_id, state=state, has_incident=False,
                                      has_customer_message=False).order_by("-order_id"):
        if latest(_last_move(order)):
            return order
    return None


def _customer(order: Order) -> messaging.Author:
    return messaging.Author(Participant.CUSTOMER, f"{order.customer_firstname} {order.customer_lastname}")


def _seller(order: Order) -> messaging.Author:
    return messaging.Author(Participant.SHOP, f"vendeur{order.shop_id}@demo.test")


def add_customer_service(start: datetime, travel: Travel, run_timer: RunTimer) -> None:
    before = start - timedelta(hours=2)
    cal = calendar()
    order = _pick(2001, OrderState.SHIPPED, lambda last: last < start - timedelta(days=2))
    if order is not None:
        at = _last_move(order) + timedelta(hours=2)
        travel(at)
        thread, _ = messaging.start_thread(order_id=order.order_id, author=_customer(order), to=["SHOP"],
                                           topic_value="Colis abîmé",
                                           body="Bonjour, le colis est arrivé avec le carton écrasé et le vase est "
                                                "fêlé. Que pouvez-vous faire ?")
        travel(at + timedelta(hours=3))
        messaging.reply(thread_id=thread.pk, shop_id=order.shop_id, author=_seller(order),
                        body="Bonjour, nous sommes désolés. Pouvez-vous nous envoyer une photo du vase ?")
        travel(at + timedelta(hours=20))
        line = order.lines.order_by("index").first()
        incidents.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="2",
                                who=Who(Actor.CUSTOMER, _customer(order).name),
                                description="Le vase est arrivé fêlé, photo envoyée au vendeur.")
    waiting = _pick(2001, OrderState.SHIPPING, lambda last: last < start - timedelta(hours=3))
    if waiting is not None:
        travel(start - timedelta(hours=1))
        messaging.start_thread(order_id=waiting.order_id, author=_customer(waiting), to=["SHOP"],
                               topic_value="Date d'expédition",
                               body="Bonjour, pouvez-vous me dire quand ma commande sera expédiée ? Merci.")
    late = _pick(2002, OrderState.SHIPPED,
                 lambda last: cal.add_business_hours(last + timedelta(hours=1), 72) < before - timedelta(hours=1))
    if late is not None:
        at = _last_move(late) + timedelta(hours=1)
        travel(at)
        messaging.start_thread(order_id=late.order_id, author=_customer(late), to=["SHOP"], topic_value="Colis",
                               body="Bonjour, mon colis n'a pas bougé depuis une semaine sur le suivi. Est-il perdu ?")
        run_timer(late, FlagTimerKind.CUSTOMER_REPLY, at, travel)  # 48 business hours: the reminder
        run_timer(late, FlagTimerKind.CUSTOMER_REPLY, at, travel)  # 72: the incident, in mediation
        travel(before)
        incident = late.incidents.order_by("id").first()
        if incident is not None:
            incidents.send_formal_notice(incident_id=incident.pk, who=OPERATOR, solution=Solution(
                SolutionKind.REFUND, None, "Colis non livré, client sans réponse du vendeur"))
    received = _pick(2003, OrderState.RECEIVED, lambda last: last < start - timedelta(days=1))
    if received is not None:
        at = _last_move(received) + timedelta(hours=1)
        travel(at)
        line = received.lines.order_by("index").first()
        incidents.open_incident(order_id=received.order_id, line_ids=[line.line_id], reason_code="4",
                                who=Who(Actor.CUSTOMER, _customer(received).name),
                                description="L'appareil ne s'allume plus après deux jours.")
        travel(at + timedelta(hours=5))
        incidents.resolve(order_id=received.order_id, line_id=line.line_id, reason_code="12",
                          who=Who(Actor.SELLER, f"vendeur{received.shop_id}@demo.test"), shop_id=received.shop_id)
