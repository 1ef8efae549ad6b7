"""Authorization matrix (issue 10): every endpoint of the API (read from /api/openapi.json) and every route of the
back offices (walked from Django's URL resolver) × every credential → the expected status class, never the victim
shop's data under someone else's credentials, and nothing written by a refused call.

An endpoint added without a row in the tables below fails `test_every_endpoint_is_classified`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import URLResolver, get_resolver

from comptoir.webhooks import queries as webhook_queries
from tests.api.helpers import shared_rows
from tests.reliability import world as data
from tests.unit.documents.pdfs import invoice_pdf

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")
API_CREDENTIALS = ("none", "wrong", "customer", "operator", "foreign", "own")  # the owner last: its writes apply
WEB_CREDENTIALS = ("none", "wrong", "operator", "foreign", "own")
CUSTOMER_CREDENTIALS = ("forged", "tampered", "seller_session", "customer_other", "customer")

# --- classification ------------------------------------------------------------------------------------------
PUBLIC = "public"  # anyone, and no victim data in it
OPERATOR = "operator"  # the operator only
SCOPE = "scope"  # a shop's own data: another shop gets its own (filtered), never the victim's
OBJECT = "object"  # names one of the victim's objects (path or query): another shop gets a 404
BATCH = "batch"  # a body naming the victim's objects: another shop gets a refusal per item, nothing written
LOGIN = "login"  # the login and logout pages
CUSTOMER = "customer"  # the customer space: the signed link is the credential

API_KINDS: dict[str, str] = {
    "V01": PUBLIC, "openapi-json": PUBLIC, "openapi-view": PUBLIC, "api-root": PUBLIC,
    **dict.fromkeys(("OR11", "A01", "TL02", "ST11", "ST12", "SH21", "RE01", "RE02", "DO01", "OR72", "M11", "WH01",
                     "WH02", "shop_scorecard"), SCOPE),
    **dict.fromkeys(("OR21", "OR23", "OR24", "OR29", "OR73", "OR74", "OR76", "invoice_generate",
                     "credit_note_generate", "OR43", "M12", "M10", "M13", "OR64", "WH03", "WH04", "WH05", "WH06",
                     "WH07"), OBJECT),
    **dict.fromkeys(("ST01", "ST23", "ST24", "OR28", "refund_preview", "OR30", "ShipmentImport"), BATCH),
    **dict.fromkeys((
        "operator_import", "operator_list_orders", "comptoir_api_operator_orders_approve",
        "comptoir_api_operator_orders_reject", "comptoir_api_operator_orders_request_documents",
        "comptoir_api_operator_orders_suspend", "comptoir_api_operator_orders_reactivate",
        "comptoir_api_operator_orders_get_clock", "comptoir_api_operator_orders_advance",
        "comptoir_api_operator_orders_reset", "comptoir_api_operator_orders_payment_directive",
        "comptoir_api_operator_payouts_run_payout", "comptoir_api_operator_payouts_list_payouts",
        "comptoir_api_operator_payouts_statement", "comptoir_api_operator_outbox_list_outbox",
        "comptoir_api_operator_outbox_replay", "comptoir_api_operator_carriers_list_carriers",
        "comptoir_api_operator_carriers_create_carrier", "comptoir_api_operator_carriers_preview",
        "comptoir_api_operator_carriers_get_carrier", "comptoir_api_operator_carriers_update_carrier",
        "comptoir_api_operator_carriers_disable_carrier", "operator_list_incidents", "operator_get_incident",
        "operator_open_incident", "operator_close_incident", "operator_start_mediation", "operator_formal_notice",
        "operator_impose", "operator_reopen_incident"), OPERATOR),
}
WEB_KINDS: dict[str, str] = {
    "/": PUBLIC, "healthz": PUBLIC, "readyz": PUBLIC, "metrics": PUBLIC,  # /metrics: open unless METRICS_TOKEN
    **dict.fromkeys(("seller:login", "seller:logout", "operator:login", "operator:logout"), LOGIN),
    **{f"seller:{name}": SCOPE for name in (
        "home", "password", "orders", "orders_csv", "invoices_missing", "settings", "rotate_key", "profile",
        "add_user", "webhooks", "accounting", "accounting_csv", "messages", "incidents", "imports")},
    **{f"seller:{name}": OBJECT for name in (
        "switch_shop", "order", "decide", "documents", "document_upload", "generate_invoice", "generate_credit_note",
        "document_download", "document_delete", "ship", "tracking_preview", "correct_tracking", "refund",
        "refund_proposal", "cancel_lines", "cancel_order", "remove_user", "webhook_edit", "webhook_rotate",
        "webhook_delete", "webhook_deliveries", "webhook_redeliver", "commission_invoice", "messages_tab",
        "message_start", "message_reply", "message_attachment", "incident_resolve", "import_detail", "import_apply",
        "import_progress", "import_errors")},
    **{f"operator:{name}": OPERATOR for name in (
        "home", "orders", "invoices_missing", "order", "document_download", "refund", "refund_proposal",
        "cancel_lines", "cancel_order", "fraud", "shops", "scorecard_thresholds", "shop", "shop_commission",
        "shop_state", "payouts", "payout_run", "payout", "payout_csv", "payout_invoice", "outbox", "outbox_replay",
        "webhooks", "mails", "mail", "relay", "relay_message", "incidents", "open_incident", "incident",
        "incident_start", "incident_reply", "incident_action", "messages", "order_messages", "message_start",
        "message_reply", "message_attachment")},
    **{f"customer:{name}": CUSTOMER for name in (
        "order", "invoice", "message_write", "message_reply", "message_attachment", "incident_report",
        "incident_settle")},
}
# What some routes need beyond their path (a refund proposal is for one line); forms the customer space posts.
WEB_QUERIES = {"seller:refund_proposal": {"ligne": "{line_id}"}, "operator:refund_proposal": {"ligne": "{line_id}"}}
WEB_FORMS = {"seller:switch_shop": {"boutique": "{shop_id}"}}  # work on the victim shop
CUSTOMER_FORMS = {"customer:message_write": {"body": "Bonjour", "sujet": "Question"},
                  "customer:message_reply": {"body": "Bonjour"},
                  "customer:incident_report": {"articles": ["{line_id}"], "motif": "2", "description": "Cassé."}}
# The operator's mail page reads the demo's file mailbox: with any other mail backend it is a 404 for everyone.
OPERATOR_404 = {"operator:mail"}
# The owner's list answers that must show the victim's order: proves the others are filtered, not just empty.
LISTS_SHOWING_THE_ORDER = {"OR11", "ST11", "M11", "OR72", "TL02", "seller:orders", "seller:orders_csv",
                           "seller:messages", "seller:incidents"}


@dataclass(frozen=True)
class Endpoint:
    key: str  # operationId (API) or namespaced route name (back offices)
    method: str
    path: str  # with {param} / <param> placeholders
    api: bool

    def __str__(self) -> str:
        return f"{self.method} {self.key}"


def _routes(patterns: Any = None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, key, callback module) of every URL pattern, walking included resolvers."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        else:
            name = pattern.name or ""
            key = f"{namespace}:{name}" if namespace and namespace != "api" else name or "/" + prefix
            yield "/" + prefix + str(pattern.pattern), key, getattr(pattern.callback, "__module__", "")


def _openapi() -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def endpoints() -> list[Endpoint]:
    found = [Endpoint(op["operationId"], method.upper(), path, True)
             for path, operations in _openapi()["paths"].items() for method, op in operations.items()]
    for path, key, module in _routes():
        if not path.startswith("/api/"):
            found.append(Endpoint(key, "ANY", path, False))
        elif module != "ninja.operation":  # the API's own pages (docs, schema, root)
            found.append(Endpoint(key, "GET", path, True))
    return found


ENDPOINTS = endpoints()


def test_every_endpoint_is_classified() -> None:
    kinds = {**API_KINDS, **WEB_KINDS}
    keys = [endpoint.key for endpoint in ENDPOINTS]
    assert sorted(set(keys) - set(kinds)) == [], "endpoints without a row in API_KINDS or WEB_KINDS"
    assert sorted(set(kinds) - set(keys)) == [], "rows of endpoints that no longer exist"
    # Every API route of the resolver is in the OpenAPI document (no operation hidden from the schema, the matrix
    # and the fuzzer).
    schema_paths = {PARAM.sub(r"<\2>", path) for path in _openapi()["paths"]}
    resolver_paths = {PARAM.sub(lambda m: f"<{m.group(1)}>", path) for path, _k, module in _routes()
                      if module == "ninja.operation"}
    assert resolver_paths == schema_paths


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[data.World]:
    with data.storage(tmp_path_factory.mktemp("documents")), shared_rows(django_db_blocker):
        yield data.build()
    webhook_queries.reset_subscriptions()  # the victim's endpoint must not stay in the in-memory map


# --- requests -------------------------------------------------------------------------------------------------

def _ghost(value: str) -> str:
    """An id of the same shape that names nothing."""
    return "987654" if value.isdigit() else f"INCONNU-{value}"


def _url(world: data.World, endpoint: Endpoint, token: str | None = None, *, ghost: bool = False) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name == "token" and token is not None:
            return token
        value = world.value(endpoint.key, name)
        return _ghost(value) if ghost else value

    return PARAM.sub(fill, endpoint.path)


def _body(world: data.World, key: str) -> tuple[str, Any]:
    """A valid body naming the victim's objects, so a refusal is about the caller, not about the body."""
    o, line, ship = world.order.order_id, world.ids["line_id"], world.ids["shipment_id"]
    refund = {"refunds": [{"order_line_id": line, "reason_code": "20", "quantity": 1}]}
    bodies: dict[str, Any] = {
        "OR21": {"order_lines": [{"id": line, "accepted": True}]},
        "ST01": {"shipments": [{"order_id": o, "shipment_lines": [{"order_line_id": line, "quantity": 1}]}]},
        "ST23": {"shipments": [{"id": ship, "tracking": {"carrier_code": "colissimo", "tracking_number": "X9"}}]},
        "ST24": {"shipments": [{"id": ship}]}, "OR23": {"carrier_code": "colissimo", "tracking_number": "X9"},
        "OR28": refund, "refund_preview": refund, "credit_note_generate": {"order_refund_id": world.ids["refund_id"]},
        "OR30": {"cancelations": [{"order_line_id": line, "reason_code": "34"}]}, "OR64": {"reason_code": "10"},
        "WH02": {"url": "https://hooks.intrus.example/in"}, "WH04": {"description": "repris"},
    }
    if key in bodies:
        return "application/json", json.dumps(bodies[key])
    if key == "OR43":
        return "multipart", {"thread_input": json.dumps({"body": "Bonjour", "to": ["CUSTOMER"],
                                                         "topic": {"type": "FREE_TEXT", "value": "Sujet"}})}
    if key == "M12":
        return "multipart", {"message_input": json.dumps({"body": "Bonjour", "to": [{"type": "CUSTOMER"}]})}
    if key == "OR74":
        return "multipart", {"files": SimpleUploadedFile("f.pdf", invoice_pdf("1,00")), "order_documents": json.dumps(
            {"order_documents": [{"file_name": "f.pdf", "type_code": "CUSTOMER_INVOICE"}]})}
    if key == "ShipmentImport":
        csv = f"Commande;Ligne;Quantité;Transporteur;Numéro de suivi\r\n{o};{line};1;Colissimo;6A9\r\n"
        return "multipart", {"file": SimpleUploadedFile("colis.csv", csv.encode(), "text/csv")}
    return "application/json", ""


