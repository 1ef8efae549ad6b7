"""A real webhook receiver for the tests: http.server on 127.0.0.1 in a thread. It checks each call the way the
README's « Webhooks » section tells a receiver to, written from that text alone (not from comptoir's code):
HMAC-SHA256 of "<t>.<raw body>" keyed by the secret, hex, in `X-Comptoir-Signature: t=<t>,v1=<hex>`, and drops
an event id it already processed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


def verify(secret: str, header: str, raw_body: bytes, now: float) -> bool:
    """The README's verification: parse t and every v1, recompute, compare in constant time, check the age."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode("utf-8"), str(timestamp).encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        return False
    return abs(now - timestamp) <= TOLERANCE_SECONDS


@dataclass
class Call:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = ""
    # Statuses to answer, in order; then `default_status`. A 3xx answers with a Location to another host.
    script: list[int] = field(default_factory=list)
    default_status: int = 200
    delay_seconds: float = 0.0
    fail_per_event: int = 0  # answer 500 to the first N calls of each event id
    seen: dict[str, int] = field(default_factory=dict)  # event id → calls received
    calls: list[Call] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id → the event, once (dedup)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        ok = bool(self.secret) and verify(self.secret, headers.get("X-Comptoir-Signature", ""), body, time.time())
        event_id = headers.get("X-Comptoir-Event-Id", "")
        self.seen[event_id] = self.seen.get(event_id, 0) + 1
        status = self.script.pop(0) if self.script else self.default_status
        if self.seen[event_id] <= self.fail_per_event:
            status = 500
        if not ok:
            status = 400
        self.calls.append(Call(headers, body, ok, status))
        if ok and 200 <= status < 300:
            if event_id not in self.processed:  # dedup by event id, as the README says
                self.processed[event_id] = json.loads(body)
        return status


@contextmanager
def running_receiver(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            status = receiver.handle({k: v for k, v in self.headers.items()}, body)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "https://elsewhere.example.com/hooks")
            answer = b'{"ok": true}' if status < 300 else b'{"error": "not now"}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
