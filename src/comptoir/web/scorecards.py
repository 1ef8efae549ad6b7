"""The scorecard block of the seller's home and the operator's shop page: both windows side by side, one row per
measure, read through scorecards.queries (the same figures as the API and the operator's thresholds)."""

from __future__ import annotations

from dataclasses import dataclass

from comptoir.scorecards import queries
from comptoir.scorecards.rules import DEFINITIONS, WINDOWS, Definition, Value


@dataclass(frozen=True, slots=True)
class Row:
    definition: Definition
    values: list[tuple[int, Value]]  # (window days, value), shortest window first


def scorecard_rows(shop_id: int) -> list[Row]:
    cards = queries.scorecards(shop_id)
    return [Row(definition, [(days, cards[days][measure]) for days in WINDOWS])
            for measure, definition in DEFINITIONS.items()]
