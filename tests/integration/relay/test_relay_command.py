"""`comptoir relay` as an operator runs it: a separate process on the test database, a real SMTP session to
it, the mail forwarded to the test SMTP server, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from comptoir.orders.states import OrderState
from comptoir.relay.models import RelayMessage
from tests.factories import ShopFactory, make_order
from tests.integration.relay.test_smtp_relay import _free_port

pytestmark = pytest.mark.django_db(transaction=True)

COMPTOIR = Path(sys.executable).with_name("comptoir")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def test_the_relay_command_serves_smtp_forwards_and_stops_on_sigterm(smtp_inbox) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(name="Atelier Lumière", customer_service_email="contact@atelier-lumiere.fr")
    order = make_order(OrderState.SHIPPING, shop=shop)
    port = _free_port()
    env = {**os.environ, "COMPTOIR_DATABASE_URL": _database_url(), "COMPTOIR_SMTP_HOST": "127.0.0.1",
           "COMPTOIR_SMTP_PORT": str(settings.EMAIL_PORT), "COMPTOIR_EMAIL_BACKEND": settings.EMAIL_BACKEND,
           "COMPTOIR_RELAY_DOMAIN": settings.COMPTOIR["RELAY_DOMAIN"]}
    process = subprocess.Popen([str(COMPTOIR), "relay", "--host", "127.0.0.1", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        started = process.stdout.readline()
        assert f"127.0.0.1:{port}" in started, process.stderr.read() if process.poll() is not None else started
        message = EmailMessage()
        message["From"], message["Subject"] = "contact@atelier-lumiere.fr", "Votre adresse de livraison"
        message["To"] = f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}"
        message.set_content("Bonjour, pourriez-vous nous confirmer le numéro de votre rue ?")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)

        assert [m["Subject"] for m in smtp_inbox.messages] == ["Votre adresse de livraison"]
        assert RelayMessage.objects.get().verdict == "ALLOWED"
    finally:
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
