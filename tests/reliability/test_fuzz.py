"""The fuzzer of reliability/fuzz.py, a few generated requests per operation of /api/openapi.json (seller and
operator APIs) on the demo marketplace: no 5xx, and every answer with a documented status, type and schema.
`make reliability` runs the same with thousands of cases."""

from __future__ import annotations

import pytest
from reliability.fuzz import fuzz, known_ids, summary

from comptoir.ops.demo import load_demo
from comptoir.wsgi import application

CASES_PER_OPERATION = 4  # 2 valid and 2 invalid per operation: about 250 requests, well under a minute


@pytest.mark.django_db(transaction=True)  # the WSGI app runs each request as in production (own transactions)
def test_generated_requests_never_get_a_5xx_nor_an_undocumented_answer() -> None:
    # given the demo marketplace (three shops, orders in every state, the keys demo-shop-2001 and demo-operator)
    load_demo()

    # when every operation of the OpenAPI document gets generated requests, half of them with real ids
    result = fuzz(application, cases=CASES_PER_OPERATION, seed=2026, ids=known_ids())

    # then every operation was exercised, and no answer was a 5xx or broke the document
    assert len(result["operations"]) >= 70, sorted(result["operations"])
    assert all(op["cases"] >= 1 for op in result["operations"].values()), summary(result)
    assert result["cases"] >= 200, summary(result)
    assert result["errors"] == 0, summary(result)
    assert result["failures"] == [], summary(result)
    statuses = {status for op in result["operations"].values() for status in op["statuses"]}
    assert {"200", "400", "404"} <= statuses, statuses  # valid requests went through, bad ones were refused


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_breaks_its_documented_schema_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the demo marketplace, and RE01 answering a reason without its label and with a number as its code
    from comptoir.api.mirakl import reasons

    load_demo()
    monkeypatch.setattr(reasons, "_reasons_json", lambda found: {"reasons": [{"code": 1, "type": "REFUND",
                                                                            "is_shop_right": True}]})

    # when RE01 is fuzzed
    result = fuzz(application, cases=2, seed=2026, only=("GET /api/reasons",))

    # then its 200s are reported as breaking the response schema
    assert result["operations"]["GET /api/reasons"]["statuses"].get("200"), summary(result)
    checks = {(f["operation"], f["status"]) for f in result["failures"] if "schema" in f["check"].lower()}
    assert checks == {("GET /api/reasons", 200)}, summary(result)
