"""The database settings made from COMPTOIR_DATABASE_URL (settings.database_from_url)."""

from __future__ import annotations

import pytest

from comptoir.settings import database_from_url

PG_URL = "postgresql://comptoir@db.example:5432/comptoir"


def test_postgresql_binds_parameters_on_the_server_and_prepares_hot_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    # given no setting
    monkeypatch.delenv("COMPTOIR_PG_PREPARED_STATEMENTS", raising=False)

    # when the PostgreSQL database setting is made
    config = database_from_url(PG_URL)

    # then our backend, with server-side binding and psycopg's prepared statements
    assert config["ENGINE"] == "comptoir.db.postgresql"
    assert config["OPTIONS"]["server_side_binding"] is True
    assert config["OPTIONS"]["prepare_threshold"] == 5


def test_prepared_statements_can_be_turned_off_for_an_old_pgbouncer(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the operator turning them off (a PgBouncer in transaction mode before 1.21)
    monkeypatch.setenv("COMPTOIR_PG_PREPARED_STATEMENTS", "false")

    # when the setting is made, then Django's client-side binding, nothing prepared
    options = database_from_url(PG_URL).get("OPTIONS", {})
    assert "server_side_binding" not in options and "prepare_threshold" not in options


def test_sqlite_gets_none_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPTOIR_PG_PREPARED_STATEMENTS", raising=False)
    options = database_from_url("sqlite:////tmp/comptoir-settings-test.sqlite3")["OPTIONS"]
    assert "server_side_binding" not in options and options["transaction_mode"] == "IMMEDIATE"


def test_sqlite_uses_our_backend_with_its_writer_settings(tmp_path) -> None:  # noqa: ANN001
    # when the SQLite database setting is made
    config = database_from_url(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    # then our backend (placeholders converted once per statement text), transactions still IMMEDIATE
    assert config["ENGINE"] == "comptoir.db.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
