"""A small round-robin reverse proxy for the scale-out run (production would use nginx or HAProxy): HTTP/1.1
keep-alive towards the client, one pooled connection per backend and proxy thread. A backend that refuses the
connection is skipped (nothing was sent: safe to try the next); an error after the request was sent is a 502,
and the client's retry with the same Idempotency-Key settles it.

    python -m reliability.proxy --port 8000 127.0.0.1:8001 127.0.0.1:8002
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class Proxy:
    def __init__(self, backends: list[tuple[str, int]], port: int = 0) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self._lock = threading.Lock()
        self.counts = [0] * len(backends)
        self.refused = 0
        self.bad_gateway = 0
        proxy = self
        local = threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-For"] = self.client_address[0]
                for index in proxy.order():
                    conns = local.__dict__.setdefault("conns", {})
                    conn = conns.get(index)
                    fresh = conn is None
                    if fresh:
                        conn = conns[index] = http.client.HTTPConnection(*proxy.backends[index], timeout=60)
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                    except ConnectionRefusedError:
                        conn.close()
                        conns.pop(index, None)
                        proxy.note(refused=True)
                        continue
                    except OSError:
                        conn.close()
                        conns.pop(index, None)
                        if fresh:
                            proxy.note(refused=True)
                            continue
                        # a pooled connection the backend closed (it restarted): reconnect once, still unsent
                        conn = conns[index] = http.client.HTTPConnection(*proxy.backends[index], timeout=60)
                        try:
                            conn.request(self.command, self.path, body=body, headers=headers)
                        except OSError:
                            conn.close()
                            conns.pop(index, None)
                            proxy.note(refused=True)
                            continue
                    try:
                        resp = conn.getresponse()
                        payload = resp.read()
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conns.pop(index, None)
                        break  # the request may have run: never send it again ourselves
                    proxy.note(backend=index)
                    self.send_response(resp.status, resp.reason)
                    for k, v in resp.getheaders():
                        if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                proxy.note(bad_gateway=True)
                body_out = b'{"status": 502, "message": "Aucun serveur disponible.", "code": "BAD_GATEWAY"}'
                self.send_response(502)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body_out)))
                self.end_headers()
                self.wfile.write(body_out)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay  # noqa: N815

            def log_message(self, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a client that hung up (the runs drop answers on purpose): nothing to report

        self.server = Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def order(self) -> list[int]:
        with self._lock:
            first = next(self._next)
        return [(first + k) % len(self.backends) for k in range(len(self.backends))]

    def note(self, *, backend: int | None = None, refused: bool = False, bad_gateway: bool = False) -> None:
        with self._lock:
            if backend is not None:
                self.counts[backend] += 1
            self.refused += refused
            self.bad_gateway += bad_gateway

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def figures(self) -> dict[str, Any]:
        return {"per_backend": list(self.counts), "refused_then_next": self.refused, "bad_gateway": self.bad_gateway}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("backends", nargs="+", help="host:port")
    args = ap.parse_args()
    proxy = Proxy([(b.split(":")[0], int(b.split(":")[1])) for b in args.backends], port=args.port)
    print(f"proxy on 127.0.0.1:{proxy.port} → {', '.join(args.backends)}", flush=True)
    proxy.server.serve_forever()


if __name__ == "__main__":
    main()
