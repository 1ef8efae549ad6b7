"""Pure rules of order conversations: participants and topics (Mirakl's enums), what a message may contain,
who sees which message, and the guide's language rule (« les conversations avec les clients sont à faire
impérativement en français, à part bien sûr si le client vous contacte en anglais »)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from comptoir.messaging import language
from comptoir.messaging.errors import MessageEmpty, MessageInvalid, MessageTooLong

MAX_BODY_LENGTH = 10_000
MAX_SUBJECT_LENGTH = 200
MAX_ATTACHMENTS = 10
DEFAULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
# « Vous devez répondre à tout message en maximum 48h ouvrées. Faute de réponse sous 72h ouvrées, la réclamation
# sera automatiquement considérée comme incident » (the guide): a reminder, then the incidents app escalates.
REMINDER_BUSINESS_HOURS = 48
ESCALATION_BUSINESS_HOURS = 72


class Participant(StrEnum):
    """Mirakl's thread participant and recipient types."""

    CUSTOMER = "CUSTOMER"
    SHOP = "SHOP"
    OPERATOR = "OPERATOR"


class TopicType(StrEnum):
    FREE_TEXT = "FREE_TEXT"
    REASON_CODE = "REASON_CODE"


PARTICIPANT_LABELS: dict[Participant, str] = {
    Participant.CUSTOMER: "Client", Participant.SHOP: "Vendeur", Participant.OPERATOR: "Opérateur",
}
DEFAULT_SUBJECT = "Question sur la commande"


def check_body(body: str | None) -> str:
    text = (body or "").strip()
    if not text:
        raise MessageEmpty("Le message est vide : écrivez quelque chose avant d'envoyer.", field="body")
    if len(text) > MAX_BODY_LENGTH:
        raise MessageTooLong(f"Le message dépasse {MAX_BODY_LENGTH} caractères.", field="body")
    return text


def check_topic(topic_type: str | None, value: str | None) -> tuple[TopicType, str]:
    try:
        kind = TopicType((topic_type or TopicType.FREE_TEXT).strip().upper())
    except ValueError:
        raise MessageInvalid(f"Type de sujet inconnu : {topic_type!r} (attendu : FREE_TEXT ou REASON_CODE).",
                             field="topic.type") from None
    text = (value or "").strip() or DEFAULT_SUBJECT
    if len(text) > MAX_SUBJECT_LENGTH:
        raise MessageInvalid(f"Le sujet dépasse {MAX_SUBJECT_LENGTH} caractères.", field="topic.value")
    return kind, text


def check_recipients(author: Participant, raw: Iterable[str]) -> frozenset[Participant]:
    """The recipients named (never the author); at least one."""
    found: set[Participant] = set()
    for item in raw:
        try:
            found.add(Participant(str(item).strip().upper()))
        except ValueError:
            raise MessageInvalid(f"Destinataire inconnu : {item!r} (attendu : CUSTOMER, SHOP ou OPERATOR).",
                                 field="to") from None
    found.discard(author)
    if not found:
        raise MessageInvalid("Indiquez au moins un destinataire (to).", field="to")
    return frozenset(found)


def default_recipients(author: Participant) -> frozenset[Participant]:
    """A customer writes to the seller, the seller to the customer; the operator to both."""
    return {
        Participant.CUSTOMER: frozenset({Participant.SHOP}),
        Participant.SHOP: frozenset({Participant.CUSTOMER}),
        Participant.OPERATOR: frozenset({Participant.CUSTOMER, Participant.SHOP}),
    }[author]


def visible_to(viewer: Participant, author: str, recipients: Iterable[str]) -> bool:
    """The operator reads everything; the others what they wrote or what was sent to them."""
    return viewer == Participant.OPERATOR or author == viewer or viewer in set(recipients)


def needs_language_warning(seller_text: str, customer_languages: Iterable[str | None]) -> bool:
    """True when the seller's text is written in another language than French, unless it is English and the
    customer wrote in English. A text too short to tell (« OK », « Merci », a parcel number) never warns."""
    detected = language.detect(seller_text)
    if detected is None or detected == "fr":
        return False
    return not (detected == "en" and "en" in set(customer_languages))


@dataclass(frozen=True, slots=True)
class ReplyStep:
    kind: str  # "REMIND" or "ESCALATE"
    due_at: datetime


AddHours = Callable[[datetime, int], datetime]


def next_reply_step(since: datetime | None, reminded: datetime | None, escalated: datetime | None,
                    add_business_hours: AddHours, *, remind_hours: int = REMINDER_BUSINESS_HOURS,
                    escalate_hours: int = ESCALATION_BUSINESS_HOURS) -> ReplyStep | None:
    """The next thing the customer-service clock does on a thread whose customer waits since `since`."""
    if since is None or escalated is not None:
        return None
    if reminded is None:
        return ReplyStep("REMIND", add_business_hours(since, remind_hours))
    return ReplyStep("ESCALATE", add_business_hours(since, escalate_hours))
