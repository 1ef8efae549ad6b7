"""The client side of the fault runs: an HTTP client that logs every attempt (JSON lines) and retries a write
whose answer was lost with the same `Idempotency-Key`; the per-order script (OR21, ST01 or OR23+OR24, OR28,
a message to the customer, an incident opened by the operator) run by a pool of threads; and the webhook
receiver, which logs every delivery it gets."""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class AnswerDropped(OSError):
    """The client hung up after sending its request: the answer is lost whether or not the request ran."""


class Log:
    """One JSON object per line; `t` is seconds since the run's start."""

    def __init__(self, path: Path, t0: float) -> None:
        self.path, self.t0 = path, t0
        self._file = open(path, "a", buffering=1)  # noqa: SIM115 (closed by close())
        self._lock = threading.Lock()

    def write(self, **row: Any) -> None:
        row["t"] = round(time.monotonic() - self.t0, 3)
        line = json.dumps(row, default=str)
        with self._lock:
            self._file.write(line + "\n")

    def close(self) -> None:
        self._file.close()


class Client:
    """Thread-safe: one keep-alive connection per thread, re-opened after any error."""

    def __init__(self, port: int, log: Log, *, deadline_s: float = 150.0, in_use_limit_s: float = 30.0,
                 drop_rate: float = 0.0, seed: int = 0) -> None:
        self.port, self.log = port, log
        self.drop_rate, self._rnd = drop_rate, random.Random(seed)
        self.deadline_s, self.in_use_limit_s = deadline_s, in_use_limit_s
        self._local = threading.local()
        self.in_flight = 0  # writes being sent right now (the chaos kills while some are)
        self.reads = self.read_failures = 0
        self._count = threading.Lock()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def once(self, method: str, path: str, key: str, body: bytes | None = None,
             headers: dict[str, str] | None = None, *, drop: bool = False) -> tuple[int, dict[str, str], bytes]:
        conn = self._conn()
        try:
            conn.request(method, path, body=body, headers={"Authorization": key, **(headers or {})})
            if drop:
                time.sleep(0.02)
                raise AnswerDropped("answer dropped by the client")
            resp = conn.getresponse()
            payload = resp.read()
        except BaseException:
            self._drop()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self._drop()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload

    def write(self, op: str, order: str, method: str, path: str, key: str, *, json_body: Any = None,
              raw: tuple[bytes, str] | None = None, expect: tuple[int, ...] = (200, 201, 204)) -> dict[str, Any]:
        """One logical write: retried with the same Idempotency-Key until a final answer. Returns the final
        record: result ok / failed (a final 4xx) / stuck (the key stayed "in use") / gave_up (deadline)."""
        idem = uuid.uuid4().hex
        if raw is not None:
            body, ctype = raw
        else:
            body, ctype = json.dumps(json_body).encode(), "application/json"
        headers = {"Content-Type": ctype, "Idempotency-Key": idem}
        start = time.monotonic()
        in_use_since: float | None = None
        attempt = 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            status, code, error, replayed, payload = None, None, None, False, b""
            with self._count:
                self.in_flight += 1
            with self._count:
                drop = attempt == 1 and self._rnd.random() < self.drop_rate
            try:
                status, head, payload = self.once(method, path, key, body, headers, drop=drop)
                replayed = head.get("idempotent-replayed") == "true"
                if status >= 400:
                    code = _error_code(payload, head)
            except (OSError, http.client.HTTPException) as exc:
                error = type(exc).__name__
            finally:
                with self._count:
                    self.in_flight -= 1
            ms = round((time.monotonic() - t0) * 1000, 1)
            now = time.monotonic()
            retry = error is not None or status in RETRY_STATUSES
            if status == 409 and code == "IDEMPOTENCY_KEY_IN_USE":
                in_use_since = in_use_since or now
                retry = now - in_use_since < self.in_use_limit_s
                result = None if retry else "stuck"
            else:
                in_use_since = None
                result = None if retry else ("ok" if status in expect else "failed")
            if retry and now - start > self.deadline_s:
                retry, result = False, "gave_up"
            row = {"op": op, "order": order, "key": idem, "try": attempt, "status": status, "code": code,
                   "error": error, "replayed": replayed, "ms": ms, "final": not retry}
            if not retry:
                row.update(result=result, answer=_extract(op, payload) if result == "ok" else payload[:300])
                self.log.write(**row)
                return row
            self.log.write(**row)
            time.sleep(min(0.2 * attempt, 2.0))

    def read_state(self, order: str, key: str) -> str | None:
        """OR11 for one order; None while the service does not answer (logged as a `read` row, never final)."""
        self.reads += 1
        t0 = time.monotonic()
        status, code, error, payload = None, None, None, b""
        try:
            status, head, payload = self.once("GET", f"/api/orders?order_ids={order}", key)
            code = _error_code(payload, head) if status >= 400 else None
        except (OSError, http.client.HTTPException) as exc:
            error = type(exc).__name__
        self.log.write(op="OR11", order=order, read=True, status=status, code=code, error=error,
                       ms=round((time.monotonic() - t0) * 1000, 1), final=False)
        if status != 200:
            self.read_failures += 1
            return None
        orders = json.loads(payload)["orders"]
        return orders[0]["order_state"] if orders else None


