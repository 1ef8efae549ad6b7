"""Login lockout: after MAX_FAILURES failed logins for one (username, IP), that pair is locked for LOCK_FOR."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.http import HttpRequest

from comptoir.core import clock
from comptoir.web.models import LoginThrottle

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
# Failures older than this are forgotten (a typo a week ago does not count towards today's lock).
WINDOW = timedelta(minutes=15)


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def locked_until(username: str, ip: str) -> datetime | None:
    row = LoginThrottle.objects.filter(username=username.lower(), ip=ip).first()
    if row and row.locked_until and row.locked_until > clock.now():
        return row.locked_until
    return None


def record_failure(username: str, ip: str) -> None:
    now = clock.now()
    with transaction.atomic():
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(
            username=username.lower(), ip=ip, defaults={"last_failure": now}
        )
        if now - row.last_failure > WINDOW and not row.locked_until:
            row.failures = 0
        if row.locked_until and row.locked_until <= now:
            row.failures, row.locked_until = 0, None
        row.failures += 1
        row.last_failure = now
        if row.failures >= MAX_FAILURES:
            row.locked_until = now + LOCK_FOR
        row.save()


def clear(username: str, ip: str) -> None:
    LoginThrottle.objects.filter(username=username.lower(), ip=ip).delete()
