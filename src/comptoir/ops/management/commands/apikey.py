"""`comptoir apikey <shop_id>|operator`: issue or rotate a key; it is shown once and stored hashed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from comptoir.core.errors import ComptoirError
from comptoir.shops import services


class Command(BaseCommand):
    help = "Issue (or rotate) the API key of a shop, or of the operator with 'operator'."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("owner", help="a shop id, or 'operator'")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = options["owner"]
        if owner == "operator":
            shop_id = None
        else:
            try:
                shop_id = int(owner)
            except ValueError:
                raise CommandError("Attendu : un identifiant de boutique (ex. 2001) ou 'operator'.") from None
        try:
            key = services.issue_api_key(shop_id=shop_id, label="CLI")
        except ComptoirError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(key)
        self.stderr.write("Clé affichée une seule fois : conservez-la. Les clés précédentes sont révoquées.")
