"""Orphan files of the documents storage (order documents, shop documents, message attachments): a file whose row
was never committed (the process died between the write and the commit) or whose row was deleted. Found by listing
the storage and asking the database which of the names it has, in that order: a row committed while the storage is
listed keeps its file. Never a file younger than the grace period (ORPHAN_GRACE_HOURS, default one day: an upload
in flight has written its file and not yet committed its row), never a file a row names.

A storage belongs to one database: the first sweep writes the database's identity in the storage (OWNER_FILE) and
a sweep from another database refuses to remove anything (its rows are not the storage's). The file times are the
real clock's: the sandbox clock, which may run days ahead, plays no part.

Run by the worker once per ORPHAN_SWEEP_HOURS per process (`sweep_orphans`, a SWEEPS entry; 0 turns it off) and by
`comptoir orphans [--delete]`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import connection, models
from django.utils import timezone

from comptoir.documents.storage import DocumentsStorage, documents_storage

log = logging.getLogger("comptoir.documents.orphans")

OWNER_FILE = ".comptoir-database"
_BATCH = 500


class ForeignStorage(Exception):
    """The storage belongs to another database: nothing of it is ours to remove."""


@dataclass(frozen=True, slots=True)
class OrphanFile:
    name: str
    modified: datetime
    size: int | None


def grace_period() -> timedelta:
    return timedelta(hours=settings.COMPTOIR["ORPHAN_GRACE_HOURS"])


def file_fields() -> list[tuple[type[models.Model], str]]:
    """(model, field) of every file column stored on the documents storage."""
    return [(model, field.name) for model in apps.get_models() for field in model._meta.get_fields()
            if isinstance(field, models.FileField) and isinstance(field.storage, DocumentsStorage)]


def stored_names(storage: Storage, path: str = "") -> Iterator[str]:
    """Every file under `path`, depth first (the owner file left out)."""
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:  # no file stored yet
        return
    for name in sorted(files):
        full = f"{path}/{name}" if path else name
        if full != OWNER_FILE:
            yield full
    for directory in sorted(directories):
        yield from stored_names(storage, f"{path}/{directory}" if path else directory)


def known_names(names: list[str]) -> set[str]:
    """Those of `names` a row names."""
    known: set[str] = set()
    for model, field in file_fields():
        for start in range(0, len(names), _BATCH):
            chunk = names[start:start + _BATCH]
            known.update(model._default_manager.filter(**{f"{field}__in": chunk}).values_list(field, flat=True))
    return known


def database_identity() -> str:
    db = connection.settings_dict
    return f"{connection.vendor}:{db.get('HOST') or ''}:{db.get('PORT') or ''}:{db['NAME']}"


def check_owner(storage: Storage, *, claim: bool = True) -> None:
    """Raise ForeignStorage when the storage names another database; name ours when it names none (`claim`)."""
    identity = database_identity()
    if storage.exists(OWNER_FILE):
        with storage.open(OWNER_FILE, "rb") as handle:
            owner = handle.read().decode("utf-8", "replace").strip()
        if owner != identity:
            raise ForeignStorage(f"Le stockage des documents appartient à une autre base ({owner}) : aucun fichier "
                                 f"n'est supprimé depuis cette base ({identity}). Si le stockage a changé de base "
                                 f"pour de bon, supprimez son fichier {OWNER_FILE}.")
    elif claim:
        storage.save(OWNER_FILE, ContentFile(identity.encode()))


def find_orphans(*, grace: timedelta | None = None, now: datetime | None = None) -> list[OrphanFile]:
    """Files older than the grace period that no row names (the listing first, then the rows)."""
    storage = documents_storage()
    cutoff = (now or timezone.now()) - (grace if grace is not None else grace_period())
    old = []
    for name in stored_names(storage):
        try:
            modified = storage.get_modified_time(name)
        except FileNotFoundError:  # removed meanwhile
            continue
        if modified <= cutoff:
            old.append((name, modified))
    known = known_names([name for name, _ in old])
    orphans = []
    for name, modified in old:
        if name not in known:
            try:
                size: int | None = storage.size(name)
            except FileNotFoundError:
                continue
            orphans.append(OrphanFile(name, modified, size))
    return orphans


def remove_orphans(*, grace: timedelta | None = None, now: datetime | None = None) -> list[OrphanFile]:
    """Remove the orphan files; returns them. Raises ForeignStorage when the storage is another database's."""
    storage = documents_storage()
    check_owner(storage)
    orphans = find_orphans(grace=grace, now=now)
    # Asked again just before removing: nothing gives a row to an old file, but a restore might have.
    known = known_names([orphan.name for orphan in orphans])
    removed = []
    for orphan in orphans:
        if orphan.name in known:
            continue
        try:
            storage.delete(orphan.name)
        except OSError:
            log.warning("could not remove the orphan file %s", orphan.name, exc_info=True)
            continue
        removed.append(orphan)
    if removed:
        log.info("removed %d orphan files (%d bytes)", len(removed), sum(o.size or 0 for o in removed))
    return removed


_last_sweep: float | None = None


def sweep_orphans(worker_id: str) -> int:
    """The worker's sweep (a SWEEPS entry): at most once per ORPHAN_SWEEP_HOURS in this process; returns how many
    files it removed. Several workers sweeping at once remove each file once (a removal is idempotent)."""
    global _last_sweep
    hours = settings.COMPTOIR["ORPHAN_SWEEP_HOURS"]
    if hours <= 0:
        return 0
    started = time.monotonic()
    if _last_sweep is not None and started - _last_sweep < hours * 3600:
        return 0
    _last_sweep = started
    try:
        return len(remove_orphans())
    except ForeignStorage as exc:
        log.warning("orphan sweep skipped: %s", exc)
        return 0