def _filled(world: data.World, values: dict[str, Any]) -> dict[str, Any]:
    def fill(value: Any) -> Any:
        return [fill(v) for v in value] if isinstance(value, list) else value.format(**world.ids)

    return {name: fill(value) for name, value in values.items()}


def _call(client: Client, method: str, url: str, body: tuple[str, Any], query: dict[str, str] | None = None,
          **headers: str) -> HttpResponse:
    content_type, payload = body
    if method == "GET":
        return client.get(url, query or {}, **headers)
    if content_type == "multipart":
        return client.post(url, payload, **headers)
    return client.generic(method, url, payload, content_type=content_type, **headers)


def _text(response: HttpResponse) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return raw.decode("utf-8", errors="replace")


def _leaks(response: HttpResponse, markers: list[str], request_text: str) -> list[str]:
    """The markers the answer shows that the request did not bring itself (an echoed id is no leak)."""
    text = _text(response)
    return [m for m in markers if m in text and m not in request_text]


def _query(world: data.World) -> dict[str, str]:
    """Every list filter the API knows, naming the victim's objects."""
    o = world.order.order_id
    return {"order_ids": o, "order_id": o, "entity_type": "MMP_ORDER", "entity_id": o,
            "document_ids": world.ids["document_id"]}


def _code(response: HttpResponse) -> str | None:
    return json.loads(response.content).get("code") if response.get("Content-Type", "").startswith(
        "application/json") else None


