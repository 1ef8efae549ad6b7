"""The demo's mailbox: the .log files Django's filebased e-mail backend writes under EMAIL_FILE_PATH.

Only names found by listing the directory are ever opened (no path built from the request), and the
listing and each read are bounded.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings

FILEBASED = "django.core.mail.backends.filebased.EmailBackend"
MAX_FILES = 1000  # the newest files listed; older ones stay on disk
MAX_BYTES = 1_000_000  # read at most this much of one file
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what the filebased backend writes after each message


@dataclass(frozen=True, slots=True)
class MailFile:
    name: str
    modified: datetime
    size: int


@dataclass(frozen=True, slots=True)
class Mail:
    sender: str
    to: str
    cc: str
    subject: str
    date: datetime | None
    body: str


def is_filebased() -> bool:
    return settings.EMAIL_BACKEND == FILEBASED


def directory() -> Path:
    return Path(getattr(settings, "EMAIL_FILE_PATH", "") or ".")


def list_files(limit: int = MAX_FILES) -> list[MailFile]:
    """The newest `limit` .log files (regular files only, symlinks ignored), newest first."""
    try:
        entries = list(os.scandir(directory()))
    except OSError:  # not created yet: no mail sent
        return []
    found = []
    for entry in entries:
        if not entry.name.endswith(".log"):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        found.append(MailFile(entry.name, datetime.fromtimestamp(stat.st_mtime, tz=UTC), stat.st_size))
    return heapq.nlargest(limit, found, key=lambda f: (f.modified, f.name))


def read(name: str, listed: list[MailFile] | None = None) -> list[Mail] | None:
    """The messages of one listed file; None when `name` is not one of the listed files."""
    files = {f.name for f in (listed if listed is not None else list_files())}
    if name not in files:
        return None
    try:
        with open(directory() / name, "rb") as stream:
            data = stream.read(MAX_BYTES)
    except OSError:
        return None
    return [parse(chunk) for chunk in data.split(SEPARATOR) if chunk.strip()]


def parse(raw: bytes) -> Mail:
    message = message_from_bytes(raw.lstrip(b"\n"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return Mail(sender=str(message.get("From", "")), to=str(message.get("To", "")), cc=str(message.get("Cc", "")),
                subject=str(message.get("Subject", "")), date=_date(message.get("Date")), body=_text(message))


def first(name: str, listed: list[MailFile]) -> Mail | None:
    mails = read(name, listed)
    return mails[0] if mails else None


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    # "-0000" (what Django writes unless EMAIL_USE_LOCALTIME) parses naive: it is UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _text(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        content = part.get_content()
    except (LookupError, ValueError, KeyError):  # unknown charset or broken encoding
        return "(texte illisible)"
    return content if isinstance(content, str) else ""
