"""Orphan files of the documents storage (issue 10): a file whose row was never committed or was deleted is removed
once older than the grace period — by the worker's sweep or `comptoir orphans --delete` — and never a file a row
names, never a young one (an upload in flight). Real files in a temporary storage, real rows."""

from __future__ import annotations

import json
import os
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from comptoir.documents import orphans
from comptoir.documents.models import OrderDocument
from comptoir.messaging.models import Attachment
from comptoir.orders.states import OrderState
from comptoir.timers import worker
from tests.factories import ShopFactory, make_order, shop_key

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n" + b"%" + b"x" * 2000 + b"\ntrailer<<>>\n%%EOF\n"
TWO_DAYS_AGO = time.time() - 2 * 86400


@pytest.fixture
def root(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "documents"
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}}
    return root


def _age(path: Path, when: float = TWO_DAYS_AGO) -> None:
    os.utime(path, (when, when))


def _stray(root: Path, name: str, *, old: bool = True) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    if old:
        _age(path)
    return path


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != orphans.OWNER_FILE}


@pytest.fixture
def world(db: None, root: Path) -> dict[str, Any]:
    """An order with two documents and a message attachment (rows and files, all two days old), a deleted
    document's file, a file whose row was never committed (two days old) and an upload in flight (a minute old)."""
    order = make_order(OrderState.SHIPPING, shop=ShopFactory(), lines=1)
    client = Client(HTTP_AUTHORIZATION=shop_key(order.shop))
    for name in ("facture.pdf", "bon.pdf", "supprime.pdf"):
        meta = json.dumps({"order_documents": [{"file_name": name, "type_code": "CUSTOMER_INVOICE"
                                                if name == "facture.pdf" else "OTHER"}]})
        answer = client.post(f"/api/orders/{order.order_id}/documents",
                             {"files": [SimpleUploadedFile(name, PDF)], "order_documents": meta})
        assert answer.status_code == 200 and answer.json()["errors_count"] == 0, answer.content
    answer = client.post(f"/api/orders/{order.order_id}/threads", {
        "thread_input": json.dumps({"body": "Bonjour", "to": ["CUSTOMER"], "topic": {"type": "FREE_TEXT",
                                                                                   "value": "Colis"}}),
        "files": [SimpleUploadedFile("photo.pdf", PDF)]})
    assert answer.status_code == 201, answer.content
    deleted = OrderDocument.objects.get(file_name="supprime.pdf")
    deleted_name = deleted.file.name
    OrderDocument.objects.filter(pk=deleted.pk).delete()  # the row goes, its file stays behind
    kept = {d.file.name for d in OrderDocument.objects.all()} | {a.file.name for a in Attachment.objects.all()}
    assert len(kept) == 3 and all((root / name).is_file() for name in kept)
    for name in kept | {deleted_name}:
        _age(root / name)
    never_committed = _stray(root, f"{order.shop_id}/{order.order_id}/abcdef/crash.pdf")
    in_flight = _stray(root, f"messages/{order.shop_id}/123456/envoi.pdf", old=False)
    return {"kept": kept, "orphans": {deleted_name, str(never_committed.relative_to(root))},
            "in_flight": str(in_flight.relative_to(root)), "client": client}


def test_the_orphans_are_the_old_files_no_row_names(world: dict[str, Any], root: Path) -> None:
    # when the storage is searched with the default grace period (one day)
    found = orphans.find_orphans()

    # then exactly the deleted document's file and the never-committed one; nothing removed
    assert {o.name for o in found} == world["orphans"]
    assert all(o.size == len(PDF) for o in found)
    assert _files(root) == world["kept"] | world["orphans"] | {world["in_flight"]}