def _allowed(status: int) -> bool:
    return status < 500 and status not in (401, 403)


def _operator_allowed(response: HttpResponse) -> bool:
    """The operator passes; a sandbox-only action refuses it outside the sandbox mode (a 403 that says so)."""
    if response.status_code == 403:
        return json.loads(response.content).get("code") == "SANDBOX_ONLY"
    return response.status_code < 500 and response.status_code != 401


# --- the API --------------------------------------------------------------------------------------------------

API_ENDPOINTS = [e for e in ENDPOINTS if e.api]


@pytest.mark.parametrize("endpoint", API_ENDPOINTS, ids=str)
def test_api_endpoint_answers_each_credential_as_classified(world: data.World, endpoint: Endpoint) -> None:
    query = _query(world)
    kind = API_KINDS[endpoint.key]
    url = _url(world, endpoint)
    body = _body(world, endpoint.key) if endpoint.method != "GET" else ("", None)
    request_text = url + json.dumps(query) + (body[1] if isinstance(body[1], str) else "")
    for credential in API_CREDENTIALS:
        if body[0] == "multipart":
            body = _body(world, endpoint.key)  # an uploaded file is read once: a fresh one for each call
        key = world.keys[credential]
        before = data.snapshot()
        response = _call(Client(), endpoint.method, url, body, query, **({"HTTP_AUTHORIZATION": key} if key else {}))
        status, where = response.status_code, f"{endpoint} as {credential}: {response.status_code}"
        refused = (kind == OPERATOR and credential != "operator") or (
            kind not in (OPERATOR, PUBLIC) and credential not in ("own", "foreign"))
        if refused:
            assert status == 401, where
        elif credential == "operator":
            assert _operator_allowed(response), where
        elif kind == PUBLIC or credential == "own":
            assert _allowed(status), where
            if credential == "own" and kind == OBJECT:
                assert status != 404, f"{where}: the owner must reach its own object"
        elif kind == OBJECT:
            assert status == 404, where
            # ... the very answer an id naming nothing gets: no way to tell the victim's object exists
            ghost = _call(Client(), endpoint.method, _url(world, endpoint, ghost=True), _body(world, endpoint.key),
                          {name: _ghost(value) for name, value in query.items()}, HTTP_AUTHORIZATION=key or "")
            assert (ghost.status_code, _code(ghost)) == (status, _code(response)), where
        else:  # SCOPE or BATCH as another shop: answered for its own shop, nothing of the victim
            assert _allowed(status), where
        if credential not in ("own", "operator"):
            assert not _leaks(response, world.markers, request_text), f"{where} shows the victim's data"
            if refused or kind != SCOPE or endpoint.method == "GET":
                assert data.snapshot() == before, f"{where} wrote something"
        if credential == "own" and endpoint.key in LISTS_SHOWING_THE_ORDER:
            assert world.order.order_id in _text(response), f"{where}: the owner's list misses its order"


