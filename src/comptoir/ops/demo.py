"""The demo marketplace: operator, three shops, offers and ~60 orders in every state, driven through the
real services on a replayed timeline (the clock is moved back for each step), deterministic (seed 2026)."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Count, F

from comptoir.catalog.models import Offer
from comptoir.core import clock
from comptoir.ops.demo_service import add_customer_service
from comptoir.orders import services
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import (
    DROPPED_LINE_STATES,
    STATE_LABELS,
    Actor,
    FlagTimerKind,
    OrderState,
    TimerKind,
    Trigger,
)
from comptoir.refunds import services as refunds
from comptoir.refunds.rules import RefundMode
from comptoir.shipping.services import ensure_default_carriers
from comptoir.shops.models import Shop, ShopMember
from comptoir.shops.services import issue_api_key
from comptoir.timers.models import Timer, TimerState
from comptoir.timers.worker import run_timer

S = OrderState
PASSWORD = "demo"
OPERATOR_EMAIL = "operateur@demo.test"
WORKER_ID = "demo-loader"
IMPORTER = services.Who(Actor.OPERATOR, "Démo")  # what the operator API records for the key labelled "Démo"
OPERATOR = services.Who(Actor.OPERATOR, OPERATOR_EMAIL)
ALREADY_LOADED = "La démo est déjà chargée (la boutique 2001 existe) : rien n'a été modifié.\n"

_SHOP_KEYS = ("id", "name", "legal_name", "legal_form", "share_capital", "identification_number", "rcs",
              "vat_number", "head_office_street", "head_office_zip_code", "head_office_city",
              "customer_service_email", "contact_phone", "producer_registration_number", "commission_rate")
SHOPS: tuple[tuple[Any, ...], ...] = (
    (2001, "Boutique Démo", "Boutique Démo SARL", "SARL", "10 000 €", "81234567600017", "RCS Lyon 812 345 676",
     "FR19812345676", "24 rue de la République", "69002", "Lyon", "service-client@boutique-demo.test",
     "04 78 12 34 56", "FR215834_01XKPZ", "12"),
    (2002, "Maison Lumière", "Maison Lumière SAS", "SAS", "25 000 €", "84392817700016",
     "RCS Bordeaux 843 928 177", "FR56843928177", "8 cours de l'Intendance", "33000", "Bordeaux",
     "contact@maison-lumiere.test", "05 56 48 21 09", "FR318406_01LMBX", "15"),
    (2003, "Le Comptoir du Thé", "Le Comptoir du Thé EURL", "EURL", "5 000 €", "79051836900018",
     "RCS Paris 790 518 369", "FR82790518369", "17 rue des Martyrs", "75009", "Paris",
     "bonjour@comptoir-du-the.test", "01 42 81 37 64", "FR402117_01CTHE", "10"),
)
SHOP_IDS = tuple(row[0] for row in SHOPS)
SELLERS = {2001: ("Julie", "Martin"), 2002: ("Sophie", "Laurent"), 2003: ("Marc", "Nguyen")}
WARRANTY = "2 ans (garantie légale de conformité)"
CATEGORIES = {
    "ART_TABLE": "Arts de la table", "LINGE": "Linge de maison", "CUISINE": "Cuisine", "EPICERIE": "Épicerie fine",
    "ELECTROMENAGER": "Petit électroménager", "LIVRES": "Livres", "LUMINAIRES": "Luminaires",
    "AMPOULES": "Ampoules", "DECO": "Décoration", "TEXTILE": "Textile", "THE": "Thés", "INFUSIONS": "Infusions",
    "COFFRETS": "Coffrets", "ACCESSOIRES": "Accessoires du thé",
}
# sku | title | category | price (cents, incl. VAT) | VAT rate | stock | eco-participation (cents per unit)
OFFERS: dict[int, str] = {
    2001: """BD-TAS-01|Tasse en grès émaillé bleu nuit 30 cl|ART_TABLE|1290|20|48|0
