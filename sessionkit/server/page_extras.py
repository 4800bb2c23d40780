"""Routes for Picture and Button questions and the interaction log (session-format §7, reading-flow §14.4).

=================================================  ==================================================
``GET  /api/runs/{run_id}/pictures/{index}/{opt}``  the image file a Picture option of the current
                                                    question set names (question and option index),
                                                    read from the session folder; browser formats
                                                    as they are, other Qt rasters as PNG (D17)
``POST /api/runs/{run_id}/button``                  ``{question, option}``: a Button click on the
                                                    current question set. Registered actions (D9,
                                                    ``BUTTON_ACTIONS``) answer ``{registered: true,
                                                    action, value: "<stem>-Done"}`` (toggle mode:
                                                    ``<stem>``); others only record the click
                                                    (``registered: false``, value ``<stem>``)
``POST /api/runs/{run_id}/interaction``             ``{uptime_ms, layout, views: [...]}`` or
                                                    ``{uptime_ms, transition}``: appended to the page
                                                    instance's ``UserInteractionLog.csv`` when the page
                                                    has ``UserInteractionLog="Y"``; ignored otherwise
``POST /api/runs/{run_id}/view-mode``               ``{destination, viewing_mode, viewer_state}``: a
                                                    viewport switched view mode; the viewer state
                                                    captured just before the switch goes to
                                                    ``events.jsonl`` (kind ``view_mode``, §12)
=================================================  ==================================================

Button actions never run code named by the session: the option's file name selects one of the
server's fixed actions; every one of them acts on the reader's own view (the browser performs the
view change) and is recorded in ``events.jsonl``. The handlers take the application's ``ReaderApi``
from ``request.app.state.api``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sessionkit.errors import ImageReadError, RequestError
from sessionkit.geometry import ImageGrid
from sessionkit.io.web_picture import BROWSER_PICTURES, CONVERTED_PICTURES, read_web_picture
from sessionkit.responses.csvlog import mkdir_durable
from sessionkit.responses.interaction_log import ViewSample, append_interaction_rows, transition_row, view_rows
from sessionkit.runner.answers import button_stem
from sessionkit.scene import ImageCache, Scene
from sessionkit.server.bodies import choice, json_object
from sessionkit.session.model import BUTTON_ACTIONS, Question

#: Picture suffixes served (D17): browser formats as they are, other Qt rasters converted to PNG.
PICTURE_SUFFIXES = frozenset(BROWSER_PICTURES) | CONVERTED_PICTURES
#: The server log (as ``sessionkit.server.app.LOG``).
_LOG = logging.getLogger("sessionkit.server")
#: Rows one interaction request may carry (a view change of four viewports is one sample each).
_MAX_VIEWS = 4


def _question(api: Any, run_id: str, index: object, types: tuple[str, ...]) -> tuple[dict[str, Any], Question]:
    """The current question set's question ``index`` (JSON and model) when its type is one of ``types``."""
    current = api.service.current(run_id)
    if not isinstance(index, int) or isinstance(index, bool):
        raise RequestError("question must be a question index", 400, "send the index from /page")
    sets = api.service.session_of(run_id).pages[int(current["page_index"]) - 1].question_sets
    questions = sets[int(current["question_set_index"]) - 1].questions if sets else ()
    question = next((q for q in questions if q.index == index), None)
    if question is None or question.type not in types:
        raise RequestError(f"the current question set has no {'/'.join(types)} question {index}", 404, "reload")
    return current, question


def picture_path(images_folder: Path, label: str) -> Path:
    """The file a Picture option names, inside ``images_folder`` (the session folder), picture suffixes only.

    Raises
    ------
    RequestError
        404 when the name leaves the folder, is not a picture format, or the file is missing.
    """
    relative = label.strip().replace("\\", "/")
    folder = images_folder.resolve()
    target = (folder / relative).resolve()
    if relative.startswith("/") or not target.is_relative_to(folder) or target.suffix.lower() not in PICTURE_SUFFIXES:
        raise RequestError(f"picture {label!r} is not a picture in the session folder", 404, "check the session")
    if not target.is_file():
        raise RequestError(f"picture {label!r} not found", 404, "check the session folder")
    return target


async def picture(request: Request) -> Response:
    """``GET /api/runs/{run_id}/pictures/{question}/{option}``."""
    api = request.app.state.api
    run_id = api._run_id(request)
    question_index, option_index = (request.path_params[k] for k in ("question", "option"))
    _, question = await run_in_threadpool(_question, api, run_id, question_index, ("Picture",))
    option = next((o for o in question.options if o.index == option_index), None)
    if option is None:
        raise RequestError(f"question {question_index} has no option {option_index}", 404, "reload")
    path = picture_path(api.service.session_path.parent, option.label)
    try:
        data, media_type = await run_in_threadpool(read_web_picture, path)
    except ImageReadError as exc:
        _LOG.warning("%s %s: %s", request.method, request.url.path, exc)  # names the file: not for the reader
        raise RequestError("this picture could not be read", 404, "tell the study coordinator") from exc
    return Response(data, media_type=media_type, headers={"Cache-Control": "private"})


