"""Document errors with stable codes (Mirakl's naming style: DOCUMENT_*, ORDER_DOCUMENT_*, INVOICE_*)."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError, NotFound, ValidationError


class DocumentNotFound(NotFound):
    """Document introuvable."""

    code = "DOCUMENT_NOT_FOUND"


class DocumentTypeUnknown(ValidationError):
    """Type de document inconnu."""

    code = "DOCUMENT_TYPE_UNKNOWN"


class DocumentFileRefused(ValidationError):
    """Fichier refusé : seuls les PDF, JPEG et PNG sont acceptés."""

    code = "DOCUMENT_FILE_INVALID"


class DocumentTooLarge(ValidationError):
    """Fichier trop volumineux."""

    code = "DOCUMENT_FILE_TOO_LARGE"


class DocumentNameInvalid(ValidationError):
    """Nom de fichier invalide."""

    code = "DOCUMENT_FILE_NAME_INVALID"


class DocumentLimitReached(ComptoirError):
    """Une commande porte au plus 50 documents."""

    code = "ORDER_DOCUMENTS_LIMIT_REACHED"


class DocumentNotDeletable(ComptoirError):
    """Ce document ne peut pas être supprimé."""

    code = "DOCUMENT_NOT_DELETABLE"


class InvoiceAlreadyExists(ComptoirError):
    """Cette commande a déjà une facture."""

    code = "INVOICE_ALREADY_EXISTS"


class InvoiceNotAllowed(ComptoirError):
    """La facture ne peut pas encore être émise pour cette commande."""

    code = "INVOICE_NOT_ALLOWED"


class ShopLegalProfileIncomplete(ComptoirError):
    """Le profil légal de la boutique est incomplet."""

    code = "SHOP_LEGAL_PROFILE_INCOMPLETE"


class RefundNotFound(NotFound):
    """Remboursement introuvable."""

    code = "REFUND_NOT_FOUND"


class CreditNoteAlreadyExists(ComptoirError):
    """Un avoir existe déjà pour ce remboursement."""

    code = "CREDIT_NOTE_ALREADY_EXISTS"


class StorageUnavailable(ComptoirError):
    """Stockage des fichiers indisponible (disque plein ou en lecture seule) : rien n'a été enregistré."""

    code = "STORAGE_UNAVAILABLE"
    status = 503
