"""Rate limits of the seller API per key: 429 with Retry-After and Mirakl's error body past the limit, other keys
and the operator API untouched, a new window lets calls through again, a 429 is never kept as an idempotent
answer, and the limits are configurable per endpoint group."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core.cache import caches
from django.http import HttpResponse
from django.test import Client

from comptoir.api.models import IdempotencyKey
from comptoir.observability import ratelimit
from comptoir.observability.cache_url import cache_from_url
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.api.helpers import assert_error
from tests.factories import make_order
from tests.observability.conftest import value

pytestmark = pytest.mark.django_db

WINDOW_START = 1_800_000_000 - 1_800_000_000 % 60  # a minute boundary


class WallClock:
    def __init__(self) -> None:
        self.now = WINDOW_START + 10.0


@pytest.fixture
def limited(comptoir_settings, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], WallClock]:
    """limited("OR11=3/60") turns the limits on with those overrides, at 10 s into a minute of a fixed clock."""
    wall = WallClock()
    monkeypatch.setattr(ratelimit, "wall_clock", lambda: wall.now)
    caches["default"].clear()

    def configure(limits: str) -> WallClock:
        comptoir_settings(RATE_LIMITS_ENABLED=True, RATE_LIMITS=limits)
        return wall

    return configure


def _or11(client: Client, key: str) -> HttpResponse:
    return client.get("/api/orders", HTTP_AUTHORIZATION=key)


def test_past_the_limit_or11_answers_429_with_retry_after_and_mirakls_error_body(client: Client, key: str,
                                                                                 limited, scrape) -> None:
    # given OR11 limited to 3 calls a minute
    limited("OR11=3/60")
    before = scrape()

    # when a connector calls it 4 times within the minute (10 s in)
    answers = [_or11(client, key) for _ in range(4)]

    # then the first three go through, the fourth is refused until the minute ends (50 s later)
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    refused = answers[3]
    body = assert_error(refused, 429, "TOO_MANY_REQUESTS")
    assert refused["Retry-After"] == "50"
    assert "50 s" in body["message"] and "OR11" in body["message"]
    assert value(scrape(), "comptoir_api_rate_limited_total", group="OR11") - value(
        before, "comptoir_api_rate_limited_total", group="OR11") == 1


def test_one_keys_limit_leaves_another_keys_calls_alone(client: Client, key: str, other_key: str, limited) -> None:
    # given OR11 limited to 2 a minute and a first key that used them up
    limited("OR11=2/60")
    assert [_or11(client, key).status_code for _ in range(3)] == [200, 200, 429]

    # when another shop's key calls
    # then it has its own allowance
    assert [_or11(client, other_key).status_code for _ in range(2)] == [200, 200]
    assert _or11(client, other_key).status_code == 429


def test_groups_are_counted_apart(client: Client, key: str, limited) -> None:
    # given OR11 used up
    limited("OR11=1/60,A01=1/3600")
    assert [_or11(client, key).status_code for _ in range(2)] == [200, 429]

    # when the same key reads its account (A01)
    # then that group still has its own allowance
    assert client.get("/api/account", HTTP_AUTHORIZATION=key).status_code == 200
    assert client.get("/api/account", HTTP_AUTHORIZATION=key).status_code == 429


def test_a_new_window_lets_calls_through_again(client: Client, key: str, limited) -> None:
    wall = limited("OR11=1/60")
    assert [_or11(client, key).status_code for _ in range(2)] == [200, 429]

    wall.now += 50  # the minute ends

    assert _or11(client, key).status_code == 200


def test_the_operator_api_is_not_limited(client: Client, op_key: str, limited) -> None:
    limited("*=1/60")

    answers = [client.get("/api/operator/outbox", HTTP_AUTHORIZATION=op_key).status_code for _ in range(3)]

    assert answers == [200, 200, 200]


def test_limits_off_never_answer_429(client: Client, key: str, limited, comptoir_settings) -> None:
    limited("OR11=1/60")
    comptoir_settings(RATE_LIMITS_ENABLED=False)

    assert [_or11(client, key).status_code for _ in range(3)] == [200, 200, 200]


def test_a_group_set_off_is_not_limited(client: Client, key: str, limited) -> None:
    limited("*=1/60,OR11=off")

    assert [_or11(client, key).status_code for _ in range(3)] == [200, 200, 200]


def _accept(client: Client, key: str, order: Order, **headers: str) -> HttpResponse:
    lines = list(order.lines.values_list("line_id", flat=True))
    return client.put(f"/api/orders/{order.order_id}/accept",
                      json.dumps({"order_lines": [{"id": line, "accepted": True} for line in lines]}),
                      content_type="application/json", HTTP_AUTHORIZATION=key, **headers)


def test_a_refused_write_runs_nothing_and_its_idempotency_key_stays_free(client: Client, shop: Shop, key: str,
                                                                         limited) -> None:
    # given per-order calls limited to 1 a minute, used up by a first accept
    wall = limited("default=1/60")
    first, second = (make_order(OrderState.WAITING_ACCEPTANCE, shop=shop) for _ in range(2))
    assert _accept(client, key, first).status_code == 204

    # when the second accept is refused with 429, then retried with the same Idempotency-Key after the minute
    refused = _accept(client, key, second, HTTP_IDEMPOTENCY_KEY="retry-me")
    untouched = Order.objects.get(pk=second.pk).state
    wall.now += 60
    retried = _accept(client, key, second, HTTP_IDEMPOTENCY_KEY="retry-me")

    # then the 429 changed nothing and was not kept: the retry runs
    assert refused.status_code == 429
    assert untouched == OrderState.WAITING_ACCEPTANCE
    assert retried.status_code == 204
    assert not retried.has_header("Idempotent-Replayed")
    assert Order.objects.get(pk=second.pk).state == OrderState.WAITING_DEBIT
    assert IdempotencyKey.objects.filter(key="retry-me").count() == 1


# --- configuration ------------------------------------------------------------------------------------------


def test_the_defaults_follow_mirakls_call_frequencies() -> None:
    limits = ratelimit.parse_limits("")

    assert limits["OR11"] == (60, 60)
    assert limits["A01"] == (60, 3600)
    assert limits["referentials"] == (60, 3600)
    assert limits["default"] == (1200, 60)


def test_overrides_apply_over_a_star_that_sets_every_group() -> None:
    limits = ratelimit.parse_limits("*=5/10, OR11=off ,A01=2/86400")

    assert limits == {"OR11": None, "A01": (2, 86400), "referentials": (5, 10), "default": (5, 10)}
    assert ratelimit.parse_limits({"OR11": "7/60", "default": (9, 1)})["OR11"] == (7, 60)


@pytest.mark.parametrize("raw", ["OR99=1/60", "OR11=fast", "OR11=0/60", "OR11=10", "OR11=1/0"])
def test_a_bad_limit_setting_is_a_clear_error(raw: str) -> None:
    with pytest.raises(ValueError, match="COMPTOIR_RATE_LIMITS"):
        ratelimit.parse_limits(raw)


@pytest.mark.parametrize(("method", "path", "group"), [
    ("GET", "/api/orders", "OR11"),
    ("GET", "/api/orders/", "OR11"),
    ("PUT", "/api/orders/A-1/accept", "default"),
    ("GET", "/api/account", "A01"),
    ("GET", "/api/reasons/REFUND", "referentials"),
    ("GET", "/api/shipping/carriers", "referentials"),
    ("POST", "/api/shipments", "default"),
])
def test_each_call_falls_in_its_endpoint_group(method: str, path: str, group: str) -> None:
    assert ratelimit.group_of(method, path) == group


# --- where the counters live ----------------------------------------------------------------------------------


def test_the_counters_can_live_in_the_database_cache_shared_by_every_process(client: Client, key: str, limited,
                                                                              settings) -> None:
    # given COMPTOIR_CACHE_URL=db://comptoir_cache (its table created as the README says)
    from django.core.management import call_command
    from django.db import connection

    settings.CACHES = {"default": cache_from_url("db://comptoir_cache")}
    call_command("createcachetable", verbosity=0)
    limited("OR11=2/60")

    # when a key calls OR11 three times
    answers = [_or11(client, key).status_code for _ in range(3)]

    # then the third is refused, and the count is a row of the shared table
    assert answers == [200, 200, 429]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM comptoir_cache WHERE cache_key LIKE %s", ["%rl:OR11:%"])
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(("url", "backend"), [
    ("", "django.core.cache.backends.locmem.LocMemCache"),
    ("locmem://", "django.core.cache.backends.locmem.LocMemCache"),
    ("db://comptoir_cache", "django.core.cache.backends.db.DatabaseCache"),
    ("redis://cache.internal:6379/0", "django.core.cache.backends.redis.RedisCache"),
    ("memcached://cache.internal:11211", "django.core.cache.backends.memcached.PyMemcacheCache"),
])
def test_comptoir_cache_url_names_the_cache_backend(url: str, backend: str) -> None:
    assert cache_from_url(url)["BACKEND"] == backend


def test_an_unknown_cache_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="COMPTOIR_CACHE_URL"):
        cache_from_url("mongodb://somewhere")