def test_removing_them_keeps_every_file_a_row_names_and_the_young_ones(world: dict[str, Any], root: Path) -> None:
    # when the orphans are removed
    removed = orphans.remove_orphans()

    # then they are gone; the files of the rows and the upload in flight stay, and still download
    assert {o.name for o in removed} == world["orphans"]
    assert _files(root) == world["kept"] | {world["in_flight"]}
    document = OrderDocument.objects.get(file_name="facture.pdf")
    download = world["client"].get(f"/api/orders/documents/download?document_ids={document.pk}")
    assert download.status_code == 200 and download.content == PDF
    # and a second pass finds nothing
    assert orphans.remove_orphans() == []


def test_a_file_that_got_its_row_after_the_listing_is_kept(world: dict[str, Any], root: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # given a listing that saw a kept file without its row (its row committed right after)
    listed = orphans.find_orphans()
    name = sorted(world["kept"])[0]
    late = [*listed, orphans.OrphanFile(name, listed[0].modified, len(PDF))]
    monkeypatch.setattr(orphans, "find_orphans", lambda **_: late)

    # when the orphans are removed, then the rows are asked again: that file stays
    removed = orphans.remove_orphans()
    assert {o.name for o in removed} == world["orphans"]
    assert (root / name).is_file()


def test_the_worker_sweeps_them_once_per_interval(world: dict[str, Any], root: Path, comptoir_settings: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # given the sweep on (the suite turns it off), not run yet in this process
    comptoir_settings(ORPHAN_SWEEP_HOURS=24)
    monkeypatch.setattr(orphans, "_last_sweep", None)
    assert orphans.sweep_orphans in worker.SWEEPS

    # when the worker runs, then the orphans are removed
    worker.run_until_idle()
    assert _files(root) == world["kept"] | {world["in_flight"]}

    # and a new orphan waits for the next interval
    late = _stray(root, "shops/1/zzz/tardif.pdf")
    assert orphans.sweep_orphans("w") == 0
    assert late.is_file()
    comptoir_settings(ORPHAN_SWEEP_HOURS=0)  # 0: never
    monkeypatch.setattr(orphans, "_last_sweep", None)
    assert orphans.sweep_orphans("w") == 0 and late.is_file()


def test_a_storage_of_another_database_is_never_swept(world: dict[str, Any], root: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # given a storage claimed by another database
    (root / orphans.OWNER_FILE).write_text("postgresql:db.example:5432:ailleurs")

    # then neither the sweep nor the command removes anything
    with pytest.raises(orphans.ForeignStorage):
        orphans.remove_orphans()
    monkeypatch.setattr(orphans, "_last_sweep", None)
    monkeypatch.setitem(orphans.settings.COMPTOIR, "ORPHAN_SWEEP_HOURS", 24)
    assert orphans.sweep_orphans("w") == 0
    with pytest.raises(CommandError, match="autre base"):
        call_command("orphans", "--delete", stdout=StringIO())
    assert world["orphans"] <= _files(root)


def test_the_first_sweep_claims_the_storage_for_its_database(world: dict[str, Any], root: Path) -> None:
    orphans.remove_orphans()
    assert (root / orphans.OWNER_FILE).read_text() == orphans.database_identity()
    assert orphans.remove_orphans() == []  # its own claim: swept again


def test_the_command_lists_then_removes(world: dict[str, Any], root: Path) -> None:
    # when listed: every orphan named, nothing removed
    out = StringIO()
    call_command("orphans", stdout=out)
    for name in world["orphans"]:
        assert name in out.getvalue()
    assert "2 fichiers orphelins" in out.getvalue()
    assert world["orphans"] <= _files(root)

    # with a grace period shorter than the in-flight upload's age, it is not listed either way (a minute < 1 h)
    out = StringIO()
    call_command("orphans", "--grace-hours", "1", stdout=out)
    assert world["in_flight"] not in out.getvalue()

    # when removed
    out = StringIO()
    call_command("orphans", "--delete", stdout=out)
    assert "2 fichiers supprimés" in out.getvalue()
    assert _files(root) == world["kept"] | {world["in_flight"]}

    # a grace period under an hour is refused
    with pytest.raises(CommandError, match="grace-hours"):
        call_command("orphans", "--delete", "--grace-hours", "0", stdout=StringIO())
