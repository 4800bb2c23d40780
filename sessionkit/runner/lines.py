"""Readers' measurement lines, independent of the HTTP server (issue 17 item 5, reading-flow §11, §14.3).

Each line is one Slicer markups file (:func:`sessionkit.io.markups.encode_line_markup`) of the current
page instance, named as Image Quizzer names them
(``<PageID>[-Rep<n>]_<ImageID>_MarkupsLine[_<k>]_quizline.mrk.json``; line number ``k + 1``, the first
without ``_<k>``). Adding, moving and deleting a line go through
:func:`~sessionkit.runner.annotation_store.store_annotation`: the new file is acknowledged in
``annotations.csv`` (kind ``line`` with its SHA-256 and ``length_mm``, or ``line_deleted``) before it
replaces the previous one, and a deletion is logged before the file goes. The lines of an instance
are its latest ``line`` rows per file (:func:`current_lines`); the SK913 requirements count the same
rows (:mod:`sessionkit.runner.requirements`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sessionkit.errors import RunnerStateError
from sessionkit.io.markups import encode_line_markup, line_length_mm, read_line_markup
from sessionkit.responses.lines import present_lines
from sessionkit.responses.paths import line_number
from sessionkit.responses.run_folder import acknowledged_file
from sessionkit.runner.annotation_store import store_annotation
from sessionkit.runner.requirements import DRAWABLE_TYPES
from sessionkit.runner.service import ReadingService
from sessionkit.session.model import Page

#: Most lines one image of one page instance may hold.
MAX_LINES = 50
#: Largest coordinate accepted (mm): far outside any scanner's field of view, well inside float range.
MAX_COORDINATE_MM = 1e6


def lines_enabled(page: Page) -> bool:
    """Whether readers may place lines on ``page``: a segment-editor page or one that requires lines."""
    return bool(
        page.enable_segment_editor
        or page.min_markup_lines_required_on_any_image
        or any(image.min_markup_lines_required for image in page.images)
    )


def current_lines(service: ReadingService, run_id: str) -> dict[str, Any]:
    """The current page instance's lines, as the viewer shows them (``GET /api/runs/{run}/lines``).

    Returns
    -------
    dict
        ``{enabled, editable, images, lines}``: ``enabled`` per :func:`lines_enabled`; ``images`` the
        ``Image@ID`` s lines may be placed on (Volume/VolumeSequence); ``lines`` a list of
        ``{image_id, number, file, points (2 x 3 LPS mm), length_mm, saved_at}`` ordered by image and number.

    Raises
    ------
    RunnerStateError
        ``HTTP404`` unknown run.
    ImageReadError
        A logged line file is missing or unreadable.
    """
    page, editable, rows = service.instance_annotations(run_id)
    reader_dir = service.run_dir(run_id).parent
    lines = []
    for file, row in present_lines(rows).items():
        points = read_line_markup(acknowledged_file(reader_dir / file, row["sha256"]))
        lines.append(_line_json(row, points))
    lines.sort(key=lambda line: (line["image_id"], line["number"]))
    images = list(dict.fromkeys(image.id for image in page.images if image.type in DRAWABLE_TYPES))
    return {"enabled": lines_enabled(page), "editable": editable, "images": images, "lines": lines}


def _line_json(row: Mapping[str, str], points: np.ndarray) -> dict[str, Any]:
    return {
        "image_id": row["image_id"],
        "number": line_number(row["file"]),
        "file": row["file"],
        "points": [[float(v) for v in point] for point in points],
        "length_mm": line_length_mm(points),
        "saved_at": row["saved_at"],
    }


def check_points(value: object) -> np.ndarray:
    """``[[x, y, z], [x, y, z]]`` (LPS mm, finite, at most :data:`MAX_COORDINATE_MM`, distinct) as a (2, 3) array.

    Raises
    ------
    RunnerStateError
        ``HTTP422`` for anything else (found vs expected named).
    """
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(point, list) and len(point) == 3 for point in value)
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= MAX_COORDINATE_MM
            for point in value
            for v in point
        )
    )
    if not ok:
        raise RunnerStateError(
            f"points must be two [x, y, z] LPS positions in mm (finite, |v| <= {MAX_COORDINATE_MM:g}); "
            f"found {str(value)[:120]}",
            code="HTTP422",
            hint="send {\"points\": [[x1, y1, z1], [x2, y2, z2]]}",
        )
    points = np.array(value, dtype=np.float64)
    if line_length_mm(points) == 0.0:
        raise RunnerStateError("the two points of a line are the same", code="HTTP422", hint="click two places")
    return points


def _line_image(service: ReadingService, run_id: str, image_id: str) -> Page:
    page, image = service.page_image(run_id, image_id)
    if not lines_enabled(page) or image.type not in DRAWABLE_TYPES:
        raise RunnerStateError(
            f"Image {image_id!r} of page {page.id} takes no measurement lines (needs a Volume or VolumeSequence "
            'on a page with EnableSegmentEditor="Y" or a MinMarkupLinesRequired attribute)',
            code="HTTP422",
            hint="measure on the page's volume",
        )
    return page


def save_line(
    service: ReadingService, run_id: str, image_id: str, points: object, number: int | None = None
) -> dict[str, Any]:
    """Add (``number`` None) or move line ``number`` of ``image_id`` on the current page instance.

    Parameters
    ----------
    service : ReadingService
    run_id : str
    image_id : str
        ``Image@ID`` of a Volume/VolumeSequence of the current page.
    points : object
        The request's ``points``, checked by :func:`check_points` (LPS mm).
    number : int, optional
        The line to move; None adds a line with the lowest free number.

    Returns
    -------
    dict
        The line as :func:`current_lines` lists it, plus ``sha256`` and ``unchanged`` (a move to the
        logged position writes nothing).

    Raises
    ------
    RunnerStateError
        ``HTTP404`` unknown run, image or line; ``HTTP422`` read-only page, image without lines, bad
        points, more than :data:`MAX_LINES` lines.
    ResponseLogError
        The file or the log could not be written (nothing is acknowledged then).
    """
    _line_image(service, run_id, image_id)
    array = check_points(points)
    with service.exclusive(run_id):
        _, _, rows = service.instance_annotations(run_id)
        taken = {line_number(file): row for file, row in present_lines(rows).items() if row["image_id"] == image_id}
        if number is None:
            number = next(k for k in range(1, MAX_LINES + 2) if k not in taken)
            if number > MAX_LINES:
                raise RunnerStateError(
                    f"Image {image_id!r} already has {MAX_LINES} lines", code="HTTP422", hint="delete a line first"
                )
        elif number not in taken:
            raise RunnerStateError(f"Image {image_id!r} has no line {number}", code="HTTP404", hint="reload the page")
        name = service.annotation_path(run_id, image_id, kind="line", number=number).name.removesuffix(".mrk.json")
        content = encode_line_markup(array, name)
        sha = hashlib.sha256(content).hexdigest()
        if number in taken and taken[number]["sha256"] == sha:
            return {**_line_json(taken[number], array), "sha256": sha, "unchanged": True}
        row = store_annotation(
            service, run_id, image_id, "line", content, number=number, length_mm=line_length_mm(array)
        )
    return {**_line_json(row, array), "sha256": row["sha256"], "unchanged": False}


def delete_line(service: ReadingService, run_id: str, image_id: str, number: int) -> dict[str, Any]:
    """Delete line ``number`` of ``image_id`` on the current page instance (logged, then removed).

    Returns
    -------
    dict
        ``{image_id, number, file, saved_at}``.

    Raises
    ------
    RunnerStateError
        ``HTTP404`` unknown run, image or line; ``HTTP422`` read-only page or image without lines.
    ResponseLogError
        The log could not be written (the line stays).
    """
    _line_image(service, run_id, image_id)
    with service.exclusive(run_id):
        _, _, rows = service.instance_annotations(run_id)
        files = [file for file, row in present_lines(rows).items() if row["image_id"] == image_id]
        if not any(line_number(file) == number for file in files):
            raise RunnerStateError(f"Image {image_id!r} has no line {number}", code="HTTP404", hint="reload the page")
        row = store_annotation(service, run_id, image_id, "line_deleted", None, number=number)
    return {"image_id": image_id, "number": number, "file": row["file"], "saved_at": row["saved_at"]}
