"""Which requests reach the routes at all: the ``Host`` allow-list and the ``Origin`` check (issue #11 item 5).

A server on loopback is still reachable from any web page the reader has open: a cross-site form can
POST to ``http://127.0.0.1:8000/api/login`` (CSRF), and a DNS-rebinding page can make its own name
resolve to 127.0.0.1 and read the answers. Three checks close that, each one on its own:

- ``Host`` must be one of the allowed names (:func:`default_allowed_hosts`: ``127.0.0.1``,
  ``localhost``, ``::1`` and the bound host; ``serve --allowed-host`` adds the names readers use,
  e.g. a reverse proxy's). A rebound name is refused.
- A state-changing request (anything but GET/HEAD/OPTIONS) that carries ``Origin`` must come from
  the page's own origin: the ``Origin`` host and port equal the ``Host`` header's. ``Origin: null``
  is refused. Requests without ``Origin`` (command-line clients, tests) pass.
- JSON routes take ``Content-Type: application/json`` only (:func:`sessionkit.server.bodies.json_object`),
  which a cross-site form cannot send without a CORS preflight that this server never grants.

The login cookie stays ``SameSite=Strict``. Refusals are the usual JSON error, ``400 HTTP400``
(host) or ``403 HTTP403`` (origin).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

#: Names a loopback server always answers to.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Methods that do not change anything (no Origin check).
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def default_allowed_hosts(bound_host: str | None = None, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The loopback names, the bound host (unless it is a wildcard address) and ``extra``, lower case.

    Examples
    --------
    >>> default_allowed_hosts("192.168.1.5", ["reader.example.org"])
    ('127.0.0.1', 'localhost', '::1', '192.168.1.5', 'reader.example.org')
    """
    names = [*LOOPBACK_HOSTS]
    if bound_host and bound_host not in ("0.0.0.0", "::", ""):
        names.append(bound_host.strip("[]"))
    names += [name.strip().strip("[]") for name in extra if name.strip()]
    return tuple(dict.fromkeys(name.lower() for name in names))


def split_host(value: str, scheme: str = "http") -> tuple[str, int]:
    """``(host, port)`` of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``), lower case.

    Examples
    --------
    >>> split_host("[::1]:8000"), split_host("LocalHost")
    (('::1', 8000), ('localhost', 80))
    """
    parts = urlsplit(f"//{value.strip()}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or ""), port or _DEFAULT_PORTS.get(scheme, 80)


def _refusal(status: int, message: str, hint: str) -> JSONResponse:
    return JSONResponse({"code": f"HTTP{status}", "message": message, "hint": hint}, status_code=status)


class HostOriginGuard:
    """ASGI middleware: refuse a ``Host`` not allowed and a cross-origin state-changing request.

    Parameters
    ----------
    app : ASGI application
    allowed_hosts : iterable of str
        Host names (no port) the server answers to; ``"*"`` allows any (never the default).
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(name.lower().strip("[]") for name in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        scheme = str(scope.get("scheme", "http"))
        host_header = headers.get("host", "")
        host, port = split_host(host_header, scheme)
        if "*" not in self.allowed_hosts and host not in self.allowed_hosts:
            response = _refusal(
                400,
                f"host {host_header[:100]!r} is not served here",
                "open the address the study coordinator gave you (organisers: serve --allowed-host NAME)",
            )
            await response(scope, receive, send)
            return
        origin = headers.get("origin")
        if origin is not None and scope["method"] not in _SAFE_METHODS and not _same_origin(origin, host, port):
            response = _refusal(403, "request from another web site refused", "use the reader page of this server")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _same_origin(origin: str, host: str, port: int) -> bool:
    """True when the ``Origin`` header names ``host:port`` (``null`` and unparsable origins are not)."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False
    try:
        origin_port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return False
    if parts.hostname.lower() != host:
        return False
    # Behind a TLS proxy the page is https (443) while the Host header may carry no port (80 here).
    return origin_port == port or (port == 80 and origin_port == 443)
