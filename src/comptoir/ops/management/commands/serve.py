"""`comptoir serve`: gunicorn (threaded workers) with the background worker inside each server process."""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


def _warm_then_freeze() -> None:
    """Load what the first requests would (the URLs and the API behind them, the translations), then move every
    object alive into the collector's permanent generation, before gunicorn forks: its full passes then scan only
    what requests create, not ~150,000 objects that live as long as the process (70 ms on 2 shared cores, every
    few dozen OR11 pages: their p99). Young objects are collected after 10,000 allocations instead of 700: an OR11
    page of 100 holds ~5,000 containers while it is built, and collecting them ~6 times cost ~1 ms a page."""
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf)
    for code, _name in settings.LANGUAGES:
        translation.activate(code)
    translation.deactivate()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


class Command(BaseCommand):
    help = "Serve Comptoir over HTTP (with the worker inside unless --no-worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("COMPTOIR_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("COMPTOIR_PORT", "8000")))
        parser.add_argument("--demo", action="store_true",
                            help="migrate, load the demo marketplace when the database is empty, sandbox mode on")
        parser.add_argument("--no-worker", action="store_true", help="do not run the worker in this process")
        parser.add_argument("--processes", type=int, default=int(os.environ.get("COMPTOIR_SERVE_PROCESSES", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("COMPTOIR_SERVE_THREADS", "8")))
        parser.add_argument("--switch-interval", type=float,
                            default=float(os.environ.get("COMPTOIR_SERVE_SWITCH_INTERVAL_MS", "5")),
                            help="milliseconds a thread may hold the GIL while another waits (Python's default: 5)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["demo"]:
            call_command("migrate", interactive=False, verbosity=0)
            from comptoir.shops.models import Shop
            from comptoir.timers.sandbox import enable_sandbox

            if not Shop.objects.exists():
                call_command("demo")
            enable_sandbox()
            if not os.environ.get("COMPTOIR_EMAIL_BACKEND"):
                # The demo keeps its mail as files under var/mail/ (the operator back office lists them).
                from django.conf import settings

                settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
        from django.db import connections

        connections.close_all()  # gunicorn forks: no connection may cross the fork
        from gunicorn.app.base import BaseApplication

        from comptoir.wsgi import application

        _warm_then_freeze()
        sys.setswitchinterval(options["switch_interval"] / 1000)
        run_worker = not options["no_worker"]

        def post_worker_init(worker: Any) -> None:
            if run_worker:
                from comptoir.timers.worker import start_in_thread

                start_in_thread()

        class Server(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                self.cfg.set("bind", f"{options['host']}:{options['port']}")
                self.cfg.set("workers", options["processes"])
                self.cfg.set("threads", options["threads"])
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("post_worker_init", post_worker_init)
                self.cfg.set("accesslog", os.environ.get("COMPTOIR_ACCESS_LOG") or None)
                self.cfg.set("timeout", 60)
                self.cfg.set("keepalive", 30)
                # No shared control socket in $HOME: several `comptoir serve` may run side by side.
                self.cfg.set("control_socket_disable", True)

            def load(self) -> Any:
                return application

        self.stdout.write(f"Comptoir sur http://{options['host']}:{options['port']}/ "
                          f"({'avec' if run_worker else 'sans'} worker)")
        sys.stdout.flush()
        sys.argv = sys.argv[:1]  # gunicorn parses argv
        Server().run()
