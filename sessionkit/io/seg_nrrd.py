"""3D Slicer segmentations (``.seg.nrrd``): read and written with slicerio.

Slicer stores segments as label values in one or more layers (a 3-D array, or a 4-D array whose
first file axis, kind ``list``, is the layer) with per-segment header fields
``Segment<N>_ID/Name/Color/LabelValue/Layer/Extent/Tags`` (Slicer segmentation file format,
https://slicer.readthedocs.io/en/latest/developer_guide/modules/segmentations.html). Colours are
floats 0-1 in the file and RGB 0-255 in the model.

Legacy files written by Slicer/SlicerRT before layers existed (clarifications C5, corpus D
``EclipseProstate_Bladder_Union_PTV.seg.nrrd``) have ``dimension: 4`` with one binary volume per
segment along the last axis, ``space dimension: 4`` and no ``space`` field, and a cropped extent
``Segmentation_Extent``. slicerio raises on them, so they are read with pynrrd here the way Slicer's
``ReadBinaryLabelmapRepresentation4DSpatial`` does: coordinates are RAS (Slicer passes them to its
RAS image data unchanged), the stored voxels start at extent index ``Segmentation_Extent[0,2,4]``
of a grid whose index 0 sits at ``space origin``, and each segment is a layer with label value 1.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nrrd
import numpy as np
import slicerio

from sessionkit.errors import ImageReadError
from sessionkit.geometry import LPS_TO_RAS, ImageGrid
from sessionkit.imaging import RGB, Segment, Segmentation
from sessionkit.io._common import as_label_array, grid_from_ijk, ijk_affine, native, require_file
from sessionkit.io.nrrd import check_data_file, nrrd_geometry, read_nrrd_header

_SEGMENT_KEY = re.compile(r"^Segment([0-9]+)_(.+)")


def _rgb(color: Any) -> RGB:
    """``"r g b"`` or a sequence of floats 0-1 -> RGB 0-255."""
    values = [float(v) for v in (color.split() if isinstance(color, str) else color)][:3]
    r, g, b = (round(min(max(v, 0.0), 1.0) * 255) for v in values)
    return (r, g, b)


def is_segmentation_header(header: dict[str, Any]) -> bool:
    """True when a NRRD header carries Slicer segmentation fields (``Segment<N>_*``, ``Segmentation_*``)."""
    return any(key.startswith(("Segment0_", "Segmentation_")) for key in header)


def _is_legacy(header: dict[str, Any]) -> bool:
    return "Segmentation_Extent" in header or (int(header["dimension"]) == 4 and "space" not in header)


def seg_nrrd_geometry(header: dict[str, Any], source: str = "") -> ImageGrid:
    """Grid of a ``.seg.nrrd`` header (current or legacy layout), without reading voxels.

    Raises
    ------
    ImageReadError
        If a legacy header does not have 4 axes or the geometry is not a 3-D image.
    """
    if not _is_legacy(header):
        return nrrd_geometry(header, source)[0]
    sizes = [int(n) for n in header["sizes"]]
    if len(sizes) != 4 or "space directions" not in header:
        raise ImageReadError(
            f"{source}: legacy segmentation has sizes {sizes}; expected 4 axes (i, j, k, segment) and space directions"
        )
    directions = np.asarray(header["space directions"], dtype=np.float64)[:3, :3]
    origin = np.asarray(header.get("space origin", np.zeros(3)), dtype=np.float64)[:3]
    extent = [int(v) for v in str(header.get("Segmentation_Extent", "0 0 0 0 0 0")).split()]
    start = np.array(extent[0::2][:3], dtype=np.float64)
    ijk_ras = np.eye(4)
    ijk_ras[:3, :3] = directions.T
    ijk_ras[:3, 3] = origin + directions.T @ start
    return grid_from_ijk(LPS_TO_RAS @ ijk_ras, tuple(sizes[:3]))


def _segment_fields(header: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """``Segment<N>_<field>`` values by segment number ``N`` (ascending, as Slicer and slicerio order them)."""
    fields: dict[int, dict[str, Any]] = {}
    for key, value in header.items():
        match = _SEGMENT_KEY.match(key)
        if match:
            fields.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return dict(sorted(fields.items()))


def seg_nrrd_segments(header: dict[str, Any]) -> tuple[Segment, ...]:
    """Segments of a ``.seg.nrrd`` from its header alone (current or legacy layout), no voxels read.

    Parameters
    ----------
    header : dict
        The file's NRRD header (:func:`~sessionkit.io.nrrd.read_nrrd_header`).

    Returns
    -------
    tuple of Segment
        As :func:`read_seg_nrrd` gives them: one per ``Segment<N>_*`` group in ascending ``N``;
        ``segment_id`` (``_ID``, default ``Segment_<i+1>``), ``name`` (``_Name``, default the ID),
        ``label_value`` (``_LabelValue``, default 1), ``layer`` (``_Layer``; default the segment's
        position when the file has several layers, else 0), ``color`` (``_Color``, else
        ``_DefaultColor``, RGB 0-255). Legacy files: one segment per volume of the last axis,
        label value 1, layer = that index.
    """
    fields = _segment_fields(header)
    legacy = _is_legacy(header)
    sizes = [int(n) for n in header.get("sizes", [])]
    count = sizes[3] if legacy and len(sizes) == 4 else len(fields)
    numbers = range(count) if legacy else list(fields)
    several_layers = legacy or (int(header.get("dimension", 3)) == 4 and len(sizes) == 4 and sizes[0] > 1)
    segments = []
    for index, number in enumerate(numbers):
        info = fields.get(number, {})
        segment_id = str(info.get("ID", f"Segment_{index + 1}"))
        segments.append(
            Segment(
                segment_id=segment_id,
                name=str(info.get("Name", segment_id)),
                label_value=1 if legacy else int(info.get("LabelValue", 1)),
                color=_rgb(info.get("Color", info.get("DefaultColor", "0.5 0.5 0.5"))),
                layer=index if legacy else int(info.get("Layer", index if several_layers else 0)),
            )
        )
    return tuple(segments)


def read_seg_nrrd(path: str | Path, *, root: str | Path | None = None) -> Segmentation:
    """Read a Slicer ``.seg.nrrd`` segmentation (current or legacy 4-D layout).

    Parameters
    ----------
    path : str or Path
    root : str or Path, optional
        Folder a detached data file must lie in (:func:`~sessionkit.io.nrrd.check_data_file`).

    Returns
    -------
    Segmentation
        ``layers`` shape ``(n_layers, slice, row, column)``; one :class:`Segment` per
        ``Segment<N>_*`` group in file order, with ``segment_id`` (``_ID``), ``name`` (``_Name``),
        ``label_value`` (``_LabelValue``, default 1), ``layer`` (``_Layer``; without it each segment
        has its own layer, as in Slicer), ``color`` (``_Color``, legacy ``_DefaultColor``; RGB 0-255).

    Raises
    ------
    ImageReadError
        If the file is missing or not a segmentation slicerio/pynrrd can read, or its data file is
        outside ``root`` or not a regular file.
    """
    file = require_file(path)
    header = read_nrrd_header(file)
    check_data_file(header, file, root)
    if _is_legacy(header):
        return _read_legacy(file)
    segments = seg_nrrd_segments(header)
    try:
        seg = slicerio.read_segmentation(str(file))
    except (OSError, ValueError, KeyError, nrrd.NRRDError) as exc:
        raise ImageReadError(f"{file}: cannot read as a Slicer segmentation ({exc}); expected a .seg.nrrd") from exc
    voxels = native(np.asarray(seg["voxels"]))
    if voxels.ndim == 3:
        voxels = voxels[np.newaxis]
    if voxels.ndim != 4:
        raise ImageReadError(f"{file}: segmentation voxels have shape {voxels.shape}; expected 3-D or 4-D")
    grid = grid_from_ijk(seg["ijkToLPS"], voxels.shape[1:])
    layers = as_label_array(np.ascontiguousarray(voxels.transpose(0, 3, 2, 1)), str(file))
    return Segmentation(layers=layers, grid=grid, segments=segments, source=str(file))


def _read_legacy(file: Path) -> Segmentation:
    try:
        data, header = nrrd.read(str(file), index_order="C")
    except (nrrd.NRRDError, OSError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{file}: cannot read legacy Slicer segmentation ({exc})") from exc
    grid = seg_nrrd_geometry(header, str(file))
    sizes = [int(n) for n in header["sizes"]]
    masks = native(np.asarray(data)) != 0  # (segment, k, j, i)
    layers = np.ascontiguousarray(masks.astype(np.uint8).reshape((sizes[3], *grid.spatial_shape)))
    return Segmentation(layers=layers, grid=grid, segments=seg_nrrd_segments(header), source=str(file))


def write_seg_nrrd(segmentation: Segmentation, path: str | Path, *, compression_level: int = 1) -> None:
    """Write a Segmentation as a Slicer ``.seg.nrrd`` with slicerio (LPS, gzip).

    Parameters
    ----------
    segmentation : Segmentation
        One layer is written as a 3-D file, several as 4-D (``list`` axis first), as Slicer does.
    path : str or Path
    compression_level : int
        gzip level 1-9.
    """
    layers = segmentation.layers
    voxels = layers[0].transpose(2, 1, 0) if layers.shape[0] == 1 else layers.transpose(0, 3, 2, 1)
    segments = [
        {
            "id": segment.segment_id,
            "name": segment.name,
            "labelValue": int(segment.label_value),
            "layer": int(segment.layer),
            "color": [round(c / 255.0, 6) for c in segment.color],
        }
        for segment in segmentation.segments
    ]
    data = {
        "voxels": voxels,
        "ijkToLPS": ijk_affine(segmentation.grid),
        "segments": segments,
        "encoding": "gzip",
    }
    slicerio.write_segmentation(str(path), data, compression_level=compression_level, index_order="F")
