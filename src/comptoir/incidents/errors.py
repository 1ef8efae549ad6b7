"""Incident errors with stable codes."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError, NotFound, ValidationError


class IncidentNotFound(NotFound):
    """Incident introuvable."""

    code = "INCIDENT_NOT_FOUND"


class IncidentInvalidState(ComptoirError):
    """L'incident n'est pas dans un état qui permet cette action."""

    code = "INCIDENT_INVALID_STATE"


class IncidentNotAllowed(ComptoirError):
    """Un incident ne peut pas être ouvert sur cette ligne."""

    code = "INCIDENT_NOT_ALLOWED"


class IncidentReasonInvalid(ValidationError):
    """Motif d'incident inconnu."""

    code = "INCIDENT_REASON_INVALID"


class SolutionInvalid(ValidationError):
    """La solution proposée est invalide."""

    code = "INCIDENT_SOLUTION_INVALID"
