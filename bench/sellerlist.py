"""The seller back office's order list (/vendeur/commandes/): log in through the real form, then time pages.

Seller users (one per bench shop, for the first `shops` shops) are written straight into auth_user and
shops_shopmember with a password hashed by Django's make_password; the login goes through the login page
(CSRF cookie + hidden token) over HTTP, and the session cookie is reused on a keep-alive connection.
The latency is measured by the client on 127.0.0.1 (no proxy): it is the server time plus a loopback round
trip (well under a millisecond).
"""

from __future__ import annotations

import http.client
import re
import sqlite3
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from bench.common import PG_URL, percentile

LOGIN_PATH = "/vendeur/connexion/"
LIST_PATH = "/vendeur/commandes/"
FILTERED_PATH = "/vendeur/commandes/?etat=SHIPPING"
PASSWORD = "bench-vendeur-2026"  # noqa: S105 - a bench account on a bench database
TARGET_MS = 150.0


def email(shop_id: int) -> str:
    return f"vendeur{shop_id}@bench.test"


def ensure_sellers(database: str, path_or_url: str, shop_ids: list[int]) -> list[str]:
    """One user per shop (e-mail as username, as shops.services.add_shop_user does) and its ShopMember row.
    Idempotent: existing users get the bench password again."""
    from django.contrib.auth.hashers import make_password

    hashed = make_password(PASSWORD)  # hashed once, shared by the bench accounts (as the demo does)
    now = datetime.now(UTC)
    pg = database == "postgresql"
    if pg:
        import psycopg

        con = psycopg.connect(PG_URL)
        p = "%s"
        stamp: object = now
    else:
        con = sqlite3.connect(path_or_url, timeout=60)
        p = "?"
        stamp = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    out = []
    with con:
        for sid in shop_ids:
            mail = email(sid)
            row = con.execute(f"SELECT id FROM auth_user WHERE username = {p}", (mail,)).fetchone()
            if row is None:
                con.execute(
                    "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, "
                    f"email, is_staff, is_active, date_joined) VALUES ({', '.join([p] * 10)})",
                    (hashed, None, False, mail, "Vendeur", f"bench {sid}", mail, False, True, stamp))
                row = con.execute(f"SELECT id FROM auth_user WHERE username = {p}", (mail,)).fetchone()
            else:
                con.execute(f"UPDATE auth_user SET password = {p}, is_active = {p} WHERE id = {p}",
                            (hashed, True, row[0]))
            if con.execute(f"SELECT 1 FROM shops_shopmember WHERE shop_id = {p} AND user_id = {p}",
                           (sid, row[0])).fetchone() is None:
                con.execute(f"INSERT INTO shops_shopmember (shop_id, user_id, created_date) VALUES ({p}, {p}, {p})",
                            (sid, row[0], stamp))
            out.append(mail)
        # A failed login of an earlier run must not lock these accounts out.
        con.execute("DELETE FROM web_loginthrottle WHERE username LIKE 'vendeur%@bench.test'")
    con.close()
    return out


def _cookies(resp: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header, value in resp.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def login(port: int, mail: str) -> tuple[http.client.HTTPConnection, dict[str, str]]:
    """GET the login page (csrftoken cookie + csrfmiddlewaretoken field), POST the form; returns the
    keep-alive connection and the cookie jar holding the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    jar: dict[str, str] = {}
    conn.request("GET", LOGIN_PATH)
    resp = conn.getresponse()
    body = resp.read().decode()
    _cookies(resp, jar)
    if resp.status != 200:
        raise AssertionError(f"login page answered {resp.status}")
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not m or "csrftoken" not in jar:
        raise AssertionError("no CSRF token on the login page")
    form = urlencode({"csrfmiddlewaretoken": m.group(1), "username": mail, "password": PASSWORD})
    conn.request("POST", LOGIN_PATH, body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie_header(jar),
        "Referer": f"http://127.0.0.1:{port}{LOGIN_PATH}"})
    resp = conn.getresponse()
    resp.read()
    _cookies(resp, jar)
    if resp.status != 302 or "sessionid" not in jar:
        raise AssertionError(f"login of {mail} failed: {resp.status} (expected a 302 with a session cookie)")
    return conn, jar


def _rows_on_page(body: str) -> int:
    return max(0, body.count("<tr>") - 1)  # minus the header row


def bench_seller_list(port: int, mails: list[str], *, requests: int = 120, warmup: int = 10) -> dict:
    """`requests` GETs of the first page and as many of the page filtered by status (SHIPPING), round-robin
    over the seller sessions, one keep-alive connection per seller."""
    sessions = [login(port, m) for m in mails]
    out: dict = {"sellers": len(mails), "requests": requests}
    for label, path in (("first_page", LIST_PATH), ("filtered", FILTERED_PATH)):
        latencies: list[float] = []
        rows: list[int] = []
        sizes = 0
        for i in range(warmup + requests):
            conn, jar = sessions[i % len(sessions)]
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": _cookie_header(jar)})
            resp = conn.getresponse()
            body = resp.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if resp.status != 200:
                raise AssertionError(f"{path} answered {resp.status}: {body[:300]!r}")
            if i >= warmup:
                latencies.append(elapsed)
                sizes += len(body)
                if i % 10 == 0:
                    rows.append(_rows_on_page(body.decode()))
        out[label] = {"path": path, "p50_ms": round(percentile(latencies, 50), 2),
                      "p90_ms": round(percentile(latencies, 90), 2), "p99_ms": round(percentile(latencies, 99), 2),
                      "mean_ms": round(sum(latencies) / len(latencies), 2),
                      "rows_per_page": round(sum(rows) / len(rows), 1) if rows else 0,
                      "mean_kb_per_page": round(sizes / len(latencies) / 1024, 1)}
    for conn, _ in sessions:
        conn.close()
    return out


def bench_seller_list_concurrent(port: int, mails: list[str], *, clients: int, duration: float = 8.0,
                                 cpu_seconds=None) -> dict:  # noqa: ANN001
    """The first page and the page filtered by status, each under `clients` concurrent keep-alive clients for
    `duration` s (client k uses seller session k mod len(mails)): p50/p99 and requests/s per page."""
    from bench.bare_http import Request, run_clients

    jars = []
    for mail in mails:
        conn, jar = login(port, mail)
        conn.close()
        jars.append(jar)
    out: dict = {"sellers": len(mails), "clients": clients}
    for label, path in (("first_page", LIST_PATH), ("filtered", FILTERED_PATH)):
        def make(k: int, path: str = path) -> Request:
            return Request("GET", path, b"", {"Cookie": _cookie_header(jars[k % len(jars)])})

        def check(req: Request, status: int, body: bytes) -> str | None:
            return None if b"<tr>" in body else f"{req.path}: no table row in the page"

        r = run_clients(port, make, clients=clients, duration=duration, expect=(200,), check=check,
                        cpu_seconds=cpu_seconds, warmup=2)
        out[label] = {"path": path, **{k: r[k] for k in ("requests", "per_s", "p50_ms", "p90_ms", "p99_ms", "mean_ms",
                                                         "non_ok", "errors_sample", "server_cpu_cores")}}
    return out
