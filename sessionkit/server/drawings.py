"""Contour routes (clarifications C1, issue #7): the viewer's drawing in, the editable drawing out.

==================================================  ================================================
``PUT  /api/runs/{run_id}/drawings/{image_id}``      body: NIfTI-1 bytes (``.nii`` or ``.nii.gz``) of
                                                     the drawing on the image's grid; autosave, not a
                                                     transition. 200 ``{file, sha256, labels,
                                                     voxel_count, saved_at, unknown_labels}``.
``GET  /api/runs/{run_id}/drawings/{image_id}.nii.gz``  the reader's saved map (or its
                                                     ``DisplayLabelMapID`` source, copied once, or
                                                     the ``MergeLabelMaps`` union, else the image's
                                                     ``StartingContourID`` segmentation converted to
                                                     labels, Select/Ignore applied, not saved)
                                                     as gzipped NIfTI for
                                                     ``nv.loadDrawingFromUrl``; 204 when none.
==================================================  ================================================

Both act on the run's **current** page. Blinding (clarifications C13): a starting contour carries
only the segments its label image's ``ROIVisibilityCode`` ``Select``/``Ignore`` keeps (``None``
there only keeps the source from being overlaid too, see ``_starting_contour``); ``DisplayLabelMapID`` and
``MergeLabelMaps`` maps are the reader's own drawings from earlier pages, which no
``ROIVisibilityCode`` governs (it belongs to label images, not to the Volume drawn on), so they are
served whole. Refusals: 422 ``HTTP422`` (read-only page, image not
drawable, grid or content of the upload wrong, or a gzip upload inflating beyond 2 bytes per voxel plus
1 MiB), 404 unknown run or image, 413 body too large (read as a stream and refused at that bound).
The handlers take the application's :class:`~sessionkit.server.app.ReaderApi` from
``request.app.state.api`` (token check and error mapping through ``api.guard``).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sessionkit.errors import GeometryError, ImageReadError, RequestError, SegmentationError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import encode_nifti, starting_labelmap
from sessionkit.io.contours import LabelArray, drawing_size_limit
from sessionkit.runner.contours import load_drawing, run_color_table, save_drawing
from sessionkit.runner.requirements import DRAWABLE_TYPES
from sessionkit.scene.loading import color_lookup
from sessionkit.scene.resolve import shown_segmentation, volume_sources
from sessionkit.server.bodies import read_body
from sessionkit.session.model import LABEL_IMAGE_TYPES

#: The server log (as ``sessionkit.server.app.LOG``).
_LOG = logging.getLogger("sessionkit.server")


def _background_grid(api: Any, run_id: str, image_id: str, *, drawing: bool) -> ImageGrid:
    """Grid of ``image_id`` on the run's current page, as the viewer received it (runs in the thread pool)."""
    page, image = api.service.page_image(run_id, image_id, drawing=drawing)
    source = next(s for s in volume_sources(page) if s.path == image.path)
    volume = api.cache_for(run_id).get(source)
    if not isinstance(volume, Volume):
        raise RequestError(f"image {image_id!r} is not a volume", 422, "contours are drawn on volumes")
    return volume.grid


def _run_and_image(request: Request) -> tuple[str, str]:
    run_id = str(request.path_params["run_id"])
    image_id = str(request.path_params["image_id"])
    request.app.state.api._run_id(request)  # same run-id check as every other route
    return run_id, image_id


async def _put_drawing(request: Request) -> Response:
    api = request.app.state.api
    run_id, image_id = _run_and_image(request)
    grid = await run_in_threadpool(_background_grid, api, run_id, image_id, drawing=True)
    body = await read_body(request, drawing_size_limit(grid))
    try:
        result = await run_in_threadpool(save_drawing, api.service, run_id, image_id, body, grid)
    except (ImageReadError, GeometryError) as exc:
        raise RequestError(str(exc), 422, "send the drawing made on the volume of this page") from exc
    return JSONResponse(result)


def _starting_contour(api: Any, run_id: str, image_id: str, grid: ImageGrid) -> LabelArray | None:
    """The ``StartingContourID`` segmentation of ``image_id`` as labels on ``grid`` (issue #7 item 5).

    Segments take the value of the run's colour table entry of the same name, else their own label
    value (:func:`sessionkit.io.starting_labelmap`). Blinding (clarifications C13): with
    ``ROIVisibilityCode`` ``Select`` or ``Ignore`` on the label image only the segments it shows are
    painted, so a segment the page hides reaches the reader neither as an overlay nor as a drawing.
    ``All`` and ``None`` give every segment: ``None`` on a starting-contour image is the documented
    way to keep the segmentation from being drawn a second time, as an overlay under the editable
    copy (docs/contours.md). None when the image has no usable starting contour (rules SK425–SK427,
    SK524 report those at load time). Runs in the thread pool.
    """
    page, image = api.service.page_image(run_id, image_id)
    wanted = image.starting_contour_id
    if not wanted or not page.enable_segment_editor or image.type not in DRAWABLE_TYPES:
        return None
    target = next((i for i in page.images if i.id == wanted and i.type in LABEL_IMAGE_TYPES), None)
    if target is None:
        return None
    source = next(s for s in volume_sources(page) if s.path == target.path)
    loaded = api.cache_for(run_id).get(source)
    if isinstance(loaded, Segmentation) and target.roi_visibility_code in ("Select", "Ignore"):
        loaded = shown_segmentation(target, loaded)
    return starting_labelmap(loaded, grid, color_lookup(run_color_table(api.service, run_id)))


async def _get_drawing(request: Request) -> Response:
    api = request.app.state.api
    run_id, image_id = _run_and_image(request)
    grid = await run_in_threadpool(_background_grid, api, run_id, image_id, drawing=False)

    def starting() -> LabelArray | None:
        return _starting_contour(api, run_id, image_id, grid)

    try:
        labels = await run_in_threadpool(load_drawing, api.service, run_id, image_id, grid, starting=starting)
    except SegmentationError as exc:
        _LOG.warning("%s %s: %s", request.method, request.url.path, exc)  # names the file: not for the reader
        raise RequestError(
            "the starting contour of this image cannot be drawn", 422, "tell the study coordinator"
        ) from exc
    if labels is None:
        return Response(status_code=204)
    data = await run_in_threadpool(encode_nifti, labels, grid, label=True)
    # Niivue gunzips the body itself: no Content-Encoding header (as for volumes).
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": "no-store"})


async def put_drawing(request: Request) -> Response:
    """``PUT /api/runs/{run_id}/drawings/{image_id}``: autosave the drawing (see the module docstring)."""
    handler = request.app.state.api.guard(_put_drawing)
    response: Response = await handler(request)
    return response


async def get_drawing(request: Request) -> Response:
    """``GET /api/runs/{run_id}/drawings/{image_id}.nii.gz``: the editable drawing, 204 when none."""
    handler = request.app.state.api.guard(_get_drawing)
    response: Response = await handler(request)
    return response


#: Register in ``create_app`` before the static mount: ``Starlette(routes=[*DRAWING_ROUTES, *api.routes()])``.
DRAWING_ROUTES: list[Route] = [
    Route("/api/runs/{run_id}/drawings/{image_id}.nii.gz", get_drawing, methods=["GET"]),
    Route("/api/runs/{run_id}/drawings/{image_id}", put_drawing, methods=["PUT"]),
]
