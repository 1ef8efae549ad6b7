"""Log formats: JSON lines (COMPTOIR_LOG_FORMAT=json) with time, level, logger, message, request id and extra
fields; readable text by default."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime

from comptoir.observability.context import bound_request_id
from comptoir.observability.logs import JsonFormatter, TextFormatter


def _record(message: str, *args: object, exc_info: object = None, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("comptoir.orders", logging.WARNING, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_a_json_line_holds_the_standard_keys_and_the_extra_fields() -> None:
    with bound_request_id("req-1"):
        line = JsonFormatter().format(_record("order %s refused", "A-1", order_id="A-1", lines=2))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "comptoir.orders"
    assert entry["message"] == "order A-1 refused"
    assert entry["request_id"] == "req-1"
    assert (entry["order_id"], entry["lines"]) == ("A-1", 2)
    assert datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).tzinfo is not None
    assert "args" not in entry and "msg" not in entry  # LogRecord's own attributes stay out


def test_an_exception_is_one_json_field_and_odd_values_become_strings() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info(), when=datetime(2026, 7, 14), blob=object())

    entry = json.loads(JsonFormatter().format(record))

    assert entry["request_id"] is None
    assert "ValueError: boom" in entry["exception"]
    assert entry["when"].startswith("2026-07-14")
    assert entry["blob"].startswith("<object object")


def test_the_text_format_shows_the_request_id_or_a_dash() -> None:
    formatter = TextFormatter()

    outside = formatter.format(_record("hello"))
    with bound_request_id("abc"):
        inside = formatter.format(_record("hello"))

    assert outside.endswith("WARNING comptoir.orders [-] hello")
    assert inside.endswith("WARNING comptoir.orders [abc] hello")


def _log_line(log_format: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COMPTOIR_LOG_FORMAT"}
    if log_format:
        env["COMPTOIR_LOG_FORMAT"] = log_format
    env["DJANGO_SETTINGS_MODULE"] = "comptoir.settings"
    code = ("import django, logging; django.setup(); "
            "logging.getLogger('comptoir.orders').warning('shop %s suspended', 7, extra={'shop_id': 7})")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stderr.strip().splitlines()[-1]


def test_comptoir_log_format_json_makes_every_log_line_json() -> None:
    entry = json.loads(_log_line("json"))

    assert entry["message"] == "shop 7 suspended"
    assert entry["shop_id"] == 7
    assert entry["logger"] == "comptoir.orders"
    assert entry["request_id"] is None


def test_the_default_log_format_is_text() -> None:
    line = _log_line(None)

    assert line.endswith("WARNING comptoir.orders [-] shop 7 suspended")
