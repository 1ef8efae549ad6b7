"""One NinjaAPI under /api: the Mirakl-compatible seller API, and the operator API under /api/operator."""

from __future__ import annotations

from comptoir import __version__
from comptoir.api import errors
from comptoir.api.auth import OperatorKey, ShopKey
from comptoir.api.mirakl import account, accounting, orders, reasons, refunds, shipment_imports, shipping
from comptoir.api.mirakl import documents as order_documents
from comptoir.api.mirakl import incidents as order_incidents
from comptoir.api.mirakl import messages as order_messages
from comptoir.api.mirakl import scorecard as shop_scorecard
from comptoir.api.mirakl import webhooks as seller_webhooks
from comptoir.api.openapi import ComptoirAPI
from comptoir.api.operator import carriers as operator_carriers
from comptoir.api.operator import incidents as operator_incidents
from comptoir.api.operator import orders as operator_orders
from comptoir.api.operator import outbox as operator_outbox
from comptoir.api.operator import payouts as operator_payouts
from comptoir.api.render import JSONParser, ORJSONRenderer

api = ComptoirAPI(
    title="Comptoir API",
    version=__version__,
    description=(
        "Seller API compatible with Mirakl's (key in `Authorization`, no `Bearer`), and the operator API "
        "under `/api/operator/`. Errors: `{\"status\", \"message\", \"code\"}`.\n\n"
        "**Idempotency** (a Comptoir extension): every write (POST, PUT, PATCH, DELETE under `/api/`) accepts an "
        "`Idempotency-Key` header (1 to 255 characters, one per logical request, e.g. a UUID). The first request "
        "with a key runs and its answer is kept; a retry with the same key, method, path and body gets that "
        "answer back with the header `Idempotent-Replayed: true` and runs nothing again, so a retried OR28 never "
        "refunds twice. The same key with another method, path or body is a 409 `IDEMPOTENCY_KEY_REUSED`; a "
        "retry while the first request still runs waits for it and gets its answer (a server killed mid-request "
        "leaves nothing behind: the retry runs). A 5xx answer is not kept: a retry runs again. Keys are per API "
        "key.\n\n"
        "**Refund preview** (a Comptoir extension): `POST /api/orders/refund/preview` takes OR28's body and "
        "answers the amounts, the commission given back and the balance before and after, writing nothing."
    ),
    renderer=ORJSONRenderer(),
    parser=JSONParser(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    urls_namespace="api",
)
errors.install(api)
api.add_router("/", orders.router, auth=ShopKey())
api.add_router("/", account.router, auth=ShopKey())
api.add_router("/", accounting.router, auth=ShopKey())
api.add_router("/", shipping.router, auth=ShopKey())
api.add_router("/", shipment_imports.router, auth=ShopKey())
api.add_router("/", refunds.router, auth=ShopKey())
api.add_router("/", reasons.router, auth=ShopKey())
api.add_router("/", order_documents.router, auth=ShopKey())
api.add_router("/", order_messages.router, auth=ShopKey())
api.add_router("/", order_incidents.router, auth=ShopKey())
api.add_router("/", seller_webhooks.router, auth=ShopKey())
api.add_router("/", shop_scorecard.router, auth=ShopKey())
api.add_router("/operator", operator_orders.router, auth=OperatorKey())
api.add_router("/operator", operator_payouts.router, auth=OperatorKey())
api.add_router("/operator", operator_outbox.router, auth=OperatorKey())
api.add_router("/operator", operator_carriers.router, auth=OperatorKey())
api.add_router("/operator", operator_incidents.router, auth=OperatorKey())
