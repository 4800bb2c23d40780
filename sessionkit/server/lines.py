"""Measurement-line routes (issue 17 item 5; reading-flow §11): the viewer's lines in and out.

======================================================  ============================================
``GET    /api/runs/{run_id}/lines``                     the current page instance's lines:
                                                        ``{enabled, editable, images, lines: [{image_id,
                                                        number, file, points, length_mm, saved_at}]}``
``POST   /api/runs/{run_id}/lines/{image_id}``          body ``{"points": [[x, y, z], [x, y, z]]}`` (LPS
                                                        mm): a new line (lowest free number); 200 the line
                                                        with ``sha256`` and ``unchanged``
``PUT    /api/runs/{run_id}/lines/{image_id}/{number}``  same body: line ``number`` moved
``DELETE /api/runs/{run_id}/lines/{image_id}/{number}``  line ``number`` deleted (logged, then removed)
======================================================  ============================================

All act on the run's **current** page instance. Each line is a Slicer ``.mrk.json`` logged in
``annotations.csv`` (:mod:`sessionkit.runner.lines`). Refusals (the JSON error shape of every route):
400 body not a JSON object of exactly ``points``; 413 body over :data:`MAX_LINE_BODY` bytes; 422 bad
points, read-only page or an image without lines; 404 unknown run, image or line.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sessionkit.errors import RequestError, RunnerStateError
from sessionkit.runner.lines import MAX_LINES, current_lines, delete_line, save_line
from sessionkit.server.bodies import json_object

#: Largest line body (two points of three numbers need about 100 bytes).
MAX_LINE_BODY = 4096


def _target(request: Request) -> tuple[Any, str, str]:
    api = request.app.state.api
    run_id = str(request.path_params["run_id"])
    api._run_id(request)  # same run-id check as every other route
    return api, run_id, str(request.path_params.get("image_id", ""))


def _number(request: Request) -> int:
    number = int(request.path_params["number"])
    if not 1 <= number <= MAX_LINES:
        raise RunnerStateError(f"There is no line {number}", code="HTTP404", hint=f"lines are numbered 1-{MAX_LINES}")
    return number


async def _points(request: Request) -> object:
    body = await json_object(request, MAX_LINE_BODY)
    if set(body) != {"points"}:
        raise RequestError(
            f"a line body has exactly the key 'points'; found {sorted(body)[:5]}",
            400,
            'send {"points": [[x1, y1, z1], [x2, y2, z2]]}',
        )
    return body["points"]


async def _get_lines(request: Request) -> Response:
    api, run_id, _ = _target(request)
    return JSONResponse(await run_in_threadpool(current_lines, api.service, run_id))


async def _post_line(request: Request) -> Response:
    api, run_id, image_id = _target(request)
    points = await _points(request)
    return JSONResponse(await run_in_threadpool(save_line, api.service, run_id, image_id, points))


async def _put_line(request: Request) -> Response:
    api, run_id, image_id = _target(request)
    number = _number(request)
    points = await _points(request)
    return JSONResponse(await run_in_threadpool(save_line, api.service, run_id, image_id, points, number))


async def _delete_line(request: Request) -> Response:
    api, run_id, image_id = _target(request)
    number = _number(request)
    return JSONResponse(await run_in_threadpool(delete_line, api.service, run_id, image_id, number))


def _guarded(handler: Any) -> Any:
    async def route(request: Request) -> Response:
        guarded = request.app.state.api.guard(handler)
        response: Response = await guarded(request)
        return response

    route.__doc__ = handler.__doc__
    return route


#: Register in ``create_app`` before the static mount, like ``DRAWING_ROUTES``.
LINE_ROUTES: list[Route] = [
    Route("/api/runs/{run_id}/lines", _guarded(_get_lines), methods=["GET"]),
    Route("/api/runs/{run_id}/lines/{image_id}", _guarded(_post_line), methods=["POST"]),
    Route("/api/runs/{run_id}/lines/{image_id}/{number:int}", _guarded(_put_line), methods=["PUT"]),
    Route("/api/runs/{run_id}/lines/{image_id}/{number:int}", _guarded(_delete_line), methods=["DELETE"]),
]
