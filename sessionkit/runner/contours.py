"""Saving and showing readers' contours, independent of the HTTP server (issue #7, reading-flow §11).

* :func:`save_drawing`: the viewer's drawing (NIfTI bytes) becomes the instance's
  ``-quizlabel.nrrd`` on the background grid, stored and logged in ``annotations.csv`` (kind
  ``labelmap``, C2) by :func:`~sessionkit.runner.annotation_store.store_annotation`, which never
  replaces the acknowledged file before the new one is acknowledged (issue 11).
* :func:`load_drawing`: what the viewer shows as the editable drawing: the reader's own saved map;
  on the first display of a ``DisplayLabelMapID`` image, the source map copied once (D23, kind
  ``redisplay``); with ``MergeLabelMaps``, the int32 maximum of the looped page's maps (D25, kind
  ``merge``, rewritten only when it changed); else an optional starting contour.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sessionkit.geometry import ImageGrid
from sessionkit.io import (
    decode_drawing,
    encode_labelmap_nrrd,
    merge_labelmaps,
    read_labelmap,
    summarize_labels,
)
from sessionkit.io.contours import LabelArray
from sessionkit.responses.paths import RunPaths
from sessionkit.runner.annotation_store import store_annotation
from sessionkit.runner.history import LabelMapPlan
from sessionkit.runner.service import ReadingService
from sessionkit.session import DEFAULT_COLOR_TABLE, ColorTable, read_color_table


def run_color_table(service: ReadingService, run_id: str) -> ColorTable:
    """The run's copy of the session colour table (``.sessionkit/colors.txt``), else the built-in one.

    Raises
    ------
    SessionError
        If the copy exists but is invalid.
    """
    run_dir = service.run_dir(run_id)
    colors = RunPaths(run_dir.parent.parent, run_dir.parent.name, run_dir.name).colors
    return read_color_table(colors) if colors.is_file() else DEFAULT_COLOR_TABLE


#: One lock per (service, run, image): saves and displays of one drawing never interleave.
_LOCKS: dict[tuple[int, str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _drawing_lock(service: ReadingService, run_id: str, image_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault((id(service), run_id, image_id), threading.Lock())


def _store(
    service: ReadingService, run_id: str, image_id: str, kind: str, content: bytes, labels: LabelArray
) -> dict[str, str]:
    """Store ``content`` as the instance's label map and log it (:func:`store_annotation`)."""
    summary = summarize_labels(labels)
    return store_annotation(
        service, run_id, image_id, kind, content, labels=summary.labels, voxel_count=summary.voxel_count
    )


def save_drawing(service: ReadingService, run_id: str, image_id: str, data: bytes, grid: ImageGrid) -> dict[str, Any]:
    """Save the reader's drawing of ``image_id`` on the current page instance (autosave, C1 ``PUT .../drawings``).

    Parameters
    ----------
    service : ReadingService
    run_id : str
    image_id : str
        ``Image@ID`` of a Volume/VolumeSequence on the current page.
    data : bytes
        NIfTI-1 bytes (gzip or not) from the viewer, on the background's grid.
    grid : ImageGrid
        The background image's grid (what the server sent the viewer).

    Returns
    -------
    dict
        ``{file, sha256, labels (list of int), voxel_count, saved_at, unknown_labels, unchanged}``;
        ``file`` is relative to the reader folder (annotations.csv ``file``). ``unknown_labels`` are
        values absent from the colour table, kept and reported as SK907 in ``events.jsonl`` when
        written. ``unchanged``: the drawing's SHA-256 equals the one logged for the instance's
        latest acknowledged map, so nothing was written or logged and ``saved_at`` is that row's.

    Raises
    ------
    RunnerStateError
        ``HTTP404`` unknown run or image; ``HTTP422`` read-only page or image not drawable.
    ImageReadError
        Not NIfTI, or not an integer label map.
    GeometryError
        The drawing's grid is not the background's (found vs expected named).
    ResponseLogError
        The file or the log could not be written (nothing is logged then).
    """
    page, _ = service.page_image(run_id, image_id, drawing=True)
    labels = decode_drawing(data, grid, source=f"drawing of {page.id}/{image_id}")
    content = encode_labelmap_nrrd(labels, grid)
    sha = hashlib.sha256(content).hexdigest()
    with _drawing_lock(service, run_id, image_id):  # an autosave and a pre-transition save may overlap
        logged = service.labelmap_plan(run_id, image_id).own_row
        if logged is not None and logged["sha256"] == sha:  # the acknowledged map already: nothing written (D10)
            summary = summarize_labels(labels)
            return {
                "file": logged["file"],
                "sha256": sha,
                "labels": list(summary.labels),
                "voxel_count": summary.voxel_count,
                "saved_at": logged["saved_at"],
                "unknown_labels": _unknown(service, run_id, summary.labels),
                "unchanged": True,
            }
        row = _store(service, run_id, image_id, "labelmap", content, labels)
    present = [int(v) for v in row["labels"].split()]
    unknown = _unknown(service, run_id, present)
    if unknown:
        service.log_event(
            run_id, "problem", {"code": "SK907", "page": page.id, "image_id": image_id, "values": unknown}
        )
    return {
        "file": row["file"],
        "sha256": row["sha256"],
        "labels": present,
        "voxel_count": int(row["voxel_count"]),
        "saved_at": row["saved_at"],
        "unknown_labels": unknown,
        "unchanged": False,
    }


