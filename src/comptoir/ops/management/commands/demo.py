"""`comptoir demo`: load the deterministic demo marketplace (operator, three shops, ~60 orders)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo marketplace."

    def handle(self, *args: Any, **options: Any) -> None:
        from comptoir.ops.demo import load_demo

        summary = load_demo()
        self.stdout.write(summary)
