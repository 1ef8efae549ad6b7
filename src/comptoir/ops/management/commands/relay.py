"""`comptoir relay`: the inbound SMTP server of the relay addresses, until stopped (SIGTERM/SIGINT)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the relay's inbound SMTP server (customer_notification_email addresses)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.COMPTOIR["RELAY_HOST"])
        parser.add_argument("--port", type=int, default=settings.COMPTOIR["RELAY_PORT"])

    def handle(self, *args: Any, **options: Any) -> None:
        from comptoir.relay.server import controller

        server = controller(host=options["host"], port=options["port"])
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        server.start()
        self.stdout.write(f"Relais SMTP de {settings.COMPTOIR['RELAY_DOMAIN']} sur {options['host']}:{options['port']}")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            server.stop()