BD-ASS-02|Lot de 4 assiettes plates en porcelaine 27 cm|ART_TABLE|3490|20|20|0
BD-NAP-03|Nappe en lin lavé 160 × 250 cm, gris perle|LINGE|5990|20|12|0
BD-TOR-04|Torchons en coton bio, lot de 3|LINGE|1890|20|60|0
BD-COC-05|Cocotte en fonte 24 cm, rouge cerise|CUISINE|11900|20|8|0
BD-COU-06|Couteau de chef 20 cm, lame en acier inoxydable|CUISINE|4590|20|25|0
BD-PLA-07|Planche à découper en chêne massif|CUISINE|3290|20|18|0
BD-BOU-08|Bouilloire électrique inox 1,7 L|ELECTROMENAGER|4990|20|15|30
BD-LIV-09|Livre « La cuisine lyonnaise de nos grands-mères »|LIVRES|2450|5.5|30|0
BD-LIV-10|Livre « Cent recettes de saison »|LIVRES|1990|5.5|22|0
BD-CON-11|Confiture d'abricots artisanale 370 g|EPICERIE|690|5.5|80|0
BD-MIE-12|Miel de lavande de Provence 500 g|EPICERIE|1190|5.5|40|0""",
    2002: """ML-LAM-01|Lampe de chevet en laiton et lin, abat-jour écru|LUMINAIRES|8900|20|14|20
ML-SUS-02|Suspension en rotin naturel Ø 45 cm|LUMINAIRES|12900|20|9|20
ML-LMP-03|Lampadaire arc noir mat 180 cm|LUMINAIRES|19900|20|5|50
ML-APP-04|Applique murale orientable en laiton|LUMINAIRES|6490|20|16|20
ML-GUI-05|Guirlande lumineuse 20 boules en coton, 3,5 m|DECO|2990|20|40|10
ML-AMP-06|Ampoule LED filament E27 6 W, blanc chaud|AMPOULES|990|20|120|10
ML-BOU-07|Bougie parfumée figue et cèdre 180 g|DECO|2490|20|35|0
ML-PHO-08|Photophore en verre soufflé ambré|DECO|1990|20|30|0
ML-MIR-09|Miroir rond en rotin Ø 60 cm|DECO|7900|20|7|0
ML-COU-10|Coussin en velours côtelé 45 × 45 cm, terracotta|TEXTILE|3490|20|25|0
ML-PLA-11|Plaid en laine mérinos 130 × 170 cm|TEXTILE|8900|20|10|0
ML-LIV-12|Livre « Éclairer sa maison »|LIVRES|2900|5.5|15|0""",
    2003: """CT-SEN-01|Thé vert Sencha du Japon, 100 g|THE|1290|5.5|60|0
