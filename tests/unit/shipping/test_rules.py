"""Pure shipping rules: tracking-link templates, tracking resolution, ship dates, quantities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from comptoir.shipping import rules
from comptoir.shipping.carriers import FRENCH_CARRIERS
from comptoir.shipping.errors import (
    QuantityExceeded,
    ShipDateBeforeDebit,
    ShipDateInFuture,
    ShipmentLineInvalid,
    ShipmentLineNotFound,
    TrackingInvalid,
    TrackingUrlTemplateInvalid,
)

COLISSIMO = rules.CarrierSpec("colissimo", "Colissimo", "COLISSIMO",
                              "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}")
MONDIAL = rules.CarrierSpec("mondial-relay", "Mondial Relay", "MONDIAL_RELAY",
                            "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition={tracking_number}"
                            "&codePostal={postcode}")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# --- templates ---------------------------------------------------------------------------------------------


def test_every_seeded_carrier_has_a_valid_template() -> None:
    for carrier in FRENCH_CARRIERS:
        rules.check_tracking_url_template(carrier.tracking_url)
    assert len({c.code for c in FRENCH_CARRIERS}) == len(FRENCH_CARRIERS) == 12


@pytest.mark.parametrize("template", [
    "https://example.com/track",  # no number: the link would not be predictable
    "https://example.com/track?zip={postcode}",
    "https://example.com/track?n={tracking_number}&x={colis}",  # unknown placeholder
    "https://example.com/track?n={tracking_number",  # unbalanced brace
    "https://example.com/track?n={tracking_number!r}",  # conversion
    "https://example.com/track?n={tracking_number:>10}",  # format spec
    "http://example.com/track?n={tracking_number}",  # not https
    "example.com/{tracking_number}",
])
def test_a_template_that_does_not_build_a_predictable_https_link_is_rejected(template: str) -> None:
    with pytest.raises(TrackingUrlTemplateInvalid):
        rules.check_tracking_url_template(template)


def test_link_puts_the_escaped_number_and_postcode_in_the_template() -> None:
    assert rules.tracking_link(MONDIAL.tracking_url, tracking_number="AB 12/3", postcode="69003") == (
        "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition=AB%2012%2F3&codePostal=69003"
    )


def test_link_without_a_number_is_refused() -> None:
    with pytest.raises(TrackingInvalid):
        rules.tracking_link(COLISSIMO.tracking_url, tracking_number="  ")


# --- tracking resolution -----------------------------------------------------------------------------------


def test_registered_carrier_builds_its_link_and_ignores_the_url_sent() -> None:
    tracking = rules.resolve_tracking(carrier=COLISSIMO, carrier_code="colissimo", carrier_name=None,
                                      tracking_number="6A123", tracking_url="https://evil.example/x")
    assert tracking == rules.Tracking("colissimo", "COLISSIMO", "Colissimo", "6A123",
                                      "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123")


def test_unknown_or_disabled_carrier_code_is_refused() -> None:
    with pytest.raises(TrackingInvalid) as exc:
        rules.resolve_tracking(carrier=None, carrier_code="pigeon", carrier_name=None, tracking_number="1",
                               tracking_url=None)
    assert exc.value.code == "CARRIER_NOT_FOUND"


def test_other_carrier_with_name_number_and_https_link_is_kept_as_sent() -> None:
    tracking = rules.resolve_tracking(carrier=None, carrier_code=None, carrier_name="Coursier Lyon",
                                      tracking_number="L-42", tracking_url="https://coursier.example/L-42")
    assert tracking == rules.Tracking("", "", "Coursier Lyon", "L-42", "https://coursier.example/L-42")


@pytest.mark.parametrize(("name", "number", "url", "field"), [
    (None, "L-42", "https://c.example/L-42", "carrier_name"),
    ("Coursier", None, "https://c.example/L-42", "tracking_number"),
    ("Coursier", "L-42", None, "tracking_url"),
    ("Coursier", "L-42", "http://c.example/L-42", "tracking_url"),
    ("Coursier", "L-42", "javascript:alert(1)", "tracking_url"),
])
def test_other_carrier_needs_name_number_and_https_link(name: str | None, number: str | None, url: str | None,
                                                        field: str) -> None:
    with pytest.raises(TrackingInvalid) as exc:
        rules.resolve_tracking(carrier=None, carrier_code="autre", carrier_name=name, tracking_number=number,
                               tracking_url=url)
    assert exc.value.field == field


def test_tracking_number_with_odd_characters_is_refused() -> None:
    with pytest.raises(TrackingInvalid):
        rules.resolve_tracking(carrier=COLISSIMO, carrier_code="colissimo", carrier_name=None,
                               tracking_number="<script>", tracking_url=None)


# --- ship date ---------------------------------------------------------------------------------------------


def test_ship_date_in_the_future_is_fraud_and_refused() -> None:
    with pytest.raises(ShipDateInFuture):
        rules.check_ship_date(NOW + timedelta(minutes=1), now=NOW, debited_at=NOW - timedelta(days=1))


def test_ship_date_before_the_debit_is_refused() -> None:
    with pytest.raises(ShipDateBeforeDebit):
        rules.check_ship_date(NOW - timedelta(days=2), now=NOW, debited_at=NOW - timedelta(days=1))


def test_ship_date_now_or_earlier_today_is_accepted() -> None:
    rules.check_ship_date(NOW, now=NOW, debited_at=NOW - timedelta(days=1))
    rules.check_ship_date(NOW - timedelta(hours=3), now=NOW, debited_at=NOW - timedelta(days=1))


# --- quantities --------------------------------------------------------------------------------------------


def test_quantities_within_what_remains_are_accepted() -> None:
    rules.check_quantities({"L1": 2, "L2": 1}, accepted={"L1": 3, "L2": 1}, in_shipments={"L1": 1})


def test_shipping_more_than_accepted_minus_already_shipped_is_refused() -> None:
    with pytest.raises(QuantityExceeded):
        rules.check_quantities({"L1": 3}, accepted={"L1": 3}, in_shipments={"L1": 1})


def test_a_line_not_accepted_cannot_be_shipped() -> None:
    with pytest.raises(ShipmentLineNotFound):
        rules.check_quantities({"L9": 1}, accepted={"L1": 3}, in_shipments={})


@pytest.mark.parametrize("requested", [{}, {"L1": 0}, {"L1": -1}])
def test_empty_or_non_positive_quantities_are_refused(requested: dict[str, int]) -> None:
    with pytest.raises(ShipmentLineInvalid):
        rules.check_quantities(requested, accepted={"L1": 3}, in_shipments={})


def test_order_is_fully_shipped_only_when_every_accepted_unit_has_left() -> None:
    accepted = {"L1": 2, "L2": 1}
    assert not rules.fully_shipped(accepted, {"L1": 2})
    assert not rules.fully_shipped(accepted, {"L1": 1, "L2": 1})
    assert rules.fully_shipped(accepted, {"L1": 2, "L2": 1})
    assert not rules.fully_shipped({}, {})


def test_remaining_quantities_never_go_negative() -> None:
    assert rules.remaining_quantities({"L1": 2, "L2": 1}, {"L1": 3}) == {"L1": 0, "L2": 1}
