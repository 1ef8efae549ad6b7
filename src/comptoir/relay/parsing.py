"""Read a mail as received by the relay (the `email` package, policy=default): the headers the relay needs,
the text judged and forwarded (HTML made text when there is no plain part), the attachments. Pure: no Django."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from comptoir.relay.rules import html_to_text

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True, slots=True)
class Parsed:
    subject: str
    message_id: str
    from_header: str
    from_address: str
    references: tuple[str, ...]  # In-Reply-To and References, in order, without duplicates
    in_reply_to: str
    text: str
    attachments: tuple[Attachment, ...]
    bulk: bool  # a mailing: List-Unsubscribe, or Precedence bulk/list/junk


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError):  # a header the parser could not make sense of
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _text(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        content = part.get_content()
    except (LookupError, ValueError, KeyError, AssertionError):  # unknown charset, broken encoding
        return ""
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for index, part in enumerate(message.iter_attachments(), start=1):
        try:
            payload = part.get_payload(decode=True)
        except (LookupError, ValueError):
            continue
        if not isinstance(payload, bytes):  # a multipart or message/rfc822 attachment: left out
            continue
        found.append(Attachment(part.get_filename() or f"piece-jointe-{index}", payload, part.get_content_type()))
    return tuple(found)


def parse(content: bytes) -> Parsed:
    message = BytesParser(policy=policy.default).parsebytes(content)
    assert isinstance(message, EmailMessage)
    from_header = _header(message, "From")
    addresses = [address for _, address in getaddresses([from_header]) if address]
    in_reply_to = " ".join(_MESSAGE_ID.findall(_header(message, "In-Reply-To")))
    references = []
    for value in _MESSAGE_ID.findall(f"{_header(message, 'References')} {in_reply_to}"):
        if value not in references:
            references.append(value)
    precedence = _header(message, "Precedence").lower()
    attachments = _attachments(message) if message.is_multipart() else ()
    return Parsed(
        subject=_header(message, "Subject"), message_id=" ".join(_MESSAGE_ID.findall(_header(message, "Message-ID"))),
        from_header=from_header, from_address=addresses[0].lower() if addresses else "",
        references=tuple(references), in_reply_to=in_reply_to, text=_text(message), attachments=attachments,
        bulk=bool(_header(message, "List-Unsubscribe")) or precedence in ("bulk", "list", "junk"),
    )
