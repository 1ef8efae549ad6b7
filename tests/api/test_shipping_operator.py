"""Operator API for carriers: list, create, update, disable, and preview a tracking link."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.helpers import assert_error, body_of, get, post, put
from tests.factories import ensure_carriers

pytestmark = pytest.mark.django_db

URL = "/api/operator/carriers"


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()


def test_operator_creates_updates_and_disables_a_carrier(client: Client, op_key: str) -> None:
    created = post(client, URL, op_key, {"code": "geodis", "label": "Geodis", "standard_code": "GEODIS",
                                         "tracking_url": "https://geodis.example/suivi/{tracking_number}"})
    updated = put(client, f"{URL}/geodis", op_key, {"label": "Geodis France"})
    disabled = put(client, f"{URL}/geodis/disable", op_key)

    assert created.status_code == 201
    assert body_of(created)["active"] is True
    assert body_of(updated)["label"] == "Geodis France"
    assert body_of(disabled)["active"] is False
    listed = {c["code"]: c for c in body_of(get(client, URL, op_key))["carriers"]}
    assert listed["geodis"]["active"] is False and listed["colissimo"]["active"] is True


def test_template_without_number_and_duplicate_code_are_refused(client: Client, op_key: str) -> None:
    assert_error(post(client, URL, op_key, {"code": "x", "label": "X", "tracking_url": "https://x.example/"}),
                 400, "CARRIER_TRACKING_URL_INVALID")
    assert_error(post(client, URL, op_key, {"code": "ups", "label": "UPS",
                                            "tracking_url": "https://x.example/{tracking_number}"}),
                 409, "CARRIER_ALREADY_EXISTS")
    assert_error(put(client, f"{URL}/nope", op_key, {"label": "X"}), 404, "CARRIER_NOT_FOUND")
    assert_error(put(client, f"{URL}/ups", op_key, {"tracking_url": "https://x.example/{colis}"}), 400,
                 "CARRIER_TRACKING_URL_INVALID")


def test_preview_builds_the_link(client: Client, op_key: str) -> None:
    response = post(client, f"{URL}/preview", op_key, {
        "tracking_url": "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition={tracking_number}"
                        "&codePostal={postcode}", "tracking_number": "123 45", "postcode": "75011"})

    assert body_of(response) == {"tracking_url": "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition="
                                                 "123%2045&codePostal=75011"}


def test_a_shop_key_cannot_manage_carriers(client: Client, key: str) -> None:
    assert_error(get(client, URL, key), 401, "UNAUTHORIZED")
