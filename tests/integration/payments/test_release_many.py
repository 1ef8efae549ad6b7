"""Releasing many holds at once: a provider's own `release_many` when it has one (the simulated provider: one
INSERT and one read for the batch, a replayed key answering its first result), else one `release` per hold."""

from __future__ import annotations

import pytest

from comptoir.payments.adapter import ProviderResult, Release, release_many
from comptoir.payments.models import SimulatedCharge
from comptoir.payments.simulated import SimulatedProvider

pytestmark = pytest.mark.django_db(transaction=True)


def _releases(*order_ids: str) -> list[Release]:
    return [Release(order_id=o, authorization_ref=f"auth-{o}", amount_cents=1000 + n, currency="EUR",
                    idempotency_key=f"release:{o}") for n, o in enumerate(order_ids)]


class OneByOneProvider:
    """An adapter written before `release_many` existed: only `release`."""

    name = "one-by-one"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def release(self, *, order_id: str, authorization_ref: str, amount_cents: int, currency: str,
                idempotency_key: str) -> ProviderResult:
        self.calls.append(idempotency_key)
        return ProviderResult(True, f"rel-{order_id}-{amount_cents}-{currency}-{authorization_ref}")


def test_a_provider_without_release_many_gets_one_release_call_per_hold_in_order() -> None:
    provider = OneByOneProvider()

    results = release_many(provider, _releases("A-1", "B-2"))

    assert provider.calls == ["release:A-1", "release:B-2"]
    assert [r.reference for r in results] == ["rel-A-1-1000-EUR-auth-A-1", "rel-B-2-1001-EUR-auth-B-2"]


def test_the_simulated_provider_releases_a_batch_once_and_replays_answer_the_first_result() -> None:
    provider = SimulatedProvider()
    first = provider.release_many(_releases("A-1", "B-2"))
    assert [(r.succeeded, r.reference) for r in first] == [(True, "auth-A-1"), (True, "auth-B-2")]

    # a replay of one key (a worker killed after the call) in a new batch with another hold
    again = release_many(provider, _releases("B-2", "C-3")[:1] + [Release("C-3", "auth-C-3", 5, "EUR",
                                                                          "release:C-3")])

    assert [(r.succeeded, r.reference) for r in again] == [(True, "auth-B-2"), (True, "auth-C-3")]
    assert SimulatedCharge.objects.filter(kind="RELEASE").count() == 3
    assert SimulatedCharge.objects.get(idempotency_key="release:B-2").amount_cents == 1001  # the first call's
    # and the batch answers as `release` would for the same key
    single = provider.release(order_id="A-1", authorization_ref="other", amount_cents=1, currency="EUR",
                              idempotency_key="release:A-1")
    assert (single.succeeded, single.reference) == (first[0].succeeded, first[0].reference)


def test_a_provider_answering_too_few_results_is_an_error() -> None:
    class Short:
        name = "short"

        def release_many(self, releases):  # noqa: ANN001, ANN202
            return []

    with pytest.raises(RuntimeError, match="release_many"):
        release_many(Short(), _releases("A-1"))
