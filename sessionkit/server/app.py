"""Starlette application: the reader HTTP API (clarifications C1) and the static reader UI.

Every route the browser uses is a plain JSON route the tests call directly:

==========================================  ==================================================
``GET  /healthz``                           ``{"status": "ok"}``
``GET  /api/info``                          whether an access token is needed, version
``POST /api/login``                         ``{reader_id}`` → creates or resumes the reader's run
``GET  /api/runs/{run_id}/page``            the current position, its questions and its Scene
``GET  /api/runs/{run_id}/volumes/{key}``   one image as gzipped NIfTI (``.nii.gz``)
``POST /api/runs/{run_id}/submit``          one submission (reading-flow §4–§5)
``POST /api/runs/{run_id}/confirmations``   a reader's answer to a viewer confirmation (SK915)
``GET  /``                                  the reader UI (``sessionkit/viewer``)
==========================================  ==================================================

Errors are JSON ``{"code", "message", "hint"}``: runner refusals keep their ``SK9xx`` code
(SK909 → 409, other refusals → 422); protocol errors use ``HTTP<status>``. Image and run-folder
failures tell the reader what failed, never a file name or path; the detail (and the traceback of
anything unexpected) goes to the server log ``sessionkit.server``.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sessionkit import __version__
from sessionkit.errors import ImageReadError, RequestError, ResponseLogError, RunnerStateError, SegmentationError
from sessionkit.responses.paths import validate_reader_id
from sessionkit.runner.contours import run_color_table
from sessionkit.runner.requirements import DRAWABLE_TYPES
from sessionkit.runner.service import SUBMIT_TRANSITIONS, ReadingService
from sessionkit.scene import ImageCache, Scene, color_lookup, resolve_page
from sessionkit.scene.budget import ByteBudgetCache, default_cache_bytes
from sessionkit.server.bodies import choice, json_object, viewer_state
from sessionkit.server.drawings import DRAWING_ROUTES
from sessionkit.server.hosts import HostOriginGuard, default_allowed_hosts
from sessionkit.server.lines import LINE_ROUTES
from sessionkit.server.page_extras import PAGE_EXTRA_ROUTES
from sessionkit.session import ColorTable, load_session
from sessionkit.session.model import Page, Session

#: Run ids are UUIDs; anything else never reaches the service.
_RUN_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
#: A ``?page=`` value: ASCII digits only (``"²".isdigit()`` is true), few enough for ``int``.
_PAGE_INDEX = re.compile(r"[0-9]{1,9}")
#: A question index key of ``answers`` (as ``_PAGE_INDEX``).
_QUESTION_KEY = _PAGE_INDEX
#: Cookie that carries the access token for requests the page cannot add headers to (volume loads).
TOKEN_COOKIE = "sessionkit_token"
#: Minutes without reader input before the browser autosaves (reading-flow §4; ``serve --idle-timeout``).
DEFAULT_IDLE_TIMEOUT_MINUTES = 10.0
#: HTTP status of runner refusals: stale state 409, ``HTTP<nnn>`` codes their own, other SK9xx 422.
_STATUS_OF_CODE = {"SK909": 409}
#: Confirmations the viewer asks for and reports (``/confirmations``).
_CONFIRMATION_CODES = frozenset({"SK915"})

#: Server log (uvicorn prints it): tracebacks and details that readers never see.
LOG = logging.getLogger("sessionkit.server")
#: What a reader is told when an image cannot be read: never the file's name or path (a name can
#: unblind a case); the detail goes to :data:`LOG`.
IMAGE_ERROR = "an image of this page could not be read or shown"

Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")


def error_response(status: int, code: str, message: str, hint: str = "") -> JSONResponse:
    """The JSON error body every route uses: ``{"code", "message", "hint"}``."""
    return JSONResponse({"code": code, "message": message, "hint": hint}, status_code=status)


def internal_error(request: Request, exc: Exception | None = None) -> JSONResponse:
    """``500 HTTP500`` for an unexpected exception; its traceback goes to the server log only.

    Used inside every route (``ReaderApi.guard``) and as the application's handler of last resort.
    """
    LOG.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc or True)
    hint = "try again; if it persists, tell the study coordinator"
    return error_response(500, "HTTP500", "internal server error", hint)


def _now_iso() -> str:
    """Server clock as ISO 8601 UTC with milliseconds (reading-flow §14.2)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ReaderApi:
    """The route handlers, bound to one session, one results root and one image cache.

    Parameters
    ----------
    session : Session
        The validated session being served.
    service : ReadingService
        Runner facade: logins, positions, submissions (writes the response log).
    images_root : Path
        Folder image paths are relative to; each session (served or a run's snapshot) gets one
        :class:`ImageCache` over it, coloured by the run's copy of the colour table.
    access_token : str or None
        When set, every ``/api`` call must carry it (``Authorization: Bearer`` or the login cookie).
    idle_timeout_minutes : float
        Minutes without reader input before the browser autosaves.
    cache_bytes : int, optional
        Byte budget of the image cache shared by all sessions served (default
        :func:`~sessionkit.scene.budget.default_cache_bytes`).
    """

    def __init__(
        self,
        session: Session,
        service: ReadingService,
        images_root: Path,
        access_token: str | None = None,
        idle_timeout_minutes: float = DEFAULT_IDLE_TIMEOUT_MINUTES,
        cache_bytes: int | None = None,
    ) -> None:
        self.session = session
        self.service = service
        self.images_root = images_root
        self.access_token = access_token
        self.idle_timeout_minutes = idle_timeout_minutes
        self._scenes: dict[tuple[str, int], Scene] = {}
        self._caches: dict[str, ImageCache] = {}
        #: Decoded images and encoded volumes of every session served, under one byte budget.
        self.store = ByteBudgetCache(default_cache_bytes() if cache_bytes is None else cache_bytes)
        self._scenes_lock = threading.Lock()

    # -- helpers ---------------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        """True when no token is configured or the request carries the right one."""
        if self.access_token is None:
            return True
        header = request.headers.get("authorization", "")
        offered = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE, "")
        return hmac.compare_digest(offered.encode(), self.access_token.encode())

    @staticmethod
    async def _call_service(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a service call (file I/O, fsync) in the thread pool; the service locks each run itself."""
        return await run_in_threadpool(function, *args, **kwargs)

    def _page(self, run_id: str, page_index: int) -> Page:
        """The page at 1-based ``page_index`` of the session the run reads; 404 when there is none."""
        session = self.service.session_of(run_id)
        if not 1 <= page_index <= len(session.pages):
            raise RequestError(f"the session has no page {page_index}", 404, "use the page index from /page")
        return session.pages[page_index - 1]

    def cache_for(self, run_id: str) -> ImageCache:
        """The image cache of the session the run reads (its own snapshot after SK908, with its colour copy)."""
        session = self.service.session_of(run_id)
        with self._scenes_lock:
            cache = self._caches.get(session.sha256)
        if cache is None:
            table = color_lookup(run_color_table(self.service, run_id))
            cache = ImageCache(self.images_root, table, self.store)
            with self._scenes_lock:
                cache = self._caches.setdefault(session.sha256, cache)
        return cache

    def _scene(self, run_id: str, page_index: int) -> Scene:
        """The resolved scene of a page of the run's session (resolved once per session, then kept).

        A run whose session file changed after it started reads its snapshot (SK908), so scenes are
        kept per session SHA-256. Runs in the thread pool.
        """
        session = self.service.session_of(run_id)
        key = (session.sha256, page_index)
        with self._scenes_lock:
            scene = self._scenes.get(key)
        if scene is None:
            scene = resolve_page(session, self._page(run_id, page_index), self.cache_for(run_id).get)
            with self._scenes_lock:
                self._scenes[key] = scene
        return scene

    @staticmethod
    def _run_id(request: Request) -> str:
        run_id = str(request.path_params["run_id"])
        if not _RUN_ID.fullmatch(run_id):
            raise RequestError(f"no run {run_id!r}", 404, "sign in again to get your run id")
        return run_id

    # -- routes ------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        """``GET /healthz``: liveness."""
        return JSONResponse({"status": "ok"})

    async def info(self, request: Request) -> Response:
        """``GET /api/info``: what the sign-in form needs (no token needed for this one).

        ``idle_timeout_s``: seconds without reader input after which the browser autosaves the
        draft (reading-flow §4 Autosave; ``0``: never).
        """
        return JSONResponse(
            {
                "access_token_required": self.access_token is not None,
                "version": __version__,
                "idle_timeout_s": round(self.idle_timeout_minutes * 60, 3),
            }
        )

    async def login(self, request: Request) -> Response:
        """``POST /api/login {reader_id}``: create or resume the reader's run."""
        body = await json_object(request)
        reader_id = body.get("reader_id")
        if not isinstance(reader_id, str):
            raise RequestError("reader_id must be a string", 400, 'send {"reader_id": "reader01"}')
        try:
            validate_reader_id(reader_id)
        except ResponseLogError as exc:
            raise RequestError(str(exc), 400, "for example reader01") from exc
        result = await self._call_service(self.service.login, reader_id)
        response = JSONResponse({**result, "server_time": _now_iso()})
        if self.access_token is not None:
            response.set_cookie(TOKEN_COOKIE, self.access_token, httponly=True, samesite="strict", path="/api")
        return response

    async def page(self, request: Request) -> Response:
        """``GET /api/runs/{run_id}/page``: current position, questions, answers and its Scene.

        When the page's label images cannot be read, ``scene`` is ``None`` and ``scene_error`` says
        so (SK901, :data:`IMAGE_ERROR`; the file and the reason go to the server log): the reader
        still sees and answers the questions.
        """
        run_id = self._run_id(request)
        current = await self._call_service(self.service.current, run_id)
        extra: dict[str, Any] = {"scene": None, "scene_error": None}
        try:
            scene = await run_in_threadpool(self._scene, run_id, int(current["page_index"]))
            extra["scene"] = scene_json(scene, run_id)
        except (ImageReadError, SegmentationError) as exc:
            LOG.warning("%s %s: %s", request.method, request.url.path, exc)
            extra["scene_error"] = {"code": "SK901", "message": IMAGE_ERROR, "hint": "tell the study coordinator"}
        page = self._page(run_id, int(current["page_index"]))
        if page.enable_segment_editor:
            table = await run_in_threadpool(run_color_table, self.service, run_id)
            extra["drawing"] = drawing_json(page, table)
        else:
            extra["drawing"] = None
        return JSONResponse({**current, **extra, "server_time": _now_iso()})

    async def volume(self, request: Request) -> Response:
        """``GET /api/runs/{run_id}/volumes/{key}.nii.gz[?page=N]``: gzipped NIfTI for Niivue.

        ``page`` defaults to the run's current page; keys are only unique within a page.
        """
        run_id = self._run_id(request)
        key = str(request.path_params["key"])
        page_text = request.query_params.get("page")
        if page_text is None:
            current = await self._call_service(self.service.current, run_id)
            page_index = int(current["page_index"])
        elif _PAGE_INDEX.fullmatch(page_text):
            page_index = int(page_text)
        else:
            raise RequestError(f"page {page_text!r} is not a page number", 400, "use ?page=<1-based page index>")
        scene = await run_in_threadpool(self._scene, run_id, page_index)
        source = scene.volume(key)
        if source is None:
            raise RequestError(f"page {page_index} has no volume {key!r}", 404, "use a URL from /page")
        cache = await run_in_threadpool(self.cache_for, run_id)
        data = await run_in_threadpool(cache.nifti, source)
        # Niivue gunzips the body itself: no Content-Encoding header.
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": "private, max-age=3600"})

    async def submit(self, request: Request) -> Response:
        """``POST /api/runs/{run_id}/submit``: save the answers, then move (reading-flow §5)."""
        run_id = self._run_id(request)
        body = await json_object(request)
        state_version = body.get("state_version")
        transition = body.get("transition")
        if not isinstance(state_version, int) or isinstance(state_version, bool):
            raise RequestError("state_version must be an integer", 400, "send the state_version from /page")
        if choice(transition, SUBMIT_TRANSITIONS) is None:
            raise RequestError(
                f"unknown transition {transition!r}", 400, f"use one of {', '.join(sorted(SUBMIT_TRANSITIONS))}"
            )
        answers = _answers(body.get("answers", {}))
        state = viewer_state(body.get("viewer_state"))
        client = body.get("client", "")
        started_at = body.get("started_at")
        if not isinstance(client, str) or not (started_at is None or isinstance(started_at, str)):
            raise RequestError("client and started_at must be strings", 400, "send them as JSON strings")
        result = await self._call_service(
            self.service.submit,
            run_id,
            state_version=state_version,
            transition=transition,
            answers=answers,
            viewer_state=state,
            client=client[:200],
            started_at=started_at,
        )
        return JSONResponse({**result, "saved": True, "server_time": _now_iso()})

    async def confirmation(self, request: Request) -> Response:
        """``POST /api/runs/{run_id}/confirmations {code, answer, transition}``: log a reader's answer.

        The viewer reports its confirmations that the server does not see, so far SK915 ("no
        contours drawn — continue?", reading-flow §4): ``answer`` is ``continue`` or ``cancel``
        (IQ's "Canc for contouring"). Appended to ``events.jsonl`` as kind ``confirmation``.
        """
        run_id = self._run_id(request)
        body = await json_object(request)
        code, answer, transition = body.get("code"), body.get("answer"), body.get("transition")
        if choice(code, _CONFIRMATION_CODES) is None or choice(answer, ("continue", "cancel")) is None:
            raise RequestError(
                f"unknown confirmation {code!r} / {answer!r}", 400, 'send {"code": "SK915", "answer": "cancel"}'
            )
        if choice(transition, SUBMIT_TRANSITIONS) is None:
            raise RequestError(f"unknown transition {transition!r}", 400, "send the transition that asked")
        details = {"code": code, "answer": answer, "transition": transition}
        await self._call_service(self.service.log_event, run_id, "confirmation", details)
        return JSONResponse({"logged": True})

    # -- wiring ------------------------------------------------------------------------------

    def guard(self, handler: Handler, *, api: bool = True) -> Handler:
        """Wrap a route: access token check and error mapping to JSON."""

        async def guarded(request: Request) -> Response:
            if api and not self._authorised(request):
                return error_response(401, "HTTP401", "access token missing or wrong", "sign in with your access token")
            try:
                return await handler(request)
            except RequestError as exc:
                return error_response(exc.status, exc.code, str(exc), exc.hint)
            except RunnerStateError as exc:
                return error_response(_refusal_status(exc.code), exc.code, str(exc), exc.hint)
            except (ImageReadError, SegmentationError) as exc:
                LOG.warning("%s %s: %s", request.method, request.url.path, exc)
                return error_response(500, "SK901", IMAGE_ERROR, "tell the study coordinator")
            except ResponseLogError as exc:
                LOG.error("%s %s: %s", request.method, request.url.path, exc)
                return error_response(500, "HTTP500", "the run folder could not be read or written", "try again")
            except Exception:  # the catch-all: a traceback never reaches a reader
                return internal_error(request)

        return guarded

    def routes(self) -> list[Route | Mount]:
        """The route table (static UI mounted last, at ``/``)."""
        return [
            Route("/healthz", self.guard(self.healthz, api=False), methods=["GET"]),
            Route("/api/info", self.guard(self.info, api=False), methods=["GET"]),
            Route("/api/login", self.guard(self.login), methods=["POST"]),
            Route("/api/runs/{run_id}/page", self.guard(self.page), methods=["GET"]),
            Route("/api/runs/{run_id}/volumes/{key}.nii.gz", self.guard(self.volume), methods=["GET"]),
            Route("/api/runs/{run_id}/submit", self.guard(self.submit), methods=["POST"]),
            Route("/api/runs/{run_id}/confirmations", self.guard(self.confirmation), methods=["POST"]),
            Mount("/", StaticFiles(packages=[("sessionkit", "viewer")], html=True), name="viewer"),
        ]


def drawing_json(page: Page, table: ColorTable) -> dict[str, Any]:
    """What the viewer's contour tools need on a page with ``EnableSegmentEditor="Y"`` (issue #7).

    ``images``: ids of the Volume/VolumeSequence images a reader draws on (reading-flow §11), once
    each; ``radius_mm``: ``ContourToolRadius`` (``None``: the editor default, session-format §5;
    values <= 0 also mean default); ``segments``: the colour table in file order,
    ``{value, name, color}`` with ``color`` RGBA 0-255 (the first is selected first); ``required``:
    images with ``SegmentRequired="Y"``; ``required_any``: ``SegmentRequiredOnAnyImage``.
    """
    radius = page.contour_tool_radius
    return {
        "images": list(dict.fromkeys(image.id for image in page.images if image.type in DRAWABLE_TYPES)),
        "radius_mm": radius if radius is not None and radius > 0 else None,
        "segments": [
            {"value": entry.label_value, "name": entry.name, "color": list(entry.rgba)} for entry in table.entries
        ],
        "required": list(dict.fromkeys(image.id for image in page.images if image.segment_required)),
        "required_any": page.segment_required_on_any_image,
    }


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown path 404, wrong method 405) as the JSON error."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return error_response(status, f"HTTP{status}", str(getattr(exc, "detail", "")) or "refused", "check the URL")


