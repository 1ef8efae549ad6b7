"""Uploads while the document storage fails (issue 10, « full disk or read-only storage »): OR74 documents,
OR43 message attachments and the customer's message form get a clear error, and nothing is half-written — no
row without its file, no file (whole or cut off) without its row. reliability/disk.py runs the same faults on a
real tmpfs against `comptoir serve`; here the storage backend fails on cue."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.documents.models import OrderDocument
from comptoir.messaging.models import Attachment, Message, Thread
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.links import customer_path
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from tests.factories import ShopFactory, make_order, shop_key

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n" + b"%" + b"x" * 4000 + b"\ntrailer<<>>\n%%EOF\n"
BACKEND = "tests.reliability.test_storage_faults"


class FullDisk(FileSystemStorage):
    """The disk fills up in the middle of the write: part of the file is on disk, then ENOSPC. With
    `whole_files=1`, the first file fits and the next one does not."""

    def __init__(self, *, whole_files: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.whole_files = whole_files
        self.saved = 0

    def _save(self, name: str, content: Any) -> str:
        if self.saved < self.whole_files:
            self.saved += 1
            return super()._save(name, content)
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as cut_off:
            cut_off.write(content.read(512))
        raise OSError(errno.ENOSPC, "No space left on device", path)


class ReadOnly(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        raise OSError(errno.EROFS, "Read-only file system", self.path(name))


@pytest.fixture
def storage_dir(tmp_path: Path) -> Path:
    return tmp_path / "documents"


def use_storage(settings: Any, storage_dir: Path, backend: str, **options: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": backend, "OPTIONS": {"location": str(storage_dir), **options}}}


def files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def order(db: None) -> Order:
    order = make_order(OrderState.SHIPPING, shop=ShopFactory(), lines=1)
    order.key = shop_key(order.shop)  # type: ignore[attr-defined]
    return order


def upload_document(client: Client, order: Order, name: str = "facture.pdf") -> Any:
    meta = json.dumps({"order_documents": [{"file_name": name, "type_code": "CUSTOMER_INVOICE"}]})
    return client.post(f"/api/orders/{order.order_id}/documents",
                       {"files": [SimpleUploadedFile(name, PDF)], "order_documents": meta},
                       HTTP_AUTHORIZATION=order.key)  # type: ignore[attr-defined]


def open_thread(client: Client, order: Order, attachments: int) -> Any:
    data: dict[str, Any] = {"thread_input": json.dumps({"body": "Voici la photo du colis.", "to": ["CUSTOMER"],
                                                        "topic": {"type": "FREE_TEXT", "value": "Colis"}})}
    data["files"] = [SimpleUploadedFile(f"photo-{i}.pdf", PDF, "application/pdf") for i in range(attachments)]
    key = order.key  # type: ignore[attr-defined]
    return client.post(f"/api/orders/{order.order_id}/threads", data, HTTP_AUTHORIZATION=key)


@pytest.mark.parametrize("backend", ["FullDisk", "ReadOnly"])
def test_an_or74_upload_on_a_full_or_read_only_disk_is_reported_and_leaves_nothing(
        client: Client, settings: Any, storage_dir: Path, order: Order, backend: str) -> None:
    # given a document storage that cannot take the file
    use_storage(settings, storage_dir, f"{BACKEND}.{backend}")

    # when the seller uploads an invoice
    response = upload_document(client, order)

    # then OR74 reports the file as failed, with a stable code and a French explanation
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert body["errors_count"] == 1
    (failed,) = body["order_documents"]
    assert failed["input"]["file_name"] == "facture.pdf"
    (error,) = failed["errors"]
    assert error["code"] == "STORAGE_UNAVAILABLE"
    assert "disque plein ou en lecture seule" in error["message"]
    # and nothing was written: no row, no file (not even the cut-off part), the order has no invoice
    assert not OrderDocument.objects.exists()
    assert files_in(storage_dir) == []
    assert Order.objects.get(pk=order.pk).has_invoice is False

    # when the storage is back, the same upload goes through
    use_storage(settings, storage_dir, "django.core.files.storage.FileSystemStorage")
    assert json.loads(upload_document(client, order).content)["errors_count"] == 0
    (document,) = OrderDocument.objects.all()
    assert [p.stat().st_size for p in files_in(storage_dir)] == [document.file_size]


def test_a_message_whose_second_attachment_hits_a_full_disk_is_a_503_and_leaves_nothing(
        client: Client, settings: Any, storage_dir: Path, order: Order) -> None:
    # given a storage with room for one attachment, not two
    use_storage(settings, storage_dir, f"{BACKEND}.FullDisk", whole_files=1)
    outbox = OutboxEvent.objects.count()

    # when the seller writes to the customer with two attachments
    response = open_thread(client, order, attachments=2)

    # then a 503 with Mirakl's error body: the client may retry later
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"status", "message", "code"}
    assert (body["status"], body["code"]) == (503, "STORAGE_UNAVAILABLE")
    assert "Réessayez" in body["message"]
    # and nothing of the message is left: no thread, message, attachment or notification; no file at all
    assert not Thread.objects.exists() and not Message.objects.exists() and not Attachment.objects.exists()
    assert OutboxEvent.objects.count() == outbox
    assert files_in(storage_dir) == []


def test_the_customer_form_on_a_read_only_disk_says_so_in_french_and_writes_nothing(
        client: Client, settings: Any, storage_dir: Path, order: Order) -> None:
    # given a read-only document storage
    use_storage(settings, storage_dir, f"{BACKEND}.ReadOnly")
    page = customer_path(order)

    # when the customer writes to the seller with a photo of the parcel
    response = client.post(f"{page}messages/", {"sujet": "Colis abîmé", "body": "Le carton est déchiré.",
                                                "files": [SimpleUploadedFile("colis.pdf", PDF, "application/pdf")]},
                           follow=True)

    # then the page says the message was not sent, and why
    assert response.status_code == 200
    text = response.content.decode()
    assert "Votre message n&#x27;a pas été envoyé" in text or "Votre message n'a pas été envoyé" in text
    assert "disque plein ou en lecture seule" in text
    # and nothing was written
    assert not Thread.objects.exists() and not Attachment.objects.exists()
    assert files_in(storage_dir) == []
