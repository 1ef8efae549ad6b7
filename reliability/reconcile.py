"""Reconciliation after a fault run (Django side, in reliability/db.py's child process): the client's log, the
webhook receiver's log and the mails written, against the database. Every check says what it expects; `ok`
is false when anything was lost or duplicated.

Besides the absolute checks (one accept per order the client saw accepted, one capture per debited order, the
refunds the client was answered and no other, postings summing to zero, one delivery per webhook event...),
every order that finished its script is compared with the other orders of the same script: they went through
the same steps, so their history, outbox, webhook events, ledger entries, payment operations and timers must
be the same multisets. One row lost or written twice on one order shows up as that order's deviation."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ONE_SHOT = {"APPROVE", "ACCEPT", "REQUEST_DEBIT", "CONFIRM_DEBIT", "SHIP"}
DEBITED = {"SHIPPING", "SHIPPED", "RECEIVED", "CLOSED"}


def read_client_log(path: str) -> tuple[list[dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    finals = {(r["op"], r["order"]): r for r in rows if r.get("final")}
    return rows, finals


def client_figures(rows: list[dict[str, Any]], finals: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    attempts = [r for r in rows if "try" in r]  # writes (failed reads are logged as `read` rows, for outages)
    by_op: dict[str, Counter[str]] = defaultdict(Counter)
    for (op, _), r in finals.items():
        by_op[op][r["result"]] += 1
    statuses = Counter(str(r["status"]) for r in attempts if r["status"] is not None)
    return {
        "requests": len(attempts),
        "logical_writes": sum(1 for (op, _) in finals if op not in ("WAIT", "DONE")),
        "retries": sum(1 for r in attempts if r["try"] > 1),
        "answers_lost": sum(1 for r in attempts if r["error"]),
        "replayed_answers": sum(1 for r in attempts if r["replayed"]),
        "statuses": dict(sorted(statuses.items())),
        "non_json_errors": sum(1 for r in attempts if (r.get("code") or "").startswith("non-JSON")),
        "by_op": {op: dict(c) for op, c in sorted(by_op.items())},
        "orders_complete": by_op["DONE"]["complete"],
        "orders_incomplete": by_op["DONE"]["incomplete"] + by_op["WAIT"]["timeout"],
    }


def _check(ok: bool, **detail: Any) -> dict[str, Any]:
    return {"ok": bool(ok), **detail}


def _sample(items: Any, n: int = 5) -> list[Any]:
    return sorted(items)[:n] if not isinstance(items, list) else items[:n]


def reconcile(*, client_log: str, receiver_log: str | None = None, mail_dir: str | None = None) -> dict[str, Any]:
    from django.db.models import Count, Sum

    from comptoir.incidents.models import Incident
    from comptoir.ledger.models import LedgerEntry
    from comptoir.messaging.models import Thread
    from comptoir.notifications.models import OutboxEvent
    from comptoir.orders.models import Order, OrderHistory
    from comptoir.payments.models import Payment, PaymentOperation, SimulatedCharge
    from comptoir.refunds.models import Refund
    from comptoir.timers.models import Timer
    from comptoir.webhooks.models import Delivery, WebhookEvent

    rows, finals = read_client_log(client_log)
    checks: dict[str, dict[str, Any]] = {}
    orders = {o.order_id: o for o in Order.objects.all()}
    pk_to_id = {o.pk: oid for oid, o in orders.items()}

    def final(op: str, oid: str) -> str | None:
        r = finals.get((op, oid))
        return r["result"] if r else None

    # 1. accepts: once per order the client saw accepted; none for an order never accepted by the client.
    accepts = Counter(pk_to_id[pk] for pk in OrderHistory.objects.filter(trigger="ACCEPT", line_id="")
                      .values_list("order_id", flat=True))
    seen_ok = {oid for oid in orders if final("OR21", oid) == "ok"}
    unresolved = {oid for oid in orders if final("OR21", oid) in ("stuck", "gave_up")}
    checks["accepts"] = _check(
        all(accepts[o] == 1 for o in seen_ok) and all(accepts[o] == 0 for o in orders if o not in seen_ok | unresolved)
        and all(accepts[o] <= 1 for o in orders),
        client_ok=len(seen_ok), in_db=sum(accepts.values()), unresolved_by_client=len(unresolved),
        unresolved_in_db=sum(accepts[o] for o in unresolved),
        missing=_sample([o for o in seen_ok if accepts[o] == 0]), doubled=_sample([o for o in orders if accepts[o] > 1]))

    # 2. transitions: no one-shot transition twice; the order's state is its last history row's.
    dupes = list(OrderHistory.objects.filter(trigger__in=ONE_SHOT).values("order_id", "line_id", "trigger",
                                                                           "from_state", "to_state")
                 .annotate(n=Count("id")).filter(n__gt=1)[:5])
    last_state: dict[int, str] = {}
    for order_pk, to_state in OrderHistory.objects.filter(line_id="").exclude(to_state="").order_by("id") \
            .values_list("order_id", "to_state"):
        last_state[order_pk] = to_state
    drift = [o.order_id for o in orders.values() if last_state.get(o.pk, o.state) != o.state]
    checks["transitions"] = _check(not dupes and not drift, history_rows=OrderHistory.objects.count(),
                                   duplicated=dupes, state_not_last_history=_sample(drift))

    # 3. captures: one successful capture per debited order, none for the others; the provider's books agree.
    caps = Counter(pk_to_id[pk] for pk in PaymentOperation.objects.filter(kind="CAPTURE", succeeded=True)
                   .values_list("payment__order_id", flat=True))
    provider = Counter(SimulatedCharge.objects.filter(kind="CAPTURE", succeeded=True)
                       .values_list("reference", flat=True))
    payments = {pk_to_id[p.order_id]: p for p in Payment.objects.all()}
    debited = {oid for oid, o in orders.items() if o.state in DEBITED}
    bad_caps = [o for o in orders if caps[o] != (1 if o in debited else 0)]
    bad_status = [o for o in debited if payments[o].status != "CAPTURED"]
    bad_provider = [o for o in debited if provider[payments[o].authorization_ref] != 1]
    checks["captures"] = _check(not bad_caps and not bad_status and not bad_provider, debited_orders=len(debited),
                                captures=sum(caps.values()), provider_captures=sum(provider.values()),
                                wrong_count=_sample(bad_caps), not_captured=_sample(bad_status),
                                provider_mismatch=_sample(bad_provider))

    # 4. refunds: exactly the refunds the client was answered (plus, at most, those of unresolved calls), each
    # paid back once.
    client_refunds = {str(rid) for (op, _), r in finals.items() if op == "OR28" and r["result"] == "ok"
                      for rid in r["answer"]}
    unresolved_orders = {oid for (op, oid), r in finals.items() if op == "OR28" and r["result"] != "ok"}
    db_refunds = {str(r.pk): r for r in Refund.objects.filter(kind="REFUND").select_related("order")}
    unexplained = [rid for rid, r in db_refunds.items()
                   if rid not in client_refunds and r.order.order_id not in unresolved_orders]
    missing = sorted(client_refunds - set(db_refunds))
    refund_ops = Counter(PaymentOperation.objects.filter(kind="REFUND", succeeded=True)
                         .values_list("payment__order_id", flat=True))
    per_order = Counter(r.order_id for r in db_refunds.values())
    bad_paid = [pk_to_id[pk] for pk, n in per_order.items() if refund_ops[pk] != n]
    not_refunded = [rid for rid, r in db_refunds.items() if r.state != "REFUNDED"]
    per_order_client = Counter(oid for (op, oid), r in finals.items() if op == "OR28" and r["result"] == "ok")
    doubled = [pk_to_id[pk] for pk, n in per_order.items() if n > max(1, per_order_client[pk_to_id[pk]])]
    checks["refunds"] = _check(not unexplained and not missing and not bad_paid and not not_refunded and not doubled,
                               client_ok=len(client_refunds), in_db=len(db_refunds), unexplained=_sample(unexplained),
                               missing=_sample(missing), doubled=_sample(doubled), not_paid_once=_sample(bad_paid),
                               not_yet_refunded=len(not_refunded), provider_refunds=SimulatedCharge.objects.filter(
                                   kind="REFUND", succeeded=True).count())

    # 5. ledger: every posting sums to zero.
    unbalanced = list(LedgerEntry.objects.values("posting", "currency_iso_code")
                      .annotate(total=Sum("amount_cents")).exclude(total=0)[:5])
    checks["ledger"] = _check(not unbalanced, entries=LedgerEntry.objects.count(),
                              postings=LedgerEntry.objects.values("posting").distinct().count(),
                              unbalanced=unbalanced)

    # 6. notifications: one row per event and audience, none dead; every mail the worker recorded as sent exists.
    outbox_dupes = list(OutboxEvent.objects.values("event_type", "order_id", "audience", "payload")
                        .annotate(n=Count("id")).filter(n__gt=1)[:5])
    states = dict(Counter(OutboxEvent.objects.values_list("state", flat=True)))
    mail = _mail_check(mail_dir, OutboxEvent) if mail_dir else {}
    checks["notifications"] = _check(not outbox_dupes and not states.get("DEAD") and not states.get("PENDING")
                                     and not mail.get("lost"), rows=OutboxEvent.objects.count(), states=states,
                                     duplicated=outbox_dupes, **mail)

    # 7. webhooks: one delivery per event (one endpoint per shop), all delivered, each received at least once.
    events = set(WebhookEvent.objects.values_list("event_id", flat=True))
    per_event = Counter(Delivery.objects.values_list("event__event_id", flat=True))
    undelivered = Delivery.objects.exclude(state="DELIVERED").count()
    received = Counter()
    if receiver_log and Path(receiver_log).exists():
        received = Counter(json.loads(line)["event_id"] for line in Path(receiver_log).read_text().splitlines()
                           if line.strip())
    lost = sorted(e for e in events if not received[e]) if receiver_log else []
    checks["webhooks"] = _check(all(per_event[e] == 1 for e in events) and not undelivered and not lost
                                and not (set(received) - events), events=len(events),
                                deliveries=sum(per_event.values()), undelivered=undelivered,
                                received=sum(received.values()), lost_at_receiver=_sample(lost),
                                received_twice=sum(1 for n in received.values() if n > 1),
                                phantom=_sample(set(received) - events))

    # 8. timers: none due left; at most one DEBIT done per order.
    from comptoir.core import clock

    due = Timer.objects.filter(state="PENDING", due_at__lte=clock.now()).count()
    debit_done = Counter(Timer.objects.filter(kind="DEBIT", state="DONE").values_list("order_id", flat=True))
    checks["timers"] = _check(due == 0 and all(n == 1 for n in debit_done.values()), due_left=due,
                              done=Timer.objects.filter(state="DONE").count(),
                              debit_done_twice=sum(1 for n in debit_done.values() if n > 1))

    # 9. messages and incidents: one per order whose call the client saw succeed.
    threads = Counter(pk_to_id[pk] for pk in Thread.objects.values_list("order_id", flat=True))
    incidents = Counter(pk_to_id[pk] for pk in Incident.objects.values_list("order_id", flat=True))
    bad = [o for o in orders if threads[o] != (final("OR43", o) == "ok") and final("OR43", o) in ("ok", None)]
    bad += [o for o in orders if incidents[o] != (final("INCIDENT", o) == "ok") and final("INCIDENT", o) in ("ok", None)]
    checks["messages_incidents"] = _check(not bad, threads=sum(threads.values()), incidents=sum(incidents.values()),
                                          wrong=_sample(bad))

    # 10. exactly once from the client's side: every write got its answer, retrying with its key when it was lost.
    unanswered = [f"{op} {oid}: {r['result']}" for (op, oid), r in finals.items()
                  if op not in ("DONE", "WAIT") and r["result"] in ("stuck", "gave_up")]
    checks["client_answers"] = _check(not unanswered, writes=sum(1 for (op, _) in finals if op not in ("DONE", "WAIT")),
                                      unanswered=len(unanswered), sample=unanswered[:5])
    checks["profiles"] = _profiles(finals, orders)
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks, "client": client_figures(rows, finals)}


def _mail_check(mail_dir: str, outbox: Any) -> dict[str, Any]:
    seen: Counter[int] = Counter()
    for path in Path(mail_dir).glob("*"):
        for match in re.finditer(r"^X-Comptoir-Event: (\d+):", path.read_text(errors="replace"), re.MULTILINE):
            seen[int(match.group(1))] += 1
    expected = set(outbox.objects.filter(state="SENT").exclude(recipients="").values_list("id", flat=True))
    return {"mails": sum(seen.values()), "lost": _sample(sorted(expected - set(seen))),
            "mails_sent_twice": sum(1 for n in seen.values() if n > 1)}


def _profiles(finals: dict[tuple[str, str], dict[str, Any]], orders: dict[str, Any]) -> dict[str, Any]:
    """Orders of one script variant that completed it must have identical multisets of rows."""
    from comptoir.ledger.models import LedgerEntry
    from comptoir.notifications.models import OutboxEvent
    from comptoir.orders.models import OrderHistory
    from comptoir.payments.models import PaymentOperation
    from comptoir.timers.models import Timer
    from comptoir.webhooks.models import WebhookEvent

    done = {oid: r.get("variant", 0) for (op, oid), r in finals.items() if op == "DONE" and r["result"] == "complete"}
    pk_of = {oid: orders[oid].pk for oid in done}
    sig: dict[str, dict[str, Counter[Any]]] = {oid: defaultdict(Counter) for oid in done}
    by_pk = {pk: oid for oid, pk in pk_of.items()}
    for pk, line, trig, src, dst in OrderHistory.objects.filter(order_id__in=by_pk).values_list(
            "order_id", "line_id", "trigger", "from_state", "to_state"):
        sig[by_pk[pk]]["history"][(line.rsplit("-", 1)[-1] if line else "", trig, src, dst)] += 1
    for pk, kind, state in Timer.objects.filter(order_id__in=by_pk).values_list("order_id", "kind", "state"):
        sig[by_pk[pk]]["timers"][(kind, state)] += 1
    for pk, kind, ok, cents in PaymentOperation.objects.filter(payment__order_id__in=by_pk).values_list(
            "payment__order_id", "kind", "succeeded", "amount_cents"):
        sig[by_pk[pk]]["payments"][(kind, ok, cents)] += 1
    for oid, kind, audience in OutboxEvent.objects.filter(order_id__in=done).values_list(
            "order_id", "event_type", "audience"):
        sig[oid]["outbox"][(kind, audience)] += 1
    for oid, kind in WebhookEvent.objects.filter(order_id__in=done).values_list("order_id", "event_type"):
        sig[oid]["webhooks"][kind] += 1
    for oid, account, ttype, cents in LedgerEntry.objects.filter(order_id__in=done).values_list(
            "order_id", "account", "transaction_type", "amount_cents"):
        sig[oid]["ledger"][(account, ttype, cents)] += 1
    deviations = []
    groups: dict[int, list[str]] = defaultdict(list)
    for oid, variant in done.items():
        groups[variant].append(oid)
    for members in groups.values():
        frozen = {oid: {k: tuple(sorted(v.items(), key=repr)) for k, v in sig[oid].items()} for oid in members}
        for part in ("history", "timers", "payments", "outbox", "webhooks", "ledger"):
            common, _ = Counter(frozen[o].get(part, ()) for o in members).most_common(1)[0]
            for oid in members:
                if frozen[oid].get(part, ()) != common:
                    mine, ref = Counter(dict(frozen[oid].get(part, ()))), Counter(dict(common))
                    deviations.append({"order": oid, "part": part, "extra": [repr(k) for k in mine - ref][:3],
                                       "missing": [repr(k) for k in ref - mine][:3]})
    return _check(not deviations, orders_compared=len(done), variants=len(groups), deviations=deviations[:8],
                  deviation_count=len(deviations))
