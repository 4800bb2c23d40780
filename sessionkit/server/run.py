"""Start the reader server: bind checks (clarifications C7) and uvicorn, with limits on slow clients.

uvicorn alone never times out a connection before its first request: a client that sends half a
request line and waits holds its connection (and file descriptor) for ever, and a thousand of them
starve the server (issue #11 item 9). :func:`server_config` sets:

- a header timeout (:data:`HEADER_TIMEOUT_S`): a connection whose request headers are not complete
  that long after it opened (or after its previous response) is closed;
- uvicorn's keep-alive timeout (:data:`KEEP_ALIVE_TIMEOUT_S`) between requests;
- the largest request head h11 buffers (:data:`MAX_HEADER_BYTES`);
- ``limit_concurrency`` (:data:`MAX_CONNECTIONS`): beyond that many open connections or running
  requests, new requests are answered ``503`` at once instead of queueing.

Bodies are capped by the routes themselves (:mod:`sessionkit.server.bodies`). A public deployment
should still sit behind a reverse proxy that buffers requests and terminates TLS (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from sessionkit.errors import ServerConfigError
from sessionkit.server.app import DEFAULT_IDLE_TIMEOUT_MINUTES, create_app
from sessionkit.server.hosts import default_allowed_hosts

#: Shortest access token accepted for a non-loopback bind.
MIN_TOKEN_LENGTH = 8
#: Seconds a connection may take to send its request headers (from opening, or from its previous response).
HEADER_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection is kept between requests (uvicorn ``timeout_keep_alive``).
KEEP_ALIVE_TIMEOUT_S = 5
#: Largest request line and headers buffered (uvicorn ``h11_max_incomplete_event_size``; h11's default).
MAX_HEADER_BYTES = 16 * 1024
#: Open connections or running requests beyond which new requests get ``503`` (uvicorn ``limit_concurrency``);
#: a reader keeps one or two connections open, so 1,000 readers fit.
MAX_CONNECTIONS = 2000


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request headers do not arrive in time.

    The timer starts when the connection opens and again after each response; it closes the
    connection when no new request has started by then (``header_timeout`` seconds).
    """

    header_timeout: float = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._close_unless_a_request_starts()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._close_unless_a_request_starts()

    def _close_unless_a_request_starts(self) -> None:
        waiting_after = self.cycle

        def expire() -> None:
            if self.cycle is waiting_after and not self.transport.is_closing():
                self.transport.close()

        self.loop.call_later(self.header_timeout, expire)


def server_config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    log_level: str = "warning",
    header_timeout: float = HEADER_TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
) -> uvicorn.Config:
    """The uvicorn configuration of ``serve``: h11 with the slow-client limits of this module.

    Parameters
    ----------
    app : ASGI application
    host, port
        Bind address.
    log_level : str
        uvicorn log level.
    header_timeout : float
        Seconds for a connection's request headers (:class:`HeaderTimeoutProtocol`).
    max_connections : int
        uvicorn ``limit_concurrency``.

    Returns
    -------
    uvicorn.Config
    """
    protocol = type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=protocol,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=max_connections,
    )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, access_token: str | None) -> None:
    """Refuse to expose the server beyond this machine without an access token (C7).

    Raises
    ------
    ServerConfigError
        When ``host`` is not a loopback address and no token (of at least 8 characters) is given.
    """
    if is_loopback(host):
        return
    if not access_token:
        raise ServerConfigError(
            f"binding {host!r} exposes the server to other machines: pass --access-token TOKEN "
            "(readers enter it with their id), or bind 127.0.0.1"
        )
    if len(access_token) < MIN_TOKEN_LENGTH:
        raise ServerConfigError(f"the access token must have at least {MIN_TOKEN_LENGTH} characters")


def check_port(host: str, port: int) -> None:
    """Refuse a port that another program already listens on, before anything says "serving".

    Binds and closes a socket as uvicorn will (``SO_REUSEADDR``, so a port left in TIME_WAIT by
    a previous run counts as free).

    Raises
    ------
    ServerConfigError
        When ``host:port`` is in use (with the ``--port`` fix), or cannot be bound at all.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ServerConfigError(f"cannot bind {host!r}: {exc}; give an address or host name of this machine") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServerConfigError(
                    f"port {port} on {host} is already in use (another sessionkit serve, or another program); "
                    f"stop it, or pick a free port with --port, e.g. --port {port + 1 if port < 65535 else 8000}"
                ) from exc
            raise ServerConfigError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from exc


def serve(
    session_path: Path,
    *,
    images_root: Path | None,
    results_root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_token: str | None = None,
    log_level: str = "warning",
    idle_timeout_minutes: float = DEFAULT_IDLE_TIMEOUT_MINUTES,
    allowed_hosts: Sequence[str] = (),
    cache_mb: float | None = None,
) -> None:
    """Build the app and run it with uvicorn until interrupted.

    Parameters
    ----------
    session_path : Path
        Session XML (validate it first; ``sessionkit serve`` does).
    images_root : Path or None
        Folder image paths are relative to; ``None`` = the session file's folder (C2).
    results_root : Path
        Where run folders are written (created if missing).
    host, port
        Bind address; non-loopback hosts need ``access_token`` (C7).
    access_token : str, optional
        Token every API call must carry.
    log_level : str
        uvicorn log level.
    idle_timeout_minutes : float
        Minutes without reader input before the browser autosaves the draft (``0``: never).
    allowed_hosts : sequence of str
        More ``Host`` names to serve besides ``127.0.0.1``, ``localhost``, ``::1`` and ``host``
        (the names readers type, a reverse proxy's; ``serve --allowed-host``).
    cache_mb : float, optional
        Megabytes of decoded images and encoded volumes kept in memory (``serve --cache-mb``);
        default a quarter of the RAM, at most 4096.

    Raises
    ------
    ServerConfigError
        From :func:`check_bind`.
    SessionError
        When the session cannot be loaded.
    """
    check_bind(host, access_token)
    results_root.mkdir(parents=True, exist_ok=True)
    app = create_app(
        session_path,
        images_root=images_root,
        results_root=results_root,
        access_token=access_token,
        idle_timeout_minutes=idle_timeout_minutes,
        allowed_hosts=default_allowed_hosts(host, allowed_hosts),
        cache_mb=cache_mb,
    )
    uvicorn.Server(server_config(app, host=host, port=port, log_level=log_level)).run()
