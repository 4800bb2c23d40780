"""Viewer-state history walked in navigation order (reading-flow §2, §12; fix D24).

The browser sends, with each submission, ``{"views": [{destination, orientation, slice_offset, window,
level, ...}]}``. A record belongs to the page instance it was submitted from. To restore a page, each
Volume/VolumeSequence image takes the most recent record for the **same image path**, walking the
navigation list backwards from the current position (Image Quizzer searched in file order, which is
wrong under randomization).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionkit.responses.run_folder import acknowledged_file
from sessionkit.runner.machine import RunState
from sessionkit.runner.navigation import Instance
from sessionkit.session.model import Page, SessionImage

VIEWABLE_TYPES = frozenset({"Volume", "VolumeSequence"})


@dataclass(frozen=True)
class ViewRecord:
    """One viewer-state record: the instance it was saved from, its ``seq`` and the views."""

    instance: Instance
    seq: int
    views: tuple[Mapping[str, Any], ...]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _image_at(page: Page, destination: object) -> SessionImage | None:
    """The viewable image a view showed: Background layer at that destination, else the first one there."""
    candidates = [i for i in page.images if i.type in VIEWABLE_TYPES and i.effective_destination == destination]
    background = [i for i in candidates if i.effective_layer == "Background"]
    chosen = background or candidates
    return chosen[0] if chosen else None


def restore_views(state: RunState, records: Sequence[ViewRecord]) -> list[dict[str, Any]]:
    """Window/level and slice offset to restore for each viewable image of the current page (§12).

    Parameters
    ----------
    state : RunState
        The run at its current position.
    records : sequence of ViewRecord
        Every acknowledged viewer-state record of the run, in ``seq`` order.

    Returns
    -------
    list of dict
        Per Volume/VolumeSequence image element: ``image_index`` (1-based among the page's images),
        ``image_id``, ``destination``, ``orientation``, ``window``, ``level`` (None when no record:
        use ``WindowLevel`` or automatic), ``slice_offset`` in mm (None: use ``InitialSliceOffset`` or
        the volume centre), ``window_level_from`` / ``slice_offset_from`` (instance ids), and ``frame``
        (VolumeSequence frame of the most recent record for the same path, else None).
        A slice offset recorded on an **earlier** instance yields to ``InitialSliceOffset`` when set.
    """
    by_instance: dict[Instance, list[ViewRecord]] = {}
    for record in sorted(records, key=lambda r: r.seq):
        by_instance.setdefault(record.instance, []).append(record)
    walk = [state.entry.instance, *_history(state)]
    current = state.entry.instance
    page = state.page()
    result: list[dict[str, Any]] = []
    for index, image in enumerate(page.images, start=1):
        if image.type not in VIEWABLE_TYPES:
            continue
        window_level: tuple[float, float, Instance] | None = None
        offset: tuple[float, Instance] | None = None
        frame: int | None = None
        for instance in walk:
            source_page = state.page(instance)
            for record in reversed(by_instance.get(instance, [])):
                for view in record.views:
                    shown = _image_at(source_page, view.get("destination"))
                    if shown is None or shown.path != image.path:
                        continue
                    window, level = _number(view.get("window")), _number(view.get("level"))
                    if window_level is None and window is not None and level is not None:
                        window_level = (window, level, instance)
                    shown_frame = view.get("frame")
                    if frame is None and isinstance(shown_frame, int) and not isinstance(shown_frame, bool):
                        frame = shown_frame
                    slice_offset = _number(view.get("slice_offset"))
                    if (
                        offset is None
                        and slice_offset is not None
                        and view.get("orientation") == image.effective_orientation
                    ):
                        offset = (slice_offset, instance)
            if window_level is not None and offset is not None:
                break
        if offset is not None and offset[1] != current and image.initial_slice_offset is not None:
            offset = None
        result.append(
            {
                "image_index": index,
                "image_id": image.id,
                "destination": image.effective_destination,
                "orientation": image.effective_orientation,
                "window": None if window_level is None else window_level[0],
                "level": None if window_level is None else window_level[1],
                "window_level_from": None if window_level is None else _label(state, window_level[2]),
                "slice_offset": None if offset is None else offset[0],
                "slice_offset_from": None if offset is None else _label(state, offset[1]),
                "frame": frame,
            }
        )
    return result


def _label(state: RunState, instance: Instance) -> str:
    return instance.instance_id(state.page(instance))


@dataclass(frozen=True)
class LabelMapPlan:
    """Label-map files of one image node of the current instance (see ``ReadingService.labelmap_plan``)."""

    own_file: Path | None
    own_row: Mapping[str, str] | None
    source_file: Path | None
    source_instance: str | None
    copy_needed: bool
    merge_files: tuple[Path, ...]


#: annotations.csv kinds that leave a label-map file of an instance's image node.
LABELMAP_KINDS = frozenset({"labelmap", "redisplay", "merge"})


def latest_labelmaps(rows: Sequence[Mapping[str, str]]) -> dict[tuple[Instance, str], Mapping[str, str]]:
    """Latest label-map row per (instance, image_id) from annotations.csv rows in ``seq`` order (§14.3)."""
    latest: dict[tuple[Instance, str], Mapping[str, str]] = {}
    for row in rows:
        if row["kind"] in LABELMAP_KINDS:
            latest[(Instance(int(row["page_index"]), int(row["repetition"])), row["image_id"])] = row
    return latest


def _history(state: RunState) -> list[Instance]:
    """Instances before the current one, most recent first in navigation order (§2)."""
    current = state.entry.instance
    walk: list[Instance] = []
    for entry in reversed(state.nav[: state.position]):
        if entry.instance != current and entry.instance not in walk:
            walk.append(entry.instance)
    return walk


def _source_image(page: Page, image: SessionImage) -> SessionImage | None:
    for candidate in page.images:
        if candidate.label_map_id == image.display_label_map_id and candidate.path == image.path:
            return candidate
    return None


def redisplay_source(
    state: RunState, image: SessionImage, latest: Mapping[tuple[Instance, str], Mapping[str, str]]
) -> tuple[Instance, Mapping[str, str] | None] | None:
    """Source of ``DisplayLabelMapID`` for ``image`` on the current page (session-format §6.5).

    Returns
    -------
    (Instance, row or None) or None
        The most recent earlier instance in navigation history whose page has an image with
        ``LabelMapID`` equal to ``image.display_label_map_id`` and the same path, with its latest
        label-map row (``None`` when the reader drew nothing there: nothing is shown); ``None`` when
        the image redisplays nothing or no such instance was visited.
    """
    if not image.display_label_map_id:
        return None
    for instance in _history(state):
        source = _source_image(state.page(instance), image)
        if source is not None:
            return instance, latest.get((instance, source.id))
    return None


def merge_sources(
    state: RunState, image: SessionImage, latest: Mapping[tuple[Instance, str], Mapping[str, str]]
) -> list[tuple[Instance, Mapping[str, str]]]:
    """Label maps merged into ``image`` (``MergeLabelMaps="Y"``; session-format §6.5, reading-flow §11).

    The source page is found as for :func:`redisplay_source`; every instance in navigation history of a
    page with the same ID and Descriptor contributes its latest label map of the matching image.
    Returned oldest first (navigation order); instances without a saved map are left out.
    """
    if not (image.merge_label_maps and image.display_label_map_id):
        return []
    found = redisplay_source(state, image, latest)
    if found is None:
        return []
    source_page = state.page(found[0])
    merged: list[tuple[Instance, Mapping[str, str]]] = []
    for instance in reversed(_history(state)):
        page = state.page(instance)
        if (page.id, page.descriptor) != (source_page.id, source_page.descriptor):
            continue
        source = _source_image(page, image)
        row = latest.get((instance, source.id)) if source is not None else None
        if row is not None and row["sha256"]:
            merged.append((instance, row))
    return merged


def labelmap_plan(
    state: RunState, image: SessionImage, annotations: Sequence[Mapping[str, str]], reader_dir: Path
) -> LabelMapPlan:
    """Which label-map files feed ``image`` of the current instance (``ReadingService.labelmap_plan``).

    Parameters
    ----------
    state : RunState
    image : SessionImage
        An image of the current page.
    annotations : sequence of mapping
        The run's acknowledged ``annotations.csv`` rows in ``seq`` order.
    reader_dir : Path
        ``<results root>/<reader_id>``, which the rows' ``file`` is relative to.

    Returns
    -------
    LabelMapPlan
        Files are those holding each row's bytes (:func:`~sessionkit.responses.run_folder.acknowledged_file`).
    """
    latest = latest_labelmaps(annotations)

    def stored(row: Mapping[str, str] | None) -> Mapping[str, str] | None:
        return row if row is not None and row["sha256"] else None

    def absolute(row: Mapping[str, str]) -> Path:
        return acknowledged_file(reader_dir / row["file"], row["sha256"])

    own_row = stored(latest.get((state.entry.instance, image.id)))
    found = redisplay_source(state, image, latest)
    source_row = stored(found[1]) if found else None
    source = None if source_row is None else absolute(source_row)
    return LabelMapPlan(
        own_file=None if own_row is None else absolute(own_row),
        own_row=own_row,
        source_file=source,
        source_instance=None if found is None else found[0].instance_id(state.page(found[0])),
        copy_needed=own_row is None and source is not None and not image.merge_label_maps,
        merge_files=tuple(absolute(row) for _, row in merge_sources(state, image, latest)),
    )
