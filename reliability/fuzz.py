"""Fuzzing (issue 10): schemathesis against the OpenAPI document of the seller and operator APIs
(/api/openapi.json, one document: the operator API lives under /api/operator/), in process through the Django
WSGI app, on a fresh demo marketplace. The bar: no 5xx, every answer as documented (status, type, schema)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reliability" / "results"
SCRATCH = ROOT / "var" / "reliability"
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
KEYS = {"seller": "demo-shop-2001", "operator": "demo-operator"}  # ops/demo.py
PG_DATABASE = "comptoir_fuzz"
MODES = ("positive", "negative")
# The database the fuzzer runs on is its own: these settings only matter to that child process.
CHILD_ENV = {
    "COMPTOIR_SANDBOX": "1",  # the sandbox clock and payment endpoints answer (they 404 otherwise)
    "COMPTOIR_RATE_LIMITS_ENABLED": "0",  # thousands of calls on two keys: a 429 would hide the answer
    "COMPTOIR_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "COMPTOIR_LOG_LEVEL": "CRITICAL",  # a 5xx is reported with its traceback below, not logged twice
    "DJANGO_SETTINGS_MODULE": "comptoir.settings",
}


# --- the fuzzing itself (also run by tests/reliability on the test database) -------------------------------

def known_ids() -> dict[str, list[Any]]:
    """Real identifiers of the loaded data, so a share of the cases reaches past the 404 of a random id."""
    from comptoir.documents.models import OrderDocument
    from comptoir.incidents.models import Incident
    from comptoir.ledger.models import Payout
    from comptoir.messaging.models import Attachment, Thread
    from comptoir.notifications.models import OutboxEvent
    from comptoir.orders.models import Order, OrderLine
    from comptoir.refunds.models import ReasonType
    from comptoir.shipping.models import Carrier
    from comptoir.webhooks.models import Delivery, Endpoint

    def pks(model: Any, **where: Any) -> list[Any]:
        return list(model.objects.filter(**where).order_by("pk").values_list("pk", flat=True)[:50])

    lines = OrderLine.objects.filter(order__shop_id=2001).order_by("pk").values_list("order__order_id", "line_id")
    return {
        "order_id": list(Order.objects.order_by("pk").values_list("order_id", flat=True)[:80]),
        "order_line": [list(pair) for pair in lines[:80]],
        "thread_id": pks(Thread), "attachment_id": pks(Attachment), "document_id": pks(OrderDocument),
        "endpoint_id": pks(Endpoint), "delivery_id": pks(Delivery), "payout_id": pks(Payout),
        "event_id": pks(OutboxEvent), "incident_id": pks(Incident),
        "code": list(Carrier.objects.order_by("pk").values_list("code", flat=True)),
        "shop_id": [2001, 2002, 2003], "reason_type": [t.value for t in ReasonType],
    }


def _with_known_ids(strategy: Any, path_names: list[str], ids: dict[str, list[Any]]) -> Any:
    """Half the positive cases take real identifiers for their path parameters (the other half keep theirs)."""
    from hypothesis import strategies as st

    choices: dict[str, Any] = {}
    if "order_line_id" in path_names and ids.get("order_line"):
        choices["order_line"] = st.sampled_from(ids["order_line"])
    for name in path_names:
        if name not in ("order_id", "order_line_id") or "order_line" not in choices:
            if ids.get(name):
                choices[name] = st.sampled_from(ids[name])
    if not choices:
        return strategy

    def apply(drawn: tuple[Any, bool, dict[str, Any]]) -> Any:
        case, use, values = drawn
        if use:
            for name, value in values.items():
                if name == "order_line":
                    case.path_parameters["order_id"], case.path_parameters["order_line_id"] = value
                else:
                    case.path_parameters[name] = value
        return case

    return st.tuples(strategy, st.booleans(), st.fixed_dictionaries(choices)).map(apply)


def _explore(strategy: Any, body: Any, *, examples: int, seed: int) -> None:
    """Run `body` on `examples` cases drawn from `strategy` (no shrinking: a failure is recorded, not raised)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    @fixed_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=strategy)
    def explore(case: Any) -> None:
        body(case)

    explore()


