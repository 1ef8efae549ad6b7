"""Operator thresholds checked by the worker's daily sweep: a warning (alert row, events to the seller and the
operator), an automatic suspension only when enabled, once per shop per check interval; bad thresholds refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from comptoir.core.errors import ValidationError
from comptoir.notifications.models import OutboxEvent
from comptoir.notifications.rendering import render
from comptoir.orders.rules import Decision
from comptoir.orders.services import decide_lines
from comptoir.scorecards import services
from comptoir.scorecards.models import ScorecardAlert, ScorecardThreshold
from comptoir.shops.models import Shop, ShopState
from comptoir.timers.worker import run_until_idle
from tests.factories import SELLER, ShopFactory, make_order

pytestmark = pytest.mark.django_db


def _half_accepted_shop():
    """A shop that accepted one order and refused another: acceptance rate 50 %."""
    shop = ShopFactory(customer_service_email="vendeur@example.com")
    for accept in (True, False):
        order = make_order(shop=shop)
        decide_lines(order_id=order.order_id, shop_id=shop.id, who=SELLER,
                     decisions=[Decision(line.line_id, accept) for line in order.lines.all()])
    return shop


def _events(name: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(event_type=name).order_by("audience"))


def test_warning_writes_an_alert_and_tells_seller_and_operator_once_per_day(test_clock) -> None:
    shop = _half_accepted_shop()
    quiet = ShopFactory()  # nothing measured: never breaches
    services.set_threshold(measure="ACCEPTANCE_RATE", warning_level=Decimal(80), suspension_level=Decimal(40),
                           suspension_enabled=False)

    assert run_until_idle() >= 2

    alert = ScorecardAlert.objects.get()
    assert (alert.shop_id, alert.measure, alert.level, alert.value, alert.threshold, alert.suspended) == (
        shop.id, "ACCEPTANCE_RATE", "WARNING", Decimal("50.0"), Decimal(80), False)
    assert (alert.numerator, alert.denominator, alert.window_days) == (1, 2, 30)
    assert not ScorecardAlert.objects.filter(shop=quiet).exists()
    events = _events("ScorecardWarning")
    assert [(e.audience, e.shop_id, e.order_id) for e in events] == [("OPERATOR", shop.id, ""),
                                                                     ("SELLER", shop.id, "")]
    mail = render(events[1])
    assert mail is not None and "Taux d'acceptation" in mail.subject and "50 %" in mail.body
    assert Shop.objects.get(pk=shop.pk).state == ShopState.OPEN

    # The same day, a second run checks nothing again.
    assert services.sweep() == 0
    test_clock.advance(timedelta(hours=25))
    services.sweep()
    assert ScorecardAlert.objects.count() == 2


def test_suspension_when_enabled_suspends_the_shop_with_history_and_notifications(test_clock) -> None:
    shop = _half_accepted_shop()
    services.set_threshold(measure="ACCEPTANCE_RATE", warning_level=Decimal(90), suspension_level=Decimal(60),
                           suspension_enabled=True)

    services.sweep()

    alert = ScorecardAlert.objects.get()
    assert (alert.level, alert.suspended, alert.threshold) == ("SUSPENSION", True, Decimal(60))
    suspended = Shop.objects.get(pk=shop.pk)
    assert suspended.state == ShopState.SUSPENDED and "Taux d'acceptation" in suspended.suspension_reason
    assert [e.audience for e in _events("ScorecardSuspension")] == ["OPERATOR", "SELLER"]
    assert not _events("ScorecardWarning")
    mail = render(_events("ScorecardSuspension")[1])
    assert mail is not None and "suspendue" in mail.subject


def test_suspension_level_without_automatic_suspension_only_warns() -> None:
    shop = _half_accepted_shop()
    services.set_threshold(measure="ACCEPTANCE_RATE", warning_level=Decimal(90), suspension_level=Decimal(60),
                           suspension_enabled=False)

    services.sweep()

    assert ScorecardAlert.objects.get().level == "WARNING"
    assert Shop.objects.get(pk=shop.pk).state == ShopState.OPEN


@pytest.mark.parametrize(("measure", "warning", "suspension", "enabled"), [
    ("ACCEPTANCE_RATE", Decimal(60), Decimal(80), False),  # suspension must be the stricter side
    ("LATE_SHIPMENT_RATE", Decimal(10), Decimal(5), False),
    ("ACCEPTANCE_RATE", Decimal(120), None, False),  # a rate is 0..100
    ("ACCEPTANCE_DELAY", Decimal(-1), None, False),
    ("ACCEPTANCE_RATE", Decimal(80), None, True),  # suspension needs a level
    ("NOPE", Decimal(1), None, False),
])
def test_bad_thresholds_are_refused_and_change_nothing(measure, warning, suspension, enabled) -> None:
    with pytest.raises(ValidationError):
        services.set_threshold(measure=measure, warning_level=warning, suspension_level=suspension,
                               suspension_enabled=enabled)
    assert not ScorecardThreshold.objects.exists()


def test_clearing_every_level_removes_the_threshold() -> None:
    services.set_threshold(measure="AUTO_REFUSALS", warning_level=Decimal(1), suspension_level=None,
                           suspension_enabled=False)
    services.set_threshold(measure="AUTO_REFUSALS", warning_level=None, suspension_level=None,
                           suspension_enabled=False)
    assert not ScorecardThreshold.objects.exists()
    assert services.sweep() == 0