async def button(request: Request) -> Response:
    """``POST /api/runs/{run_id}/button {question, option}``: one Button click."""
    api = request.app.state.api
    run_id = api._run_id(request)
    body = await json_object(request)
    current, question = await run_in_threadpool(_question, api, run_id, body.get("question"), ("Button",))
    if not current.get("editable"):
        raise RequestError("this page is read-only: the button does nothing here", 422, "use Next or Previous")
    option = next((o for o in question.options if o.index == body.get("option")), None)
    if option is None:
        raise RequestError(f"question {question.index} has no option {body.get('option')!r}", 404, "reload")
    name = option.label.strip().replace("\\", "/").rsplit("/", 1)[-1]
    stem = button_stem(option.label)
    registered = name in BUTTON_ACTIONS
    toggle = question.button_toggle_color_off is not None
    value = f"{stem}-Done" if registered and not toggle else stem
    details = {"question_index": question.index, "option_index": option.index, "action": name}
    await run_in_threadpool(api.service.log_event, run_id, "button", {**details, "registered": registered})
    action = name.removesuffix(".py") if registered else None
    return JSONResponse({"registered": registered, "action": action, "value": value, "toggle": toggle})


def _grids(cache: ImageCache, scene: Scene, page_id: str) -> dict[str, dict[str, tuple[str, ImageGrid]]]:
    """Per destination: Background/Foreground node name ``<PageID>_<ImageID>`` and image grid."""
    found: dict[str, dict[str, tuple[str, ImageGrid]]] = {}
    for view in scene.views:
        for layer in view.layers:
            source = scene.volume(layer.volume_key)
            if layer.role in ("Background", "Foreground") and source is not None and layer.kind == "volume":
                grid = cache.get(source).grid
                found.setdefault(view.destination, {})[layer.role] = (f"{page_id}_{layer.image_id}", grid)
    return found


def _samples(api: Any, run_id: str, page_index: int, page_id: str, views: object) -> list[ViewSample]:
    if not isinstance(views, list) or len(views) > _MAX_VIEWS:
        raise RequestError("views must be a list of at most 4 viewports", 400, "send one entry per viewport")
    grids = _grids(api.cache_for(run_id), api._scene(run_id, page_index), page_id)
    samples = []
    for view in views:
        try:
            destination = str(view["destination"])
            matrix = np.asarray(view["screen_to_ras"], dtype=float).reshape(4, 4)
            width, height = float(view["width"]), float(view["height"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RequestError(f"bad view entry: {exc}", 400, "send destination, width, height, screen_to_ras") from exc
        if not np.all(np.isfinite(matrix)) or destination not in grids:
            continue
        layers = grids[destination]
        samples.append(
            ViewSample(destination, width, height, matrix, layers.get("Background"), layers.get("Foreground"))
        )
    return samples


async def interaction(request: Request) -> Response:
    """``POST /api/runs/{run_id}/interaction``: rows for ``UserInteractionLog.csv`` (reading-flow §14.4)."""
    api = request.app.state.api
    run_id = api._run_id(request)
    body = await json_object(request)
    page, editable, folder = await run_in_threadpool(api.service.instance_folder, run_id)
    if not page.user_interaction_log or not editable:
        return JSONResponse({"logged": 0})
    uptime = body.get("uptime_ms")
    if not isinstance(uptime, int | float):
        raise RequestError("uptime_ms must be a number", 400, "milliseconds since the page was shown")
    now = datetime.now(UTC)
    transition = body.get("transition")
    if isinstance(transition, str):
        rows = [transition_row(int(uptime), now, transition[:100])]
    else:
        samples = await run_in_threadpool(_samples, api, run_id, page.index, page.id, body.get("views"))
        rows = view_rows(int(uptime), now, page.effective_layout, samples)

    def write() -> None:
        mkdir_durable(folder)  # the page folder survives a crash with its log
        append_interaction_rows(folder, rows)

    await run_in_threadpool(write)
    return JSONResponse({"logged": len(rows)})


#: Viewing modes of a viewport (reading-flow §12; IQ's "3 Planes" and "1 Plane" buttons).
VIEWING_MODES = frozenset({"Default", "3 Planes", "1 Plane Axial", "1 Plane Sagittal", "1 Plane Coronal"})


async def view_mode(request: Request) -> Response:
    """``POST /api/runs/{run_id}/view-mode``: record a view-mode switch and the state captured before it.

    ``viewer_state`` is the viewer state of every viewport just before the switch (the submission's
    shape, reading-flow §12); it is appended to ``events.jsonl`` as kind ``view_mode`` and is not used
    for restoring (only submissions are). Answers ``{"logged": true}``.
    """
    api = request.app.state.api
    run_id = api._run_id(request)
    body = await json_object(request)
    destination, mode, state = body.get("destination"), body.get("viewing_mode"), body.get("viewer_state")
    if not isinstance(destination, str) or choice(mode, VIEWING_MODES) is None or not isinstance(state, dict):
        raise RequestError(
            f"bad view-mode switch {destination!r} -> {mode!r}", 400, f"viewing_mode is one of {sorted(VIEWING_MODES)}"
        )
    details = {"destination": destination[:20], "viewing_mode": mode, "viewer_state": state}
    await run_in_threadpool(api.service.log_event, run_id, "view_mode", details)
    return JSONResponse({"logged": True})


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` behind the ``ReaderApi`` token check and error mapping (looked up per request)."""

    async def guarded(request: Request) -> Response:
        response: Response = await request.app.state.api.guard(handler)(request)
        return response

    return guarded


#: Register in ``create_app`` before the static mount (as ``DRAWING_ROUTES``).
PAGE_EXTRA_ROUTES: list[Route] = [
    Route("/api/runs/{run_id}/pictures/{question:int}/{option:int}", _guarded(picture), methods=["GET"]),
    Route("/api/runs/{run_id}/button", _guarded(button), methods=["POST"]),
    Route("/api/runs/{run_id}/interaction", _guarded(interaction), methods=["POST"]),
    Route("/api/runs/{run_id}/view-mode", _guarded(view_mode), methods=["POST"]),
]
