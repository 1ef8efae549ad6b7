"""Pure webhook rules: accepted URLs, event types, the signature, the retry schedule."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from comptoir.webhooks import rules
from comptoir.webhooks.errors import InvalidUrl, UnknownEventType


@pytest.mark.parametrize("url", [
    "https://erp.example.com/hooks",
    "https://erp.example.com:8443/comptoir/webhooks?shop=12",
    "https://xn--caf-dma.example.fr/",
    "https://café.example.fr/hooks",
    "https://93.184.216.34/hooks",
])
def test_public_https_urls_are_accepted(url: str) -> None:
    assert rules.check_url(f"  {url} ") == url


@pytest.mark.parametrize("url, reason", [
    ("", "obligatoire"),
    ("http://erp.example.com/hooks", "https://"),
    ("ftp://erp.example.com/hooks", "https://"),
    ("erp.example.com/hooks", "https://"),
    ("https://", "https://"),
    ("https:///hooks", "https://"),
    ("https://erp.example.com:99999/", "mal formée"),
    ("https://erp.example.com:0/", "port"),
    ("https://user:pass@erp.example.com/", "identifiants"),
    ("https://erp.example.com/#frag", "fragment"),
    ("https://erp example.com/", "espaces"),
    ("https://intranet/hooks", "domaine"),
    ("https://-bad-.example.com/", "domaine"),
    ("https://127.1/", "domaine"),
    ("https://10.0.0.5/hooks", "privée"),
    ("https://192.168.1.10/hooks", "privée"),
    ("https://169.254.169.254/latest", "privée"),
    ("https://[fd00::1]/hooks", "privée"),
    ("https://127.0.0.1/hooks", "cette machine"),
    ("https://localhost/hooks", "cette machine"),
    ("http://127.0.0.1:8080/hooks", "cette machine"),
    ("https://example.com/" + "a" * 500, "500"),
])
def test_bad_urls_are_refused_with_a_french_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidUrl) as refused:
        rules.check_url(url)
    assert reason in refused.value.message and refused.value.field == "url"


def test_the_loopback_over_http_only_when_allowed() -> None:
    assert rules.check_url("http://127.0.0.1:8080/hooks", allow_local_http=True) == "http://127.0.0.1:8080/hooks"
    assert rules.check_url("http://localhost:8080/hooks", allow_local_http=True)
    with pytest.raises(InvalidUrl):  # still https only for anything else
        rules.check_url("http://erp.example.com/hooks", allow_local_http=True)


def test_event_types_are_checked_deduplicated_and_ordered() -> None:
    assert rules.check_event_types(None) == []
    assert rules.check_event_types(["IncidentOpened", "OrderAwaitingAcceptance", "IncidentOpened"]) == [
        "OrderAwaitingAcceptance", "IncidentOpened"]
    with pytest.raises(UnknownEventType) as refused:
        rules.check_event_types(["OrderAccepted"])
    assert "OrderAccepted" in refused.value.message


def test_what_a_shop_wants_is_the_union_and_empty_means_all() -> None:
    assert rules.wanted_types([["IncidentOpened"], ["OrderStateChanged"]]) == {"IncidentOpened", "OrderStateChanged"}
    assert rules.wanted_types([["IncidentOpened"], []]) == set(rules.EVENT_TYPES)
    assert rules.selected("IncidentOpened", []) and not rules.selected("IncidentOpened", ["OrderStateChanged"])


def test_the_signature_is_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"evt_1"}'
    expected = hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert rules.signature_header("whsec_test", 1700000000, body) == f"t=1700000000,v1={expected}"


def test_retries_back_off_from_30_seconds_to_a_day() -> None:
    assert [rules.retry_delay(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(minutes=2),
                                                         timedelta(minutes=10)]
    assert rules.retry_delay(9) == rules.retry_delay(50) == timedelta(hours=24)


def test_the_body_is_the_event_in_an_envelope_with_utc_instants() -> None:
    at = datetime(2026, 7, 10, 14, 0, 0, 123456, tzinfo=UTC)
    body = rules.envelope(event_id="evt_1", event_type="IncidentOpened", shop_id=7, occurred_at=at,
                          data=rules.event_data("O-1", 7, at, {"line_id": "O-1-1", "at": at}))
    assert body == {"id": "evt_1", "type": "IncidentOpened", "occurred_at": "2026-07-10T14:00:00.123Z", "shop_id": 7,
                    "data": {"order_id": "O-1", "shop_id": 7, "occurred_at": "2026-07-10T14:00:00.123Z",
                             "line_id": "O-1-1", "at": "2026-07-10T14:00:00.123Z"}}
