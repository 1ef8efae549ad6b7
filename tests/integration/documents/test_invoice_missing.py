"""Issue 8 « Factures manquantes »: a shipped order still without an invoice INVOICE_MISSING_BUSINESS_DAYS (2)
business days after shipment is flagged once by the worker's sweep, not counting weekends and holidays; the
seller is told once; an invoice uploaded afterwards takes the order off the lists."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from comptoir.documents import queries, services, timers
from comptoir.documents.models import InvoiceMissingFlag
from comptoir.notifications.models import OutboxEvent
from comptoir.notifications.rendering import render
from comptoir.operator.labels import EVENT_LABELS
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.timers.worker import SWEEPS, run_until_idle
from tests.factories import SELLER, ShopFactory, make_order
from tests.unit.documents.pdfs import invoice_pdf
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def document_storage(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def _shipped_at(test_clock, instant: datetime, **kwargs: Any) -> Order:  # type: ignore[no-untyped-def]
    test_clock.set(instant)
    return make_order(OrderState.SHIPPED, **kwargs)


def _events(order: Order) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(order_id=order.order_id, event_type="InvoiceMissing"))


def test_flagged_two_business_days_after_shipment_across_a_weekend_and_told_once(test_clock) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory()
    make_seller(shop, "vendeur@factures.test")
    order = _shipped_at(test_clock, datetime(2026, 11, 27, 10, 0, tzinfo=PARIS), shop=shop)  # a Friday
    assert timers.sweep_invoice_missing in SWEEPS  # the worker runs it

    test_clock.set(datetime(2026, 11, 30, 23, 0, tzinfo=PARIS))  # Monday night: 3 calendar days, 1 business day
    run_until_idle()
    assert not InvoiceMissingFlag.objects.exists() and not _events(order)

    test_clock.set(datetime(2026, 12, 1, 10, 1, tzinfo=PARIS))  # Tuesday, just past the two business days
    run_until_idle()
    flag = InvoiceMissingFlag.objects.get()
    assert (flag.order_id, flag.shop_id) == (order.pk, order.shop_id)
    assert queries.invoice_missing_count(order.shop_id) == 1
    assert [o.pk for o in queries.invoice_missing_orders()] == [order.pk]
    (event,) = _events(order)
    assert event.audience == "SELLER" and event.payload["business_days"] == 2
    mail = render(event)
    assert mail is not None and mail.to == ["vendeur@factures.test"] and "facture manquante" in mail.subject
    assert "plus de 2 jours ouvrés" in mail.body and "onglet Documents" in mail.body
    assert EVENT_LABELS["InvoiceMissing"] == "Facture manquante après expédition"
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED  # a flag, not a state change

    # Idempotent: later sweeps flag and tell nothing more.
    test_clock.advance(timedelta(days=3))
    assert timers.sweep_invoice_missing("w") == 0
    run_until_idle()
    assert InvoiceMissingFlag.objects.count() == 1 and len(_events(order)) == 1


def test_a_holiday_does_not_count(test_clock) -> None:  # type: ignore[no-untyped-def]
    # Thursday 24 December: Christmas (Friday) and the weekend do not count → due Tuesday 29 at the same hour.
    order = _shipped_at(test_clock, datetime(2026, 12, 24, 16, 0, tzinfo=PARIS))
    test_clock.set(datetime(2026, 12, 29, 15, 59, tzinfo=PARIS))
    assert timers.sweep_invoice_missing("w") == 0
    test_clock.set(datetime(2026, 12, 29, 16, 1, tzinfo=PARIS))
    assert timers.sweep_invoice_missing("w") == 1
    assert len(_events(order)) == 1


def test_an_invoice_in_time_is_never_flagged_and_one_uploaded_late_clears_the_list(test_clock) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory()
    on_time = _shipped_at(test_clock, datetime(2026, 11, 23, 10, 0, tzinfo=PARIS), shop=shop)  # a Monday
    late = make_order(OrderState.SHIPPED, shop=shop)
    not_shipped = make_order(OrderState.SHIPPING, shop=shop)
    services.upload_document(order_id=on_time.order_id, shop_id=shop.id, who=SELLER, item=services.UploadItem(
        "facture.pdf", "CUSTOMER_INVOICE", invoice_pdf("1,00")))
    test_clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=PARIS))
    run_until_idle()
    assert list(InvoiceMissingFlag.objects.values_list("order_id", flat=True)) == [late.pk]
    assert not _events(on_time) and not _events(not_shipped)

    services.upload_document(order_id=late.order_id, shop_id=shop.id, who=SELLER, item=services.UploadItem(
        "facture.pdf", "CUSTOMER_INVOICE", invoice_pdf("1,00")))
    assert queries.invoice_missing_count(shop.id) == 0 and queries.invoice_missing_orders(shop.id) == []
    run_until_idle()
    assert len(_events(late)) == 1


def test_the_sweep_works_in_batches(test_clock, comptoir_settings) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory()
    orders = [_shipped_at(test_clock, datetime(2026, 11, 23, 10, i, tzinfo=PARIS), shop=shop) for i in range(3)]
    test_clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=PARIS))
    assert timers.sweep_invoice_missing("w", limit=2) == 2  # the two oldest shipments first
    assert set(InvoiceMissingFlag.objects.values_list("order_id", flat=True)) == {o.pk for o in orders[:2]}
    assert timers.sweep_invoice_missing("w", limit=2) == 1
    assert timers.sweep_invoice_missing("w", limit=2) == 0
    comptoir_settings(INVOICE_MISSING_BUSINESS_DAYS=5)
    assert queries.missing_days() == 5
