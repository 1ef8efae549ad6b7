"""The relay's inbound SMTP server (aiosmtpd): one relay address per mail transaction, the address checked at
RCPT (unknown, expired or wrong sender: 550 there, a clean bounce), the mail judged and forwarded at DATA.

The handler runs in aiosmtpd's event loop; the ORM and the outgoing SMTP work run in a worker thread, which
closes its database connections when done (mail is rare next to HTTP: a connection per step is cheap).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connections

from comptoir.relay import services

log = logging.getLogger("comptoir.relay")

ONE_RECIPIENT = "452 4.5.3 Un seul destinataire par message : envoyez les autres dans un nouveau message"
TEMPORARY_ERROR = "451 4.3.0 Erreur temporaire du relais, reessayez plus tard"


def _in_thread(work: Callable[..., str | None], **kwargs: Any) -> str | None:
    try:
        return work(**kwargs)
    except Exception:  # the edge of the server: a bug or a database outage must not look like a bounce
        log.exception("relay: %s failed", work.__name__)
        return TEMPORARY_ERROR
    finally:
        connections.close_all()


class RelayHandler:
    """aiosmtpd handler: hooks are looked up by name (handle_RCPT, handle_DATA)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if envelope.rcpt_tos:
            # Each relay address is its own decision (allowed, blocked, bounced): one per transaction.
            return ONE_RECIPIENT
        refusal = await asyncio.to_thread(_in_thread, services.check_recipient,
                                          mail_from=envelope.mail_from or "", recipient=address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        answer = await asyncio.to_thread(_in_thread, services.receive, mail_from=envelope.mail_from or "",
                                         recipient=envelope.rcpt_tos[0], content=content)
        return answer or TEMPORARY_ERROR


def controller(*, host: str | None = None, port: int | None = None) -> Controller:
    """An aiosmtpd Controller (its own thread) serving the relay; `start()` it, `stop()` it."""
    return Controller(
        RelayHandler(), hostname=host or settings.COMPTOIR["RELAY_HOST"],
        port=port or settings.COMPTOIR["RELAY_PORT"], server_hostname=settings.COMPTOIR["RELAY_DOMAIN"],
        ident="Comptoir relay", data_size_limit=settings.COMPTOIR["RELAY_MAX_MESSAGE_BYTES"],
        decode_data=False,
    )
