"""The seller's Documents tab and the customer's invoice download, through the real pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.customer.links import customer_path
from comptoir.documents.models import OrderDocument
from comptoir.shops.models import Shop, ShopMember
from tests.api.test_documents import _legal
from tests.factories import ShopFactory, make_order
from tests.unit.documents.pdfs import invoice_pdf


@pytest.fixture(autouse=True)
def document_storage(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


@pytest.fixture
def seller(db: None, client: Client) -> tuple[Client, Shop]:
    shop = _legal(ShopFactory())
    user = get_user_model().objects.create_user("vendeur@test.fr", "vendeur@test.fr", "motdepasse-solide-1")
    ShopMember.objects.create(shop=shop, user=user)
    client.force_login(user)
    return client, shop


def test_upload_shows_the_missing_mentions_then_generate_and_customer_downloads(seller: tuple[Client, Shop]) -> None:
    client, shop = seller
    order = make_order("SHIPPED", shop=shop)
    pdf = invoice_pdf("1,00", without=("seller_rcs", "legal_warranty"))
    response = client.post(f"/vendeur/commandes/{order.order_id}/documents/envoyer/",
                           {"type_code": "CUSTOMER_INVOICE", "document": SimpleUploadedFile("f.pdf", pdf)},
                           follow=True)
    page = response.content.decode()
    assert 'data-mention="seller_rcs" data-status="missing"' in page
    assert 'data-mention="legal_warranty" data-status="missing"' in page
    uploaded = OrderDocument.objects.get()
    client.post(f"/vendeur/commandes/{order.order_id}/documents/{uploaded.pk}/supprimer/")
    client.post(f"/vendeur/commandes/{order.order_id}/documents/facture/")
    invoice = OrderDocument.objects.get()
    assert invoice.generated and invoice.check_report["status"] == "COMPLETE"
    customer = Client()
    page = customer.get(customer_path(order)).content.decode()
    assert "Télécharger la facture" in page
    download = customer.get(f"{customer_path(order)}documents/{invoice.pk}/")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")


def test_a_disguised_file_is_refused_in_french_and_nothing_is_stored(seller: tuple[Client, Shop]) -> None:
    client, shop = seller
    order = make_order("SHIPPED", shop=shop)
    response = client.post(f"/vendeur/commandes/{order.order_id}/documents/envoyer/",
                           {"type_code": "CUSTOMER_INVOICE",
                            "document": SimpleUploadedFile("facture.pdf", b"MZ\x90\x00" * 10)})
    assert response.status_code == 400
    assert "programme Windows" in response.content.decode()
    assert not OrderDocument.objects.exists()


def test_another_shops_order_documents_are_not_found(seller: tuple[Client, Shop]) -> None:
    client, _shop = seller
    other = make_order("SHIPPED", shop=ShopFactory())
    assert client.get(f"/vendeur/commandes/{other.order_id}/documents/").status_code == 404
    assert client.post(f"/vendeur/commandes/{other.order_id}/documents/facture/").status_code == 404


def test_operator_sees_each_documents_report_and_downloads_any_shops_file(seller: tuple[Client, Shop]) -> None:
    from tests.web_factories import make_operator

    client, shop = seller
    order = make_order("SHIPPED", shop=shop)
    pdf = invoice_pdf("1,00", without=("seller_rcs", "legal_warranty"))
    client.post(f"/vendeur/commandes/{order.order_id}/documents/envoyer/",
                {"type_code": "CUSTOMER_INVOICE", "document": SimpleUploadedFile("f.pdf", pdf)})
    document = OrderDocument.objects.get()
    operator = Client()
    operator.force_login(make_operator())
    page = operator.get(f"/operateur/commandes/{order.order_id}/").content.decode()
    assert 'id="documents-title"' in page and "f.pdf" in page
    missing = {m for m in ("seller_rcs", "legal_warranty", "seller_vat_number")
               if f'data-mention="{m}" data-status="missing"' in page}
    assert missing == {"seller_rcs", "legal_warranty"}
    download = operator.get(f"/operateur/commandes/{order.order_id}/documents/{document.pk}/")
    assert download.status_code == 200 and download.content == pdf
    assert download["Content-Disposition"] == 'attachment; filename="f.pdf"'
    other = make_order("SHIPPED", shop=ShopFactory())
    assert operator.get(f"/operateur/commandes/{other.order_id}/documents/{document.pk}/").status_code == 404
    assert client.get(f"/operateur/commandes/{order.order_id}/documents/{document.pk}/").status_code in (302, 403)


def test_flagged_orders_show_on_the_seller_home_and_the_operator_list(seller: tuple[Client, Shop],
                                                                    test_clock: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from comptoir.timers.worker import run_until_idle
    from tests.web_factories import make_operator

    client, shop = seller
    test_clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Paris")))  # a Friday
    order = make_order("SHIPPED", shop=shop)
    other = make_order("SHIPPED", shop=ShopFactory(name="Autre boutique"))
    home = client.get("/vendeur/").content.decode()
    assert 'id="invoices-missing-indicator"' in home
    test_clock.set(datetime(2026, 12, 1, 10, 1, tzinfo=ZoneInfo("Europe/Paris")))  # Tuesday: 2 business days
    run_until_idle()
    home = client.get("/vendeur/").content.decode()
    indicator = home.split('id="invoices-missing-indicator"')[1].split("</a>")[0]
    assert 'class="value">1<' in indicator
    listing = client.get("/vendeur/factures-manquantes/").content.decode()
    assert order.order_id in listing and other.order_id not in listing
    operator = Client()
    operator.force_login(make_operator())
    assert "/operateur/commandes/factures-manquantes/" in operator.get("/operateur/commandes/").content.decode()
    listing = operator.get("/operateur/commandes/factures-manquantes/").content.decode()
    assert order.order_id in listing and other.order_id in listing and "Autre boutique" in listing
    client.post(f"/vendeur/commandes/{order.order_id}/documents/facture/")
    assert order.order_id not in client.get("/vendeur/factures-manquantes/").content.decode()
    assert order.order_id not in operator.get("/operateur/commandes/factures-manquantes/").content.decode()


def test_generate_a_credit_note_for_a_refund_from_the_tab(seller: tuple[Client, Shop]) -> None:
    from comptoir.refunds.services import LineRequest, ensure_default_reasons, refund_lines
    from tests.factories import SELLER

    client, shop = seller
    ensure_default_reasons()
    order = make_order("SHIPPED", shop=shop)
    line = order.lines.order_by("index").first()
    (refund,) = refund_lines(requests=[LineRequest(line.line_id, "17")], who=SELLER, shop_id=shop.id)
    tab = client.get(f"/vendeur/commandes/{order.order_id}/documents/").content.decode()
    assert f'data-refund="{refund.group_id}"' in tab
    assert "Générez d'abord la facture" in tab and "Générer un avoir" not in tab
    client.post(f"/vendeur/commandes/{order.order_id}/documents/facture/")
    tab = client.get(f"/vendeur/commandes/{order.order_id}/documents/").content.decode()
    assert "Générer un avoir" in tab
    response = client.post(f"/vendeur/commandes/{order.order_id}/documents/avoir/",
                           {"remboursement": refund.group_id}, follow=True)
    page = response.content.decode()
    assert "Avoir n° AV-" in page and "Générer un avoir" not in page
    note = OrderDocument.objects.get(type="CUSTOMER_CREDIT_NOTE")
    assert note.refund_group_id == refund.group_id and note.check_report["status"] == "COMPLETE"
