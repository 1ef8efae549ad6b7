"""Scorecard use cases: the operator sets thresholds per measure; a shop is checked against them (a warning
told to the seller and the operator, or an automatic suspension when the operator enabled it), each breach
leaving a ScorecardAlert row, in one transaction with the check's bookmark."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.notifications import services as notification_services
from comptoir.orders.events import OrderEvent
from comptoir.scorecards import queries, rules
from comptoir.scorecards.models import ScorecardAlert, ScorecardCheck, ScorecardThreshold
from comptoir.shops import services as shop_services
from comptoir.shops.models import Shop, ShopState

WARNING_EVENT = "ScorecardWarning"
SUSPENSION_EVENT = "ScorecardSuspension"


def set_threshold(*, measure: str, warning_level: Decimal | None, suspension_level: Decimal | None,
                  suspension_enabled: bool, window_days: int = 30) -> ScorecardThreshold | None:
    """Create, change or (with no level and no suspension) remove the thresholds of one measure."""
    try:
        which = rules.Measure(measure)
    except ValueError:
        raise ValidationError(f"Indicateur inconnu : {measure}.", field="measure") from None
    if window_days not in rules.WINDOWS:
        raise ValidationError("La période est de 30 ou 90 jours.", field="window_days")
    problem = rules.threshold_error(which, warning_level, suspension_level, suspension_enabled)
    if problem:
        raise ValidationError(problem, field="suspension_level")
    with transaction.atomic():
        if warning_level is None and suspension_level is None and not suspension_enabled:
            ScorecardThreshold.objects.filter(measure=which).delete()
            return None
        threshold, _ = ScorecardThreshold.objects.update_or_create(measure=which, defaults={
            "warning_level": warning_level, "suspension_level": suspension_level,
            "suspension_enabled": suspension_enabled, "window_days": window_days, "updated_date": clock.now(),
        })
    return threshold


def active_thresholds() -> list[rules.Threshold]:
    return [t for t in queries.threshold_rules()
            if t.warning is not None or (t.suspension_enabled and t.suspension is not None)]


def check_interval() -> timedelta:
    return timedelta(hours=settings.COMPTOIR["SCORECARD_CHECK_HOURS"])


def due_shops(now: datetime, limit: int) -> list[int]:
    """Open shops not checked within the interval, lowest id first."""
    recent = ScorecardCheck.objects.filter(checked_date__gt=now - check_interval()).values("shop_id")
    return list(Shop.objects.filter(state=ShopState.OPEN).exclude(id__in=recent).order_by("id")
                .values_list("id", flat=True)[:limit])


def _event(name: str, shop_id: int, now: datetime, alert: ScorecardAlert, label: str, unit: str) -> OrderEvent:
    return OrderEvent(name, "", shop_id, now, {
        "measure": alert.measure, "label": label, "level": alert.level, "window_days": alert.window_days,
        "value": rules.format_value(alert.value, unit), "threshold": rules.format_value(alert.threshold, unit),
        "message": alert.message,
    })


def check_shop(*, shop_id: int, thresholds: list[rules.Threshold], now: datetime | None = None) -> list[ScorecardAlert]:
    """Measure the shop over each threshold's window and act on the breaches. Idempotent within the check
    interval: a second run (another worker) finds the bookmark fresh and does nothing."""
    now = now or clock.now()
    cards = {days: queries.scorecard(shop_id, days, end=now) for days in {t.window_days for t in thresholds}}
    with transaction.atomic():
        shop = shop_services.lock_shop(shop_id)  # lock order: the shop first
        bookmark = ScorecardCheck.objects.filter(shop_id=shop_id).first()
        if bookmark is not None and bookmark.checked_date > now - check_interval():
            return []
        ScorecardCheck.objects.update_or_create(shop_id=shop_id, defaults={"checked_date": now})
        alerts: list[ScorecardAlert] = []
        events: list[OrderEvent] = []
        suspended = shop.state != ShopState.OPEN
        for threshold in thresholds:
            value = cards[threshold.window_days][threshold.measure]
            level = rules.check_threshold(threshold, value)
            if level is None or value.value is None:
                continue
            limit = threshold.suspension if level == rules.Level.SUSPENSION else threshold.warning
            assert limit is not None
            message = f"{rules.describe(value, limit)} sur {threshold.window_days} jours"
            alert = ScorecardAlert(shop_id=shop_id, measure=threshold.measure, level=level, value=value.value,
                                   threshold=limit, window_days=threshold.window_days, numerator=value.numerator,
                                   denominator=value.denominator, message=message[:300], created_date=now)
            if level == rules.Level.SUSPENSION and not suspended:
                alert.suspended = suspended = shop_services.suspend_shop(
                    shop_id=shop_id, reason=f"Suspension automatique : {message}"[:500])
            name = SUSPENSION_EVENT if alert.suspended else WARNING_EVENT
            events.append(_event(name, shop_id, now, alert, value.label, value.unit))
            alerts.append(alert)
        ScorecardAlert.objects.bulk_create(alerts)
        notification_services.record_events(events)
    return alerts


def sweep(*, limit: int | None = None) -> int:
    """One batch of the daily check; returns how many shops were checked (0: nothing to do)."""
    thresholds = active_thresholds()
    if not thresholds:
        return 0
    now = clock.now()
    shops = due_shops(now, limit or settings.COMPTOIR["SCORECARD_BATCH_SIZE"])
    for shop_id in shops:
        check_shop(shop_id=shop_id, thresholds=thresholds, now=now)
    return len(shops)
