"""`comptoir worker`: run the timer and outbox sweeps until stopped (SIGTERM/SIGINT), or once with --once
(`--only timers|outbox`: that part alone)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from comptoir.timers import worker


class Command(BaseCommand):
    help = "Run the worker (deadlines, payment debit, notifications)."
    # The worker serves no URL: skip the system checks (they import every view) for a fast start.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="work until nothing is due, then exit")
        parser.add_argument("--only", choices=sorted(worker.PARTS),
                            help="with --once: run only the timer sweep, or only the outbox delivery")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["only"] and not options["once"]:
            raise CommandError("--only va avec --once.")
        if options["once"]:
            done = worker.run_until_idle(only=options["only"])
            self.stdout.write(f"{done} tâches traitées")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker.run_forever(stop)
