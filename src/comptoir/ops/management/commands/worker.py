"""`comptoir worker`: run the timer and outbox sweeps until stopped (SIGTERM/SIGINT), or once with --once."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from comptoir.timers import worker


class Command(BaseCommand):
    help = "Run the worker (deadlines, payment debit, notifications)."
    # The worker serves no URL: skip the system checks (they import every view) for a fast start.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="work until nothing is due, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            done = worker.run_until_idle()
            self.stdout.write(f"{done} tâches traitées")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker.run_forever(stop)
