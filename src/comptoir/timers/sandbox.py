"""Sandbox mode and the sandbox clock's offset, stored in the database so every process (serve, worker,
CLI) shares them. Sandbox mode is on when COMPTOIR_SANDBOX is set or `comptoir serve --demo` enabled it."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction

from comptoir.core import clock
from comptoir.core.errors import SandboxOnly

# How far the sandbox clock may be ahead of real time: far enough for any scenario, and far from the year 9999
# where every date computation overflows.
MAX_OFFSET = timedelta(days=3660)


def _row() -> tuple[bool, int] | None:
    from comptoir.timers.models import SandboxClock

    try:
        return SandboxClock.objects.filter(id=1).values_list("enabled", "offset_seconds").first()
    except DatabaseError:  # before migrations
        return None


def sandbox_enabled() -> bool:
    if settings.COMPTOIR["SANDBOX"]:
        return True
    row = _row()
    return bool(row and row[0])


def stored_offset() -> timedelta:
    row = _row()
    if row is None:
        return timedelta(0)
    enabled, seconds = row
    if not (enabled or settings.COMPTOIR["SANDBOX"]):
        return timedelta(0)
    return timedelta(seconds=seconds)


def enable_sandbox() -> None:
    from comptoir.timers.models import SandboxClock

    SandboxClock.objects.update_or_create(id=1, defaults={"enabled": True})
    clock.forget_offset()


def require_sandbox() -> None:
    if not sandbox_enabled():
        raise SandboxOnly("Réservé au mode bac à sable (sandbox) : lancez `comptoir serve --demo` ou "
                          "définissez COMPTOIR_SANDBOX=1.")


def advance_clock(*, by: timedelta) -> timedelta:
    """Move the sandbox clock forward; it never goes back (timers already fired stay fired)."""
    from comptoir.timers.models import SandboxClock

    require_sandbox()
    if by <= timedelta(0):
        raise ValueError("L'horloge n'avance que vers le futur : durée positive attendue.")
    with transaction.atomic():
        row, _ = SandboxClock.objects.select_for_update().get_or_create(id=1)
        if timedelta(seconds=row.offset_seconds) + by > MAX_OFFSET:
            raise ValueError(f"L'horloge du bac à sable avance de {MAX_OFFSET.days} jours au plus "
                             "(remettez-la à l'heure réelle d'abord).")
        row.offset_seconds += int(by.total_seconds())
        row.save(update_fields=["offset_seconds"])
    clock.forget_offset()
    return timedelta(seconds=row.offset_seconds)


def reset_clock() -> None:
    from comptoir.timers.models import SandboxClock

    require_sandbox()
    SandboxClock.objects.update_or_create(id=1, defaults={"offset_seconds": 0})
    clock.forget_offset()


def parse_duration(text: str) -> timedelta:
    """'6d', '36h', '90m', '1d12h' → timedelta."""
    compact = re.sub(r"\s+", "", text.strip().lower())
    parts = re.findall(r"(\d+)([dhms])", compact)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != compact:
        raise ValueError(f"Durée invalide : {text!r} (exemples : 6d, 36h, 90m).")
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    delta = timedelta()
    try:
        for number, unit in parts:
            delta += timedelta(**{units[unit]: int(number)})
    except (OverflowError, ValueError):  # past timedelta's range, or an integer of thousands of digits
        raise ValueError(f"Durée trop longue : {text[:40]!r} ({MAX_OFFSET.days} jours au plus).") from None
    return delta
