"""One error tree for the whole domain: every error has a stable code the surfaces map to HTTP or French."""

from __future__ import annotations


class ComptoirError(Exception):
    """Base class. `code` is stable (clients and translations key on it); `message` is for humans."""

    code: str = "comptoir.error"
    status: int = 400

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            self.code = code
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.field = field


class ValidationError(ComptoirError):
    """The request is malformed or incomplete."""

    code = "VALIDATION_ERROR"


class NotFound(ComptoirError):
    """The resource does not exist or is not visible to the caller."""

    code = "NOT_FOUND"
    status = 404


class Conflict(ComptoirError):
    """A concurrent change won the race; retry after re-reading."""

    code = "CONFLICT"
    status = 409


class Forbidden(ComptoirError):
    """The caller may not do this."""

    code = "FORBIDDEN"
    status = 403


class SandboxOnly(Forbidden):
    """This action exists only in sandbox mode."""

    code = "SANDBOX_ONLY"
