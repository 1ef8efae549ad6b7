"""Shipment import against the database: preview writes nothing but the import, each row gets its precise
French error, apply groups rows into atomic parcels through create_shipment and re-checks them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shipping import imports
from comptoir.shipping.models import Shipment, ShipmentImport
from tests.factories import SELLER, ShopFactory, ensure_carriers, make_order

pytestmark = pytest.mark.django_db
HEADER = "commande;ligne;quantité;transporteur;numéro de suivi;lien de suivi;date d'expédition"


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()


def _csv(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8")


def _lines(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _run(shop_id: int, data: bytes) -> ShipmentImport:
    job = imports.preview(shop_id=shop_id, data=data, filename="f.csv", created_by="tests")
    return imports.apply_all(job_id=job.pk, shop_id=shop_id, who=SELLER)


def test_preview_checks_every_row_and_writes_no_shipment() -> None:
    shop, other = ShopFactory(), ShopFactory()
    order = make_order(OrderState.SHIPPING, shop=shop, quantity=2)
    foreign = make_order(OrderState.SHIPPING, shop=other)
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    l1, l2 = _lines(order)
    future = (timezone.localdate() + timedelta(days=3)).strftime("%d/%m/%Y")
    data = _csv(
        f"{order.order_id};{l1};1;Colissimo;6A1;;",                        # 2 OK
        f"{order.order_id};{l1};1;Colissimo;6A1;;",                        # 3 duplicate of 2
        f"{foreign.order_id};{_lines(foreign)[0]};1;colissimo;6A2;;",      # 4 another shop's order
        f"{waiting.order_id};{_lines(waiting)[0]};1;colissimo;6A3;;",      # 5 wrong state
        f"{order.order_id};XX;1;colissimo;6A4;;",                          # 6 unknown line
        f"{order.order_id};{l2};5;colissimo;6A5;;",                        # 7 too many
        f"{order.order_id};{l2};1;Poste Pigeon;P1;;",                      # 8 unknown carrier
        f"{order.order_id};{l2};1;Autre;P1;https://x.example/P1;",         # 9 « autre » without its name
        f"{order.order_id};{l2};1;Coursier;P1;http://x.example/P1;",       # 10 not https
        f"{order.order_id};{l2};1;colissimo;6A6;;{future}",                # 11 future
        f"{order.order_id};{l1};2;colissimo;6A7;;",                        # 12 over remaining after row 2
        f"{order.order_id};{l2};1;Coursier Lyon;CL-1;https://c.example/CL-1;",  # 13 OK (other carrier)
    )
    job = imports.preview(shop_id=shop.id, data=data, filename="f.csv", created_by="tests")
    errors = {row["row"]: row["error"] for row in job.rows}
    assert errors[2] == "" and errors[13] == ""
    assert "Ligne en double : identique à la ligne 2" in errors[3]
    assert errors[4] == f"Commande {foreign.order_id} introuvable."
    assert "à l'état « En attente d'acceptation »" in errors[5]
    assert errors[6] == f"Ligne XX introuvable dans la commande {order.order_id}."
    assert "5 à expédier, mais 2 seulement reste à expédier" in errors[7]
    assert "Transporteur inconnu ou désactivé : « Poste Pigeon »" in errors[8]
    assert "indiquez le nom du transporteur" in errors[9]
    assert "https://" in errors[10]
    assert "futur" in errors[11]
    assert "1 seulement reste à expédier" in errors[12] and "lignes précédentes du fichier" in errors[12]
    assert imports.counts(job.rows) == {"total": 12, "ok": 2, "error": 10, "done": 0}
    assert not Shipment.objects.exists()
    assert Order.objects.get(pk=order.pk).version == order.version


def test_apply_groups_rows_into_parcels_and_ships_the_order() -> None:
    shop = ShopFactory()
    order = make_order(OrderState.SHIPPING, shop=shop, quantity=2)
    l1, l2 = _lines(order)
    job = _run(shop.id, _csv(f"{order.order_id};{l1};2;colissimo;6A1;;",
                             f"{order.order_id};{l2};1;COLISSIMO;6A1;;",
                             f"{order.order_id};{l2};1;Coursier Lyon;CL-1;https://c.example/CL-1;"))
    assert imports.counts(job.rows)["done"] == 3 and job.status == "DONE"
    shipments = list(Shipment.objects.filter(order=order).order_by("id"))
    assert [s.carrier_name for s in shipments] == ["Colissimo", "Coursier Lyon"]
    assert sorted(sl.quantity for sl in shipments[0].lines.all()) == [1, 2]
    assert shipments[0].tracking_url.endswith("code=6A1")
    assert job.rows[0]["shipment_id"] == job.rows[1]["shipment_id"] == shipments[0].shipment_id
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED


def test_a_bad_row_holds_back_its_parcel_only() -> None:
    shop = ShopFactory()
    order = make_order(OrderState.SHIPPING, shop=shop)
    l1, l2 = _lines(order)
    job = _run(shop.id, _csv(f"{order.order_id};{l1};1;colissimo;6A1;;", f"{order.order_id};{l2};9;colissimo;6A1;;"))
    assert "Colis non déclaré : la ligne 3 du même colis est en erreur." == job.rows[0]["error"]
    assert not Shipment.objects.exists()


def test_apply_checks_again_what_changed_since_the_preview() -> None:
    shop = ShopFactory()
    order, second = make_order(OrderState.SHIPPING, shop=shop), make_order(OrderState.SHIPPING, shop=shop)
    job = imports.preview(shop_id=shop.id, data=_csv(
        *[f"{order.order_id};{line};1;colissimo;6A1;;" for line in _lines(order)],
        f"{second.order_id};{_lines(second)[0]};1;colissimo;6A2;;"), filename="f.csv", created_by="tests")
    from comptoir.orders import services

    services.ship_whole_order(order_id=order.order_id, who=SELLER)  # shipped meanwhile, elsewhere
    job = imports.apply_all(job_id=job.pk, shop_id=shop.id, who=SELLER)
    assert job.rows[0]["status"] == "ERROR" and job.rows[0]["error"].startswith("Refusé à l'application")
    assert job.rows[2]["status"] == "DONE"
    assert Shipment.objects.filter(order=second).count() == 1


def test_apply_runs_once_and_in_chunks() -> None:
    shop = ShopFactory()
    orders = [make_order(OrderState.SHIPPING, shop=shop, lines=1) for _ in range(3)]
    job = imports.preview(shop_id=shop.id, data=_csv(
        *[f"{o.order_id};{_lines(o)[0]};1;colissimo;N{i};;" for i, o in enumerate(orders)]),
        filename="f.csv", created_by="tests")
    assert imports.apply_next(job_id=job.pk, shop_id=shop.id, who=SELLER).cursor == 0  # not started
    imports.start(job)
    job = imports.apply_next(job_id=job.pk, shop_id=shop.id, who=SELLER, parcels=2)
    assert job.cursor == 2 and job.status == "APPLYING" and Shipment.objects.count() == 2
    job = imports.apply_next(job_id=job.pk, shop_id=shop.id, who=SELLER, parcels=2)
    assert job.status == "DONE" and Shipment.objects.count() == 3
    imports.start(job)
    assert imports.apply_next(job_id=job.pk, shop_id=shop.id, who=SELLER).status == "DONE"
    assert Shipment.objects.count() == 3


def test_windows_1252_file_with_a_named_carrier() -> None:
    shop = ShopFactory()
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    text = "Commande;Ligne;Quantité;Transporteur;Numéro de suivi;Date d'expédition\r\n" \
           f"{order.order_id};{_lines(order)[0]};1;Chronopost;XY1;{timezone.localdate():%d/%m/%Y}\r\n"
    job = _run(shop.id, text.encode("cp1252"))
    assert job.rows[0]["status"] == "DONE", job.rows[0]