CT-DAR-02|Thé noir Darjeeling First Flush, 100 g|THE|1590|5.5|45|0
CT-EAR-03|Thé Earl Grey à la bergamote de Calabre, 100 g|THE|990|5.5|80|0
CT-ROO-04|Rooibos vanille et amande, 100 g|INFUSIONS|850|5.5|70|0
CT-VER-05|Infusion verveine et menthe bio, 50 g|INFUSIONS|790|5.5|50|0
CT-MAT-06|Matcha de cérémonie Uji, 30 g|THE|2490|5.5|25|0
CT-COF-07|Coffret découverte 6 thés du monde|COFFRETS|3900|5.5|20|0
CT-FON-08|Théière en fonte japonaise 0,8 L, noire|ACCESSOIRES|5900|20|12|0
CT-BOI-09|Boîte à thé en fer étamé 150 g|ACCESSOIRES|1290|20|40|0
CT-INF-10|Infuseur en acier inoxydable à fines mailles|ACCESSOIRES|690|20|90|0
CT-SAB-11|Sablés au beurre de Bretagne, boîte de 250 g|EPICERIE|890|5.5|35|0
CT-LIV-12|Livre « Le thé, histoire et rituels »|LIVRES|2200|5.5|18|0
CT-BOL-13|Bol à matcha (chawan) en céramique artisanale|ACCESSOIRES|3400|20|10|0""",
}
CUSTOMERS = """Mme|Camille|Lefèvre|18 rue Sainte-Catherine|33000|Bordeaux
M.|Thomas|Moreau|5 place Bellecour|69002|Lyon
Mme|Léa|Fournier|3 rue Oberkampf|75011|Paris
M.|Nicolas|Girard|27 quai de la Fosse|44000|Nantes
Mme|Chloé|Bonnet|9 rue d'Alsace-Lorraine|31000|Toulouse
M.|Julien|Mercier|61 rue Nationale|59800|Lille
Mme|Manon|Lambert|112 La Canebière|13001|Marseille
M.|Antoine|Rousseau|7 rue des Hallebardes|67000|Strasbourg
Mme|Sarah|Vincent|22 rue Foch|34000|Montpellier
M.|Maxime|Faure|3 rue de Siam|29200|Brest
Mme|Inès|Chevalier|16 rue Saint-Georges|35000|Rennes
M.|Hugo|Blanc|8 avenue Jean Médecin|06000|Nice
Mme|Emma|Garnier|25 rue des Carmes|45000|Orléans
M.|Louis|Dubois|11 rue de la Liberté|21000|Dijon
Mme|Juliette|Robin|4 place Grenette|38000|Grenoble
M.|Arthur|Perrin|19 rue Nationale|37000|Tours
Mme|Alice|Morel|30 rue Saint-Dizier|54000|Nancy
M.|Paul|Fontaine|2 rue du Gros-Horloge|76000|Rouen
Mme|Zoé|Roux|13 rue Paradis|13006|Marseille
M.|Gabriel|Lemoine|6 rue La Fayette|75009|Paris
Mme|Louise|Caron|21 rue Écuyère|14000|Caen
M.|Raphaël|Gauthier|9 rue Sainte-Claire|74000|Annecy
Mme|Jade|Renaud|15 rue Lenepveu|49100|Angers
M.|Lucas|Masson|44 rue du Port|63000|Clermont-Ferrand"""
# Other shipping addresses (gift or workplace); an empty name means the customer's own.
OTHER_ADDRESSES = """Mme|Françoise|Lefèvre||7 allée des Tilleuls|17000|La Rochelle|Digicode 4512B
M.|Bernard|Moreau||12 chemin des Vignes|84000|Avignon|
Mme|Hélène|Girard||3 impasse des Lilas|64200|Biarritz|Sonner chez Girard
|||Agence Nova|52 boulevard Vivier-Merle|69003|Lyon|Accueil, 4e étage
|||Cabinet Rivage|10 rue de la Loge|34000|Montpellier|Bureau 203
Mme|Odile|Perrin||5 rue du Moulin|71000|Mâcon|"""

PER_SHOP: tuple[tuple[OrderState, int], ...] = (
    (S.STAGING, 2), (S.WAITING_ACCEPTANCE, 3), (S.WAITING_DEBIT, 1), (S.WAITING_DEBIT_PAYMENT, 1),
    (S.SHIPPING, 3), (S.SHIPPED, 3), (S.RECEIVED, 3), (S.CLOSED, 3), (S.REFUSED, 1), (S.CANCELED, 1),
)
WORKFLOW_STATES = tuple(state for state, _ in PER_SHOP)
MULTI_SHOP_CARTS = ((S.WAITING_ACCEPTANCE, (2002, 2003)), (S.SHIPPED, (2001, 2002)), (S.CLOSED, (2001, 2003)))
PARTIAL_REFUSALS = {(2001, S.SHIPPED), (2002, S.RECEIVED), (2003, S.CLOSED)}
# The steps that lead to each state, each (low, high) minutes after the previous one.
PATHS: dict[OrderState, tuple[str, ...]] = {
    S.STAGING: (), S.WAITING_ACCEPTANCE: ("approve",), S.WAITING_DEBIT: ("approve", "decide"),
    S.WAITING_DEBIT_PAYMENT: ("approve", "decide", "request_debit"),
    S.SHIPPING: ("approve", "decide", "debit"), S.SHIPPED: ("approve", "decide", "debit", "ship"),
    S.RECEIVED: ("approve", "decide", "debit", "ship", "receive"),
    S.CLOSED: ("approve", "decide", "debit", "ship", "receive", "close"),
    S.REFUSED: ("approve", "decide"), S.CANCELED: ("reject",),
}
DAY = 1440
DELAYS = {"documents": (60, 300), "approve": (30, 240), "reject": (30, 600), "decide": (120, 1200),
          "request_debit": (1, 2), "debit": (1, 3), "ship": (600, 2400), "receive": (2 * DAY, 5 * DAY)}
# How long an order has been in its state (minutes); the caps keep every timer of the demo in the future.
IDLE = {S.STAGING: (20, 1800), S.WAITING_ACCEPTANCE: (10, 1800), S.WAITING_DEBIT: (1, 4),
        S.WAITING_DEBIT_PAYMENT: (1, 3), S.SHIPPING: (30, 1200), S.SHIPPED: (600, 12 * DAY),
        S.RECEIVED: (600, 11 * DAY), S.CLOSED: (120, 4 * DAY), S.REFUSED: (600, 14 * DAY),
        S.CANCELED: (600, 14 * DAY)}
REFUSAL_REASONS = ("Rupture de stock", "Article endommagé lors de l'inventaire", "Erreur de prix sur l'offre")
REJECT_REASONS = ("Fraude avérée : carte bancaire signalée volée", "Adresse de livraison liée à des fraudes")
DOCUMENTS_NOTE = "Merci de nous transmettre une pièce d'identité et un justificatif de domicile."


@dataclass(slots=True)
class Cart:
    state: OrderState
    shop_ids: tuple[int, ...]
    variant: str = ""  # "documents": STAGING waiting for documents; "partial": the last line refused
    created: datetime | None = None
    steps: dict[str, datetime] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)


def _rows(table: str) -> list[list[str]]:
    return [line.split("|") for line in table.splitlines()]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "-")


def _address(civility: str, first: str, last: str, street: str, zip_code: str, city: str, phone: str,
             company: str = "", info: str = "") -> dict[str, str]:
    address = {"civility": civility, "firstname": first, "lastname": last, "company": company,
               "street_1": street, "zip_code": zip_code, "city": city, "country": "France",
               "country_iso_code": "FRA", "phone": phone, "additional_info": info}
    return {key: value for key, value in address.items() if value}


def _customers(rng: random.Random) -> list[services.ImportCustomer]:
    customers = []
    for number, (civility, first, last, street, zip_code, city) in enumerate(_rows(CUSTOMERS), start=1):
        phone = "06" + "".join(str(rng.randrange(10)) for _ in range(8))
        address = _address(civility, first, last, street, zip_code, city, phone)
        customers.append(services.ImportCustomer(
            customer_id=f"CLI-{number:05d}", firstname=first, lastname=last, civility=civility,
            email=f"{_ascii(first)}.{_ascii(last)}@example.com", billing_address=address,
            shipping_address=address,
        ))
    return customers


def _plan(rng: random.Random, start: datetime) -> list[Cart]:
    """Every cart with its content and its timeline, ordered by creation: all the randomness is here."""
    remaining = {(shop_id, state): count for shop_id in SHOP_IDS for state, count in PER_SHOP}
    carts = []
    for state, shop_ids in MULTI_SHOP_CARTS:
        for shop_id in shop_ids:
            remaining[shop_id, state] -= 1
        carts.append(Cart(state, shop_ids))
    for (shop_id, state), count in remaining.items():
        for position in range(count):
            variant = "documents" if state == S.STAGING and position == 1 else ""
            variant = "partial" if (shop_id, state) in PARTIAL_REFUSALS and position == 0 else variant
            carts.append(Cart(state, (shop_id,), variant))
    customers, others = _customers(rng), _rows(OTHER_ADDRESSES)
    conf = settings.COMPTOIR
    offers = {shop_id: _rows(table) for shop_id, table in OFFERS.items()}
    for cart in carts:
        customer = rng.choice(customers)
        if rng.random() < 0.3:
            civility, first, last, company, street, zip_code, city, info = rng.choice(others)
            phone = customer.billing_address["phone"]
            shipping = _address(civility or customer.civility, first or customer.firstname,
                                last or customer.lastname, street, zip_code, city, phone, company, info)
            customer = replace(customer, shipping_address=shipping)
        lines = []
        for shop_id in cart.shop_ids:
            count = rng.choices((1, 2, 3), (50, 35, 15))[0]
            picked = rng.sample(range(len(offers[shop_id])), max(count, 2 if cart.variant == "partial" else 1))
            items = [(shop_id, index, rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0]) for index in picked]
            subtotal = sum(int(offers[shop_id][index][3]) * quantity for _, index, quantity in items)
            shipping_cents = 0 if subtotal >= 6000 else (490 if shop_id != 2003 else 390)
            lines += [(shop_id, index, quantity, shipping_cents if n == 0 else 0, int(offers[shop_id][index][6]))
                      for n, (_, index, quantity) in enumerate(items)]
        express = rng.random() < 0.2
        cart.request = {
            "customer": customer, "lines": lines, "payment_type": rng.choices(("CB", "PAYPAL"), (80, 20))[0],
            "shipping_type": ("EXP", "Livraison express") if express else ("STD", "Livraison standard"),
            "reason": rng.choice(REJECT_REASONS if cart.state == S.CANCELED else REFUSAL_REASONS),
        }
        path = (("documents",) if cart.variant == "documents" else ()) + PATHS[cart.state]
        low, high = IDLE[cart.state]
        if cart.state == S.SHIPPED:
            high = min(high, (conf["RECEPTION_DAYS"] - 1) * DAY)
        if cart.state == S.RECEIVED:
            high = min(high, conf["CLOSING_DAYS"] * DAY - 60)
        delays = [conf["CLOSING_DAYS"] * DAY + rng.randint(2, 30) if step == "close"
                  else rng.randint(*DELAYS[step]) for step in path]
        elapsed = rng.randint(low, max(low, high)) + sum(delays)
        cart.created = start - timedelta(minutes=elapsed, seconds=rng.randint(0, 59))
        at = cart.created
        for step, delay in zip(path, delays, strict=True):
            at += timedelta(minutes=delay)
            cart.steps[step] = at
    return sorted(carts, key=lambda cart: cart.created or start)


@contextmanager
def _time_machine(start: datetime) -> Iterator[Callable[[datetime], None]]:
    """Replays the past: `travel(instant)` makes clock.now() read `instant` (never later than `start`)."""
    previous = clock._source  # restored afterwards: the sandbox offset (or a test's fake clock)

    def travel(instant: datetime) -> None:
        shift = min(instant, start) - clock.real_now()
        clock.set_offset_source(lambda: shift)

    try:
        yield travel
    finally:
        clock.set_offset_source(previous)


def _create_accounts(founded: datetime) -> dict[int, Offer]:
    """Users, groups, shops with their legal profile, members, offers and API keys."""
    user_model = get_user_model()
    password = make_password(PASSWORD)  # hashed once: the four accounts share the demo password

    def user(email: str, first: str, last: str, *, staff: bool = False) -> Any:
        account, _ = user_model.objects.get_or_create(username=email, defaults={
            "email": email, "first_name": first, "last_name": last, "is_staff": staff, "password": password,
            "date_joined": founded})
        return account

    operators, _ = Group.objects.get_or_create(name="operateurs")
    user(OPERATOR_EMAIL, "Claire", "Dupont", staff=True).groups.add(operators)
    issue_api_key(shop_id=None, raw_key="demo-operator", label="Démo")
    offers: dict[int, Offer] = {}
    for row in SHOPS:
        values = dict(zip(_SHOP_KEYS, row, strict=True))
        values["commission_rate"] = Decimal(values["commission_rate"])
        shop = Shop.objects.create(**values, warranty_duration=WARRANTY, created_date=founded,
                                   last_updated_date=founded)
        email = f"vendeur{shop.id}@demo.test"
        ShopMember.objects.create(shop=shop, user=user(email, *SELLERS[shop.id]))
        issue_api_key(shop_id=shop.id, raw_key=f"demo-shop-{shop.id}", label="Démo")
        created = Offer.objects.bulk_create([
            Offer(shop=shop, sku=sku, product_sku=f"MKP-{shop.id}-{index:02d}", title=title, category_code=code,
                  category_label=CATEGORIES[code], price_cents=int(price), tax_rate=Decimal(rate),
                  stock=int(stock), last_updated_date=founded)
            for index, (sku, title, code, price, rate, stock, _eco) in enumerate(_rows(OFFERS[shop.id]), 1)
        ])
        offers.update({shop.id * 100 + index: offer for index, offer in enumerate(created)})
    return offers


def _run_timer(order: Order, kind: TimerKind, at: datetime, travel: Callable[[datetime], None]) -> None:
    """What the worker does when the timer comes due: claim it, then fire it (tests/factories `_run_debit`)."""
    timer = Timer.objects.get(order=order, kind=kind, state=TimerState.PENDING)
    travel(max(at, timer.due_at + timedelta(seconds=30)))
    Timer.objects.filter(pk=timer.pk).update(
        claimed_by=WORKER_ID, claimed_until=clock.now() + timedelta(minutes=2), attempts=F("attempts") + 1)
    if not run_timer(timer.pk, timer.kind, order.pk, WORKER_ID):
        raise RuntimeError(f"démo : le minuteur {kind} de {order.order_id} n'a rien fait")


def _drive(order: Order, cart: Cart, travel: Callable[[datetime], None]) -> None:
    """Take one freshly imported order along its cart's timeline to the cart's state."""
    seller = services.Who(Actor.SELLER, f"vendeur{order.shop_id}@demo.test")
    customer = cart.request["customer"]
    oid = order.order_id
    for step, at in cart.steps.items():
        travel(at)
        if step == "documents":
            services.request_customer_documents(order_id=oid, note=DOCUMENTS_NOTE, who=OPERATOR)
        elif step == "reject":
            services.reject_order(order_id=oid, reason=cart.request["reason"], who=OPERATOR)
        elif step == "approve" and order.state == S.STAGING:  # not auto-approved at import
            services.approve_order(order_id=oid, who=OPERATOR)
        elif step == "decide":
            line_ids = list(order.lines.order_by("index").values_list("line_id", flat=True))
            refused = line_ids if cart.state == S.REFUSED else line_ids[-1:] if cart.variant == "partial" else []
            services.decide_lines(order_id=oid, shop_id=order.shop_id, who=seller,
                                  decisions=[Decision(line_id, line_id not in refused) for line_id in line_ids],
                                  refusal_reason=cart.request["reason"] if refused else "")
        elif step == "request_debit":
            services.transition_order(oid, Trigger.REQUEST_DEBIT, services.SYSTEM)
        elif step == "debit":
            _run_timer(order, TimerKind.DEBIT, at, travel)
        elif step == "ship":
            _ship_with_tracking(order, seller)
        elif step == "receive":
            name = f"{customer.firstname} {customer.lastname}"
            services.confirm_reception(order_id=oid, who=services.Who(Actor.CUSTOMER, name))
        elif step == "close":
            _run_timer(order, TimerKind.AUTO_CLOSE, at, travel)
    state = Order.objects.values_list("state", flat=True).get(pk=order.pk)
    if state != cart.state:
        raise RuntimeError(f"démo : {oid} est à l'état {state} au lieu de {cart.state}")


def _import(number: int, cart: Cart, offers: dict[int, Offer]) -> list[Order]:
    request, commercial_id = cart.request, f"CMD-{number:04d}"
    lines = tuple(
        services.ImportLine(offer_id=offers[shop_id * 100 + index].pk, quantity=quantity,
                            unit_price_cents=offers[shop_id * 100 + index].price_cents,
                            shipping_price_cents=shipping, eco_contribution_cents=eco)
        for shop_id, index, quantity, shipping, eco in request["lines"]
    )
    code, label = request["shipping_type"]
    orders, _ = services.import_customer_order(services.ImportRequest(
        commercial_id=commercial_id, customer=request["customer"], lines=lines, created_date=cart.created,
        shipping_type_code=code, shipping_type_label=label, payment_type=request["payment_type"],
        channel_code="WEB", order_reference_for_customer=commercial_id,
        digest_source=f"demo:{commercial_id}".encode(),
    ), who=IMPORTER)
    return orders


def load_demo() -> str:
    """Load the demo marketplace once; returns a French summary (or says it is already there)."""
    if Shop.objects.filter(id=SHOP_IDS[0]).exists():
        return ALREADY_LOADED
    start = clock.now()
    carts = _plan(random.Random(2026), start)
    try:
        with transaction.atomic(), _time_machine(start) as travel:
            travel(start - timedelta(days=90))
            offers = _create_accounts(start - timedelta(days=90))
            ensure_default_carriers()  # seeded by migration; back if the database was flushed
            refunds.ensure_default_reasons()  # idem
            for number, cart in enumerate(carts, start=1001):
                travel(cart.created or start)
                for order in _import(number, cart, offers):
                    _drive(order, cart, travel)
            _refund_some(start, travel)
            add_customer_service(start, travel, _run_timer)  # type: ignore[arg-type]
    except IntegrityError:
        if Shop.objects.filter(id=SHOP_IDS[0]).exists():  # a concurrent load won
            return ALREADY_LOADED
        raise
    return _summary(len(carts))


def _live(order: Order) -> list[Any]:
    return [line for line in order.lines.order_by("index") if line.state not in DROPPED_LINE_STATES]


def _one_unit_to_cancel(order: Order) -> list[Any]:
    """A line with several units, or the first of several lines: the order itself stays to ship."""
    lines = _live(order)
    several = [line for line in lines if line.quantity > 1]
    return several[:1] or (lines[:1] if len(lines) > 1 else [])


# (shop, state of the order, the line it picks, the request on that line)
DEMO_REFUNDS: tuple[tuple[int, OrderState, Callable[[Order], list[Any]], Callable[[Any], Any]], ...] = (
    (2001, S.SHIPPED, lambda o: _live(o)[:1],  # a commercial gesture of 5,00 € excluding tax
     lambda line: refunds.LineRequest(line.line_id, "22", RefundMode.AMOUNT, amount_cents=500)),
    (2002, S.RECEIVED, lambda o: _live(o)[:1],  # a line refunded in full after reception
     lambda line: refunds.LineRequest(line.line_id, "17")),
    (2003, S.SHIPPING, _one_unit_to_cancel,  # one unit canceled before it ships
     lambda line: refunds.LineRequest(line.line_id, "35", RefundMode.QUANTITY, quantity=1)),
)


def _refund_some(start: datetime, travel: Callable[[datetime], None]) -> None:
    """DEMO_REFUNDS through the refunds services, an hour after each order's last move (the first order of
    the shop and state that fits); the worker's payment run then pays them back."""
    for shop_id, state, pick, request in DEMO_REFUNDS:
        for order in Order.objects.filter(shop_id=shop_id, state=state).order_by("order_id"):
            picked = pick(order)
            if picked:
                break
        else:
            continue
        last = order.history.order_by("-created_date").values_list("created_date", flat=True).first()
        at = min(start - timedelta(minutes=5), (last or start) + timedelta(hours=1))
        travel(at)
        seller = services.Who(Actor.SELLER, f"vendeur{shop_id}@demo.test")
        act = refunds.cancel_lines if state == S.SHIPPING else refunds.refund_lines
        act(requests=[request(picked[0])], who=seller, shop_id=shop_id)
        _run_timer(order, FlagTimerKind.REFUND_PAYMENT, at, travel)  # type: ignore[arg-type]


