"""Operator demo mails: the filebased backend's files listed newest first and opened; nothing else."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


def test_a_sent_mail_is_listed_and_opens(operator_client: Client, mailbox: Path) -> None:
    mail.send_mail("Votre commande est expédiée", "Bonjour Jeanne,\nvotre colis est parti : https://suivi.test/42\n",
                   "Marché Démo <ne-pas-repondre@marche-demo.test>", ["jeanne.martin@example.com"])

    listing = operator_client.get("/operateur/mails/").content.decode()
    link = re.search(r'href="(/operateur/mails/[^"]+\.log/)"', listing)
    assert link is not None and "Votre commande est expédiée" in listing
    assert "jeanne.martin@example.com" in listing

    page = operator_client.get(link.group(1)).content.decode()

    assert "Votre commande est expédiée" in page
    assert "Marché Démo &lt;ne-pas-repondre@marche-demo.test&gt;" in page
    assert "jeanne.martin@example.com" in page and "votre colis est parti" in page
    assert '<a href="https://suivi.test/42"' in page


def test_files_are_listed_newest_first_and_paginated(operator_client: Client, mailbox: Path) -> None:
    mailbox.mkdir()
    for i in range(25):
        connection = mail.get_connection(file_path=str(mailbox))
        connection.send_messages([mail.EmailMessage(f"Mail numéro {i:02d}", "corps", to=["a@example.com"])])
        name = next(p for p in mailbox.iterdir() if p.name not in {f"{j}.log" for j in range(25)})
        name.rename(mailbox / f"{i}.log")
        os.utime(mailbox / f"{i}.log", (1_700_000_000 + i, 1_700_000_000 + i))

    first = operator_client.get("/operateur/mails/").content.decode()
    second = operator_client.get("/operateur/mails/", {"page": 2}).content.decode()

    assert "Page 1 sur 2" in first and first.index("Mail numéro 24") < first.index("Mail numéro 05")
    assert "Mail numéro 04" not in first and "Mail numéro 04" in second and "Mail numéro 00" in second


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "..", "secret.txt", "absent.log", "lien.log"])
def test_only_listed_mail_files_open(operator_client: Client, mailbox: Path, tmp_path: Path, name: str) -> None:
    mailbox.mkdir()
    (mailbox / "secret.txt").write_text("Subject: secret\n\nne pas montrer\n")
    (tmp_path / "dehors.log").write_text("Subject: dehors\n\nhors du dossier\n")
    (mailbox / "lien.log").symlink_to(tmp_path / "dehors.log")

    response = operator_client.get(f"/operateur/mails/{name}/")

    assert response.status_code == 404
    assert "lien.log" not in operator_client.get("/operateur/mails/").content.decode()


def test_with_smtp_the_page_says_mail_goes_out(operator_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "smtp.marche.test", 587

    body = operator_client.get("/operateur/mails/").content.decode()

    assert "Les mails partent par SMTP (serveur smtp.marche.test:587)" in body
    assert operator_client.get("/operateur/mails/x.log/").status_code == 404


def test_mails_are_staff_only(seller_client: Client, mailbox: Path) -> None:
    response = seller_client.get("/operateur/mails/")

    assert response.status_code == 302 and response["Location"].startswith("/operateur/connexion/")
