"""Where document files live: Django's storage API. The `documents` alias of settings.STORAGES when the operator
configured one (django-storages' S3 backend, README « Documents »), else files under COMPTOIR_VAR_DIR/documents.
The backend is resolved at each call (not once at import), so a settings change applies at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

from comptoir.documents.errors import StorageUnavailable

ALIAS = "documents"
logger = logging.getLogger(__name__)


def backend() -> Storage:
    if ALIAS in getattr(settings, "STORAGES", {}):
        return storages[ALIAS]
    return FileSystemStorage(location=str(settings.VAR_DIR / "documents"))


class DocumentsStorage(Storage):
    """Delegates every operation to `backend()`."""

    def _open(self, name: str, mode: str = "rb") -> Any:
        return backend().open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        storage = backend()
        try:
            return storage.save(name, content)
        except OSError as exc:
            # A full or read-only disk: the file may be cut off where the write stopped. Removed here (the caller
            # only learns the names of files written whole), and the upload fails with a clear, retryable error.
            logger.error("documents storage: could not write %s: %s", name, exc)
            try:
                if storage.exists(name):
                    storage.delete(name)
            except OSError:
                logger.warning("could not remove the partial file %s", name)
            raise StorageUnavailable("Stockage des fichiers indisponible (disque plein ou en lecture seule) : "
                                     "rien n'a été enregistré. Réessayez dans quelques minutes.") from exc

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return backend().get_available_name(name, max_length=max_length)

    def generate_filename(self, filename: str) -> str:
        return backend().generate_filename(filename)

    def delete(self, name: str) -> None:
        backend().delete(name)

    def exists(self, name: str) -> bool:
        return backend().exists(name)

    def size(self, name: str) -> int:
        return backend().size(name)

    def get_modified_time(self, name: str) -> Any:
        return backend().get_modified_time(name)

    def url(self, name: str | None) -> str:
        return backend().url(name)

    def path(self, name: str) -> str:
        return backend().path(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return backend().listdir(path)


_STORAGE = DocumentsStorage()


def documents_storage() -> Storage:
    return _STORAGE


def discard(names: Iterable[str]) -> None:
    """Django has no on-rollback hook: a write that failed removes the files it had stored (documents, message
    attachments). A file that cannot be removed is logged and left as a harmless orphan."""
    storage = documents_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("could not remove orphan file %s", name)


def max_bytes() -> int:
    from comptoir.documents.rules import DEFAULT_MAX_BYTES

    return int(settings.COMPTOIR.get("DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))