def test_a_shop_key_naming_another_shop_is_a_404(world: data.World, client: Client) -> None:
    response = client.get("/api/orders", {"shop_id": world.victim.id},
                          HTTP_AUTHORIZATION=world.keys["foreign"])
    assert response.status_code == 404 and not _leaks(response, world.markers, str(world.victim.id))


# --- the back offices -----------------------------------------------------------------------------------------

WEB_ENDPOINTS = [e for e in ENDPOINTS if not e.api]


def _methods(world: data.World, endpoint: Endpoint, kind: str) -> list[str]:
    """The methods the view accepts, asked as the credential it is meant for (405 elsewhere)."""
    credential = {OPERATOR: "operator", PUBLIC: "none", LOGIN: "none", CUSTOMER: "none"}.get(kind, "own")
    url = _url(world, endpoint)
    methods = [m for m in ("GET", "POST") if _call(world.client(credential), m, url, ("", {})).status_code != 405]
    assert methods, f"{endpoint.key} answers 405 to GET and POST"
    return methods


def _web_expectation(endpoint: Endpoint, kind: str, credential: str, status: int, location: str) -> bool:
    login = {OPERATOR: "/operateur/connexion/"}.get(kind, "/vendeur/connexion/")
    if kind in (PUBLIC, LOGIN):
        return status < 500 and status != 403
    if kind == OPERATOR:
        if credential == "operator":
            reaches = endpoint.key in OPERATOR_404 or not PARAM.search(endpoint.path) or status != 404
            return status < 500 and status not in (401, 403) and reaches
        return status == 302 and location.startswith(login)
    if credential == "none":
        return status == 302 and location.startswith(login)
    if credential in ("wrong", "operator") or (credential == "foreign" and kind == OBJECT):
        return status == 404  # no shop of theirs has it: nothing tells it exists
    return status < 500 and status not in (401, 403) and not (kind == OBJECT and status == 404)


