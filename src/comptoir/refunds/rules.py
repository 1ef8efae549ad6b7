"""Pure refund and cancelation rules: what a request gives back, in cents, from what a line paid and what it
already gave back. No database, no clock.

Amounts of a line include tax (orders are TAX_INCLUDED). A seller types partial amounts excluding tax, as
the guide warns; the tax is computed from the line's rate and rounded once per line and refund. Whatever the
path, the sums given back never exceed what was paid, per line, for the product and for the shipping; when a
refund takes the last cent of a part it also takes the last cent of its tax and of the commission, so a line
given back in full is given back exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from comptoir.core.money import cents_to_decimal, round_cents, tax_included_part, tax_on_net
from comptoir.refunds.errors import (
    CancelationQuantityExceeded,
    RefundAmountExceeded,
    RefundInvalid,
    RefundLineNotShipped,
    RefundQuantityExceeded,
)


class RefundKind(StrEnum):
    REFUND = "REFUND"  # after the debit, for what shipped or as a gesture (OR28)
    CANCELATION = "CANCELATION"  # units that will not ship, before they leave (OR29, OR30)


class RefundMode(StrEnum):
    FULL = "FULL"  # everything the line still holds: product and shipping
    QUANTITY = "QUANTITY"  # some units; the amount is proposed from the unit price and may be edited
    AMOUNT = "AMOUNT"  # an amount on the product: a commercial gesture
    SHIPPING = "SHIPPING"  # shipping costs only


class RefundState(StrEnum):
    """Mirakl's refund states: created, sent to the payment provider, paid back to the customer."""

    WAITING_REFUND = "WAITING_REFUND"
    WAITING_REFUND_PAYMENT = "WAITING_REFUND_PAYMENT"
    REFUNDED = "REFUNDED"


REFUND_STATE_LABELS = {
    RefundState.WAITING_REFUND: "En attente de remboursement",
    RefundState.WAITING_REFUND_PAYMENT: "Paiement du remboursement en cours",
    RefundState.REFUNDED: "Remboursé",
}
MODE_LABELS = {
    RefundMode.FULL: "Remboursement intégral",
    RefundMode.QUANTITY: "Remboursement partiel par quantité",
    RefundMode.AMOUNT: "Geste commercial (montant)",
    RefundMode.SHIPPING: "Frais de port uniquement",
}


def euros(cents: int) -> str:
    """French display of an amount, for messages: 1 234,50 €."""
    text = f"{cents_to_decimal(cents):,.2f}".replace(",", " ").replace(".", ",")
    return f"{text} €"


@dataclass(frozen=True, slots=True)
class LineAccount:
    """One line's money: what was paid, what already went back (refunds and cancelations), and its units."""

    line_id: str
    quantity: int
    unit_price_cents: int
    price_cents: int
    tax_cents: int
    tax_rate: Decimal
    shipping_cents: int
    shipping_tax_cents: int
    shipping_tax_rate: Decimal
    commission_fee_cents: int
    commission_vat_cents: int
    back_amount_cents: int = 0
    back_amount_tax_cents: int = 0
    back_shipping_cents: int = 0
    back_shipping_tax_cents: int = 0
    back_commission_fee_cents: int = 0
    back_commission_vat_cents: int = 0
    refunded_quantity: int = 0  # units refunded (whether or not they shipped)
    canceled_quantity: int = 0  # units that will not ship (canceled, or refunded and excluded from shipment)
    in_shipments_quantity: int = 0  # units in a parcel, prepared or shipped
    shipped_quantity: int = 0  # units in a shipped parcel

    @property
    def remaining_amount(self) -> int:
        return self.price_cents - self.back_amount_cents

    @property
    def remaining_amount_tax(self) -> int:
        return self.tax_cents - self.back_amount_tax_cents

    @property
    def remaining_shipping(self) -> int:
        return self.shipping_cents - self.back_shipping_cents

    @property
    def remaining_shipping_tax(self) -> int:
        return self.shipping_tax_cents - self.back_shipping_tax_cents

    @property
    def remaining_quantity(self) -> int:
        """Units neither refunded nor canceled yet."""
        return max(0, self.quantity - self.refunded_quantity - self.canceled_quantity)

    @property
    def cancelable_quantity(self) -> int:
        """Units that can still be kept from shipping: not canceled and in no parcel."""
        return max(0, self.quantity - self.canceled_quantity - self.in_shipments_quantity)

    @property
    def fully_given_back(self) -> bool:
        return self.remaining_amount <= 0 and self.remaining_shipping <= 0

    def remaining_amount_excl_tax(self) -> int:
        return self.remaining_amount - self.remaining_amount_tax

    def remaining_shipping_excl_tax(self) -> int:
        return self.remaining_shipping - self.remaining_shipping_tax


