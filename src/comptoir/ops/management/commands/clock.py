"""`comptoir clock show | advance 6d | reset`: the sandbox clock (refused unless sandbox mode is on)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from comptoir.core import clock
from comptoir.core.errors import SandboxOnly
from comptoir.timers import sandbox


class Command(BaseCommand):
    help = "Show or move the sandbox clock."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["show", "advance", "reset"])
        parser.add_argument("duration", nargs="?", help="with advance: 6d, 36h, 90m...")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "advance":
                if not options["duration"]:
                    raise CommandError("Précisez une durée, par exemple : comptoir clock advance 6d")
                sandbox.advance_clock(by=sandbox.parse_duration(options["duration"]))
            elif options["action"] == "reset":
                sandbox.reset_clock()
        except (SandboxOnly, ValueError) as exc:
            raise CommandError(str(exc)) from None
        clock.forget_offset()
        offset = clock.offset()
        self.stdout.write(f"maintenant : {clock.now().isoformat(timespec='seconds')} "
                          f"(décalage {offset}, bac à sable {'actif' if sandbox.sandbox_enabled() else 'inactif'})")
