"""Webhook tests: http:// to the loopback allowed (the test receiver), and the process's map of subscribed shops
reset after each test (its endpoints were rolled back; other tests must not see them), and no moved sandbox clock
kept in the clock's cache from one test to the next."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from comptoir.core import clock
from comptoir.webhooks import queries
from tests.webhooks.receiver import Receiver, running_receiver


@pytest.fixture(autouse=True)
def _local_receivers(comptoir_settings: Callable[..., None]) -> Iterator[None]:
    comptoir_settings(WEBHOOK_ALLOW_LOCAL_HTTP=True, WEBHOOK_TIMEOUT_SECONDS=2)
    queries.reset_subscriptions()
    clock.forget_offset()  # a sandbox clock moved by the previous test is cached for 0.5 s
    yield
    queries.reset_subscriptions({})  # the database is empty of endpoints again after the rollback
    clock.forget_offset()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(Receiver()) as running:
        yield running
