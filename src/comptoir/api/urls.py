"""One NinjaAPI under /api: the Mirakl-compatible seller API, and the operator API under /api/operator."""

from __future__ import annotations

from ninja import NinjaAPI

from comptoir import __version__
from comptoir.api import errors
from comptoir.api.auth import OperatorKey, ShopKey
from comptoir.api.mirakl import account, accounting, orders, shipment_imports, shipping
from comptoir.api.operator import carriers as operator_carriers
from comptoir.api.operator import orders as operator_orders
from comptoir.api.operator import outbox as operator_outbox
from comptoir.api.operator import payouts as operator_payouts
from comptoir.api.render import ORJSONRenderer

api = NinjaAPI(
    title="Comptoir API",
    version=__version__,
    description=(
        "Seller API compatible with Mirakl's (key in `Authorization`, no `Bearer`), and the operator API "
        "under `/api/operator/`. Errors: `{\"status\", \"message\", \"code\"}`."
    ),
    renderer=ORJSONRenderer(),
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
api.add_router("/operator", operator_orders.router, auth=OperatorKey())
api.add_router("/operator", operator_payouts.router, auth=OperatorKey())
api.add_router("/operator", operator_outbox.router, auth=OperatorKey())
api.add_router("/operator", operator_carriers.router, auth=OperatorKey())
