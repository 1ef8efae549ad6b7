"""Operator back office (/operateur/): fraud queue and decisions, every order, shops, payouts, the
notification outbox and the demo's mails. One module per area; all are thin over services and queries."""

from comptoir.operator.views.common import OperatorLogin, operator_view
from comptoir.operator.views.mails import mail_detail, mail_list
from comptoir.operator.views.orders import fraud_decision, fraud_queue, order_detail, order_list
from comptoir.operator.views.outbox import outbox_list, outbox_replay
from comptoir.operator.views.payouts import payout_csv, payout_detail, payout_invoice, payout_list, payout_run
from comptoir.operator.views.refunds import cancel_lines, cancel_order, refund, refund_proposal
from comptoir.operator.views.shops import shop_commission, shop_detail, shop_list, shop_state

__all__ = [
    "OperatorLogin", "fraud_decision", "fraud_queue", "mail_detail", "mail_list", "operator_view", "order_detail",
    "order_list", "outbox_list", "cancel_lines", "cancel_order", "refund", "refund_proposal", "outbox_replay", "payout_csv", "payout_detail", "payout_invoice", "payout_list", "payout_run",
    "shop_commission", "shop_detail", "shop_list", "shop_state",
]
