"""Request bodies: read with a cap and checked before anything uses them (issue #11 items 4, 5 and 8).

Every route that takes a body reads it here: :func:`read_body` streams it and stops at a byte limit
(a declared ``Content-Length`` above it is refused before a byte is read, a chunked body as soon as it
passes it), so no request holds more than the limit in memory. :func:`json_object` takes
``Content-Type: application/json`` only, parses a JSON object from at most :data:`MAX_JSON_BYTES`
and refuses what Python's parser would let through but the routes cannot use: ``NaN``,
``Infinity`` (and ``1e999``), integers of more than
:data:`MAX_INTEGER_DIGITS` digits, nesting deeper than the parser's recursion limit. Each route then
checks the fields it reads (:func:`choice`, :func:`viewer_state`, ...).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from typing import Any

from starlette.requests import Request

from sessionkit.errors import RequestError

#: Largest JSON body (a submission with its viewer state of four viewports is a few kilobytes).
MAX_JSON_BYTES = 1 << 20
#: Most digits of a JSON integer (state versions, indices and milliseconds need far fewer).
MAX_INTEGER_DIGITS = 18


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
        415 when ``Content-Type`` is not ``application/json`` (a cross-site form can only send
        ``text/plain``, form or multipart bodies without a CORS preflight; issue #11 item 5);
        413 when the body exceeds ``limit`` bytes; 400 when it is not JSON, not a JSON object, or
        holds a non-finite number, a too long integer or too deep nesting.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise RequestError(
            f"request body of type {media_type[:60] or 'none'!r} refused", 415, "send Content-Type: application/json"
        )
    data = await read_body(request, limit)
    try:
        body = json.loads(data, parse_int=_integer, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RequestError(f"request body is not usable JSON: {str(exc)[:200]}", 400, "send a JSON object") from exc
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object", 400, "send a JSON object")
    return body


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"integer of {len(text)} digits (at most {MAX_INTEGER_DIGITS})")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def choice(value: object, allowed: Collection[str]) -> str | None:
    """``value`` when it is one of the strings ``allowed``, else ``None`` (lists and objects too)."""
    return value if isinstance(value, str) and value in allowed else None


def viewer_state(value: object) -> dict[str, Any] | None:
    """A submitted ``viewer_state``: ``None``, or an object whose ``views`` (if any) is a list of objects.

    Raises
    ------
    RequestError
        400 for anything else (a list, a string, ``views`` not a list of objects): such a state
        would be logged and then break every reader of the run folder.
    """
    if value is None:
        return None
    views = value.get("views", []) if isinstance(value, dict) else None
    if not isinstance(value, dict) or not isinstance(views, list) or not all(isinstance(v, dict) for v in views):
        raise RequestError(
            "viewer_state must be an object with a list of view objects", 400, 'send {"views": [{...}, ...]}'
        )
    return value
