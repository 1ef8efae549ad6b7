"""Order use cases; surfaces and workers call these, never the models directly."""

from comptoir.orders.services.acceptance import (
    approve_order,
    decide_lines,
    reject_order,
    request_customer_documents,
)
from comptoir.orders.services.fulfilment import close_order, confirm_reception, ship_whole_order
from comptoir.orders.services.importing import (
    ImportCustomer,
    ImportLine,
    ImportRequest,
    import_customer_order,
)
from comptoir.orders.services.lifecycle import SYSTEM, Who, transition_order

__all__ = [
    "SYSTEM",
    "ImportCustomer",
    "ImportLine",
    "ImportRequest",
    "Who",
    "approve_order",
    "close_order",
    "confirm_reception",
    "decide_lines",
    "import_customer_order",
    "reject_order",
    "request_customer_documents",
    "ship_whole_order",
    "transition_order",
]