def _error_code(payload: bytes, head: dict[str, str]) -> str | None:
    if not head.get("content-type", "").startswith("application/json"):
        return f"non-JSON {head.get('content-type', '?')}"
    try:
        return str(json.loads(payload).get("code"))
    except (ValueError, AttributeError):
        return "unparsable"


def _extract(op: str, payload: bytes) -> Any:
    """What the reconciliation needs from a successful answer (ids of what was created)."""
    if not payload:
        return None
    data = json.loads(payload)
    if op == "OR28":
        return [r["refund_id"] for r in data["refunds"]]
    if op == "ST01":
        return {"ids": [s["id"] for s in data["shipment_success"]], "errors": data["shipment_errors"]}
    if op == "OR43":
        return data["thread_id"]
    if op == "INCIDENT":
        return data.get("id") or data.get("incident_id")
    return data


def multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


class Workload:
    """Each order through its script, by `threads` threads; the last step of each order is logged as `done`."""

    def __init__(self, client: Client, orders: list[dict[str, Any]], operator_key: str, *, threads: int,
                 steps: tuple[str, ...] = ("accept", "ship", "refund", "message", "incident"),
                 state_timeout_s: float = 120.0) -> None:
        self.client, self.orders, self.operator_key = client, orders, operator_key
        self.threads, self.steps, self.state_timeout_s = threads, steps, state_timeout_s
        self.outcomes: dict[str, str] = {}

    def run(self) -> None:
        todo: queue.Queue[dict[str, Any]] = queue.Queue()
        for order in self.orders:
            todo.put(order)

        def loop() -> None:
            while True:
                try:
                    order = todo.get_nowait()
                except queue.Empty:
                    return
                self.outcomes[order["order_id"]] = self.script(order)

        pool = [threading.Thread(target=loop, name=f"client-{i}") for i in range(self.threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    def _wait_state(self, order: dict[str, Any], wanted: str) -> bool:
        deadline = time.monotonic() + self.state_timeout_s
        while time.monotonic() < deadline:
            if self.client.read_state(order["order_id"], order["key"]) == wanted:
                return True
            time.sleep(0.5)
        self.client.log.write(op="WAIT", order=order["order_id"], final=True, result="timeout", wanted=wanted)
        return False

    def script(self, order: dict[str, Any]) -> str:
        c, oid, key, lines = self.client, order["order_id"], order["key"], order["lines"]
        results = []
        if "accept" in self.steps:
            results.append(c.write("OR21", oid, "PUT", f"/api/orders/{oid}/accept", key, expect=(204,),
                                   json_body={"order_lines": [{"id": line, "accepted": True} for line in lines]}))
            if results[-1]["result"] != "ok" or not self._wait_state(order, "SHIPPING"):
                return "incomplete"
        if "ship" in self.steps:
            tracking = {"carrier_code": "colissimo", "tracking_number": f"6A{order['n']:011d}"}
            if order["n"] % 2 == 0:
                results.append(c.write("ST01", oid, "POST", "/api/shipments", key, expect=(201,), json_body={
                    "shipments": [{"order_id": oid, "shipped": True, "tracking": tracking,
                                   "shipment_lines": [{"order_line_id": line, "quantity": 1} for line in lines]}]}))
            else:
                results.append(c.write("OR23", oid, "PUT", f"/api/orders/{oid}/tracking", key, expect=(204,),
                                       json_body=tracking))
                results.append(c.write("OR24", oid, "PUT", f"/api/orders/{oid}/ship", key, expect=(204,)))
        if "refund" in self.steps:
            results.append(c.write("OR28", oid, "PUT", "/api/orders/refund", key, json_body={
                "refunds": [{"order_line_id": lines[0], "reason_code": "22", "amount": 1.00}]}))
        if "message" in self.steps:
            body = json.dumps({"body": f"Votre colis {oid} est parti.", "to": ["CUSTOMER"],
                               "topic": {"type": "FREE_TEXT", "value": "Suivi de commande"}})
            results.append(c.write("OR43", oid, "POST", f"/api/orders/{oid}/threads", key, expect=(201,),
                                   raw=multipart({"thread_input": body})))
        if "incident" in self.steps:
            results.append(c.write("INCIDENT", oid, "PUT",
                                   f"/api/operator/orders/{oid}/lines/{lines[1]}/open_incident",
                                   self.operator_key, expect=(200, 201),
                                   json_body={"reason_code": "2", "description": "Colis abîmé (test de fiabilité)"}))
        outcome = "complete" if all(r["result"] == "ok" for r in results) else "incomplete"
        self.client.log.write(op="DONE", order=oid, final=True, result=outcome, variant=order["n"] % 2)
        return outcome


class Receiver:
    """The shops' webhook endpoint: answers 200 and logs the event id of every delivery."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        lock = threading.Lock()
        out = open(log_path, "a", buffering=1)  # noqa: SIM115 (closed by stop())
        self._out = out

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with lock:
                    out.write(json.dumps({"event_id": self.headers.get("X-Comptoir-Event-Id"),
                                          "type": self.headers.get("X-Comptoir-Event")}) + "\n")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self._out.close()
