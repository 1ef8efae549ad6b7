"""Messaging errors with stable codes (Mirakl's naming style: THREAD_*, MESSAGE_*)."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError, Forbidden, NotFound, ValidationError


class ThreadNotFound(NotFound):
    """Conversation introuvable."""

    code = "THREAD_NOT_FOUND"


class AttachmentNotFound(NotFound):
    """Pièce jointe introuvable."""

    code = "ATTACHMENT_NOT_FOUND"


class MessageEmpty(ValidationError):
    """Le message est vide."""

    code = "MESSAGE_EMPTY"


class MessageTooLong(ValidationError):
    """Le message est trop long."""

    code = "MESSAGE_TOO_LONG"


class MessageInvalid(ValidationError):
    """Le message est incomplet ou incohérent (destinataires, sujet)."""

    code = "MESSAGE_INVALID"


class AttachmentRefused(ValidationError):
    """Pièce jointe refusée : seuls les PDF, JPEG et PNG sont acceptés."""

    code = "MESSAGE_ATTACHMENT_INVALID"


class AttachmentTooLarge(ValidationError):
    """Pièce jointe trop volumineuse."""

    code = "MESSAGE_ATTACHMENT_TOO_LARGE"


class RecipientNotAllowed(Forbidden):
    """Ce participant ne peut pas écrire à ce destinataire."""

    code = "MESSAGE_RECIPIENT_NOT_ALLOWED"


class MessageNotAllowed(ComptoirError):
    """Ce participant ne peut pas écrire dans cette conversation."""

    code = "MESSAGE_NOT_ALLOWED"