def _error_message(response: Any) -> str:
    try:
        body = response.json()
        return f"{body.get('code')}: {body.get('message')}"[:160]
    except Exception:  # not the error body: say so
        return f"(no error body) {response.text[:100]}"


def fuzz(app: Any, *, cases: int, seed: int | None, ids: dict[str, list[Any]] | None = None,
         keys: dict[str, str] = KEYS, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """`cases` generated requests per operation (split between valid and invalid input), each checked for
    no 5xx and for the documented status, content type and schema. Returns the figures and the failures."""
    import schemathesis
    from django.core.signals import got_request_exception
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    seed = random.randrange(2**32) if seed is None else seed
    tracebacks: list[str] = []

    def remember(sender: Any, request: Any = None, **_: Any) -> None:
        tracebacks.append(traceback.format_exc())

    got_request_exception.connect(remember, weak=False)
    operations: dict[str, dict[str, Any]] = {}
    failures: dict[tuple[str, str, str], dict[str, Any]] = {}
    started = time.monotonic()
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            if only and label not in only:
                continue
            key = keys["operator"] if operation.path.startswith("/api/operator/") else keys["seller"]
            statuses: Counter[str] = Counter()
            refused: Counter[str] = Counter()
            errors: list[str] = []
            path_names = [p.name for p in operation.path_parameters]
            for mode in MODES:
                strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode),
                                                 headers={"Authorization": key})
                if mode == "positive" and ids:
                    strategy = _with_known_ids(strategy, path_names, ids)

                def one(case: Any, mode: str = mode, label: str = label, statuses: Counter[str] = statuses,
                        refused: Counter[str] = refused) -> None:
                    del tracebacks[:]
                    response = case.call()
                    statuses[str(response.status_code)] += 1
                    if mode == "positive" and response.status_code == 400:  # valid as documented, yet refused
                        refused[_error_message(response)] += 1
                    try:
                        case.validate_response(response, checks=checks)
                    except FailureGroup as group:
                        for failure in group.exceptions:
                            title = getattr(failure, "title", type(failure).__name__)
                            message = str(getattr(failure, "message", failure))[:600]
                            found = failures.setdefault((label, title, message[:120]), {
                                "operation": label, "mode": mode, "check": title, "status": response.status_code,
                                "message": message, "count": 0, "curl": case.as_curl_command()[:1500],
                                "traceback": tracebacks[-1][-3000:] if tracebacks else "",
                            })
                            found["count"] += 1

                try:
                    _explore(strategy, one, examples=max(1, cases // len(MODES)), seed=seed)
                except Unsatisfiable:  # an operation whose inputs are all free strings has no invalid input
                    if mode == "positive":
                        errors.append(f"{mode}: no case could be generated")
                except Exception as exc:  # a case that could not be generated or sent: reported, never hidden
                    errors.append(f"{mode}: {type(exc).__name__}: {str(exc)[:300]}")
            operations[label] = {"cases": sum(statuses.values()), "statuses": dict(sorted(statuses.items())),
                                 "errors": errors, "valid_but_refused": dict(refused.most_common(5))}
    finally:
        got_request_exception.disconnect(remember)
    found = sorted(failures.values(), key=lambda f: (f["operation"], f["check"]))
    return {
        "seed": seed, "cases_per_operation": cases, "operations": operations,
        "cases": sum(op["cases"] for op in operations.values()),
        "server_errors": sum(f["count"] for f in found if f["status"] >= 500),
        "failures": found, "failure_count": len(found),
        "errors": sum(len(op["errors"]) for op in operations.values()),
        "seconds": round(time.monotonic() - started, 1),
    }


def summary(result: dict[str, Any]) -> str:
    by_status: Counter[str] = Counter()
    for op in result["operations"].values():
        by_status.update(op["statuses"])
    lines = [f"fuzz [{result.get('database', '?')}]: {result['cases']} cases over {len(result['operations'])} "
             f"operations in {result['seconds']} s (seed {result['seed']}); statuses {dict(sorted(by_status.items()))}",
             f"  failures: {result['failure_count']} distinct ({result['server_errors']} server errors), "
             f"generation errors: {result['errors']}"]
    for label, op in result["operations"].items():
        lines.append(f"  {label:<75} {op['cases']:>5}  {op['statuses']}" + (f"  ERR {op['errors']}" if op["errors"] else ""))
    for failure in result["failures"]:
        lines.append(f"  FAIL {failure['operation']} [{failure['mode']}] {failure['check']} "
                     f"(HTTP {failure['status']}, x{failure['count']}): {failure['message'][:300]}")
    return "\n".join(lines)


# --- a fresh database, loaded with the demo, in a child process -----------------------------------------------

def _fresh_database(database_url: str) -> tuple[str, str]:
    """A fresh database for the fuzzer: (url, engine). SQLite: the file `database_url` names (emptied if it lies
    under var/, refused if it holds anything elsewhere), var/reliability/fuzz.sqlite3 for `sqlite://`.
    PostgreSQL: the database comptoir_fuzz, dropped and created on the server `database_url` names."""
    if database_url.startswith("sqlite"):
        given = database_url.removeprefix("sqlite:///") if database_url.startswith("sqlite:///") else ""
        path = Path(given).resolve() if given and given != ":memory:" else SCRATCH / "fuzz.sqlite3"
        if path.exists() and path.stat().st_size and (ROOT / "var") not in path.parents:
            raise RuntimeError(f"{path} is not empty: the fuzzer loads the demo into a fresh database")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", "sqlite"
    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    return urlunsplit(parts._replace(path=f"/{PG_DATABASE}")), "postgresql"


def _child(cases: int, seed: int | None, out: str, only: tuple[str, ...]) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from comptoir.ops.demo import load_demo
    from comptoir.wsgi import application

    logging.getLogger("django").setLevel(logging.CRITICAL)  # each 4xx is logged as a warning: thousands
    call_command("migrate", verbosity=0)
    load_demo()
    result = fuzz(application, cases=cases, seed=seed, ids=known_ids(), only=only)
    Path(out).write_text(json.dumps(result, indent=1, ensure_ascii=False))


def run(*, cases: int, database_url: str, seed: int | None = None, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Fuzz every operation with `cases` generated requests (half valid, half invalid) on a fresh database of
    `database_url`'s engine loaded with the demo marketplace (see _fresh_database), in a child process.
    Prints the figures, writes reliability/results/fuzz-<engine>.json and returns them."""
    url, engine = _fresh_database(database_url)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    args = [PYTHON, str(Path(__file__).resolve()), "--child", "--cases", str(cases), "--out", out]
    args += ["--seed", str(seed)] if seed is not None else []
    args += [arg for label in only for arg in ("--only", label)]
    env = {**os.environ, **CHILD_ENV, "COMPTOIR_DATABASE_URL": url, "COMPTOIR_HOME": str(ROOT),
           "COMPTOIR_VAR_DIR": str(SCRATCH / f"var-{engine}")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    subprocess.run(args, env=env, cwd=ROOT, check=True)
    result = {"database": engine, **json.loads(Path(out).read_text())}
    Path(out).unlink(missing_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"fuzz-{engine}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(summary(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100, help="generated requests per operation")
    parser.add_argument("--database-url", default=f"sqlite:///{SCRATCH / 'fuzz.sqlite3'}")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--only", action="append", default=[], help='one operation, e.g. "GET /api/orders"')
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        _child(ns.cases, ns.seed, ns.out, tuple(ns.only))
        return
    result = run(cases=ns.cases, database_url=ns.database_url, seed=ns.seed, only=tuple(ns.only))
    sys.exit(1 if result["failure_count"] or result["errors"] else 0)


if __name__ == "__main__":
    main()