@dataclass(frozen=True, slots=True)
class Ask:
    """A request on one line. Amounts in cents, `None` when not given; excluding tax unless `tax_included`.
    `mode=None` (Mirakl's OR28 and OR30 name no mode): the mode the amounts mean on this line, see `infer`."""

    line_id: str
    kind: RefundKind
    mode: RefundMode | None
    quantity: int = 0
    amount_cents: int | None = None
    shipping_cents: int | None = None
    tax_included: bool = False
    excluded_from_shipment: bool = False


@dataclass(frozen=True, slots=True)
class Amounts:
    """What one refund or cancelation gives back, all including tax, with the tax and commission parts."""

    line_id: str
    kind: RefundKind
    mode: RefundMode
    quantity: int  # units refunded or canceled (informative for a gesture)
    amount_cents: int
    amount_tax_cents: int
    shipping_cents: int
    shipping_tax_cents: int
    commission_fee_cents: int  # commission given back to the seller
    commission_vat_cents: int
    excluded_quantity: int  # units that will no longer ship
    settles_line: bool  # the line is refunded in full (→ REFUNDED) or every unit canceled (→ CANCELED)

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.shipping_cents

    @property
    def tax_total_cents(self) -> int:
        return self.amount_tax_cents + self.shipping_tax_cents

    @property
    def excl_tax_cents(self) -> int:
        return self.total_cents - self.tax_total_cents

    @property
    def commission_total_cents(self) -> int:
        return self.commission_fee_cents + self.commission_vat_cents

    @property
    def seller_cost_cents(self) -> int:
        """What leaves the seller's balance: the refund minus the commission the operator gives back."""
        return self.total_cents - self.commission_total_cents


def proposed_excl_tax(line: LineAccount, quantity: int) -> int:
    """The amount excluding tax proposed for `quantity` units (editable by the seller)."""
    if quantity >= line.remaining_quantity:
        return line.remaining_amount_excl_tax()
    gross = min(line.unit_price_cents * quantity, line.remaining_amount)
    return gross - min(tax_included_part(gross, line.tax_rate), line.remaining_amount_tax)


def _part(cents: int | None, *, remaining: int, remaining_tax: int, rate: Decimal, tax_included: bool,
          what: str, field: str) -> tuple[int, int]:
    """(amount incl. tax, its tax) for an amount typed excl. tax (or incl. tax), checked against what remains;
    an error names `field` (amount or shipping_amount)."""
    if cents is None or cents == 0:
        return 0, 0
    if cents < 0:
        raise RefundInvalid(f"Le montant {what} ne peut pas être négatif.", field=field)
    remaining_excl = remaining - remaining_tax
    if tax_included:
        gross = cents
        tax = remaining_tax if gross == remaining else tax_included_part(gross, rate)
    elif cents == remaining_excl:  # the exact rest, typed excl. tax: give back the exact rest
        gross, tax = remaining, remaining_tax
    else:
        tax = tax_on_net(cents, rate)
        gross = cents + tax
    if gross > remaining:
        raise RefundAmountExceeded(
            f"Le montant {what} ({euros(gross)} TTC) dépasse ce qui reste remboursable sur la ligne : "
            f"{euros(remaining)} TTC, soit {euros(remaining_excl)} HT.",
            field=field,
        )
    if gross == remaining:
        tax = remaining_tax
    return gross, min(tax, remaining_tax)


