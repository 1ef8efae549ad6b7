"""Time left before a deadline, in French, for the back offices (pure: `now` is passed in, no clock, no Django).

The `countdown` template filter and the seller's auto-refusal warnings both format through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Under this, an acceptance deadline is shown in red: the seller has less than a day left to decide.
URGENT_WITHIN = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Countdown:
    text: str  # « 2 j 5 h », « 3 h 07 min », « 12 min », « moins d'une minute », « dépassé »
    urgent: bool  # less than URGENT_WITHIN left (or already past)
    overdue: bool


def format_remaining(seconds: int) -> str:
    """2 days 5 h 30 min → « 2 j 5 h »; 3 h 7 min → « 3 h 07 min »; 0 or less → « dépassé »."""
    if seconds <= 0:
        return "dépassé"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} j {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return "moins d'une minute"


def countdown(deadline: datetime, now: datetime, *, urgent_within: timedelta = URGENT_WITHIN) -> Countdown:
    left = deadline - now
    seconds = int(left.total_seconds())
    return Countdown(text=format_remaining(seconds), urgent=left < urgent_within, overdue=seconds <= 0)


def auto_refusal(deadline: datetime, now: datetime) -> Countdown:
    """The seller's warning for an order awaiting acceptance: « refus auto dans 2 j 5 h »."""
    left = countdown(deadline, now)
    text = "refus auto imminent (délai dépassé)" if left.overdue else f"refus auto dans {left.text}"
    return Countdown(text=text, urgent=left.urgent, overdue=left.overdue)
