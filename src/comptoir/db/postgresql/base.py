"""Django's PostgreSQL backend, with a connection health check that costs no round trip on a healthy connection:
with CONN_HEALTH_CHECKS on, Django sends `SELECT 1` before the first query of every request (a round trip and a
sixth of a small request's statements). An idle connection's socket says the same for free: the server sends
nothing unprompted to an idle session except when it ends it (pg_terminate_backend, a restart, idle timeouts), so
a socket with nothing to read and no hang-up is healthy. Anything else falls back to Django's check."""

from __future__ import annotations

import select

from django.db.backends.postgresql import base

_BROKEN = select.POLLHUP | select.POLLERR | select.POLLNVAL if hasattr(select, "poll") else 0


def idle_socket_healthy(connection: object) -> bool | None:
    """True: idle and nothing waiting on its socket (healthy). False: the driver or the socket say it is gone.
    None: unsure (in a transaction, something to read, no poll on this platform) — ask the server."""
    if getattr(connection, "closed", True) or getattr(connection, "broken", False):
        return False
    if not _BROKEN:
        return None
    try:
        if connection.info.transaction_status != base.Database.pq.TransactionStatus.IDLE:  # type: ignore[attr-defined]
            return None
        fd = connection.fileno()  # type: ignore[attr-defined]
    except (base.Database.Error, ValueError, OSError):
        return None
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | _BROKEN)
    events = poller.poll(0)
    if not events:
        return True
    if events[0][1] & _BROKEN:
        return False
    # Readable: most likely the server's FATAL before it closed the session, possibly a notice; the server decides.
    return None


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            super().close_if_health_check_failed()
            return
        verdict = idle_socket_healthy(self.connection)
        if verdict is None:
            super().close_if_health_check_failed()
            return
        if not verdict:
            self.close()
        self.health_check_done = True
