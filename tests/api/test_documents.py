"""OR72, OR73, OR74, OR76 and the invoice extension over HTTP, with real files made in the tests."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.documents.models import OrderDocument
from comptoir.orders.models import Order
from comptoir.shops.models import Shop
from tests.api.helpers import assert_error, auth, body_of, get
from tests.factories import make_order
from tests.unit.documents.pdfs import invoice_pdf, png_bytes


@pytest.fixture(autouse=True)
def document_storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def _legal(shop: Shop) -> Shop:
    Shop.objects.filter(pk=shop.pk).update(
        legal_name="Boutique Lumière SARL", legal_form="SARL", share_capital="10 000 €",
        identification_number="123456789", rcs="Paris B 123 456 789", vat_number="FR12123456789",
        head_office_street="1 rue de la Paix", head_office_zip_code="75002", head_office_city="Paris",
        customer_service_email="sav@lumiere.test", producer_registration_number="FR123456_01ABCD",
        warranty_duration="2 ans")
    return Shop.objects.get(pk=shop.pk)


def upload(client: Client, key: str | None, order_id: str, files: list[tuple[str, bytes]],
           metadata: Any = None, *, field: str = "files") -> Any:
    if metadata is None:
        metadata = {"order_documents": [{"file_name": n, "type_code": "CUSTOMER_INVOICE"} for n, _ in files]}
    meta = metadata if isinstance(metadata, str) else json.dumps(metadata)
    data: dict[str, Any] = {field: [SimpleUploadedFile(n, d) for n, d in files], "order_documents": meta}
    return client.post(f"/api/orders/{order_id}/documents", data, **auth(key))


def test_upload_list_download_delete_keeps_has_invoice(client: Client, shop: Shop, key: str) -> None:
    order = make_order("SHIPPING", shop=shop)
    response = upload(client, key, order.order_id, [("facture.pdf", invoice_pdf("10,00"))])
    assert response.status_code == 200
    assert body_of(response) == {"errors_count": 0, "order_documents": []}
    assert Order.objects.get(pk=order.pk).has_invoice is True
    listed = body_of(get(client, "/api/orders/documents", key, {"order_ids": order.order_id}))["order_documents"]
    assert len(listed) == 1
    doc = listed[0]
    assert (doc["order_id"], doc["file_name"], doc["type"]) == (order.order_id, "facture.pdf", "CUSTOMER_INVOICE")
    assert isinstance(doc["id"], int) and doc["file_size"] > 0 and doc["date_uploaded"].endswith("Z")
    assert doc["invoice_check"]["status"] == "INCOMPLETE"
    raw = get(client, "/api/orders/documents/download", key, {"document_ids": str(doc["id"])})
    assert raw.status_code == 200 and raw["Content-Type"] == "application/pdf"
    assert raw.content.startswith(b"%PDF") and 'filename="facture.pdf"' in raw["Content-Disposition"]
    deleted = client.delete(f"/api/orders/documents/{doc['id']}", **auth(key))
    assert deleted.status_code == 204
    assert Order.objects.get(pk=order.pk).has_invoice is False
    assert not OrderDocument.objects.exists()


def test_sdk_xml_metadata_and_files_brackets_are_accepted(client: Client, shop: Shop, key: str) -> None:
    order = make_order("SHIPPING", shop=shop)
    xml = ("<body><order_documents><order_document><file_name>photo.png</file_name>"
           "<type_code>OTHER</type_code></order_document></order_documents></body>")
    response = upload(client, key, order.order_id, [("photo.png", png_bytes())], xml, field="files[]")
    assert body_of(response)["errors_count"] == 0
    document = OrderDocument.objects.get()
    assert (document.type, document.content_type, document.check_report) == ("OTHER", "image/png", None)
    assert Order.objects.get(pk=order.pk).has_invoice is False


def test_only_failures_are_answered_and_good_files_are_stored(client: Client, shop: Shop, key: str) -> None:
    order = make_order("SHIPPING", shop=shop)
    files = [("ok.pdf", invoice_pdf("10,00")), ("disguised.pdf", png_bytes()), ("virus.png", b"MZ\x90\x00" * 50),
             ("truncated.pdf", b"%PDF-1.4\n1 0 obj <<"), ("bomb.zip", b"PK\x03\x04" + b"\x00" * 100)]
    response = upload(client, key, order.order_id, files)
    body = body_of(response)
    assert response.status_code == 200
    failed = {entry["input"]["file_name"]: entry["errors"][0]["code"] for entry in body["order_documents"]}
    assert failed == {"disguised.pdf": "DOCUMENT_FILE_INVALID", "virus.png": "DOCUMENT_FILE_INVALID",
                      "bomb.zip": "DOCUMENT_FILE_INVALID"}
    assert body["errors_count"] == 3
    stored = {d.file_name: d.check_report["status"] for d in OrderDocument.objects.all()}
    assert stored == {"ok.pdf": "INCOMPLETE", "truncated.pdf": "UNREADABLE"}


def test_unknown_type_and_missing_metadata(client: Client, shop: Shop, key: str) -> None:
    order = make_order("SHIPPING", shop=shop)
    bad_type = {"order_documents": [{"file_name": "a.pdf", "type_code": "NOPE"}]}
    body = body_of(upload(client, key, order.order_id, [("a.pdf", invoice_pdf("1,00"))], bad_type))
    assert body["order_documents"][0]["errors"][0]["code"] == "DOCUMENT_TYPE_UNKNOWN"
    assert_error(upload(client, key, order.order_id, [("a.pdf", b"%PDF")], "{not json"), 400, "VALIDATION_ERROR")
    assert_error(upload(client, key, order.order_id, [("a.pdf", b"%PDF")], "<body><x"), 400, "VALIDATION_ERROR")
    assert not OrderDocument.objects.exists()


def test_size_limit_and_fifty_documents_per_order(client: Client, shop: Shop, key: str, settings: Any) -> None:
    settings.COMPTOIR = {**settings.COMPTOIR, "DOCUMENT_MAX_BYTES": 2000}
    order = make_order("SHIPPING", shop=shop)
    meta = {"order_documents": [{"file_name": "big.png", "type_code": "OTHER"}]}
    big = body_of(upload(client, key, order.order_id, [("big.png", png_bytes() + b"\x00" * 3000)], meta))
    assert big["order_documents"][0]["errors"][0]["code"] == "DOCUMENT_FILE_TOO_LARGE"
    names = [(f"p{i}.png", png_bytes()) for i in range(50)]
    meta = {"order_documents": [{"file_name": n, "type_code": "OTHER"} for n, _ in names]}
    assert body_of(upload(client, key, order.order_id, names, meta))["errors_count"] == 0
    meta = {"order_documents": [{"file_name": "one-more.png", "type_code": "OTHER"}]}
    over = body_of(upload(client, key, order.order_id, [("one-more.png", png_bytes())], meta))
    assert over["order_documents"][0]["errors"][0]["code"] == "ORDER_DOCUMENTS_LIMIT_REACHED"
    assert OrderDocument.objects.count() == 50


def test_another_shops_order_and_document_are_not_found(client: Client, shop: Shop, key: str,
                                                        other_key: str) -> None:
    order = make_order("SHIPPING", shop=shop)
    upload(client, key, order.order_id, [("f.pdf", invoice_pdf("1,00"))])
    document = OrderDocument.objects.get()
    assert_error(upload(client, other_key, order.order_id, [("g.pdf", invoice_pdf("1,00"))]), 404,
                 "ORDER_NOT_FOUND")
    assert body_of(get(client, "/api/orders/documents", other_key, {"order_ids": order.order_id})) == {
        "order_documents": []}
    assert_error(get(client, "/api/orders/documents/download", other_key, {"document_ids": str(document.pk)}),
                 404, "DOCUMENT_NOT_FOUND")
    assert_error(client.delete(f"/api/orders/documents/{document.pk}", **auth(other_key)), 404,
                 "DOCUMENT_NOT_FOUND")
    assert_error(client.delete("/api/orders/documents/999999", **auth(key)), 404, "DOCUMENT_NOT_FOUND")
    assert OrderDocument.objects.count() == 1


def test_several_documents_download_as_a_zip_with_a_folder_per_order(client: Client, shop: Shop, key: str) -> None:
    first, second = make_order("SHIPPING", shop=shop), make_order("SHIPPING", shop=shop)
    for order in (first, second):
        upload(client, key, order.order_id, [("f.pdf", invoice_pdf("1,00"))])
    response = get(client, "/api/orders/documents/download", key,
                   {"order_ids": f"{first.order_id},{second.order_id}"})
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert names == [f"{first.order_id}/f.pdf", f"{second.order_id}/f.pdf"]


def test_generated_invoice_is_numbered_checked_complete_and_not_deletable(client: Client, shop: Shop,
                                                                           key: str) -> None:
    _legal(shop)
    first, second = make_order("SHIPPED", shop=shop), make_order("SHIPPED", shop=shop)
    one = client.post(f"/api/orders/{first.order_id}/invoice", **auth(key))
    two = client.post(f"/api/orders/{second.order_id}/invoice", **auth(key))
    assert (one.status_code, two.status_code) == (201, 201)
    assert body_of(one)["invoice_number"] == f"FA-{shop.id}-000001"
    assert body_of(two)["invoice_number"] == f"FA-{shop.id}-000002"
    assert body_of(one)["invoice_check"]["status"] == "COMPLETE", body_of(one)["invoice_check"]["problems"]
    assert Order.objects.get(pk=first.pk).has_invoice is True
    assert_error(client.post(f"/api/orders/{first.order_id}/invoice", **auth(key)), 400, "INVOICE_ALREADY_EXISTS")
    assert_error(client.delete(f"/api/orders/documents/{body_of(one)['id']}", **auth(key)), 400,
                 "DOCUMENT_NOT_DELETABLE")


def test_invoice_refused_before_payment_or_without_legal_profile(client: Client, shop: Shop, key: str) -> None:
    waiting = make_order("WAITING_ACCEPTANCE", shop=shop)
    shipped = make_order("SHIPPED", shop=shop)
    assert_error(client.post(f"/api/orders/{shipped.order_id}/invoice", **auth(key)), 400,
                 "SHOP_LEGAL_PROFILE_INCOMPLETE")
    _legal(shop)
    assert_error(client.post(f"/api/orders/{waiting.order_id}/invoice", **auth(key)), 400, "INVOICE_NOT_ALLOWED")
    assert not OrderDocument.objects.exists()
    # The failed attempts used no number: the next invoice is still the first.
    response = client.post(f"/api/orders/{shipped.order_id}/invoice", **auth(key))
    assert body_of(response)["invoice_number"] == f"FA-{shop.id}-000001"


def test_do01_lists_the_order_document_types(client: Client, key: str) -> None:
    codes = [d["code"] for d in body_of(get(client, "/api/documents", key))["documents"]]
    assert "CUSTOMER_INVOICE" in codes and "CUSTOMER_CREDIT_NOTE" in codes


def _facturx_totals(pdf: bytes) -> dict[str, str]:
    from facturx import get_facturx_xml_from_pdf
    from lxml import etree

    _name, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    root = etree.fromstring(xml)
    found: dict[str, str] = {}  # the first of each tag: the document's TypeCode comes before the taxes' ones
    for element in root.iter():
        if isinstance(element.tag, str):
            found.setdefault(element.tag.rsplit("}", 1)[1], element.text or "")
    return found


def test_credit_note_of_a_real_refund_matches_its_amounts(client: Client, shop: Shop, key: str,
                                                          document_storage: Path) -> None:
    from comptoir.refunds.rules import RefundMode
    from comptoir.refunds.services import LineRequest, ensure_default_reasons, refund_lines
    from tests.factories import SELLER

    _legal(shop)
    ensure_default_reasons()
    order = make_order("SHIPPED", shop=shop)  # 10,00 € and 20,00 € incl. 20 % VAT, shipping 4,90 € each
    first = order.lines.order_by("index").first()
    assert client.post(f"/api/orders/{order.order_id}/invoice", **auth(key)).status_code == 201
    # Given a commercial gesture of 5,00 € excl. tax on the first line (6,00 € incl. 20 % VAT)...
    (refund,) = refund_lines(requests=[LineRequest(first.line_id, "22", RefundMode.AMOUNT, amount_cents=500)],
                             who=SELLER, shop_id=shop.id)
    assert (refund.amount_cents, refund.amount_tax_cents) == (600, 100)
    response = client.post(f"/api/orders/{order.order_id}/credit_note",
                           json.dumps({"order_refund_id": refund.group_id}), content_type="application/json",
                           **auth(key))
    assert response.status_code == 201, response.content
    body = body_of(response)
    assert body["invoice_number"] == f"AV-{shop.id}-000001" and body["type"] == "CUSTOMER_CREDIT_NOTE"
    assert body["invoice_check"]["status"] == "COMPLETE", body["invoice_check"]["problems"]
    note = OrderDocument.objects.get(pk=body["id"])
    assert note.refund_group_id == refund.group_id and note.generated
    with note.file.open("rb") as handle:
        totals = _facturx_totals(handle.read())
    # The credit note carries exactly the refund: 6,00 € incl. tax, 5,00 € excl. tax, 1,00 € VAT; type 381.
    assert totals["TypeCode"] == "381"
    assert (totals["GrandTotalAmount"], totals["TaxBasisTotalAmount"], totals["TaxTotalAmount"]) == (
        "6.00", "5.00", "1.00")
    # Once only per refund; an unknown refund is refused.
    assert_error(client.post(f"/api/orders/{order.order_id}/credit_note",
                             json.dumps({"order_refund_id": refund.group_id}), content_type="application/json",
                             **auth(key)), 400, "CREDIT_NOTE_ALREADY_EXISTS")
    assert_error(client.post(f"/api/orders/{order.order_id}/credit_note",
                             json.dumps({"order_refund_id": "nope"}), content_type="application/json",
                             **auth(key)), 404, "REFUND_NOT_FOUND")
