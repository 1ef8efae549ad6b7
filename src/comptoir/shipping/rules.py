"""Pure shipping rules: tracking-link templates, the tracking a declaration resolves to, ship dates and the
quantities a shipment may carry. No database, no clock: the services pass `now` and the counts in."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import quote, urlsplit

from comptoir.shipping.errors import (
    QuantityExceeded,
    ShipDateBeforeDebit,
    ShipDateInFuture,
    ShipmentLineInvalid,
    ShipmentLineNotFound,
    TrackingInvalid,
    TrackingUrlTemplateInvalid,
)

TRACKING_NUMBER: Final = "tracking_number"
POSTCODE: Final = "postcode"
PLACEHOLDERS: Final = frozenset({TRACKING_NUMBER, POSTCODE})
# Codes a client may send for "my carrier is not in the list" (the back office's « Autre »).
OTHER_CARRIER_CODES: Final = frozenset({"", "autre", "other"})
MAX_SHIPMENTS_PER_CALL: Final = 1000
# DESIGN §3 « tracking functional »: a parcel shipped without tracking is flagged after 24 business hours.
TRACKING_GRACE_BUSINESS_HOURS: Final = 24
_TRACKING_NUMBER_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,99}$")


@dataclass(frozen=True, slots=True)
class CarrierSpec:
    code: str
    label: str
    standard_code: str
    tracking_url: str


@dataclass(frozen=True, slots=True)
class Tracking:
    carrier_code: str
    carrier_standard_code: str
    carrier_name: str
    tracking_number: str
    tracking_url: str


NO_TRACKING: Final = Tracking("", "", "", "", "")


def _is_https(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced « [ » in the host (« Invalid IPv6 URL »): not a link at all
        return False
    return parts.scheme == "https" and bool(parts.netloc)


def template_placeholders(template: str) -> set[str]:
    """The `{names}` of a template; raises when braces are unbalanced or a format spec is used."""
    try:
        parsed = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(template)
                  if name is not None]
    except ValueError:
        raise TrackingUrlTemplateInvalid("Modèle de lien de suivi mal formé (accolades).") from None
    if any(spec or conv for _, spec, conv in parsed):
        raise TrackingUrlTemplateInvalid("Modèle de lien de suivi : seules {tracking_number} et {postcode} "
                                         "sont permises, sans format.")
    fields = [name for name, _, _ in parsed]
    return set(fields)


def check_tracking_url_template(template: str) -> None:
    """A carrier's link must be predictable: https, and the parcel number (and optionally the postcode) in it."""
    names = template_placeholders(template)
    if TRACKING_NUMBER not in names:
        raise TrackingUrlTemplateInvalid("Le modèle de lien de suivi doit contenir {tracking_number}.")
    if unknown := names - PLACEHOLDERS:
        raise TrackingUrlTemplateInvalid(
            f"Modèle de lien de suivi : variable inconnue {{{sorted(unknown)[0]}}} "
            "(seules {tracking_number} et {postcode} sont permises)."
        )
    if not _is_https(template.replace("{", "").replace("}", "")):
        raise TrackingUrlTemplateInvalid("Le lien de suivi doit commencer par https://.")


def tracking_link(template: str, *, tracking_number: str, postcode: str = "") -> str:
    """The carrier's link for one parcel; the values are URL-escaped into the template."""
    check_tracking_url_template(template)
    if not tracking_number.strip():
        raise TrackingInvalid("Numéro de suivi obligatoire pour ce transporteur.", field="tracking_number")
    return template.format(tracking_number=quote(tracking_number.strip(), safe=""),
                           postcode=quote(postcode.strip(), safe=""))


def is_other_carrier(carrier_code: str | None) -> bool:
    return (carrier_code or "").strip().lower() in OTHER_CARRIER_CODES


def resolve_tracking(
    *,
    carrier: CarrierSpec | None,
    carrier_code: str | None,
    carrier_name: str | None,
    tracking_number: str | None,
    tracking_url: str | None,
    postcode: str = "",
) -> Tracking:
    """What a declaration's tracking becomes.

    A registered carrier (`carrier` found for `carrier_code`): the number is required and the link is built
    from the carrier's template (a URL sent by the client is ignored, as Mirakl does). « Autre » (no code):
    the carrier's name, the number and an https link are all required (the guide's rule).
    """
    number = (tracking_number or "").strip()
    if number and not _TRACKING_NUMBER_RE.match(number):
        raise TrackingInvalid("Numéro de suivi invalide (lettres, chiffres, espaces, . _ / -).",
                              field="tracking_number")
    if not is_other_carrier(carrier_code):
        if carrier is None:
            raise TrackingInvalid(f"Transporteur inconnu ou désactivé : {carrier_code}.", field="carrier_code",
                                  code="CARRIER_NOT_FOUND")
        url = tracking_link(carrier.tracking_url, tracking_number=number, postcode=postcode)
        return Tracking(carrier.code, carrier.standard_code, carrier.label, number, url)
    name = (carrier_name or "").strip()
    url = (tracking_url or "").strip()
    if not name:
        raise TrackingInvalid("Transporteur « autre » : le nom du transporteur est obligatoire.",
                              field="carrier_name")
    if not number:
        raise TrackingInvalid("Transporteur « autre » : le numéro de suivi est obligatoire.",
                              field="tracking_number")
    if not _is_https(url):
        raise TrackingInvalid("Transporteur « autre » : un lien de suivi https:// est obligatoire.",
                              field="tracking_url")
    return Tracking("", "", name, number, url)


def check_ship_date(shipped_at: datetime, *, now: datetime, debited_at: datetime | None) -> None:
    """Declaring a shipment before it really left is fraud (guide): no future date, none before payment."""
    if shipped_at > now:
        raise ShipDateInFuture("La date d'expédition ne peut pas être dans le futur.", field="shipped_date")
    if debited_at is not None and shipped_at < debited_at:
        raise ShipDateBeforeDebit("La date d'expédition ne peut pas précéder le paiement de la commande.",
                                  field="shipped_date")


def remaining_quantities(accepted: Mapping[str, int], in_shipments: Mapping[str, int]) -> dict[str, int]:
    """Per line: accepted quantity not yet in any shipment (never negative)."""
    return {line_id: max(0, qty - in_shipments.get(line_id, 0)) for line_id, qty in accepted.items()}


def check_quantities(requested: Mapping[str, int], *, accepted: Mapping[str, int],
                     in_shipments: Mapping[str, int]) -> None:
    """A shipment carries at least one unit, only of accepted lines, never more than remains to ship."""
    if not requested:
        raise ShipmentLineInvalid("Une expédition contient au moins une ligne.", field="shipment_lines")
    remaining = remaining_quantities(accepted, in_shipments)
    for line_id, quantity in requested.items():
        if quantity <= 0:
            raise ShipmentLineInvalid(f"Ligne {line_id} : la quantité doit être positive.", field="quantity")
        if line_id not in accepted:
            raise ShipmentLineNotFound(f"Ligne {line_id} inconnue ou non expédiable.")
        if quantity > remaining[line_id]:
            raise QuantityExceeded(
                f"Ligne {line_id} : {quantity} à expédier, mais {remaining[line_id]} seulement reste à expédier "
                f"(sur {accepted[line_id]} acceptés)."
            )


def fully_shipped(accepted: Mapping[str, int], shipped: Mapping[str, int]) -> bool:
    """Every accepted unit is in a shipped shipment: the order may move to SHIPPED."""
    return bool(accepted) and all(shipped.get(line_id, 0) >= qty for line_id, qty in accepted.items())
