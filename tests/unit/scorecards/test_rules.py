"""Scorecard rules, pure: each measure from plain facts, thresholds on the right side per measure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from comptoir.scorecards import rules
from comptoir.scorecards.rules import Facts, Level, Measure, Threshold

H = timedelta(hours=1)


def test_measures_from_hand_counted_facts() -> None:
    facts = Facts(accepted=7, refused=2, auto_refused=1, acceptance_delays=(12 * H, 36 * H), accepted_orders=7,
                  shipped_orders=8, late_shipped_orders=1, shipments=9, tracked_shipments=9,
                  message_replies=((10 * H, False), (50 * H, True), (None, True), (None, False)),
                  incident_orders=2, refunded_orders=1, canceled_orders=3)
    card = rules.scorecard(facts)

    assert [m for m in card] == list(Measure)
    assert card[Measure.ACCEPTANCE_RATE].value == Decimal("70.0")
    assert (card[Measure.ACCEPTANCE_DELAY].value, card[Measure.ACCEPTANCE_DELAY].numerator) == (Decimal(1), Decimal(2))
    assert card[Measure.AUTO_REFUSALS].value == 1 and card[Measure.AUTO_REFUSALS].denominator == 10
    assert card[Measure.LATE_SHIPMENT_RATE].value == Decimal("12.5")
    assert card[Measure.VALID_TRACKING_RATE].value == Decimal("100.0")
    # 3 settled messages (one still inside its 48 h is left out), one answered on time
    answered = card[Measure.MESSAGES_ANSWERED_RATE]
    assert (answered.value, answered.numerator, answered.denominator) == (Decimal("33.3"), 1, 3)
    assert card[Measure.RESPONSE_DELAY].value == Decimal(30)
    assert card[Measure.INCIDENT_RATE].value == Decimal(25)
    assert card[Measure.REFUND_RATE].value == Decimal("12.5")
    assert card[Measure.CANCELATION_RATE].value == Decimal("42.9")


def test_nothing_to_measure_gives_no_value() -> None:
    card = rules.scorecard(Facts())
    assert all(v.value is None for m, v in card.items() if m != Measure.AUTO_REFUSALS)
    assert card[Measure.ACCEPTANCE_RATE].denominator == 0


def test_threshold_sides_follow_the_measure() -> None:
    low_rate = rules.acceptance_rate(Facts(accepted=1, refused=1))  # 50 %: higher is better
    slow = rules.acceptance_delay(Facts(acceptance_delays=(72 * H,)))  # 3 days: lower is better
    rate_rule = Threshold(Measure.ACCEPTANCE_RATE, Decimal(80), Decimal(60), suspension_enabled=True)
    delay_rule = Threshold(Measure.ACCEPTANCE_DELAY, Decimal(2), Decimal(4), suspension_enabled=True)

    assert rules.check_threshold(rate_rule, low_rate) == Level.SUSPENSION
    assert rules.check_threshold(delay_rule, slow) == Level.WARNING
    disabled = Threshold(Measure.ACCEPTANCE_RATE, Decimal(80), Decimal(60), suspension_enabled=False)
    assert rules.check_threshold(disabled, low_rate) == Level.WARNING
    assert rules.check_threshold(rate_rule, rules.acceptance_rate(Facts())) is None


def test_threshold_errors_are_french_and_specific() -> None:
    assert rules.threshold_error(Measure.ACCEPTANCE_RATE, Decimal(101), None, False) == \
        "Un taux est compris entre 0 et 100 %."
    assert rules.threshold_error(Measure.ACCEPTANCE_DELAY, Decimal(2), Decimal(1), False) == \
        "Le seuil de suspension doit être supérieur ou égal au seuil d'avertissement."
    assert rules.threshold_error(Measure.ACCEPTANCE_DELAY, Decimal(2), Decimal(3), True) is None
    assert rules.format_value(Decimal("2.50"), "jours ouvrés") == "2,5 jours ouvrés"