def _refusal_status(code: str) -> int:
    """HTTP status of a runner refusal (see the module docstring)."""
    if code in _STATUS_OF_CODE:
        return _STATUS_OF_CODE[code]
    if code.startswith("HTTP") and code[4:].isdigit():
        return int(code[4:])
    return 422


def scene_json(scene: Scene, run_id: str) -> dict[str, Any]:
    """``Scene.to_json()`` plus the URL of every volume (on ``volumes[]`` and on each layer).

    File paths are left out: readers see images, never their names (a name can give a case away in a
    blinded study).
    """
    data = scene.to_json()
    urls = {
        source.key: f"/api/runs/{run_id}/volumes/{source.key}.nii.gz?page={scene.page_index}"
        for source in scene.volumes
    }
    data["volumes"] = [
        {"key": volume["key"], "label": volume["label"], "layer": volume["layer"], "url": urls[volume["key"]]}
        for volume in data["volumes"]
    ]
    for view in data["views"]:
        for layer in view["layers"]:
            layer["url"] = urls[layer["volume_key"]]
    return data


def _answers(value: object) -> dict[str, list[str]]:
    """Validate ``answers``: ``{"<question index>": ["<value per option>", ...]}``."""
    if not isinstance(value, dict):
        raise RequestError("answers must be an object", 400, 'send {"1": ["Y", "N"], ...}')
    answers: dict[str, list[str]] = {}
    for key, values in value.items():
        strings = isinstance(values, list) and all(isinstance(v, str) for v in values)
        if not _QUESTION_KEY.fullmatch(key) or not strings:
            raise RequestError(
                f"answers[{key!r}] must be a list of strings keyed by question index", 400, 'send {"1": ["Y", "N"]}'
            )
        answers[key] = values
    return answers


