"""DICOM RT Structure Sets rasterised onto their reference image grid.

Contours (``ROIContourSequence/ContourSequence``, ``CLOSED_PLANAR``, DICOM PS3.3 C.8.8.6) are LPS
points. Each contour is assigned to the slice its points lie on (nearest slice centre along the
slice axis) and filled by the even-odd rule evaluated at voxel **centres** (no half-voxel shift):
a voxel belongs to the ROI when a ray from its centre crosses the slice's contours of that ROI an
odd number of times, so nested contours (holes) come out right. The fill is a vectorised scanline:
every edge crossing of a voxel-centre row toggles all voxels left of the crossing.

On corpus A1 this reproduces MIRP's voxelisation (``nifti/mask/mask.nii.gz``) voxel for voxel
(125,256 voxels, Dice 1.0); rasterisers that also count voxels an outline merely touches give
about 128,700 voxels there (Dice ~0.986).

The reference series is the one the structure set names (``RTReferencedSeriesSequence``), found
by SeriesInstanceUID near the file; when that reference dangles (corpus A2), a series with the
same FrameOfReferenceUID is used and a warning is logged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import RGB, Segmentation, Volume
from sessionkit.imaging.palette import generic_color
from sessionkit.io._common import SparseMask, pack_segments, require_file
from sessionkit.io.dicom_series import find_series, read_dataset, read_dicom_series_header

LOG = logging.getLogger(__name__)

RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
_CONTOUR_DATA = 0x30060050


@dataclass(frozen=True)
class StructureSetReference:
    """What a structure set points at, and what was found."""

    frame_of_reference_uid: str | None
    series_instance_uid: str | None
    series_file: Path | None
    matched_by: str  # "series", "frame_of_reference" or "none"
    #: ROIName and ROI Number of every ROI with contours: the segments :func:`read_rtstruct` can make.
    roi_names: tuple[str, ...] = ()


def _read(path: Path) -> Any:
    dataset = read_dataset(path)
    if (
        str(getattr(dataset, "SOPClassUID", "")) != RTSTRUCT_SOP_CLASS
        and getattr(dataset, "Modality", "") != "RTSTRUCT"
    ):
        raise ImageReadError(f"{path}: not an RT Structure Set (SOPClassUID {getattr(dataset, 'SOPClassUID', None)})")
    return dataset


def _referenced_uids(dataset: Any) -> tuple[str | None, str | None]:
    for frame in getattr(dataset, "ReferencedFrameOfReferenceSequence", []):
        for study in getattr(frame, "RTReferencedStudySequence", []):
            for series in getattr(study, "RTReferencedSeriesSequence", []):
                return str(frame.FrameOfReferenceUID), str(series.SeriesInstanceUID)
        return str(frame.FrameOfReferenceUID), None
    return None, None


def find_reference(path: str | Path) -> StructureSetReference:
    """Locate the image series a structure set refers to (see :func:`find_series`)."""
    file = require_file(path)
    return _find_reference(file, _read(file))


def _find_reference(file: Path, dataset: Any) -> StructureSetReference:
    for_uid, series_uid = _referenced_uids(dataset)
    found, matched_by = find_series(file, series_uid, for_uid)
    names = _roi_names(dataset)
    contoured = (
        int(roi.ReferencedROINumber)
        for roi in getattr(dataset, "ROIContourSequence", [])
        if "ReferencedROINumber" in roi and getattr(roi, "ContourSequence", None)
    )
    labels = tuple(dict.fromkeys(label for n in contoured for label in (names.get(n, f"ROI_{n}"), str(n))))
    return StructureSetReference(for_uid, series_uid, found, matched_by, labels)


def _roi_names(dataset: Any) -> dict[int, str]:
    """ROI Number -> ROIName (StructureSetROISequence)."""
    return {
        int(roi.ROINumber): str(getattr(roi, "ROIName", ""))
        for roi in getattr(dataset, "StructureSetROISequence", [])
        if "ROINumber" in roi
    }


def _contour_points(contour: Any) -> npt.NDArray[np.float64]:
    """ContourData as ``(N, 3)`` LPS mm, parsed from the element's raw bytes when pydicom has not
    converted it yet (numpy parses the backslash-separated DS strings ~30x faster than DSfloat)."""
    raw = getattr(contour.get_item(_CONTOUR_DATA), "value", None)
    if isinstance(raw, bytes):
        try:
            return np.array(raw.split(b"\\"), dtype=np.float64).reshape(-1, 3)
        except ValueError:
            pass  # unusual text (empty values): pydicom's own conversion below decides
    return np.asarray([float(v) for v in contour.ContourData], dtype=np.float64).reshape(-1, 3)


def _fill_patch(
    polygons: list[npt.NDArray[np.float64]], shape: tuple[int, int]
) -> tuple[int, int, npt.NDArray[np.bool_]]:
    """Even-odd fill restricted to the polygons' bounding box: ``(row0, column0, patch)``.

    Left of the box every row has an even number of crossings and right of it none, so the box
    holds every voxel that can be inside. The edges of all polygons are handled in one vectorised
    pass (crossings toggle independently, so their order does not matter).
    """
    rows, columns = shape
    points = np.concatenate(polygons) if len(polygons) > 1 else polygons[0]
    r_points, c_points = points[:, 0], points[:, 1]
    r0, r1 = (min(max(math.ceil(v), 0), rows) for v in (float(r_points.min()), float(r_points.max())))
    c0 = min(max(math.floor(float(c_points.min())), 0), columns)
    c1 = min(max(math.ceil(float(c_points.max())) + 1, c0), columns)
    height, width = max(r1 - r0, 0), c1 - c0 + 1
    # each vertex's successor along its own closed polygon
    ends = np.cumsum([len(polygon) for polygon in polygons])
    following = np.arange(1, len(points) + 1)
    following[ends - 1] = ends - [len(polygon) for polygon in polygons]
    r2s, c2s = r_points[following], c_points[following]
    low = np.clip(np.ceil(np.minimum(r_points, r2s)).astype(np.int64), 0, rows)
    high = np.clip(np.ceil(np.maximum(r_points, r2s)).astype(np.int64), 0, rows)  # rows R with min <= R < max
    spans = high - low
    edge = np.repeat(np.arange(len(points)), spans)
    if edge.size == 0:
        return r0, c0, np.zeros((height, c1 - c0), dtype=bool)
    # rows low..high-1 of each edge: there exactly one end lies above the row, (r1 > R) != (r2 > R)
    starts = np.cumsum(spans) - spans
    row = low[edge] + np.arange(edge.size) - starts[edge]
    r1e, c1e = r_points[edge], c_points[edge]
    crossing = c1e + (row - r1e) * (c2s[edge] - c1e) / (r2s[edge] - r1e)
    first_outside = np.clip(np.ceil(crossing).astype(np.int64), c0, c1)  # columns < crossing are toggled
    row_start = (row - r0) * width
    # parity of the toggles per voxel; a running XOR along each row gives the even-odd rule
    toggles = np.bincount(row_start, minlength=height * width) + np.bincount(
        row_start + first_outside - c0, minlength=height * width
    )
    parity = (toggles & 1).astype(np.uint8).reshape(height, width)
    return r0, c0, np.bitwise_xor.accumulate(parity, axis=1)[:, : c1 - c0] == 1


def fill_polygons(polygons: list[npt.NDArray[np.float64]], shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """Even-odd fill of polygons at pixel centres.

    Parameters
    ----------
    polygons : list of (N, 2) ndarray of float
        Vertices as fractional ``(row, column)`` indices; each polygon is closed implicitly.
    shape : (rows, columns)

    Returns
    -------
    (rows, columns) ndarray of bool
        True where a ray from the pixel centre towards +column crosses the polygons' edges an odd
        number of times (PNPOLY rule: an edge counts for row ``R`` when exactly one end is above
        ``R``; the pixel is left of the crossing when ``column < crossing``).

    Examples
    --------
    >>> square = np.array([[0.5, 0.5], [0.5, 2.5], [2.5, 2.5], [2.5, 0.5]])
    >>> fill_polygons([square], (4, 4)).astype(int).tolist()
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    """
    out = np.zeros(shape, dtype=bool)
    if polygons:
        r0, c0, patch = _fill_patch(polygons, shape)
        out[r0 : r0 + patch.shape[0], c0 : c0 + patch.shape[1]] = patch
    return out


def _roi_masks(dataset: Any, grid: ImageGrid, source: str) -> list[tuple[str, str, RGB, SparseMask]]:
    names = _roi_names(dataset)
    out = []
    n_slices, rows, columns = grid.spatial_shape
    for index, roi in enumerate(getattr(dataset, "ROIContourSequence", [])):
        number = int(roi.ReferencedROINumber)
        color_value = getattr(roi, "ROIDisplayColor", None)
        color: RGB = (
            (int(color_value[0]), int(color_value[1]), int(color_value[2]))
            if color_value is not None and len(color_value) == 3
            else generic_color(index)
        )
        contours = [
            _contour_points(contour)
            for contour in getattr(roi, "ContourSequence", [])
            if str(getattr(contour, "ContourGeometricType", "")) == "CLOSED_PLANAR"
        ]
        by_slice: dict[int, list[npt.NDArray[np.float64]]] = {}
        if contours:  # one transform for all points of the ROI
            ends = np.cumsum([len(points) for points in contours])[:-1]
            for index_points in np.split(grid.lps_to_index(np.concatenate(contours)), ends):
                slice_index = int(np.rint(np.mean(index_points[:, 0])))
                if not 0 <= slice_index < n_slices or np.max(np.abs(index_points[:, 0] - slice_index)) > 0.5:
                    LOG.warning("%s: ROI %s has a contour off the image slices; skipped", source, names.get(number))
                    continue
                by_slice.setdefault(slice_index, []).append(index_points[:, 1:])
        mask = {k: _fill_patch(polygons, (rows, columns)) for k, polygons in by_slice.items()}
        if by_slice:
            out.append((str(number), names.get(number, f"ROI_{number}"), color, mask))
    return out


def read_rtstruct(path: str | Path, reference: Volume | str | Path | None = None) -> Segmentation:
    """Rasterise an RT Structure Set onto its reference image grid.

    Parameters
    ----------
    path : str or Path
        The RTSTRUCT file (files without the DICOM preamble are read too).
    reference : Volume, str or Path, optional
        The reference image, or one file/folder of its DICOM series (only its headers are read:
        the grid needs no pixel data). Default: the series the structure set references, found
        near the file (see :func:`find_reference`).

    Returns
    -------
    Segmentation
        On the reference grid; one segment per ROI with closed planar contours (``segment_id`` =
        ROI Number, ``name`` = ROIName, ``color`` = ROIDisplayColor). ROIs are packed into as few
        layers as possible without overlap (:func:`~sessionkit.io._common.pack_segments`).

    Raises
    ------
    ImageReadError
        If the file is not an RT Structure Set, no reference is given and none is found, or the
        reference's frame of reference differs from the structure set's.
    """
    file = require_file(path)
    dataset = _read(file)
    for_uid, _ = _referenced_uids(dataset)
    if reference is None:
        found = _find_reference(file, dataset)
        if found.series_file is None:
            raise ImageReadError(
                f"{file}: referenced series {found.series_instance_uid} (frame of reference {for_uid}) not found "
                "near the file; give the reference image (--reference, or a reference volume on the page)"
            )
        reference = found.series_file
    if isinstance(reference, Volume):
        grid, reference_for = reference.grid, reference.frame_of_reference_uid
    else:  # only the grid is needed: headers, no pixel data
        grid, reference_for, *_ = read_dicom_series_header(reference)
    if for_uid and reference_for and for_uid != reference_for:
        raise ImageReadError(
            f"{file}: frame of reference {for_uid} differs from the reference image's "
            f"{reference_for}; expected the image the contours were drawn on"
        )
    stacked, segments = pack_segments(_roi_masks(dataset, grid, str(file)), grid.spatial_shape)
    return Segmentation(
        layers=stacked,
        grid=grid,
        segments=segments,
        frame_of_reference_uid=for_uid or reference_for,
        source=str(file),
    )