def _commission_back(line: LineAccount, amount: int, shipping: int, settles_money: bool) -> tuple[int, int]:
    """Commission is given back pro rata of the line total (product and shipping); the last refund takes the
    rest, so a line refunded in full gives back its whole commission."""
    remaining_fee = line.commission_fee_cents - line.back_commission_fee_cents
    remaining_vat = line.commission_vat_cents - line.back_commission_vat_cents
    if settles_money:
        return remaining_fee, remaining_vat
    base = line.price_cents + line.shipping_cents
    if base <= 0:
        return 0, 0
    share = Decimal(amount + shipping) / base
    fee = min(round_cents(line.commission_fee_cents * share), remaining_fee)
    vat = min(round_cents(line.commission_vat_cents * share), remaining_vat)
    return max(0, fee), max(0, vat)


def compute(line: LineAccount, ask: Ask) -> Amounts:
    """What `ask` gives back on `line`, or the error saying why not (in French, with the figures). An ask
    without a mode gets the one its amounts mean on the line (`infer`; `Amounts.mode` tells which)."""
    if ask.kind == RefundKind.CANCELATION:
        return _cancelation(line, ask)
    return _refund(line, ask)


def typed_mode(*, quantity: int, amount_cents: int | None, shipping_cents: int | None) -> RefundMode | None:
    """A refund's mode read from what was typed alone: shipping without an amount → SHIPPING, units (with or
    without an amount) → QUANTITY, an amount → AMOUNT; `None` when nothing is asked."""
    if not amount_cents and shipping_cents:
        return RefundMode.SHIPPING
    if quantity > 0:
        return RefundMode.QUANTITY
    if amount_cents:
        return RefundMode.AMOUNT
    return None


def infer(line: LineAccount, ask: Ask) -> RefundMode:
    """The mode `ask`'s amounts mean on `line` (its own when it names one). A refund that gives back everything
    the line still holds (its remaining amount and shipping, tax included or excluded as typed) is FULL, which
    also takes the line's remaining units; otherwise the typed mode (`typed_mode`). A cancelation naming every
    unit that can still be canceled is FULL, fewer units are QUANTITY. Raises what `compute` would."""
    if ask.mode is not None:
        return ask.mode
    if ask.kind == RefundKind.CANCELATION:
        return RefundMode.FULL if ask.quantity == line.cancelable_quantity else RefundMode.QUANTITY
    return _refund_inferred(line, ask).mode


def _refund_inferred(line: LineAccount, ask: Ask) -> Amounts:
    mode = typed_mode(quantity=ask.quantity, amount_cents=ask.amount_cents, shipping_cents=ask.shipping_cents)
    if mode is None:
        raise RefundInvalid("Indiquez un montant, des frais de port ou une quantité à rembourser.", field="amount")
    typed = replace(ask, mode=mode, amount_cents=None if mode == RefundMode.SHIPPING else ask.amount_cents)
    done = _refund(line, typed)
    if not done.settles_line:
        return done
    # The rest of the line, to the cent: a full refund, which also gives back the line's remaining units.
    return _refund(line, replace(ask, mode=RefundMode.FULL, quantity=0, amount_cents=None, shipping_cents=None))


