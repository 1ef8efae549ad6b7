"""The scorecards' worker sweep: each open shop is checked against the operator's thresholds once per
SCORECARD_CHECK_HOURS (a bookmark row per shop), a batch of shops per round."""

from __future__ import annotations

from comptoir.scorecards import services


def sweep_scorecards(worker_id: str, *, limit: int | None = None) -> int:
    return services.sweep(limit=limit)