def _summary(cart_count: int) -> str:
    counts = {(row["shop_id"], row["state"]): row["n"] for row in
              Order.objects.filter(shop_id__in=SHOP_IDS).values("shop_id", "state").annotate(n=Count("id"))}
    width = max(len(f"{STATE_LABELS[state]} ({state})") for state in WORKFLOW_STATES)
    header = f"{'État':<{width}}" + "".join(f"{shop_id:>7}" for shop_id in SHOP_IDS) + "  total"
    lines = [f"Démo « Marché Démo » chargée : {len(SHOP_IDS)} boutiques, "
             f"{sum(counts.values())} commandes ({cart_count} paniers).", "", header]
    for state in WORKFLOW_STATES:
        row = [counts.get((shop_id, state.value), 0) for shop_id in SHOP_IDS]
        lines.append(f"{f'{STATE_LABELS[state]} ({state})':<{width}}"
                     + "".join(f"{n:>7}" for n in row) + f"{sum(row):>7}")
    lines += ["", f"Connexions (mot de passe « {PASSWORD} ») et clés API :",
              f"  {'Opérateur « Marché Démo »':<38}{OPERATOR_EMAIL:<24}clé demo-operator"]
    lines += [f"  {f'Boutique {shop_id} « {name} »':<38}{f'vendeur{shop_id}@demo.test':<24}clé demo-shop-{shop_id}"
              for shop_id, name, *_ in SHOPS]
    lines += ["", "Les commandes « Débit en cours » passent en expédition dès que le worker tourne."]
    return "\n".join(lines) + "\n"


DEMO_CARRIERS = {2001: "colissimo", 2002: "chronopost", 2003: "mondial-relay"}


def _ship_with_tracking(order: Order, seller: services.Who) -> None:
    """One parcel with a real-looking tracking number (derived from the order id: deterministic)."""
    import hashlib

    from comptoir.orders.states import DROPPED_LINE_STATES
    from comptoir.shipping import services as shipping

    digits = str(int(hashlib.sha256(order.order_id.encode()).hexdigest(), 16))[:11]
    lines = [line for line in order.lines.order_by("index") if line.state not in DROPPED_LINE_STATES]
    shipping.create_shipment(shop_id=order.shop_id, who=seller, request=shipping.ShipmentRequest(
        order_id=order.order_id,
        lines=[shipping.LineRequest(quantity=line.quantity, order_line_id=line.line_id) for line in lines],
        tracking=shipping.TrackingRequest(carrier_code=DEMO_CARRIERS.get(order.shop_id, "colissimo"),
                                          tracking_number=f"6A{digits}"),
    ))