def _refund(line: LineAccount, ask: Ask) -> Amounts:
    if ask.mode is None:
        return _refund_inferred(line, ask)
    if line.fully_given_back:
        raise RefundAmountExceeded(f"La ligne {line.line_id} est déjà intégralement remboursée.")
    quantity = ask.quantity
    if quantity < 0:
        raise RefundInvalid("La quantité ne peut pas être négative.", field="quantity")
    if quantity > line.remaining_quantity:
        raise RefundQuantityExceeded(
            f"Ligne {line.line_id} : {quantity} unité(s) demandée(s), {line.remaining_quantity} seulement "
            f"reste(nt) à rembourser.", field="quantity")

    def product(cents: int | None) -> tuple[int, int]:
        return _part(cents, remaining=line.remaining_amount, remaining_tax=line.remaining_amount_tax,
                     rate=line.tax_rate, tax_included=ask.tax_included, what="du produit", field="amount")

    def shipping(cents: int | None) -> tuple[int, int]:
        return _part(cents, remaining=line.remaining_shipping, remaining_tax=line.remaining_shipping_tax,
                     rate=line.shipping_tax_rate, tax_included=ask.tax_included, what="des frais de port",
                     field="shipping_amount")

    if ask.mode == RefundMode.FULL:
        amount, amount_tax = line.remaining_amount, line.remaining_amount_tax
        ship, ship_tax = line.remaining_shipping, line.remaining_shipping_tax
        quantity = line.remaining_quantity
    elif ask.mode == RefundMode.QUANTITY:
        if quantity <= 0:
            raise RefundInvalid("Indiquez le nombre d'unités à rembourser.", field="quantity")
        typed = ask.amount_cents
        if typed is None:  # the proposal: the units' price, excl. tax as the seller sees it
            typed = proposed_excl_tax(line, quantity)
            if ask.tax_included:
                typed = min(line.unit_price_cents * quantity, line.remaining_amount)
                if quantity >= line.remaining_quantity:
                    typed = line.remaining_amount
        amount, amount_tax = product(typed)
        ship, ship_tax = shipping(ask.shipping_cents)
    elif ask.mode == RefundMode.AMOUNT:
        if not ask.amount_cents or ask.amount_cents <= 0:
            raise RefundInvalid("Indiquez le montant du geste commercial.", field="amount")
        amount, amount_tax = product(ask.amount_cents)
        ship, ship_tax = shipping(ask.shipping_cents)
    elif ask.mode == RefundMode.SHIPPING:
        if ask.amount_cents:
            raise RefundInvalid("Un remboursement des frais de port seuls ne rembourse pas le produit.",
                                field="amount")
        if line.remaining_shipping <= 0:
            raise RefundAmountExceeded(f"Ligne {line.line_id} : plus de frais de port à rembourser.",
                                       field="shipping_amount")
        typed = line.remaining_shipping_excl_tax() if ask.shipping_cents is None else ask.shipping_cents
        if ask.tax_included and ask.shipping_cents is None:
            typed = line.remaining_shipping
        amount, amount_tax = 0, 0
        ship, ship_tax = shipping(typed)
        quantity = 0
    else:
        raise RefundInvalid(f"Mode de remboursement inconnu : {ask.mode}.", field="mode")
    if amount + ship <= 0:
        raise RefundInvalid("Le montant à rembourser doit être positif.", field="amount")

    excluded = quantity if ask.excluded_from_shipment else 0
    if excluded > line.cancelable_quantity:
        raise CancelationQuantityExceeded(
            f"Ligne {line.line_id} : {excluded} unité(s) à ne plus expédier, mais {line.cancelable_quantity} "
            f"seulement ne sont dans aucun colis.", field="excluded_from_shipment")
    settles = amount == line.remaining_amount and ship == line.remaining_shipping
    if settles:
        to_ship = line.quantity - line.canceled_quantity - excluded
        if line.shipped_quantity < to_ship:
            raise RefundLineNotShipped(
                f"Ligne {line.line_id} : {to_ship - line.shipped_quantity} unité(s) ne sont pas encore "
                "expédiées. Annulez-les (ou excluez-les de l'expédition) plutôt que de rembourser la ligne "
                "entière.", field="order_line_id")
    fee, vat = _commission_back(line, amount, ship, settles)
    return Amounts(line.line_id, RefundKind.REFUND, ask.mode, quantity, amount, amount_tax, ship, ship_tax,
                   fee, vat, excluded, settles)


def _gross(net: int | None, remaining: int, remaining_excl: int, rate: Decimal) -> int | None:
    """An amount typed excluding tax, with the VAT at `rate` (the exact rest when it is the rest)."""
    if net is None or net <= 0:
        return net
    return remaining if net == remaining_excl else net + tax_on_net(net, rate)


