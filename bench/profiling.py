"""What the in-process profilers (bench/profile_*.py) share: Django set up on the database COMPTOIR_DATABASE_URL
names, migrated, with e-mail kept in memory and any host accepted (no server, no network)."""

from __future__ import annotations

import cProfile
import io
import os
import pstats
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(*, unlimited_rates: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("COMPTOIR_HOME", str(ROOT))
    os.environ.setdefault("COMPTOIR_LOG_LEVEL", "WARNING")
    if unlimited_rates:  # an A/B run sends more calls a minute than the API's rate limits let one key
        os.environ.setdefault("COMPTOIR_RATE_LIMITS", "*=1000000000/60")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def print_profile(prof: cProfile.Profile, *, sort: str, top: int, callers: str = "") -> None:
    """The `top` functions of the profile by `sort`, then the callers of those matching `callers` (if given)."""
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats(sort).print_stats(top)
    print("\n".join(out.getvalue().splitlines()[: top + 12]))
    if callers:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_callers(callers)
        print(out.getvalue())
