"""Carriers: the operator's list (create, edit, disable), the seeded French carriers, and the active carrier a
declaration names (one at a time, or all those a batch names in one query)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.shipping import rules
from comptoir.shipping.errors import CarrierAlreadyExists, CarrierNotFound
from comptoir.shipping.models import Carrier


def active_carrier(code: str | None) -> rules.CarrierSpec | None:
    if rules.is_other_carrier(code):
        return None
    carrier = Carrier.objects.filter(code=(code or "").strip(), active=True).first()
    return carrier.spec() if carrier else None


def active_carriers(codes: Iterable[str | None]) -> dict[str, rules.CarrierSpec]:
    """The active carriers among `codes` (stripped), by code; one query, none when every code is « autre »."""
    wanted = {(code or "").strip() for code in codes if not rules.is_other_carrier(code)}
    if not wanted:
        return {}
    return {c.code: c.spec() for c in Carrier.objects.filter(code__in=sorted(wanted), active=True)}


def create_carrier(*, code: str, label: str, tracking_url: str, standard_code: str = "") -> Carrier:
    code = code.strip()
    if rules.is_other_carrier(code) or not label.strip():
        raise ValidationError("Code et libellé du transporteur obligatoires (« autre » est réservé).", field="code")
    rules.check_tracking_url_template(tracking_url)
    now = clock.now()
    try:
        with transaction.atomic():
            return Carrier.objects.create(code=code, label=label.strip(), standard_code=standard_code.strip(),
                                          tracking_url=tracking_url.strip(), active=True, created_date=now,
                                          last_updated_date=now)
    except IntegrityError:
        raise CarrierAlreadyExists(f"Un transporteur porte déjà le code {code}.", field="code") from None


def update_carrier(*, code: str, label: str | None = None, tracking_url: str | None = None,
                   standard_code: str | None = None, active: bool | None = None) -> Carrier:
    with transaction.atomic():
        carrier = Carrier.objects.select_for_update().filter(code=code).first()
        if carrier is None:
            raise CarrierNotFound(f"Transporteur {code} introuvable.")
        if tracking_url is not None:
            rules.check_tracking_url_template(tracking_url)
            carrier.tracking_url = tracking_url.strip()
        if label is not None:
            if not label.strip():
                raise ValidationError("Libellé du transporteur obligatoire.", field="label")
            carrier.label = label.strip()
        if standard_code is not None:
            carrier.standard_code = standard_code.strip()
        if active is not None:
            carrier.active = active
        carrier.last_updated_date = clock.now()
        carrier.save()
    return carrier


def disable_carrier(*, code: str) -> Carrier:
    """Disabled carriers leave the sellers' list; shipments already declared keep their link."""
    return update_carrier(code=code, active=False)


def preview_link(*, tracking_url: str, tracking_number: str, postcode: str = "") -> str:
    return rules.tracking_link(tracking_url, tracking_number=tracking_number, postcode=postcode)


def ensure_default_carriers() -> int:
    """Create the seeded French carriers that are missing (the migration seeds them; a flushed database or
    a demo load calls this). Existing carriers, edited or disabled by the operator, are left alone."""
    from comptoir.shipping.carriers import FRENCH_CARRIERS

    now = clock.now()
    created = 0
    for spec in FRENCH_CARRIERS:
        _, made = Carrier.objects.get_or_create(code=spec.code, defaults={
            "label": spec.label, "standard_code": spec.standard_code, "tracking_url": spec.tracking_url,
            "created_date": now, "last_updated_date": now})
        created += made
    return created