def _unknown(service: ReadingService, run_id: str, present: Sequence[int]) -> list[int]:
    """Label values absent from the run's colour table (SK907)."""
    known = {entry.label_value for entry in run_color_table(service, run_id).entries}
    return [value for value in present if value not in known]


def load_drawing(
    service: ReadingService,
    run_id: str,
    image_id: str,
    grid: ImageGrid,
    *,
    starting: LabelArray | Callable[[], LabelArray | None] | None = None,
) -> LabelArray | None:
    """The label map the viewer shows for ``image_id`` on the current page instance (reading-flow §11).

    Parameters
    ----------
    service : ReadingService
    run_id : str
    image_id : str
    grid : ImageGrid
        The background image's grid; files on other grids are resampled nearest-neighbour.
    starting : ndarray or callable returning one (or None), optional
        A starting contour on ``grid`` (see :func:`sessionkit.io.starting_labelmap`), shown when the
        instance has no map of its own and no redisplay source; not saved until the reader saves. A
        callable is called only then (``Image@StartingContourID``: the file is read only when shown).

    Returns
    -------
    ndarray of uint8/uint16, shape ``grid.spatial_shape``, or None
        None when there is nothing to show.

    Raises
    ------
    RunnerStateError
        ``HTTP404`` unknown run or image.
    ImageReadError
        A logged label-map file is missing or unreadable.
    ResponseLogError
        A redisplay copy or merge file could not be written.
    """
    _, image = service.page_image(run_id, image_id)
    with _drawing_lock(service, run_id, image_id):  # two displays must not both copy (D23)
        plan = service.labelmap_plan(run_id, image_id)
        shown = _shown(service, run_id, image_id, image.merge_label_maps, plan, grid)
    if shown is not None or image.merge_label_maps:
        return shown
    return starting() if callable(starting) else starting


def _shown(
    service: ReadingService, run_id: str, image_id: str, merge: bool, plan: LabelMapPlan, grid: ImageGrid
) -> LabelArray | None:
    """The map to show per ``plan`` (see :func:`load_drawing`); None when only a starting contour could be."""
    if merge:
        if not plan.merge_files:
            return None
        merged = merge_labelmaps([read_labelmap(path, grid) for path in plan.merge_files])
        content = encode_labelmap_nrrd(merged, grid)
        if plan.own_row is None or plan.own_row["sha256"] != hashlib.sha256(content).hexdigest():
            _store(service, run_id, image_id, "merge", content, merged)
        return merged
    if plan.own_file is not None:
        return read_labelmap(plan.own_file, grid)
    if plan.copy_needed and plan.source_file is not None:
        return _copy_source(service, run_id, image_id, plan.source_file, grid)
    return None


def _copy_source(service: ReadingService, run_id: str, image_id: str, source: Path, grid: ImageGrid) -> LabelArray:
    """First display of a ``DisplayLabelMapID`` image: copy the source file once (D23)."""
    labels = read_labelmap(source, grid)
    # Encoded like every save, so an unchanged autosave has the copy's SHA-256 (SK912 "unmodified").
    _store(service, run_id, image_id, "redisplay", encode_labelmap_nrrd(labels, grid), labels)
    return labels
