"""Messaging's part of the personal-data redaction (orders.services.redaction): customers' names on the messages
and thread summaries of the given orders become a neutral label. Message bodies are left as written."""

from __future__ import annotations

from collections.abc import Sequence

from comptoir.messaging.models import Message, Thread
from comptoir.messaging.rules import Participant

REDACTED_AUTHOR = "Client"


def redact_customer_names(*, order_pks: Sequence[int]) -> int:
    """Returns how many messages were changed; run in the caller's transaction."""
    if not order_pks:
        return 0
    Thread.objects.filter(order_id__in=order_pks, last_sender_type=Participant.CUSTOMER).exclude(
        last_sender_name=REDACTED_AUTHOR).update(last_sender_name=REDACTED_AUTHOR)
    return (Message.objects.filter(thread__order_id__in=order_pks, author_type=Participant.CUSTOMER)
            .exclude(author_name=REDACTED_AUTHOR).update(author_name=REDACTED_AUTHOR))
