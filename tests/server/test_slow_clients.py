"""Slow clients are timed out and connections are bounded (issue #11 item 9), under a real uvicorn.

Before: uvicorn never timed out a connection before its first request, so half-sent headers (or a
silent connection) were held open for ever. The tests use a 1 s header timeout instead of the
default 10 s; the socket's own 30 s timeout only turns "never closed" into a failure.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from sessionkit.server.run import HEADER_TIMEOUT_S, KEEP_ALIVE_TIMEOUT_S, MAX_CONNECTIONS, server_config
from tests.server._hostile import Study, files, live_server, raw_response

_NEVER = 30


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (recv gives b"" or a reset) before ``_NEVER`` seconds."""
    try:
        while sock.recv(1024):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _info(address: tuple[str, int]) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(address, timeout=_NEVER) as sock:
        sock.sendall(f"GET /api/info HTTP/1.1\r\nHost: {address[0]}\r\nConnection: close\r\n\r\n".encode())
        return raw_response(sock)


@pytest.fixture
def study(tmp_path: Path) -> Study:
    return Study(tmp_path)


def test_half_sent_headers_and_silent_connections_are_closed(study: Study) -> None:
    with live_server(study.client().app, header_timeout=1.0) as address:
        half = socket.create_connection(address, timeout=_NEVER)
        half.sendall(f"POST /api/login HTTP/1.1\r\nHost: {address[0]}\r\nContent-Type: appli".encode())
        silent = socket.create_connection(address, timeout=_NEVER)
        with half, silent:
            assert _closed_by_server(half)
            assert _closed_by_server(silent)
        status, _, body = _info(address)  # the server still answers everyone else
        assert status == 200 and json.loads(body)["version"]
    assert files(study.runs) == {}


def test_a_keep_alive_connection_is_closed_when_its_next_request_stalls(study: Study) -> None:
    with (
        live_server(study.client().app, header_timeout=1.0) as address,
        socket.create_connection(address, timeout=_NEVER) as sock,
    ):
        sock.sendall(f"GET /api/info HTTP/1.1\r\nHost: {address[0]}\r\n\r\n".encode())
        assert raw_response(sock)[0] == 200
        sock.sendall(b"GET /api/info HTTP/1.1\r\nHo")  # then nothing more
        assert _closed_by_server(sock)


def test_connections_beyond_the_limit_get_503(study: Study) -> None:
    with live_server(study.client().app, header_timeout=_NEVER, max_connections=3) as address:
        held = [socket.create_connection(address, timeout=_NEVER) for _ in range(3)]
        try:
            status, _, _ = _info(address)
            assert status == 503
        finally:
            for sock in held:
                sock.close()
    assert files(study.runs) == {}


def test_serve_uses_the_limits() -> None:
    config = server_config(object(), host="127.0.0.1", port=8000)  # type: ignore[arg-type]
    assert config.timeout_keep_alive == KEEP_ALIVE_TIMEOUT_S and config.limit_concurrency == MAX_CONNECTIONS
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert getattr(config.http, "header_timeout", None) == HEADER_TIMEOUT_S
