"""The `comptoir` command: serve, worker, relay, migrate, demo, clock, apikey — Django management commands."""

from __future__ import annotations

import os
import sys

COMMANDS = {"serve", "worker", "relay", "migrate", "demo", "clock", "apikey", "lifecycle_graph"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    from django.core.management import execute_from_command_line

    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print("usage: comptoir {serve [--demo] [--host H] [--port P] [--no-worker] | worker [--once] | "
              "relay [--host H] [--port P] | migrate | "
              "demo | clock show|advance <6d>|reset | apikey <shop_id>|operator}\n"
              "Other Django management commands work too (comptoir check, comptoir shell...).")
        return
    execute_from_command_line([argv[0], *argv[1:]])


if __name__ == "__main__":
    main()
