"""Outbox mails hand their Subject and From to the MIME layer already encoded: what a mail reader decodes is
exactly the text, however long or accented."""

from __future__ import annotations

import email
import email.policy

import pytest
from django.core.mail import BadHeaderError

from comptoir.notifications.dispatch import OutboxMail, encode_header

SUBJECTS = [
    "Commande 1234-A refusée automatiquement",
    "Votre commande 20261126-000123-A ne pourra pas être honorée",
    "Réclamation escaladée — très longue ligne avec accents éèàùç, guillemets « » et émoji 🎉 pour le découpage",
    "plain ASCII subject",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_mail_reader_decodes_the_subject_and_sender_exactly(subject: str) -> None:
    raw = OutboxMail(subject=subject, body="Bonjour é\n", from_email="Marché Démo <ne-pas-repondre@demo.test>",
                     to=["client@example.com"]).message().as_bytes()

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(parsed["Subject"]) == subject
    assert str(parsed["From"]) == "Marché Démo <ne-pas-repondre@demo.test>"
    assert parsed.get_content() == "Bonjour é\n"
    assert all(len(line) <= 78 for line in raw.split(b"\n"))  # RFC 5322's recommended line length


def test_an_ascii_value_is_left_as_it_is_and_an_accented_one_becomes_ascii_words() -> None:
    assert encode_header("Commande 12 acceptée").isascii()
    assert encode_header("Commande 12 acceptée").startswith("=?utf-8?b?")
    assert encode_header("Commande 12") == "Commande 12"


def test_the_message_keeps_its_plain_subject_after_building_the_mail() -> None:
    mail = OutboxMail(subject="Commande refusée", body="x", to=["a@example.com"])
    mail.message()
    assert mail.subject == "Commande refusée"


def test_a_subject_with_a_line_break_is_still_refused() -> None:
    with pytest.raises(BadHeaderError):
        OutboxMail(subject="Commande refusée\nBcc: x@example.com", body="x", to=["a@example.com"]).message()
