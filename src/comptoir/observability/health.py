"""Readiness: the database answers and every migration on disk is applied. The migration graph is read from
disk once per process; each probe then costs two small queries."""

from __future__ import annotations

from typing import Any

from django.db import Error as DatabaseError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

# (app, name) → the migrations it replaces (a squash), for every migration the code ships.
_expected: dict[tuple[str, str], tuple[tuple[str, str], ...]] | None = None


def expected_migrations() -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    global _expected
    if _expected is None:
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
        _expected = {key: tuple(graph.nodes[key].replaces or ()) for key in graph.nodes}
    return _expected


def ready_report(connection: Any) -> dict[str, str]:
    """{"database": "ok" | "unreachable: ...", "migrations": "ok" | "N pending: ..."}; ready when all are ok."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        applied = set(MigrationRecorder(connection).applied_migrations())
    except (DatabaseError, OSError) as exc:
        return {"database": f"unreachable: {type(exc).__name__}", "migrations": "unknown"}
    pending = sorted(f"{app}.{name}" for (app, name), replaces in expected_migrations().items()
                     if (app, name) not in applied and not (replaces and set(replaces) <= applied))
    if pending:
        shown = ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else "")
        return {"database": "ok", "migrations": f"{len(pending)} pending: {shown} (run `comptoir migrate`)"}
    return {"database": "ok", "migrations": "ok"}
