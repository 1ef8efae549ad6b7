"""/healthz answers without the database; /readyz checks the database and the migrations (503 otherwise)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from comptoir.observability import views


def test_healthz_answers_ok_without_touching_the_database(client: Client) -> None:
    # given a test without database access (any query would fail the test)
    # when the load balancer probes the process
    response = client.get("/healthz")

    # then it answers 200 with a small JSON body, never cached
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_answers_ready_when_the_database_answers_and_every_migration_is_applied(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ready",
                                            "checks": {"database": "ok", "migrations": "ok"}}


@pytest.fixture
def unreachable_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A connection of the same engine to a database that cannot be reached (a missing directory for SQLite,
    a closed port for PostgreSQL), handed to /readyz in place of the real one."""
    if connection.vendor == "sqlite":
        broken_settings = {**connection.settings_dict, "NAME": str(tmp_path / "missing" / "db.sqlite3")}
    else:
        broken_settings = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": "1",
                           "OPTIONS": {**connection.settings_dict.get("OPTIONS", {}), "connect_timeout": 2}}
    broken = connections[DEFAULT_DB_ALIAS].__class__(broken_settings, alias="unreachable")
    monkeypatch.setattr(views, "database_connection", lambda: broken)
    yield broken
    broken.close()


@pytest.mark.django_db  # pytest-django refuses any connection in a test without it, a broken one included
def test_readyz_answers_503_when_the_database_cannot_be_reached(client: Client, unreachable_database: Any) -> None:
    # given a database that refuses connections
    # when the load balancer asks whether the process is ready
    response = client.get("/readyz")

    # then 503: take the process out of rotation
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unreachable: ")
    assert body["checks"]["migrations"] == "unknown"


@pytest.mark.django_db
def test_readyz_answers_503_while_a_migration_is_not_applied(client: Client) -> None:
    # given a database where the outbox's request-id migration is not recorded as applied
    MigrationRecorder(connection).record_unapplied("notifications", "0003_outbox_request_id")

    # when the probe runs
    response = client.get("/readyz")

    # then 503, naming the missing migration
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"].startswith("1 pending: notifications.0003_outbox_request_id")
