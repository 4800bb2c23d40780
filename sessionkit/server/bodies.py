"""Request bodies: read with a cap before anything parses them (issue #11 item 4).

Every route that takes a body reads it here: :func:`read_body` streams it and stops at a byte limit
(a declared ``Content-Length`` above it is refused before a byte is read, a chunked body as soon as it
passes it), so no request holds more than the limit in memory. :func:`json_object` parses a JSON
object from at most :data:`MAX_JSON_BYTES`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from sessionkit.errors import RequestError

#: Largest JSON body (a submission with its viewer state of four viewports is a few kilobytes).
MAX_JSON_BYTES = 1 << 20


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read chunk by chunk and refused as soon as it exceeds ``limit`` bytes.

    Parameters
    ----------
    request : Request
    limit : int
        Most bytes accepted.

    Returns
    -------
    bytes

    Raises
    ------
    RequestError
        413 when ``Content-Length`` declares more than ``limit`` bytes or the body passes it.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(f"request body of {declared} bytes exceeds {limit}", 413, "send a smaller body")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestError(f"request body exceeds {limit} bytes", 413, "send a smaller body")
    return bytes(body)


async def json_object(request: Request, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request body as a JSON object, read through :func:`read_body`.

    Raises
    ------
    RequestError
        413 when the body exceeds ``limit`` bytes; 400 when it is not JSON or not a JSON object.
    """
    data = await read_body(request, limit)
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(f"request body is not JSON: {exc}", 400, "send a JSON object") from exc
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object", 400, "send a JSON object")
    return body
