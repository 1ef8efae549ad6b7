"""`comptoir orphans [--delete] [--grace-hours N]`: the orphan files of the documents storage (documents/orphans.py)
— listed, or removed with --delete. Never a file a row names, never one younger than the grace period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from comptoir.documents import orphans
from comptoir.documents.storage import documents_storage


class Command(BaseCommand):
    help = "List (or remove with --delete) the documents storage's files that no row names."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--delete", action="store_true", help="remove them (default: list only)")
        parser.add_argument("--grace-hours", type=int, default=None,
                            help="only files older than this (default: COMPTOIR_ORPHAN_GRACE_HOURS, 24)")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["grace_hours"]
        if hours is not None and hours < 1:
            raise CommandError("--grace-hours : au moins 1 (un envoi en cours n'a pas encore enregistré sa ligne).")
        grace = timedelta(hours=hours) if hours is not None else None
        try:
            if options["delete"]:
                found = orphans.remove_orphans(grace=grace)
            else:
                orphans.check_owner(documents_storage(), claim=False)
                found = orphans.find_orphans(grace=grace)
        except orphans.ForeignStorage as exc:
            raise CommandError(str(exc)) from None
        for orphan in found:
            self.stdout.write(f"{orphan.modified:%Y-%m-%d %H:%M}  {orphan.size or 0:>10}  {orphan.name}")
        total = sum(orphan.size or 0 for orphan in found)
        verb = "supprimés" if options["delete"] else "orphelins (--delete pour les supprimer)"
        self.stdout.write(f"{len(found)} fichiers {verb}, {total} octets.")
