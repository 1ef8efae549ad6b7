"""The PostgreSQL backend's health check (comptoir/db/postgresql): a healthy idle connection is checked on its
socket, without a query; one the server ended between two requests is replaced before the request's first query."""

from __future__ import annotations

import io
import socket
import sys
import time
from typing import Any

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection

from comptoir.db.postgresql.base import idle_socket_healthy
from tests.factories import ShopFactory, shop_key


def _admin() -> psycopg.Connection:
    """A second session, outside Django, to watch and end the first one."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def _last_query(pid: int) -> str:
    with _admin() as admin:
        row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None
    return str(row[0])


def _get(path: str, key: str) -> str:
    """One request through the WSGI handler as a server runs it (request_started closes unusable connections)."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": key, "HTTP_HOST": "testserver", "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    statuses: list[str] = []
    b"".join(WSGIHandler()(environ, lambda status, headers, exc=None: statuses.append(status)))
    return statuses[0]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)  # requests run as in production: no test transaction around them
def test_healthy_idle_connection_is_checked_without_a_query() -> None:
    # given an open connection whose last statement is known, then a new request starting
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'before the request'")
    pid = connection.connection.info.backend_pid
    assert connection.health_check_enabled
    close_old_connections()  # request_started
    assert not connection.health_check_done

    # when the request's first query checks the connection
    connection.close_if_health_check_failed()

    # then the check is done, the same session kept, and it sent nothing (Django's own check sends SELECT 1)
    assert connection.health_check_done
    assert connection.connection.info.backend_pid == pid
    assert _last_query(pid) == "SELECT 'before the request'"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_connection_ended_by_the_server_between_requests_is_replaced() -> None:
    # given a shop's key and a first request, leaving its connection open (CONN_MAX_AGE)
    key = shop_key(ShopFactory())
    assert _get("/api/orders", key).startswith("200")
    pid = connection.connection.info.backend_pid

    # when the server ends that session between two requests
    with _admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None:
                break
            time.sleep(0.05)

    # then the next request is answered on a new session, as if nothing happened
    assert _get("/api/orders", key).startswith("200")
    assert connection.connection.info.backend_pid != pid


class _Socket:
    """What idle_socket_healthy reads of a psycopg connection, over a local socket pair."""

    def __init__(self, sock: socket.socket, status: Any = None) -> None:
        self.sock, self.closed, self.broken = sock, False, False
        self.info = type("Info", (), {"transaction_status": status or psycopg.pq.TransactionStatus.IDLE})()

    def fileno(self) -> int:
        return self.sock.fileno()


def test_idle_socket_verdicts() -> None:
    ours, server = socket.socketpair()
    try:
        # nothing to read: healthy
        assert idle_socket_healthy(_Socket(ours)) is True
        # inside a transaction: not for the socket to say
        assert idle_socket_healthy(_Socket(ours, psycopg.pq.TransactionStatus.INTRANS)) is None
        # the server wrote something (its FATAL before closing, or a notice): ask the server
        server.sendall(b"E")
        assert idle_socket_healthy(_Socket(ours)) is None
        # the driver already knows it is closed or broken
        gone = _Socket(ours)
        gone.broken = True
        assert idle_socket_healthy(gone) is False
        # the other end hung up
        server.close()
        assert idle_socket_healthy(_Socket(ours)) is False
    finally:
        ours.close()
        server.close()
