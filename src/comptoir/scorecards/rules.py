"""Seller scorecards as pure definitions: one function per measure over plain facts (counts and business
durations the queries gathered), the operator's threshold checks, and what a breach means. No Django here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

WINDOWS: Final = (30, 90)  # days, ending now
ANSWER_BUSINESS_HOURS: Final = 48  # the guide: a customer's message is answered within 48 business hours
_HUNDRED = Decimal(100)
_ONE_DECIMAL = Decimal("0.1")
_TWO_DECIMALS = Decimal("0.01")


class Measure(StrEnum):
    ACCEPTANCE_RATE = "ACCEPTANCE_RATE"
    ACCEPTANCE_DELAY = "ACCEPTANCE_DELAY"
    AUTO_REFUSALS = "AUTO_REFUSALS"
    LATE_SHIPMENT_RATE = "LATE_SHIPMENT_RATE"
    VALID_TRACKING_RATE = "VALID_TRACKING_RATE"
    MESSAGES_ANSWERED_RATE = "MESSAGES_ANSWERED_RATE"
    RESPONSE_DELAY = "RESPONSE_DELAY"
    INCIDENT_RATE = "INCIDENT_RATE"
    REFUND_RATE = "REFUND_RATE"
    CANCELATION_RATE = "CANCELATION_RATE"


class Unit(StrEnum):
    PERCENT = "%"
    BUSINESS_DAYS = "jours ouvrés"
    BUSINESS_HOURS = "heures ouvrées"
    ORDERS = "commandes"


@dataclass(frozen=True, slots=True)
class Definition:
    measure: Measure
    label: str  # French, for the back offices
    unit: Unit
    higher_is_better: bool
    description: str  # how it is computed, in French (shown under the charts)


DEFINITIONS: Final[dict[Measure, Definition]] = {d.measure: d for d in (
    Definition(Measure.ACCEPTANCE_RATE, "Taux d'acceptation", Unit.PERCENT, True,
               "Commandes acceptées sur les commandes dont l'acceptation a été décidée (acceptées, refusées, "
               "refusées automatiquement) sur la période."),
    Definition(Measure.ACCEPTANCE_DELAY, "Délai moyen d'acceptation", Unit.BUSINESS_DAYS, False,
               "Temps ouvré moyen entre l'arrivée en attente d'acceptation et la décision (moyenne "
               "contractuelle : 2 jours ouvrés)."),
    Definition(Measure.AUTO_REFUSALS, "Refus automatiques", Unit.ORDERS, False,
               "Commandes refusées automatiquement faute d'acceptation dans le délai."),
    Definition(Measure.LATE_SHIPMENT_RATE, "Taux d'expédition en retard", Unit.PERCENT, False,
               "Commandes expédiées après leur date limite, sur les commandes expédiées sur la période."),
    Definition(Measure.VALID_TRACKING_RATE, "Taux de suivi valide", Unit.PERCENT, True,
               "Colis expédiés avec un numéro ou un lien de suivi, sur les colis expédiés sur la période."),
    Definition(Measure.MESSAGES_ANSWERED_RATE, "Messages répondus sous 48 h ouvrées", Unit.PERCENT, True,
               "Messages de clients répondus par la boutique sous 48 heures ouvrées (les messages encore dans "
               "leur délai et sans réponse ne comptent pas)."),
    Definition(Measure.RESPONSE_DELAY, "Délai moyen de réponse", Unit.BUSINESS_HOURS, False,
               "Temps ouvré moyen entre un message de client et la réponse suivante de la boutique."),
    Definition(Measure.INCIDENT_RATE, "Taux d'incidents", Unit.PERCENT, False,
               "Commandes avec un incident ouvert sur la période, sur les commandes expédiées sur la période."),
    Definition(Measure.REFUND_RATE, "Taux de remboursement", Unit.PERCENT, False,
               "Commandes remboursées sur la période, sur les commandes expédiées sur la période."),
    Definition(Measure.CANCELATION_RATE, "Taux d'annulation", Unit.PERCENT, False,
               "Commandes avec une annulation sur la période, sur les commandes acceptées sur la période."),
)}


@dataclass(frozen=True, slots=True)
class Value:
    """One measure over one window: `value` is None when there is nothing to measure (denominator 0)."""

    measure: Measure
    value: Decimal | None
    numerator: Decimal
    denominator: int

    @property
    def definition(self) -> Definition:
        return DEFINITIONS[self.measure]

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def unit(self) -> str:
        return self.definition.unit.value


@dataclass(frozen=True, slots=True)
class Facts:
    """What the database says about one shop over one window: counts, and business durations."""

    accepted: int = 0
    refused: int = 0
    auto_refused: int = 0
    acceptance_delays: tuple[timedelta, ...] = ()  # business time from WAITING_ACCEPTANCE to the decision
    accepted_orders: int = 0  # orders accepted in the window (cancelation rate's denominator)
    shipped_orders: int = 0
    late_shipped_orders: int = 0
    shipments: int = 0
    tracked_shipments: int = 0
    # Customer messages to the shop: (business time to the shop's next answer, or None if unanswered yet,
    # and whether the 48-business-hour delay has already run out).
    message_replies: tuple[tuple[timedelta | None, bool], ...] = ()
    incident_orders: int = 0
    refunded_orders: int = 0
    canceled_orders: int = 0


def _rate(measure: Measure, numerator: int, denominator: int) -> Value:
    if denominator <= 0:
        return Value(measure, None, Decimal(numerator), 0)
    value = (Decimal(numerator) * _HUNDRED / Decimal(denominator)).quantize(_ONE_DECIMAL, ROUND_HALF_UP)
    return Value(measure, value, Decimal(numerator), denominator)


def _mean(measure: Measure, durations: Iterable[timedelta], per: timedelta) -> Value:
    """Mean of business durations in `per` units; the numerator is their total in the same unit."""
    items = list(durations)
    total = sum(items, timedelta(0)) / per
    numerator = Decimal(str(total)).quantize(_TWO_DECIMALS, ROUND_HALF_UP)
    if not items:
        return Value(measure, None, numerator, 0)
    mean = Decimal(str(total / len(items))).quantize(_TWO_DECIMALS, ROUND_HALF_UP)
    return Value(measure, mean, numerator, len(items))


def acceptance_rate(f: Facts) -> Value:
    return _rate(Measure.ACCEPTANCE_RATE, f.accepted, f.accepted + f.refused + f.auto_refused)


def acceptance_delay(f: Facts) -> Value:
    return _mean(Measure.ACCEPTANCE_DELAY, f.acceptance_delays, timedelta(hours=24))


def auto_refusals(f: Facts) -> Value:
    decided = f.accepted + f.refused + f.auto_refused
    return Value(Measure.AUTO_REFUSALS, Decimal(f.auto_refused), Decimal(f.auto_refused), decided)


def late_shipment_rate(f: Facts) -> Value:
    return _rate(Measure.LATE_SHIPMENT_RATE, f.late_shipped_orders, f.shipped_orders)


def valid_tracking_rate(f: Facts) -> Value:
    return _rate(Measure.VALID_TRACKING_RATE, f.tracked_shipments, f.shipments)


def messages_answered_rate(f: Facts) -> Value:
    limit = timedelta(hours=ANSWER_BUSINESS_HOURS)
    # A message still unanswered inside its delay is neither a success nor a failure yet.
    settled = [(delay, overdue) for delay, overdue in f.message_replies if delay is not None or overdue]
    on_time = sum(1 for delay, _ in settled if delay is not None and delay <= limit)
    return _rate(Measure.MESSAGES_ANSWERED_RATE, on_time, len(settled))


def response_delay(f: Facts) -> Value:
    return _mean(Measure.RESPONSE_DELAY, (d for d, _ in f.message_replies if d is not None), timedelta(hours=1))


def incident_rate(f: Facts) -> Value:
    return _rate(Measure.INCIDENT_RATE, f.incident_orders, f.shipped_orders)


def refund_rate(f: Facts) -> Value:
    return _rate(Measure.REFUND_RATE, f.refunded_orders, f.shipped_orders)


def cancelation_rate(f: Facts) -> Value:
    return _rate(Measure.CANCELATION_RATE, f.canceled_orders, f.accepted_orders)


COMPUTE: Final = (acceptance_rate, acceptance_delay, auto_refusals, late_shipment_rate, valid_tracking_rate,
                  messages_answered_rate, response_delay, incident_rate, refund_rate, cancelation_rate)


def scorecard(facts: Facts) -> dict[Measure, Value]:
    """Every measure, in display order."""
    return {value.measure: value for value in (compute(facts) for compute in COMPUTE)}


# --- thresholds ---------------------------------------------------------------------------------------------

class Level(StrEnum):
    WARNING = "WARNING"
    SUSPENSION = "SUSPENSION"


LEVEL_LABELS: Final = {Level.WARNING: "Avertissement", Level.SUSPENSION: "Suspension"}


@dataclass(frozen=True, slots=True)
class Threshold:
    measure: Measure
    warning: Decimal | None
    suspension: Decimal | None
    suspension_enabled: bool = False
    window_days: int = 30


def breaches(value: Decimal | None, level: Decimal | None, *, higher_is_better: bool) -> bool:
    """Whether a measured value is on the wrong side of a level; nothing measured never breaches."""
    if value is None or level is None:
        return False
    return value < level if higher_is_better else value > level


def check_threshold(threshold: Threshold, value: Value) -> Level | None:
    """The worst level breached: SUSPENSION only when the operator enabled automatic suspension."""
    better_high = DEFINITIONS[threshold.measure].higher_is_better
    if threshold.suspension_enabled and breaches(value.value, threshold.suspension, higher_is_better=better_high):
        return Level.SUSPENSION
    if breaches(value.value, threshold.warning, higher_is_better=better_high):
        return Level.WARNING
    return None


def threshold_error(measure: Measure, warning: Decimal | None, suspension: Decimal | None,
                    suspension_enabled: bool) -> str | None:
    """Why a threshold makes no sense (French, for the operator's form), or None."""
    definition = DEFINITIONS[measure]
    for level in (warning, suspension):
        if level is not None and level < 0:
            return "Un seuil ne peut pas être négatif."
        if level is not None and definition.unit == Unit.PERCENT and level > _HUNDRED:
            return "Un taux est compris entre 0 et 100 %."
    if suspension_enabled and suspension is None:
        return "La suspension automatique demande un seuil de suspension."
    if warning is not None and suspension is not None:
        if definition.higher_is_better and suspension > warning:
            return "Le seuil de suspension doit être inférieur ou égal au seuil d'avertissement."
        if not definition.higher_is_better and suspension < warning:
            return "Le seuil de suspension doit être supérieur ou égal au seuil d'avertissement."
    return None


def describe(value: Value, level: Decimal | None) -> str:
    """« Taux d'acceptation : 62,5 % (seuil 80 %) » for notifications and suspension reasons."""
    return f"{value.label} : {format_value(value.value, value.unit)} (seuil {format_value(level, value.unit)})"


def format_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value.normalize():f}".replace(".", ",")
    return f"{text} %" if unit == Unit.PERCENT else f"{text} {unit}"


def values_of(card: Mapping[Measure, Value]) -> list[Value]:
    return [card[m] for m in Measure if m in card]
