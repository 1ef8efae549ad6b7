"""`comptoir screenshots`: PNGs of the back offices' main pages for the README, taken in Debian's Chromium.

Serves the demo on a fresh SQLite database (or uses --base-url), logs in as the demo seller and operator,
and saves viewport screenshots (1280×800, one at phone width) into docs/screenshots/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SELLER = "vendeur2001@demo.test"
OPERATOR = "operateur@demo.test"
PASSWORD = "demo"  # the demo's fixed password (comptoir.ops.demo)


class Command(BaseCommand):
    help = "Take PNG screenshots of the back offices (demo data) into docs/screenshots/."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", default="", help="a running demo (default: serve one on a fresh database)")
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"),
                            help="output directory (default docs/screenshots)")
        parser.add_argument("--port", type=int, default=0, help="port of the demo this command serves")
        parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the demo to start")

    def handle(self, *args: Any, **options: Any) -> None:
        if not Path(CHROMIUM).exists():
            raise CommandError(f"{CHROMIUM} est introuvable : installez le paquet Debian chromium.")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        if options["base_url"]:
            saved = self.shoot(options["base_url"].rstrip("/"), out)
        else:
            with serve_demo(options["port"] or free_port(), options["timeout"]) as base_url:
                saved = self.shoot(base_url, out)
        for path in saved:
            self.stdout.write(f"{path} ({path.stat().st_size // 1024} Kio)")

    def shoot(self, base_url: str, out: Path) -> list[Path]:
        from playwright.sync_api import sync_playwright

        saved: list[Path] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                seller = new_page(browser, base_url, DESKTOP)
                login(seller, "/vendeur/connexion/", SELLER)
                saved.append(snap(seller, "/vendeur/", out / "seller-home.png"))
                saved.append(snap(seller, "/vendeur/commandes/", out / "seller-orders.png"))
                waiting = first_order_link(seller, "/vendeur/commandes/?etat=WAITING_ACCEPTANCE")
                saved.append(snap(seller, waiting, out / "seller-order-accept.png"))
                shipped_order = first_order_link(seller, "/vendeur/commandes/?etat=SHIPPED")
                saved.extend(refund_dialog(seller, shipped_order, out))
                phone = new_page(browser, base_url, PHONE)
                login(phone, "/vendeur/connexion/", SELLER)
                saved.append(snap(phone, waiting, out / "seller-order-accept-phone.png"))

                operator = new_page(browser, base_url, DESKTOP)
                login(operator, "/operateur/connexion/", OPERATOR)
                saved.append(snap(operator, "/operateur/", out / "operator-fraud-queue.png"))
                saved.append(snap(operator, "/operateur/boutiques/", out / "operator-shops.png"))
                saved.append(snap(operator, "/operateur/notifications/", out / "operator-notifications.png"))
                saved.append(snap(operator, "/operateur/versements/", out / "operator-payouts.png"))
                shipped = first_order_link(operator, "/operateur/commandes/?etat=SHIPPED")
                operator.goto(shipped)
                customer_url = operator.get_by_role("link", name="Ouvrir l'espace client").get_attribute("href")
                if not customer_url:
                    raise CommandError("Lien de l'espace client introuvable sur la page de la commande.")
                customer = new_page(browser, base_url, DESKTOP)
                saved.append(snap(customer, customer_url, out / "customer-order.png"))
            finally:
                browser.close()
        return saved


def new_page(browser: Any, base_url: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, base_url=base_url, locale="fr-FR",
                                  timezone_id="Europe/Paris", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def login(page: Any, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")
    if "/connexion/" in page.url:
        raise CommandError(f"Connexion refusée pour {email} : la base est-elle celle de la démo ?")


def first_order_link(page: Any, list_url: str) -> str:
    page.goto(list_url)
    link = page.locator("table tbody td[data-label='N° de commande'] a").first
    href = link.get_attribute("href")
    if not href:
        raise CommandError(f"Aucune commande sur {list_url}.")
    return str(href)


def refund_dialog(page: Any, order_url: str, out: Path) -> list[Path]:
    """The « Rembourser » dialog of a shipped order: the form, then the preview of a 5,00 € HT gesture."""
    page.goto(order_url)
    page.get_by_role("link", name="Rembourser").click()
    dialog = page.locator("dialog#dialog")
    box = dialog.locator("fieldset.refund-line").first
    box.get_by_label("Type de remboursement").select_option("AMOUNT")
    box.get_by_label("Montant du produit HT (€)").fill("5,00")
    box.get_by_label("Motif du remboursement").select_option(label="Geste commercial")
    form_path = out / "seller-refund-dialog.png"
    page.screenshot(path=str(form_path), full_page=False, type="png")
    dialog.get_by_role("button", name="Vérifier le remboursement…").click()
    dialog.locator("#preview-total").wait_for()
    preview_path = out / "seller-refund-preview.png"
    page.screenshot(path=str(preview_path), full_page=False, type="png")
    return [form_path, preview_path]


def snap(page: Any, url: str, path: Path) -> Path:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=False, type="png")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_demo(port: int, timeout: float) -> Iterator[str]:
    """`comptoir serve --demo` on a throwaway SQLite database, stopped (its whole process group) afterwards."""
    with tempfile.TemporaryDirectory(prefix="comptoir-shots-") as tmp:
        env = {**os.environ, "COMPTOIR_DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3", "COMPTOIR_SERVE_PROCESSES": "1"}
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115 (closed below, after the server stops)
        server = subprocess.Popen(
            [sys.executable, "-m", "comptoir.cli", "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base_url, server, timeout, Path(tmp) / "serve.log")
            yield base_url
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
            log.close()


def wait_until_up(base_url: str, server: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"La démo s'est arrêtée :\n{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/operateur/connexion/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise CommandError(f"La démo ne répond pas sur {base_url} après {timeout:.0f} s.")
