"""Carriers: seeded by migration, created and edited by the operator with a checked template."""

from __future__ import annotations

import pytest

from comptoir.shipping import queries, services
from comptoir.shipping.errors import CarrierAlreadyExists, CarrierNotFound, TrackingUrlTemplateInvalid
from tests.factories import ensure_carriers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()


def test_main_french_carriers_are_seeded_and_sorted_by_label() -> None:
    labels = [c.label for c in queries.carriers()]
    assert labels == sorted(labels)
    assert {"Colissimo", "Chronopost", "UPS", "DHL Express", "GLS", "DPD", "Mondial Relay", "Relais Colis",
            "Colis Privé", "TNT", "FedEx", "La Poste Lettre suivie"} <= set(labels)


def test_operator_creates_a_carrier_with_a_valid_template() -> None:
    carrier = services.create_carrier(code="geodis", label="Geodis",
                                      tracking_url="https://geodis.example/suivi/{tracking_number}")
    assert carrier.active and queries.carrier("geodis") is not None


def test_template_without_the_number_is_rejected() -> None:
    with pytest.raises(TrackingUrlTemplateInvalid):
        services.create_carrier(code="geodis", label="Geodis", tracking_url="https://geodis.example/suivi")
    with pytest.raises(TrackingUrlTemplateInvalid):
        services.update_carrier(code="ups", tracking_url="https://ups.example/")


def test_duplicate_code_is_a_conflict() -> None:
    with pytest.raises(CarrierAlreadyExists):
        services.create_carrier(code="ups", label="UPS bis", tracking_url="https://x.example/{tracking_number}")


def test_disabled_carrier_leaves_the_sellers_list() -> None:
    services.disable_carrier(code="tnt")
    assert "tnt" not in {c.code for c in queries.carriers()}
    assert "tnt" in {c.code for c in queries.carriers(include_inactive=True)}


def test_unknown_carrier_cannot_be_updated() -> None:
    with pytest.raises(CarrierNotFound):
        services.update_carrier(code="nope", label="x")
