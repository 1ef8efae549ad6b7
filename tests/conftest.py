"""Shared fixtures: the same suite runs on SQLite and on PostgreSQL (COMPTOIR_DATABASE_URL)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection

from comptoir.core import clock

# API rate limits (observability/ratelimit.py) never throttle the suite; tests/observability turns them on.
settings.COMPTOIR["RATE_LIMITS_ENABLED"] = False
# One process: its own endpoint changes refresh the webhook subscriptions at once, so no timed re-read of them
# can land in a test's query count (tests/webhooks check the timed re-read and reset the map after each test).
settings.COMPTOIR["WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS"] = float("inf")
# The worker's orphan-file sweep never scans the shared var/documents from a test database (tests/documents
# sweep a temporary storage).
settings.COMPTOIR["ORPHAN_SWEEP_HOURS"] = 0
# Files a test stores without a storage of its own go to a temporary folder, never to the checkout's var/documents
# (which `make run` uses: its orphan sweep would find a storage claimed by the test database).
settings.STORAGES = {**settings.STORAGES, "documents": {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": tempfile.mkdtemp(prefix="comptoir-test-documents-")}}}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Decided at collection: the database of this pass is fixed by COMPTOIR_DATABASE_URL.
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="PostgreSQL pass only (runs in the second pass of `make test`)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def comptoir_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """comptoir_settings(DEBIT_DELAY_SECONDS=0): change Comptoir settings for one test."""

    def change(**values: object) -> None:
        for key, value in values.items():
            assert key in settings.COMPTOIR, key
            monkeypatch.setitem(settings.COMPTOIR, key, value)

    return change


class Clock:
    """Moves `comptoir.core.clock.now()` for one test (a fixed offset from real time)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def set(self, instant: datetime) -> None:
        self.offset = instant - clock.real_now()
        clock.forget_offset()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
        clock.forget_offset()

    def now(self) -> datetime:
        return clock.now()


@pytest.fixture
def test_clock() -> Iterator[Clock]:
    fake = Clock()
    clock.set_offset_source(lambda: fake.offset)
    clock.CACHE_SECONDS, saved = 0.0, clock.CACHE_SECONDS
    try:
        yield fake
    finally:
        from comptoir.timers.sandbox import stored_offset

        clock.CACHE_SECONDS = saved
        clock.set_offset_source(stored_offset)


class SmtpInbox:
    """A real SMTP server (aiosmtpd) running in the test process; `messages` holds what it received."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler name)
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp_inbox(settings) -> Iterator[SmtpInbox]:  # type: ignore[no-untyped-def]
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    try:
        yield inbox
    finally:
        controller.stop()