@pytest.mark.parametrize("endpoint", [e for e in WEB_ENDPOINTS if WEB_KINDS.get(e.key) != CUSTOMER], ids=str)
def test_back_office_route_answers_each_credential_as_classified(world: data.World, endpoint: Endpoint) -> None:
    kind = WEB_KINDS[endpoint.key]
    url = _url(world, endpoint)
    query = _filled(world, WEB_QUERIES.get(endpoint.key, {}))
    for method in _methods(world, endpoint, kind):
        for credential in WEB_CREDENTIALS:
            before = data.snapshot()
            form = ("multipart", _filled(world, WEB_FORMS.get(endpoint.key, {})))
            response = _call(world.client(credential), method, url, form, query)
            where = f"{method} {endpoint.key} as {credential}: {response.status_code}"
            assert _web_expectation(endpoint, kind, credential, response.status_code, response.get("Location", "")), \
                where
            if credential in ("own", "operator") and kind not in (PUBLIC, LOGIN):
                if credential == "own" and endpoint.key in LISTS_SHOWING_THE_ORDER and method == "GET":
                    assert world.order.order_id in _text(response), f"{where}: the owner's list misses its order"
                continue
            assert not _leaks(response, world.markers, url), f"{where} shows the victim's data"
            if not (kind == SCOPE and credential == "foreign" and method == "POST"):
                assert data.snapshot() == before, f"{where} wrote something"


@pytest.mark.parametrize("endpoint", [e for e in WEB_ENDPOINTS if WEB_KINDS.get(e.key) == CUSTOMER], ids=str)
def test_customer_route_answers_only_the_link_of_its_order(world: data.World, endpoint: Endpoint) -> None:
    token = world.keys["customer"] or ""
    tokens = {"forged": "pas-un-lien", "tampered": token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
              "seller_session": "pas-un-lien", "customer_other": world.keys["customer_other"], "customer": token}
    names_another_object = len(PARAM.findall(endpoint.path)) > 1  # an id besides the token: of the link's order?
    for method in _methods(world, endpoint, CUSTOMER):
        for credential in CUSTOMER_CREDENTIALS:
            url = _url(world, endpoint, token=tokens[credential])
            client = world.client("own" if credential == "seller_session" else "none")
            before = data.snapshot()
            response = _call(client, method, url, ("multipart", _filled(world, CUSTOMER_FORMS.get(endpoint.key, {}))))
            status, where = response.status_code, f"{method} {endpoint.key} as {credential}: {response.status_code}"
            if credential == "customer":
                assert status < 400, where
                continue
            if credential == "customer_other" and not names_another_object:
                assert status < 400, where  # the page of its own order
            else:
                assert status == 404, where
            markers = world.order_markers if credential == "customer_other" else world.markers
            assert not _leaks(response, markers, url), f"{where} shows the order of another link"
            assert data.snapshot() == before or credential == "customer_other" and not names_another_object, where

