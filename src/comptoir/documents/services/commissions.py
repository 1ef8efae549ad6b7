"""The operator's commission invoice to a shop, issued at each payout inside the payout's transaction: the
commission that became final since the shop's last one (ledger minus what earlier invoices billed), one line
per order, Factur-X through documents.invoicing, numbered in the operator's own series without gaps."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Sum

from comptoir.core import clock
from comptoir.documents import invoicing
from comptoir.documents.models import CommissionInvoiceLine, InvoiceCounter, ShopDocument, ShopDocumentType
from comptoir.documents.services import calendar_tz
from comptoir.documents.storage import discard
from comptoir.ledger import queries as ledger_queries
from comptoir.shops.models import Shop

SERIES = "COM"


def operator_party() -> invoicing.Party:
    """The seller of commission invoices: COMPTOIR["OPERATOR_LEGAL"]."""
    legal = settings.COMPTOIR["OPERATOR_LEGAL"]
    return invoicing.Party(
        name=legal["NAME"], street=legal["STREET"], zip_code=legal["ZIP_CODE"], city=legal["CITY"],
        country=invoicing.alpha2(legal["COUNTRY_ISO_CODE"]), legal_id=legal["SIREN"], rcs=legal["RCS"],
        legal_form=legal["LEGAL_FORM"], share_capital=legal["SHARE_CAPITAL"], vat_number=legal["VAT_NUMBER"],
        email=legal["EMAIL"])


def shop_party(shop: Shop) -> invoicing.Party:
    """The buyer: the shop's legal profile (its display name while the profile is incomplete)."""
    return invoicing.Party(
        name=shop.legal_name or shop.name, street=shop.head_office_street, zip_code=shop.head_office_zip_code,
        city=shop.head_office_city, country=invoicing.alpha2(shop.head_office_country_iso_code),
        legal_id=shop.identification_number, vat_number=shop.vat_number, email=shop.customer_service_email)


def uninvoiced_commission(shop_id: int) -> dict[str, tuple[int, int]]:
    """Order id → (fee, VAT) final in the ledger and not billed yet; negative after a refund gave some back."""
    billed = {row["order_id"]: (int(row["fee"] or 0), int(row["vat"] or 0)) for row in
              CommissionInvoiceLine.objects.filter(shop_id=shop_id).values("order_id")
              .annotate(fee=Sum("fee_cents"), vat=Sum("vat_cents"))}
    due: dict[str, tuple[int, int]] = {}
    for order_id, (fee, vat) in ledger_queries.final_commission_by_order(shop_id).items():
        done_fee, done_vat = billed.get(order_id, (0, 0))
        if (fee - done_fee, vat - done_vat) != (0, 0):
            due[order_id] = (fee - done_fee, vat - done_vat)
    return due


def _next_operator_number() -> str:
    InvoiceCounter.objects.get_or_create(shop=None, series=SERIES)
    counter = InvoiceCounter.objects.select_for_update().get(shop__isnull=True, series=SERIES)
    InvoiceCounter.objects.filter(pk=counter.pk).update(last_number=F("last_number") + 1)
    return f"{SERIES}-{counter.last_number + 1:06d}"


def issue_commission_invoice(*, shop_id: int, payout_id: int) -> ShopDocument | None:
    """Called by ledger.services.run_payout, in its transaction, after the shop's payout posting (the shop row
    is locked). None when there is nothing to bill: a net amount given back waits for the next invoice."""
    due = uninvoiced_commission(shop_id)
    if sum(fee for fee, _vat in due.values()) <= 0:
        return None
    shop = Shop.objects.get(pk=shop_id)
    now = clock.now()
    today = now.astimezone(calendar_tz()).date()
    written: list[str] = []
    try:
        with transaction.atomic():
            number = _next_operator_number()
            data = invoicing.commission_invoice(
                number=number, issue_date=today, period_end=today, operator=operator_party(), shop=shop_party(shop),
                fees_by_order=tuple((order_id, fee) for order_id, (fee, _vat) in sorted(due.items()) if fee),
                vat_rate=shop.commission_vat_rate, payout_id=payout_id, currency=shop.currency_iso_code)
            pdf, _xml = invoicing.generate(data)
            t = invoicing.totals(data)
            document = ShopDocument(
                shop=shop, payout_id=payout_id, type=ShopDocumentType.COMMISSION_INVOICE, number=number,
                storage_token=uuid.uuid4().hex, file_name=f"facture-commission-{number}.pdf", file_size=len(pdf),
                currency_iso_code=shop.currency_iso_code, net_cents=t.tax_basis, tax_cents=t.tax_total,
                total_cents=t.grand_total, created_date=now)
            document.file.save(document.file_name, ContentFile(pdf), save=False)
            written.append(document.file.name)
            document.save()
            CommissionInvoiceLine.objects.bulk_create(
                CommissionInvoiceLine(document=document, shop_id=shop_id, order_id=order_id, fee_cents=fee,
                                      vat_cents=vat) for order_id, (fee, vat) in sorted(due.items()))
    except BaseException:
        discard(written)
        raise
    return document
