"""`Idempotency-Key` on the API's writes: a retried request never runs twice. The first request with a key
inserts its row (unique per caller and key), runs and stores its response in one transaction; a retry with the
same method, path and body gets that response back (`Idempotent-Replayed: true`); anything else is a 409. A key
lives 24 hours; after that it may be used again (the old row is replaced). Because the row commits with the
request's writes, a server killed mid-request leaves no row: the client's retry runs, exactly once."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from comptoir.api.auth import raw_key
from comptoir.api.errors import error_body
from comptoir.api.models import IdempotencyKey
from comptoir.api.render import json_response
from comptoir.core import clock

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CHUNK = 64 * 1024
KEY_LIFETIME = timedelta(hours=24)


def _error(status: int, message: str, code: str) -> HttpResponse:
    return json_response(error_body(status, message, code), status)


def _in_use() -> HttpResponse:
    return _error(409, f"Une requête avec cette clé {HEADER} est en cours ; réessayez dans un instant.",
                  "IDEMPOTENCY_KEY_IN_USE")


def _body_sha256(request: HttpRequest) -> str:
    """The body's digest. A body larger than Django's in-memory limit (a CSV import) is streamed through the
    hash into a spooled file that the view then reads instead of the socket, as Django does with `body`."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if limit is None or length <= limit:
        return hashlib.sha256(request.body).hexdigest()
    digest = hashlib.sha256()
    spooled = tempfile.SpooledTemporaryFile(max_size=limit)  # noqa: SIM115 (the request owns it from here)
    while chunk := request.read(_CHUNK):
        digest.update(chunk)
        spooled.write(chunk)
    spooled.seek(0)
    request._stream = spooled  # type: ignore[attr-defined]
    request._read_started = False  # type: ignore[attr-defined]
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status or 200, content_type=row.content_type or None)
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")  # request.headers would build a dict of every header
        if key is None or request.method not in WRITE_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        # Listed in MIDDLEWARE and in API_MIDDLEWARE (the API's own stack): whichever a request meets first acts.
        if getattr(request, "_idempotency_seen", False):
            return self.get_response(request)
        request._idempotency_seen = True  # type: ignore[attr-defined]
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():  # no NUL: PostgreSQL refuses it
            return _error(400, f"En-tête {HEADER} invalide : de 1 à {MAX_KEY_LENGTH} caractères imprimables.",
                          "IDEMPOTENCY_KEY_INVALID")
        caller = raw_key(request.META.get("HTTP_AUTHORIZATION"))
        if not caller:
            return self.get_response(request)  # no key to scope it by: the call answers 401 anyway
        fingerprint = {"method": request.method or "", "path": request.get_full_path(),
                       "body_sha256": _body_sha256(request)}
        scope = hashlib.sha256(caller.encode()).hexdigest()
        # The caller's expired keys go as new ones come: the table holds about a day of keys per caller.
        IdempotencyKey.objects.filter(scope=scope, created_date__lt=clock.now() - KEY_LIFETIME).delete()
        for _attempt in range(2):  # a second try when the row in the way was deleted meanwhile (expired)
            # One transaction for the key's row, the request's writes and its answer (a killed server leaves
            # nothing, reliability/run.py `kill`). A concurrent retry waits on the row's unique index
            # (PostgreSQL) or the write lock (SQLite) until the first run commits, then gets its answer.
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        row = IdempotencyKey.objects.create(scope=scope, key=key, created_date=clock.now(),
                                                            **fingerprint)
                except IntegrityError:
                    row = None
                if row is not None:
                    return self._run(request, row)
            answer = self._answer_duplicate(scope, key, fingerprint)
            if answer is not None:
                return answer
        return _in_use()

    def _run(self, request: HttpRequest, row: IdempotencyKey) -> HttpResponse:
        """Inside the request's transaction: an exception rolls the row back with the request's writes."""
        response = self.get_response(request)
        if response.status_code >= 500:
            transaction.set_rollback(True)  # neither an answer nor writes to keep: a retry runs again
            return response
        if response.streaming:
            IdempotencyKey.objects.filter(pk=row.pk).delete()  # no body to keep
            return response
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status=response.status_code, content_type=response.get("Content-Type", ""), body=response.content,
            completed_date=clock.now())
        return response

    def _answer_duplicate(self, scope: str, key: str, fingerprint: dict[str, str]) -> HttpResponse | None:
        """The answer to a request whose key is taken; None when the row has gone meanwhile (insert again)."""
        row = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if row is None:
            return None
        if row.created_date < clock.now() - KEY_LIFETIME:
            # Keys live 24 hours (as payment APIs do): an old one is free again.
            IdempotencyKey.objects.filter(pk=row.pk, created_date=row.created_date).delete()
            return None
        if (row.method, row.path, row.body_sha256) != (
                fingerprint["method"], fingerprint["path"], fingerprint["body_sha256"]):
            return _error(409, f"Cette clé {HEADER} a déjà servi pour une autre requête ({row.method} {row.path}) : "
                          "utilisez une nouvelle clé par requête.", "IDEMPOTENCY_KEY_REUSED")
        if row.status is None:  # the request runs in this very transaction (or was written by an older version)
            return _in_use()
        return _replay(row)
