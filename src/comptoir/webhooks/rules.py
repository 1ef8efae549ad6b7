"""Pure webhook rules: which events exist, which endpoint URLs are acceptable, the signature, the retry schedule
and the JSON a receiver gets. No Django, no network, no clock: the services pass instants in."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlsplit

from comptoir.webhooks.errors import InvalidUrl, UnknownEventType

STATE_CHANGED: Final = "OrderStateChanged"
# Every event a seller can subscribe to, with its French label (back office); the order is the display order.
EVENT_TYPES: Final[dict[str, str]] = {
    "OrderAwaitingAcceptance": "Nouvelle commande à accepter",
    STATE_CHANGED: "Changement d'état d'une commande",
    "CustomerMessageReceived": "Nouveau message d'un client",
    "IncidentOpened": "Nouvel incident",
    "AcceptanceDeadlineSoon": "Échéance d'acceptation demain",
}
# The order events (orders.events.OrderEvent names) captured from the outbox; state changes come from the lifecycle.
CAPTURED_EVENTS: Final = frozenset(EVENT_TYPES) - {STATE_CHANGED}

MAX_URL_LENGTH: Final = 500
SECRET_PREFIX: Final = "whsec_"
# After the n-th failed attempt, wait RETRY_DELAYS[n - 1] (the last one repeats) before the next one.
RETRY_DELAYS: Final[tuple[timedelta, ...]] = (
    timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=1),
    timedelta(hours=3), timedelta(hours=6), timedelta(hours=12), timedelta(hours=24),
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL_NAMES = ("localhost",)


def check_url(raw: str, *, allow_local_http: bool = False) -> str:
    """The endpoint URL, stripped, or InvalidUrl with a French reason. https only, to a public host name or
    address; `allow_local_http` (development, tests) also admits http and https to the loopback interface."""
    url = (raw or "").strip()
    if not url:
        raise InvalidUrl("L'adresse du webhook est obligatoire.", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrl(f"L'adresse du webhook dépasse {MAX_URL_LENGTH} caractères.", field="url")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidUrl("L'adresse du webhook contient des espaces ou des caractères de contrôle.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidUrl("L'adresse du webhook est mal formée.", field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise InvalidUrl("L'adresse du webhook doit être une URL complète commençant par https://.", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrl("L'adresse du webhook ne doit pas contenir d'identifiants (utilisateur:mot de passe@).",
                         field="url")
    if parts.fragment:
        raise InvalidUrl("L'adresse du webhook ne doit pas contenir de fragment (#).", field="url")
    if port == 0:
        raise InvalidUrl("Le port de l'adresse du webhook est invalide.", field="url")
    host = (parts.hostname or "").rstrip(".")
    local = _is_loopback(host)
    if local and not allow_local_http:
        raise InvalidUrl("L'adresse du webhook doit désigner un serveur public, pas cette machine.", field="url")
    if scheme != "https" and not local:
        raise InvalidUrl("L'adresse du webhook doit commencer par https:// (http n'est pas accepté).", field="url")
    if not local:
        _check_public_host(host)
    return url


def _is_loopback(host: str) -> bool:
    lowered = host.lower()
    if lowered in _LOCAL_NAMES or lowered.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(lowered.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_public_host(host: str) -> None:
    """A literal address must be public; a name must be a valid DNS name with a dot (no intranet short names).
    (A name that resolves to a private address is for an egress proxy to stop: no DNS lookup here.)"""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        if not address.is_global:
            raise InvalidUrl("L'adresse du webhook doit désigner un serveur public (adresse IP privée ou "
                             "réservée refusée).", field="url")
        return
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidUrl("Le nom de domaine de l'adresse du webhook est invalide.", field="url") from None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidUrl("Le nom de domaine de l'adresse du webhook est invalide.", field="url")


def check_event_types(types: Iterable[str] | None) -> list[str]:
    """The subscribed types, known and without duplicates, in display order; empty means every type."""
    chosen = list(types or ())
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise UnknownEventType(f"Type d'événement inconnu : {unknown[0]!r} (types possibles : "
                               f"{', '.join(EVENT_TYPES)}).", field="event_types")
    return [t for t in EVENT_TYPES if t in chosen]


def selected(event_type: str, event_types: Sequence[str] | None) -> bool:
    """Does an endpoint subscribed to `event_types` (empty: all) get this event?"""
    return not event_types or event_type in event_types


def wanted_types(subscriptions: Iterable[Sequence[str] | None]) -> frozenset[str]:
    """What a shop's enabled endpoints want together: the union of their types (an endpoint with none wants all)."""
    wanted: set[str] = set()
    for types in subscriptions:
        if not types:
            return frozenset(EVENT_TYPES)
        wanted.update(types)
    return frozenset(wanted)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hint(secret: str) -> str:
    """What the back office shows of a secret after it was displayed once."""
    return f"{secret[:len(SECRET_PREFIX) + 4]}…"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256, keyed by the endpoint's secret, of `<timestamp>.<raw body>` (README, « Webhooks »)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def retry_delay(failed_attempts: int) -> timedelta:
    return RETRY_DELAYS[min(max(failed_attempts, 1), len(RETRY_DELAYS)) - 1]


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def instant(value: datetime) -> str:
    """UTC, milliseconds, `Z`: the format of every instant in a webhook body."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """Event data as JSON values (instants as `instant()` strings, decimals as strings)."""
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def event_data(order_id: str, shop_id: int, occurred_at: datetime, data: Mapping[str, Any]) -> dict[str, Any]:
    """The `data` of an order event: its ids and instant, then what the event carries."""
    return {"order_id": order_id, "shop_id": shop_id, "occurred_at": instant(occurred_at), **jsonable(data)}


def state_change_data(*, order_id: str, shop_id: int, from_state: str, to_state: str, trigger: str, actor: str,
                      occurred_at: datetime, lines: Iterable[tuple[str, str]], reason_code: str = "") -> dict[str, Any]:
    return {
        "order_id": order_id, "shop_id": shop_id, "occurred_at": instant(occurred_at),
        "from_state": from_state, "to_state": to_state, "trigger": trigger, "actor": actor,
        "reason_code": reason_code or None,
        "lines": [{"line_id": line_id, "state": state} for line_id, state in lines],
    }


def envelope(*, event_id: str, event_type: str, shop_id: int, occurred_at: datetime,
             data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of a delivery: the same for every attempt and redelivery of an event."""
    return {"id": event_id, "type": event_type, "occurred_at": instant(occurred_at), "shop_id": shop_id,
            "data": dict(data)}