def create_app(
    session_path: Path,
    *,
    images_root: Path | None = None,
    results_root: Path,
    access_token: str | None = None,
    idle_timeout_minutes: float = DEFAULT_IDLE_TIMEOUT_MINUTES,
    allowed_hosts: Sequence[str] | None = None,
    cache_mb: float | None = None,
) -> Starlette:
    """Build the reader application for one session.

    Parameters
    ----------
    session_path : Path
        Session XML file (validated by the caller; ``sessionkit serve`` refuses invalid ones).
    images_root : Path, optional
        Folder image paths are relative to; default the session file's folder (clarifications C2).
    results_root : Path
        Root of the run folders (``<results_root>/<reader_id>/<session_stem>/``).
    access_token : str, optional
        Required on every ``/api`` call when given (clarifications C7).
    idle_timeout_minutes : float
        Minutes without reader input before the browser autosaves the draft (reading-flow §4,
        clarifications C6; default 10; ``0`` disables idle autosave).

    Returns
    -------
    Starlette
        The ASGI application; ``app.state.api`` is the :class:`ReaderApi`.

    allowed_hosts : sequence of str, optional
        ``Host`` names served (:class:`~sessionkit.server.hosts.HostOriginGuard`); default
        ``127.0.0.1``, ``localhost`` and ``::1`` (``serve`` adds the bound host and ``--allowed-host``).

    cache_mb : float, optional
        Megabytes (MiB) of decoded images and encoded volumes kept in memory, least recently used
        out first (``serve --cache-mb``); default a quarter of the RAM, at most 4096.

    Raises
    ------
    SessionError
        When the session file cannot be loaded.
    """
    session = load_session(session_path)
    root = images_root if images_root is not None else session_path.parent
    service = ReadingService(session, session_path, results_root)
    cache_bytes = None if cache_mb is None else int(cache_mb * (1 << 20))
    api = ReaderApi(session, service, root, access_token, idle_timeout_minutes, cache_bytes)
    # Contour routes first: the static mount at "/" must stay last.
    app = Starlette(
        routes=[*DRAWING_ROUTES, *LINE_ROUTES, *PAGE_EXTRA_ROUTES, *api.routes()],
        exception_handlers={HTTPException: _http_error, Exception: internal_error},
        middleware=[Middleware(HostOriginGuard, allowed_hosts=allowed_hosts or default_allowed_hosts())],
    )
    app.state.api = api
    return app
