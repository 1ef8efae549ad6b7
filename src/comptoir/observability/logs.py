"""Log formats: one JSON object per line (COMPTOIR_LOG_FORMAT=json) or readable text (the default), both with
the request id of the work under way. Wired in settings.LOGGING; imports no Django (logging starts first)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from comptoir.observability.context import current_request_id

# The attributes every LogRecord has: anything else on a record came from `extra=` and goes into the JSON.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "request_id", "taskName",
    "request",  # django.request's HttpRequest: its path is in the message, its id in request_id
}


def _request_id(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None)
    if value is None:
        value = current_request_id()
    if value is None:
        # django.request logs a 4xx/5xx after the middleware returned; its record carries the request.
        value = getattr(getattr(record, "request", None), "request_id", None)
    return value


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", "request_id", ...extra fields, "exception"} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


class RequestIdFilter(logging.Filter):
    """Gives each record the current request id (unless `extra={"request_id": ...}` named one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id(record)
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message`; "-" when no request is under way."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s", datefmt)

    def format(self, record: logging.LogRecord) -> str:
        request_id = _request_id(record)
        record.request_id = request_id or "-"
        try:
            return super().format(record)
        finally:
            record.request_id = request_id  # another handler may format the same record as JSON
