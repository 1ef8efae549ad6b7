"""The `disk` part: uploads (OR74 documents, OR43 message attachments) while the document storage is full, then
read-only, then back to normal, against a real `comptoir serve`. The storage is a tiny tmpfs mounted on the
run's documents directory (root only): "full" leaves a few KB free, so a file is cut off in the middle of its
write; "read-only" is a remount. Each answer must be a clear error (JSON body with a code, never a bare 500),
and afterwards every row has its complete file and every file its row."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from reliability.client import Client, Log
from reliability.common import Server, db_helper, env_for, fresh_database, log, var_dir

TMPFS_SIZE = "1m"
FILE_BYTES = 48 * 1024


def pdf(tag: str) -> bytes:
    body = b"%PDF-1.4\n% " + tag.encode() + b"\n1 0 obj<<>>endobj\n"
    return body + b"%" + b"x" * (FILE_BYTES - len(body) - 20) + b"\ntrailer<<>>\n%%EOF\n"


def _form(fields: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = b""
    for name, filename, content in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        ctype = "Content-Type: application/pdf\r\n" if filename else ""
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{ctype}\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


def _fill(directory: Path, leave: int) -> Path:
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    filler = directory / "filler.bin"
    with open(filler, "wb") as out:
        try:
            out.write(b"\0" * max(free - leave, 0))
        except OSError:
            pass
    return filler


def _call(client: Client, key: str, path: str, fields: list[tuple[str, str | None, bytes]]) -> dict[str, Any]:
    body, ctype = _form(fields)
    try:
        status, head, payload = client.once("POST", path, key, body,
                                            {"Content-Type": ctype, "Idempotency-Key": uuid.uuid4().hex})
    except OSError as exc:
        return {"status": None, "error": type(exc).__name__}
    out: dict[str, Any] = {"status": status, "json": head.get("content-type", "").startswith("application/json")}
    if out["json"]:
        data = json.loads(payload)
        if "errors_count" in data:  # OR74: 200 with the files that failed
            out["errors_count"] = data["errors_count"]
            failed = [e for item in data["order_documents"] for e in item["errors"]]
            out["code"] = failed[0]["code"] if failed else None
            out["message"] = failed[0]["message"] if failed else None
        else:
            out["code"], out["message"] = data.get("code"), data.get("message")
    else:
        out["body"] = payload[:120].decode(errors="replace")
    out["stored"] = status in (200, 201) and not out.get("errors_count") and out["json"]
    out["clear_error"] = not out["stored"] and out["json"] and bool(out.get("code")) and status != 500
    return out


def _round(client: Client, orders: list[dict[str, Any]], phase: str) -> list[dict[str, Any]]:
    results = []
    for order in orders:
        oid, key = order["order_id"], order["key"]
        name = f"{phase}-{oid[-6:]}.pdf"
        meta = json.dumps({"order_documents": [{"file_name": name, "type_code": "CUSTOMER_INVOICE"}]})
        r = _call(client, key, f"/api/orders/{oid}/documents",
                  [("files", name, pdf(f"doc {phase}")), ("order_documents", None, meta.encode())])
        results.append({"op": "OR74", **r})
        thread = json.dumps({"body": f"Photo du colis ({phase}).", "to": ["CUSTOMER"],
                             "topic": {"type": "FREE_TEXT", "value": "Pièce jointe"}})
        r = _call(client, key, f"/api/orders/{oid}/threads",
                  [("thread_input", None, thread.encode()), ("files", f"photo-{phase}.pdf", pdf(f"att {phase}"))])
        results.append({"op": "OR43", **r})
    return results


def run(*, orders: int = 3) -> dict[str, Any]:
    var = var_dir("disk")
    docs = var / "documents"
    docs.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(docs)):
        return {"skipped": "a tmpfs cannot be mounted here (root needed); tests/reliability covers the storage "
                           "faults with a failing storage backend"}
    server = None
    try:
        url = fresh_database("sqlite", "disk")
        env = env_for(url, var)
        data = db_helper(env, "setup", "--shops", "1", "--orders", str(orders), "--state", "SHIPPING")
        server = Server("server-disk", env, var, processes=1, threads=4)
        server.start()
        server.wait_ready()
        client = Client(server.port, Log(var / "client.jsonl", time.monotonic()))
        phases: dict[str, list[dict[str, Any]]] = {"normal": _round(client, data["orders"], "normal")}
        filler = _fill(docs, leave=16 * 1024)
        phases["full"] = _round(client, data["orders"], "full")
        filler.unlink()
        if not _mount("-o", "remount,ro", str(docs)):
            raise RuntimeError("remount read-only failed")
        phases["read_only"] = _round(client, data["orders"], "ro")
        _mount("-o", "remount,rw", str(docs))
        phases["restored"] = _round(client, data["orders"], "restored")
        server.stop()
        files = db_helper(env, "files", "--documents-dir", str(docs))
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["umount", "-l", str(docs)], capture_output=True, check=False)
    stored = sum(r["stored"] for rs in phases.values() for r in rs)
    faulted = [r for name in ("full", "read_only") for r in phases[name]]
    result = {
        "uploads": sum(len(rs) for rs in phases.values()),
        "stored": stored,
        "rows": files["documents"] + files["attachments"],
        "faulted_uploads": len(faulted),
        "faulted_clear_errors": sum(r["clear_error"] for r in faulted),
        "faulted_stored": sum(r["stored"] for r in faulted),
        "answers": {name: sorted({f"{r['op']} {r['status']} {r.get('code') or r.get('body', '')}" for r in rs})
                    for name, rs in phases.items()},
        "recovered": all(r["stored"] for r in phases["restored"] + phases["normal"]),
        "files": files,
    }
    result["ok"] = (result["faulted_clear_errors"] == len(faulted) and result["recovered"]
                    and result["rows"] == stored and not files["rows_without_file"]
                    and not files["rows_with_wrong_size"] and not files["orphan_files"])
    log(f"disk: {result['uploads']} uploads, {len(faulted)} during faults → {result['faulted_clear_errors']} clear "
        f"errors; rows {result['rows']} = stored {stored}; orphan files {len(files['orphan_files'])}, rows without "
        f"file {len(files['rows_without_file'])}: {'OK' if result['ok'] else 'FAILED'}")
    return result
