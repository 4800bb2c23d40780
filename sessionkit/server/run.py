"""Start the reader server: bind checks (clarifications C7) and uvicorn."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

import uvicorn

from sessionkit.errors import ServerConfigError
from sessionkit.server.app import DEFAULT_IDLE_TIMEOUT_MINUTES, create_app

#: Shortest access token accepted for a non-loopback bind.
MIN_TOKEN_LENGTH = 8


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
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