def _cancelation(line: LineAccount, ask: Ask) -> Amounts:
    if not ask.tax_included:  # cancelations are computed tax included
        ask = replace(ask, tax_included=True,
                      amount_cents=_gross(ask.amount_cents, line.remaining_amount, line.remaining_amount_excl_tax(),
                                          line.tax_rate),
                      shipping_cents=_gross(ask.shipping_cents, line.remaining_shipping,
                                            line.remaining_shipping_excl_tax(), line.shipping_tax_rate))
    mode = infer(line, ask)
    quantity = line.cancelable_quantity if mode == RefundMode.FULL else ask.quantity
    if mode not in (RefundMode.FULL, RefundMode.QUANTITY):
        raise RefundInvalid("Une annulation porte sur des unités (toute la ligne ou une quantité).", field="mode")
    if quantity <= 0:
        if mode == RefundMode.FULL:
            raise CancelationQuantityExceeded(
                f"Ligne {line.line_id} : plus aucune unité à annuler (les autres sont dans un colis ou déjà "
                "annulées).")
        raise RefundInvalid("Indiquez le nombre d'unités à annuler.", field="quantity")
    if quantity > line.cancelable_quantity:
        raise CancelationQuantityExceeded(
            f"Ligne {line.line_id} : {quantity} unité(s) à annuler, mais {line.cancelable_quantity} seulement "
            "ne sont dans aucun colis. Retirez d'abord les unités d'un colis préparé.", field="quantity")
    every_unit = line.canceled_quantity + quantity >= line.quantity
    if every_unit:  # the whole line goes back, to the cent
        amount, amount_tax = line.remaining_amount, line.remaining_amount_tax
        ship, ship_tax = line.remaining_shipping, line.remaining_shipping_tax
    else:
        def part(given: int | None, proposal: int, remaining: int, remaining_tax: int, rate: Decimal,
                 what: str, field: str) -> tuple[int, int]:
            return _part(min(proposal, remaining) if given is None else given, remaining=remaining,
                         remaining_tax=remaining_tax, rate=rate, tax_included=True, what=what, field=field)

        amount, amount_tax = part(ask.amount_cents, line.unit_price_cents * quantity, line.remaining_amount,
                                  line.remaining_amount_tax, line.tax_rate, "du produit", "amount")
        ship_share = round_cents(Decimal(line.shipping_cents * quantity) / line.quantity)
        ship, ship_tax = part(ask.shipping_cents, ship_share, line.remaining_shipping,
                              line.remaining_shipping_tax, line.shipping_tax_rate, "des frais de port",
                              "shipping_amount")
    settles_money = amount == line.remaining_amount and ship == line.remaining_shipping
    fee, vat = _commission_back(line, amount, ship, settles_money)
    return Amounts(line.line_id, RefundKind.CANCELATION, mode, quantity, amount, amount_tax, ship, ship_tax,
                   fee, vat, quantity, every_unit)


def apply(line: LineAccount, done: Amounts) -> LineAccount:
    """The line's account after `done` (used to chain several requests on one line in one batch)."""
    return replace(
        line,
        back_amount_cents=line.back_amount_cents + done.amount_cents,
        back_amount_tax_cents=line.back_amount_tax_cents + done.amount_tax_cents,
        back_shipping_cents=line.back_shipping_cents + done.shipping_cents,
        back_shipping_tax_cents=line.back_shipping_tax_cents + done.shipping_tax_cents,
        back_commission_fee_cents=line.back_commission_fee_cents + done.commission_fee_cents,
        back_commission_vat_cents=line.back_commission_vat_cents + done.commission_vat_cents,
        refunded_quantity=line.refunded_quantity + (done.quantity if done.kind == RefundKind.REFUND else 0),
        canceled_quantity=line.canceled_quantity + done.excluded_quantity,
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """What the seller sees before confirming: HT, VAT, TTC, the commission given back, and the balance."""

    excl_tax_cents: int
    tax_cents: int
    total_cents: int
    commission_back_cents: int
    seller_cost_cents: int
    balance_label: str  # "en attente" or "payable"
    balance_before_cents: int
    balance_after_cents: int

    @property
    def sufficient(self) -> bool:
        return self.balance_after_cents >= 0


def preview(amounts: Iterable[Amounts], *, balance_label: str, balance_before_cents: int) -> Preview:
    items = list(amounts)
    cost = sum(a.seller_cost_cents for a in items)
    return Preview(
        excl_tax_cents=sum(a.excl_tax_cents for a in items),
        tax_cents=sum(a.tax_total_cents for a in items),
        total_cents=sum(a.total_cents for a in items),
        commission_back_cents=sum(a.commission_total_cents for a in items),
        seller_cost_cents=cost,
        balance_label=balance_label,
        balance_before_cents=balance_before_cents,
        balance_after_cents=balance_before_cents - cost,
    )
