"""The operator's fraud gate and the seller's per-line acceptance (OR21)."""

from __future__ import annotations

from collections.abc import Iterable

from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.notifications import services as notification_services
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision, check_decisions
from comptoir.orders.services.lifecycle import (
    Who,
    apply_transition,
    check,
    lock_lines,
    lock_order,
    transition_order,
    writing,
)
from comptoir.orders.states import OrderState, Trigger

SELLER_REFUSAL_CODE = "SELLER_REFUSED"
SELLER_REFUSAL_LABEL = "Refusée par le vendeur"


def decide_lines(
    *,
    order_id: str,
    shop_id: int,
    decisions: Iterable[Decision | None],
    who: Who,
    refusal_reason: str = "",
) -> Order:
    """Accept or refuse each waiting line at once. Any accepted → WAITING_DEBIT; all refused → REFUSED."""
    with writing():
        order = lock_order(order_id, shop_id=shop_id)
        lines = lock_lines(order)
        trigger_probe = check(order, Trigger.ACCEPT, who, lines)  # state and actor first: ORDER_INVALID_STATE
        waiting = [line.line_id for line in lines if line.state == OrderState.WAITING_ACCEPTANCE]
        checked = check_decisions(waiting, decisions)
        accepted = {d.line_id for d in checked if d.accepted}
        transition = trigger_probe if accepted else check(order, Trigger.REFUSE, who, lines)
        now = clock.now()
        order.acceptance_decision_date = now
        targets = {d.line_id: OrderState.WAITING_DEBIT if d.accepted else OrderState.REFUSED for d in checked}
        refused = [d.line_id for d in checked if not d.accepted]
        label = refusal_reason.strip() or SELLER_REFUSAL_LABEL
        apply_transition(
            order, lines, transition, who, line_targets=targets,
            reason_code=SELLER_REFUSAL_CODE, reason_label=label,
            details={"accepted": sorted(accepted), "refused": refused},
            event_data={"refused_lines": refused},
        )
        if accepted and refused:
            notification_services.record_events(
                [OrderEvent("LinesRefused", order.order_id, order.shop_id, now, {"refused_lines": refused})]
            )
    return order


def approve_order(*, order_id: str, who: Who) -> Order:
    def clear(order: Order, _lines: list) -> None:
        order.waiting_customer_documents = False

    return transition_order(order_id, Trigger.APPROVE, who, prepare=clear)


def reject_order(*, order_id: str, reason: str, who: Who) -> Order:
    if not reason.strip():
        raise ValidationError("Un motif de rejet est obligatoire.", field="reason")
    return transition_order(order_id, Trigger.REJECT, who, reason_code="FRAUD_REJECTED", reason_label=reason.strip())


def request_customer_documents(*, order_id: str, note: str, who: Who) -> Order:
    def mark(order: Order, _lines: list) -> None:
        order.waiting_customer_documents = True

    return transition_order(order_id, Trigger.REQUEST_DOCUMENTS, who, reason_label=note.strip(), prepare=mark)
