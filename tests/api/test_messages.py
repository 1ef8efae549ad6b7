"""OR43, M11, M10, M12 and M13 over HTTP, with multipart bodies as real clients send them (the JSON part as a
form field, as a file part with or without a content type), and the bad inputs: unknown or another shop's
thread, empty message, oversized or disguised attachment — each answered with Mirakl's error body, nothing
written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.messaging.models import Attachment, Message, Thread, ThreadRead
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.api.helpers import ISO_Z, auth, get
from tests.factories import make_order
from tests.unit.documents.pdfs import png_bytes

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def message_storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


@pytest.fixture
def order(shop: Shop) -> Order:
    return make_order(OrderState.SHIPPING, shop=shop, lines=1)


def open_thread(client: Client, key: str | None, order_id: str, payload: dict[str, Any] | str,
                files: list[tuple[str, bytes, str]] = (), as_file: bool = False) -> Any:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    data: dict[str, Any] = {"thread_input": SimpleUploadedFile("thread_input.json", raw.encode(),
                                                               "application/json") if as_file else raw}
    if files:
        data["files"] = [SimpleUploadedFile(name, content, ctype) for name, content, ctype in files]
    return client.post(f"/api/orders/{order_id}/threads", data, **auth(key))


def reply(client: Client, key: str | None, thread_id: str, payload: dict[str, Any] | str,
          files: list[tuple[str, bytes, str]] = ()) -> Any:
    data: dict[str, Any] = {"message_input": payload if isinstance(payload, str) else json.dumps(payload)}
    if files:
        data["files"] = [SimpleUploadedFile(name, content, ctype) for name, content, ctype in files]
    return client.post(f"/api/inbox/threads/{thread_id}/message", data, **auth(key))


def raw_multipart(parts: list[tuple[str, str | None, str | None, bytes]]) -> tuple[bytes, str]:
    """(name, filename, part headers, content): a body written by hand, as PHP and .NET clients send it."""
    boundary = "----comptoirBoundary7MA4YWxkTrZu0gW"
    chunks = []
    for name, filename, headers, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n" + (f"{headers}\r\n" if headers else "")
        chunks.append(head.encode() + b"\r\n" + content + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["message"]
    return body


BASE = {"body": "Bonjour, votre commande part demain.", "to": ["CUSTOMER"],
        "topic": {"type": "FREE_TEXT", "value": "Expédition"}}


# --- OR43 ------------------------------------------------------------------------------------------------------


def test_or43_opens_a_thread_with_an_attachment(client: Client, key: str, order: Order) -> None:
    response = open_thread(client, key, order.order_id, BASE, files=[("facture.pdf", PDF, "application/pdf")])
    assert response.status_code == 201, response.content
    body = response.json()
    thread = Thread.objects.get(pk=int(body["thread_id"]))
    message = Message.objects.get(pk=int(body["message_id"]))
    assert thread.order_id == order.pk and thread.topic_value == "Expédition" and thread.topic_type == "FREE_TEXT"
    assert message.author_type == "SHOP" and message.recipients == ["CUSTOMER"] and message.language == "fr"
    (attachment,) = message.attachments.all()
    assert (attachment.name, attachment.size, attachment.content_type) == ("facture.pdf", len(PDF), "application/pdf")
    assert ThreadRead.objects.get(thread=thread, participant="CUSTOMER").unread_count == 1
    assert ThreadRead.objects.get(thread=thread, participant="SHOP").unread_count == 0
    assert OutboxEvent.objects.filter(event_type="SellerMessageReceived", audience="CUSTOMER",
                                      order_id=order.order_id).count() == 1


def test_or43_reads_the_json_part_sent_as_a_file(client: Client, key: str, order: Order) -> None:
    response = open_thread(client, key, order.order_id, BASE, as_file=True)
    assert response.status_code == 201, response.content


def test_or43_reads_a_hand_written_body_with_odd_part_headers(client: Client, key: str, order: Order) -> None:
    body, content_type = raw_multipart([
        ("thread_input", None, "type: application/json", json.dumps(BASE).encode()),
        ("files", "photo.png", "Content-Type: application/octet-stream", png_bytes()),
    ])
    response = client.post(f"/api/orders/{order.order_id}/threads", body, content_type=content_type, **auth(key))
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=int(response.json()["message_id"]))
    assert [a.content_type for a in message.attachments.all()] == ["image/png"]


def test_or43_is_allowed_on_an_order_in_staging(client: Client, key: str, shop: Shop) -> None:
    staging = make_order(OrderState.STAGING, shop=shop, lines=1)
    response = open_thread(client, key, staging.order_id, {**BASE, "to": ["OPERATOR"]})
    assert response.status_code == 201, response.content
    assert Message.objects.get(pk=int(response.json()["message_id"])).recipients == ["OPERATOR"]


def test_or43_on_another_shops_order_is_a_404(client: Client, other_key: str, order: Order) -> None:
    assert_error(open_thread(client, other_key, order.order_id, BASE), 404, "ORDER_NOT_FOUND")
    assert not Thread.objects.exists()


def test_or43_with_an_empty_body_is_a_400_and_writes_nothing(client: Client, key: str, order: Order) -> None:
    assert_error(open_thread(client, key, order.order_id, {**BASE, "body": "  "}), 400, "MESSAGE_EMPTY")
    assert_error(open_thread(client, key, order.order_id, "{not json"), 400, "VALIDATION_ERROR")
    assert_error(client.post(f"/api/orders/{order.order_id}/threads", {}, **auth(key)), 400, "VALIDATION_ERROR")
    assert_error(open_thread(client, key, order.order_id, {**BASE, "to": ["SUPPLIER"]}), 400, "MESSAGE_INVALID")
    assert not Thread.objects.exists() and not OutboxEvent.objects.filter(event_type__contains="Message").exists()


def test_or43_refuses_a_disguised_attachment(client: Client, key: str, order: Order,
                                             message_storage: Path) -> None:
    exe = b"MZ\x90\x00" + b"\x00" * 200
    body = assert_error(open_thread(client, key, order.order_id, BASE, files=[("facture.pdf", exe, "application/pdf")]),
                        400, "MESSAGE_ATTACHMENT_INVALID")
    assert "programme Windows" in body["message"]
    # A real PNG named .pdf is disguised too.
    assert_error(open_thread(client, key, order.order_id, BASE, files=[("scan.pdf", png_bytes(), "application/pdf")]),
                 400, "MESSAGE_ATTACHMENT_INVALID")
    assert not Thread.objects.exists() and not Attachment.objects.exists()
    assert not any(p.is_file() for p in message_storage.rglob("*"))


def test_or43_refuses_an_oversized_attachment(client: Client, key: str, order: Order, comptoir_settings: Any,
                                              message_storage: Path) -> None:
    comptoir_settings(MESSAGE_ATTACHMENT_MAX_BYTES=1000)
    big = PDF + b"0" * 2000
    # The good file first: nothing of it may stay when the second one is refused.
    assert_error(open_thread(client, key, order.order_id, BASE, files=[
        ("ok.pdf", PDF, "application/pdf"), ("gros.pdf", big, "application/pdf")]), 400, "MESSAGE_ATTACHMENT_TOO_LARGE")
    assert not Thread.objects.exists() and not Attachment.objects.exists()
    assert not any(p.is_file() for p in message_storage.rglob("*"))


def test_or43_needs_a_key(client: Client, order: Order) -> None:
    assert_error(open_thread(client, None, order.order_id, BASE), 401, "UNAUTHORIZED")


def test_or43_does_not_block_an_english_message(client: Client, key: str, order: Order) -> None:
    response = open_thread(client, key, order.order_id, {**BASE, "body": "Hello, your parcel left this morning."})
    assert response.status_code == 201
    assert Message.objects.get(pk=int(response.json()["message_id"])).language == "en"


# --- M12 -------------------------------------------------------------------------------------------------------


def _thread(client: Client, key: str, order: Order) -> str:
    response = open_thread(client, key, order.order_id, BASE)
    assert response.status_code == 201
    return str(response.json()["thread_id"])


def test_m12_replies_with_to_as_objects(client: Client, key: str, order: Order) -> None:
    thread_id = _thread(client, key, order)
    response = reply(client, key, thread_id, {"body": "Le transporteur passe à 14 h.", "to": [{"type": "CUSTOMER"}]},
                     files=[("bon.png", png_bytes(), "image/png")])
    assert response.status_code == 201, response.content
    assert response.json()["thread_id"] == thread_id
    assert Message.objects.filter(thread_id=int(thread_id)).count() == 2
    assert ThreadRead.objects.get(thread_id=int(thread_id), participant="CUSTOMER").unread_count == 2
    assert Thread.objects.get(pk=int(thread_id)).message_count == 2


def test_m12_defaults_to_the_customer(client: Client, key: str, order: Order) -> None:
    thread_id = _thread(client, key, order)
    response = reply(client, key, thread_id, {"body": "Suite : colis remis au transporteur."})
    assert response.status_code == 201
    assert Message.objects.get(pk=int(response.json()["message_id"])).recipients == ["CUSTOMER"]


def test_m12_bad_inputs(client: Client, key: str, other_key: str, order: Order) -> None:
    thread_id = _thread(client, key, order)
    assert_error(reply(client, key, "999999", {"body": "Bonjour"}), 404, "THREAD_NOT_FOUND")
    assert_error(reply(client, key, "abc", {"body": "Bonjour"}), 404, "THREAD_NOT_FOUND")
    assert_error(reply(client, other_key, thread_id, {"body": "Bonjour"}), 404, "THREAD_NOT_FOUND")
    assert_error(reply(client, key, thread_id, {"body": ""}), 400, "MESSAGE_EMPTY")
    assert_error(reply(client, key, thread_id, {"body": 12}), 400, "VALIDATION_ERROR")
    assert_error(reply(client, key, thread_id, {"body": "Voir pièce jointe", "to": [{"type": "OPERATOR"}]},
                       files=[("x.png", b"GIF89a" + b"\x00" * 50, "image/png")]), 400, "MESSAGE_ATTACHMENT_INVALID")
    assert Message.objects.filter(thread_id=int(thread_id)).count() == 1


# --- M11 / M10 / M13 -------------------------------------------------------------------------------------------


def test_m10_returns_the_thread_object(client: Client, key: str, order: Order, shop: Shop) -> None:
    response = open_thread(client, key, order.order_id, BASE, files=[("facture.pdf", PDF, "application/pdf")])
    thread_id = response.json()["thread_id"]
    body = get(client, f"/api/inbox/threads/{thread_id}", key).json()
    assert body["id"] == thread_id
    assert body["topic"] == {"type": "FREE_TEXT", "value": "Expédition"}
    assert body["entities"] == [{"id": order.order_id, "type": "MMP_ORDER", "label": order.order_id}]
    types = {p["type"]: p for p in body["authorized_participants"]}
    assert set(types) == {"CUSTOMER", "SHOP", "OPERATOR"}
    assert "id" not in types["OPERATOR"] and types["SHOP"]["id"] == str(shop.id)
    assert types["CUSTOMER"]["display_name"] == "Jeanne Martin"
    assert ISO_Z.match(body["date_created"]) and ISO_Z.match(body["date_updated"])
    meta = body["metadata"]
    assert meta["total_count"] == 1 and meta["shop_reply_needed_since"] is None
    assert meta["last_sender"]["type"] == "SHOP"
    (message,) = body["messages"]
    assert message["body"] == BASE["body"] and message["from"]["type"] == "SHOP"
    assert message["to"][0]["type"] == "CUSTOMER"
    (attachment,) = message["attachments"]
    assert attachment["name"] == "facture.pdf" and attachment["size"] == len(PDF)
    download = client.get(f"/api/inbox/threads/{attachment['id']}/download", **auth(key))
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Type"] == "application/pdf"


def test_m10_and_m13_hide_other_shops(client: Client, key: str, other_key: str, order: Order) -> None:
    response = open_thread(client, key, order.order_id, BASE, files=[("facture.pdf", PDF, "application/pdf")])
    thread_id = response.json()["thread_id"]
    attachment_id = Attachment.objects.get().pk
    assert_error(get(client, f"/api/inbox/threads/{thread_id}", other_key), 404, "THREAD_NOT_FOUND")
    assert_error(get(client, "/api/inbox/threads/424242", key), 404, "THREAD_NOT_FOUND")
    assert_error(get(client, f"/api/inbox/threads/{attachment_id}/download", other_key), 404, "ATTACHMENT_NOT_FOUND")
    assert_error(get(client, "/api/inbox/threads/999999/download", key), 404, "ATTACHMENT_NOT_FOUND")


def test_m11_filters_by_order_and_pages_by_seek(client: Client, key: str, other_key: str, shop: Shop,
                                                order: Order, other_shop: Shop,
                                                django_assert_max_num_queries: Any) -> None:
    second = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    for _ in range(3):
        _thread(client, key, order)
    _thread(client, key, second)
    foreign = make_order(OrderState.SHIPPING, shop=other_shop, lines=1)
    _thread(client, other_key, foreign)
    everything = get(client, "/api/inbox/threads", key).json()
    assert len(everything["data"]) == 4 and "next_page_token" not in everything
    assert "messages" not in everything["data"][0]
    only = get(client, "/api/inbox/threads", key, {"entity_type": "MMP_ORDER", "entity_id": second.order_id}).json()
    assert [t["entities"][0]["id"] for t in only["data"]] == [second.order_id]
    with django_assert_max_num_queries(8):
        page1 = get(client, "/api/inbox/threads", key, {"limit": 3, "with_messages": "true"}).json()
    assert len(page1["data"]) == 3 and "previous_page_token" not in page1
    assert len(page1["data"][0]["messages"]) == 1
    page2 = get(client, "/api/inbox/threads", key, {"limit": 3, "page_token": page1["next_page_token"]}).json()
    assert len(page2["data"]) == 1 and "next_page_token" not in page2
    ids = [t["id"] for t in page1["data"] + page2["data"]]
    assert ids == [t["id"] for t in everything["data"]]
    back = get(client, "/api/inbox/threads", key, {"limit": 3, "page_token": page2["previous_page_token"]}).json()
    assert [t["id"] for t in back["data"]] == [t["id"] for t in page1["data"]]


def test_m11_bad_parameters(client: Client, key: str) -> None:
    assert_error(get(client, "/api/inbox/threads", key, {"entity_id": "X-A"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, "/api/inbox/threads", key, {"limit": "0"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, "/api/inbox/threads", key, {"limit": "101"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, "/api/inbox/threads", key, {"page_token": "garbage"}), 400, "VALIDATION_ERROR")
    assert get(client, "/api/inbox/threads", key, {"entity_type": "MMP_OFFER"}).json() == {"data": []}


def test_openapi_lists_the_message_endpoints_with_their_multipart_bodies(client: Client) -> None:
    paths = json.loads(client.get("/api/openapi.json").content)["paths"]
    assert paths["/api/orders/{order_id}/threads"]["post"]["operationId"] == "OR43"
    assert paths["/api/inbox/threads"]["get"]["operationId"] == "M11"
    assert paths["/api/inbox/threads/{thread_id}"]["get"]["operationId"] == "M10"
    assert paths["/api/inbox/threads/{thread_id}/message"]["post"]["operationId"] == "M12"
    assert paths["/api/inbox/threads/{attachment_id}/download"]["get"]["operationId"] == "M13"
    body = paths["/api/inbox/threads/{thread_id}/message"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert "message_input" in body["schema"]["required"]
