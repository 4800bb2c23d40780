"""Plain-data description of a loaded image (what ``sessionkit inspect`` prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sessionkit.imaging import Segmentation, Volume
from sessionkit.io.dicom_seg import read_dicom_seg_references
from sessionkit.io.dicom_series import find_series
from sessionkit.io.registry import sniff_format
from sessionkit.io.rtstruct import find_reference


def _label_counts(layer: npt.NDArray[np.integer]) -> dict[int, int]:
    """Voxel count per label value of one layer (bincount when the values allow it)."""
    if layer.size and layer.min() >= 0 and layer.max() <= 1 << 20:
        counts = np.bincount(layer.ravel())
        return {int(v): int(n) for v, n in enumerate(counts) if n}
    values, counts = np.unique(layer, return_counts=True)
    return {int(v): int(n) for v, n in zip(values, counts, strict=True)}


def describe(image: Volume | Segmentation) -> dict[str, Any]:
    """JSON-ready description of ``image``.

    Parameters
    ----------
    image : Volume or Segmentation

    Returns
    -------
    dict
        ``source``, ``kind`` (``volume``/``segmentation``), ``spatial_shape`` (slice, row, column),
        ``spacing`` (mm), ``origin`` (LPS mm, centre of voxel 0,0,0), ``direction`` (3x3 nested
        list: ``direction[r][c]`` = LPS component ``r`` of the unit vector of array axis ``c``, axes in
        ``(slice, row, column)`` order, so column 0 is the slice axis), ``frame_of_reference_uid``, ``dtype``,
        ``value_range`` ([min, max]), ``frames``; for a volume ``rgb`` (colour picture); for a
        segmentation ``layers`` and ``segments`` (each ``segment_id``, ``label_value``, ``name``,
        ``color`` RGB 0-255, ``layer``, ``voxel_count``); ``notes`` (e.g. a volume whose values look like a mask,
        clarifications C5).

    Examples
    --------
    >>> from sessionkit.geometry import ImageGrid
    >>> volume = Volume(np.array([[[0, 0], [0, 7]]], dtype=np.int16), ImageGrid.from_parts((1, 2, 2)))
    >>> info = describe(volume)
    >>> info["kind"], info["value_range"], info["notes"]
    ('volume', [0, 7], ['values are only 0 and 7: looks like a mask; use --type Segmentation'])
    """
    data = image.layers if isinstance(image, Segmentation) else image.array
    info: dict[str, Any] = {"source": image.source, "kind": image.kind, **image.grid.to_dict()}
    info["frame_of_reference_uid"] = image.frame_of_reference_uid
    info["dtype"] = str(data.dtype)
    info["value_range"] = [data.min().item(), data.max().item()] if data.size else [0, 0]
    notes: list[str] = []
    if isinstance(image, Segmentation):
        info["frames"] = 1
        info["layers"] = int(image.layers.shape[0])
        counts = [_label_counts(layer) for layer in image.layers]
        info["segments"] = [
            {
                "segment_id": segment.segment_id,
                "label_value": segment.label_value,
                "name": segment.name,
                "color": list(segment.color),
                "layer": segment.layer,
                "voxel_count": counts[segment.layer].get(segment.label_value, 0),
            }
            for segment in image.segments
        ]
        empty = [s["name"] for s in info["segments"] if s["voxel_count"] == 0]
        if empty:
            notes.append(f"empty segments: {', '.join(empty)}")
    else:
        info["frames"] = image.frames
        info["rgb"] = image.is_rgb
        values = np.unique(image.array) if image.array.size <= 1 << 26 else np.array([])
        if values.size == 2 and values[0] == 0:
            notes.append(f"values are only 0 and {values[1].item()}: looks like a mask; use --type Segmentation")
    info["notes"] = notes
    return info


def describe_references(
    path: str | Path, *, image_type: str | None = None, reference: str | Path | None = None
) -> dict[str, Any]:
    """What an RT Structure Set or DICOM SEG references and whether it was found (empty for other files).

    Returns
    -------
    dict
        ``frame_of_reference_uid``, ``series_instance_uid`` (as referenced), ``reference`` (the
        image used: the ``reference`` argument or the file found), ``matched_by`` (``given``,
        ``series``, ``frame_of_reference`` or ``none``).
    """
    fmt = "rtstruct" if image_type == "RTStruct" else sniff_format(path)
    if fmt == "rtstruct":
        found = find_reference(path)
        for_uid, series_uid, series_file, matched_by = (
            found.frame_of_reference_uid,
            found.series_instance_uid,
            found.series_file,
            found.matched_by,
        )
    elif fmt == "dicom_seg":
        for_uid, series_uid = read_dicom_seg_references(path)
        series_file, matched_by = find_series(Path(path), series_uid, for_uid)
    else:
        return {}
    return {
        "frame_of_reference_uid": for_uid,
        "series_instance_uid": series_uid,
        "reference": str(reference) if reference is not None else (series_file and str(series_file)),
        "matched_by": "given" if reference is not None else matched_by,
    }
