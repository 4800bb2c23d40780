"""Contours drawn in the browser: decode the viewer's drawing, encode the saved label map (issue #7).

The viewer (Niivue) sends its drawing as NIfTI-1 bytes (``saveImage({isSaveDrawing: true})`` gives
uncompressed uint8, ``saveToUint8Array('x.nii.gz', drawBitmap)`` gzip) with the header and affine of
the background volume it was drawn on, in that volume's file voxel order (recipes/browser-viewer.md,
"Drawing"). The background reached the viewer through :func:`~sessionkit.io.encode_nifti`, so the
drawing decodes onto the background's :class:`~sessionkit.geometry.ImageGrid` voxel for voxel.

Saved label maps are Image Quizzer's ``-quizlabel.nrrd``: gzip NRRD (level 1, clarifications C9),
``uint8`` (``uint16`` when a label exceeds 255), LPS, the background grid written exactly
(reading-flow §11). This module only encodes bytes; the caller writes them atomically.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nrrd
import numpy as np
import numpy.typing as npt

from sessionkit.errors import GeometryError, ImageReadError, SegmentationError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io._common import ColorTable, as_label_array, label_dtype, labelmap_segmentation
from sessionkit.io.nifti import _GZIP_MAGIC, read_nifti_bytes
from sessionkit.io.nrrd import _nrrd_header, read_nrrd

LabelArray = npt.NDArray[np.integer]

#: Highest label value the viewer can draw (8-bit drawing, clarifications C9).
MAX_DRAWN_LABEL = 255

#: Bytes a drawing may take beyond two bytes per voxel (uint16): the NIfTI header and its extensions.
DRAWING_HEADER_ALLOWANCE = 1 << 20

#: pynrrd's ``# on <date>(GMT).`` header comment (the only non-deterministic bytes it writes).
_WRITE_TIME_COMMENT = re.compile(rb"\A(NRRD\d{4}\n(?:#[^\n]*\n)*?)# on [^\n]*\(GMT\)\.\n")


@dataclass(frozen=True)
class LabelSummary:
    """What a label map contains (annotations.csv ``labels`` and ``voxel_count``, reading-flow §14.3).

    Attributes
    ----------
    labels : tuple of int
        Non-zero label values present, ascending.
    voxel_count : int
        Number of non-zero voxels.
    """

    labels: tuple[int, ...]
    voxel_count: int


def summarize_labels(labels: LabelArray) -> LabelSummary:
    """Label values present and non-zero voxel count of an integer label map (any shape)."""
    flat = np.asarray(labels).ravel()
    if flat.size == 0:
        return LabelSummary((), 0)
    if flat.dtype in (np.uint8, np.uint16):
        labelled = flat[flat != 0]  # drawings are sparse: count only the labelled voxels (~7x faster)
        present = tuple(int(v) for v in np.flatnonzero(np.bincount(labelled)))
        return LabelSummary(present, int(labelled.size))
    values = np.unique(flat)
    return LabelSummary(tuple(int(v) for v in values if v != 0), int(np.count_nonzero(flat)))


def _grid_problem(found: ImageGrid, expected: ImageGrid, source: str) -> GeometryError:
    return GeometryError(
        f"{source}: grid does not match the background image: {'; '.join(expected.differences(found))} "
        "(found vs expected); the drawing must be made on the volume the server sent for this image"
    )


def drawing_size_limit(grid: ImageGrid) -> int:
    """Most bytes a drawing on ``grid`` may take, compressed or inflated: 2 per voxel plus the header allowance."""
    slices, rows, columns = grid.spatial_shape
    return 2 * slices * rows * columns + DRAWING_HEADER_ALLOWANCE


def _inflate(data: bytes, limit: int, source: str) -> bytes:
    """Gunzip one gzip member incrementally, refusing it as soon as it inflates beyond ``limit`` bytes."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ImageReadError(f"{source}: not a NIfTI-1 image (broken gzip stream: {exc}); expected .nii.gz") from exc
    if len(raw) > limit:
        raise ImageReadError(
            f"{source}: inflates to more than {limit} bytes, more than a drawing on this image's grid can hold "
            "(2 bytes per voxel and the header); send the drawing of this image"
        )
    if not inflater.eof or inflater.unused_data:
        raise ImageReadError(f"{source}: truncated gzip stream or data after it; expected one .nii.gz image")
    return raw


def decode_drawing(data: bytes, grid: ImageGrid, *, source: str = "drawing") -> LabelArray:
    """Decode the viewer's drawing (NIfTI-1 bytes, gzip or not) onto the background grid.

    Parameters
    ----------
    data : bytes
        ``.nii`` or ``.nii.gz`` bytes of a 3-D integer image (Niivue sends uint8).
    grid : ImageGrid
        The background image's grid (spatial part for a VolumeSequence).
    source : str
        Name for messages.

    Returns
    -------
    ndarray of uint8 (uint16 when a value exceeds 255), shape ``grid.spatial_shape``
        Label values ``(slice, row, column)``, 0 = background.

    Raises
    ------
    ImageReadError
        If the bytes are not NIfTI-1, hold several frames, or hold non-integer or negative values,
        or are (or inflate to) more than :func:`drawing_size_limit` bytes: the gzip stream is
        inflated incrementally and stopped at that bound (a gzip bomb never reaches memory whole).
    GeometryError
        If the size, spacing, origin or direction differ from ``grid`` beyond the SK808
        tolerances (1e-3 mm, 1e-4 rad); every difference is named, found vs expected.
    """
    limit = drawing_size_limit(grid)
    raw = _inflate(data, limit, source) if data[:2] == _GZIP_MAGIC else data
    if len(raw) > limit:
        raise ImageReadError(f"{source}: {len(raw)} bytes, more than a drawing on this image's grid can hold ({limit})")
    volume = read_nifti_bytes(raw, source=source)
    if volume.array.ndim != 3:
        raise ImageReadError(f"{source}: drawing has shape {volume.array.shape}; expected one 3-D label map")
    if volume.grid.differences(grid):
        raise _grid_problem(volume.grid, grid, source)
    labels = as_label_array(volume.array, source)
    if labels.size and int(labels.min()) < 0:
        raise ImageReadError(f"{source}: drawing has negative label values; expected 0-255")
    return labels


def encode_labelmap_nrrd(labels: npt.ArrayLike, grid: ImageGrid, *, compression_level: int = 1) -> bytes:
    """Bytes of an Image Quizzer ``-quizlabel.nrrd`` (gzip NRRD, LPS, ``grid`` written as is).

    Parameters
    ----------
    labels : array_like of int, shape ``grid.spatial_shape``
        Label values ``(slice, row, column)``, non-negative.
    grid : ImageGrid
        Background grid: ``space directions`` and ``space origin`` are its affine, unrounded.
    compression_level : int
        gzip level (clarifications C9: 1).

    Returns
    -------
    bytes
        Attached-header NRRD: ``uint8``, or ``uint16`` when a label exceeds 255 (reading-flow §11).
        Deterministic: the same labels on the same grid give the same bytes.

    Raises
    ------
    GeometryError
        If the array shape is not ``grid.spatial_shape``.
    SegmentationError
        If a label is negative or above 65535.
    """
    values = np.asarray(labels)
    if values.shape != grid.spatial_shape:
        raise GeometryError(f"label map shape {values.shape} is not the grid shape {grid.spatial_shape}")
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if low < 0 or high > np.iinfo(np.uint16).max:
        raise SegmentationError(f"label values {low}..{high} do not fit a label map (0..65535)")
    dtype = np.uint8 if high <= MAX_DRAWN_LABEL else np.uint16
    buffer = io.BytesIO()
    nrrd.write(
        buffer,
        np.ascontiguousarray(values, dtype=dtype),
        _nrrd_header(grid, frames=False),
        compression_level=compression_level,
        index_order="C",
    )
    # pynrrd stamps the write time in a comment; without it equal maps give equal bytes (and SHA-256),
    # which the "redisplayed map modified?" test (SK912) and unchanged autosaves rely on.
    return _WRITE_TIME_COMMENT.sub(rb"\1", buffer.getvalue(), count=1)


def resample_labels(labels: LabelArray, source: ImageGrid, target: ImageGrid) -> LabelArray:
    """Nearest-neighbour resampling of a label map onto another grid (reading-flow §11, merges).

    Parameters
    ----------
    labels : ndarray of int, shape ``source.spatial_shape``
    source, target : ImageGrid

    Returns
    -------
    ndarray, shape ``target.spatial_shape``, dtype of ``labels``
        Each target voxel takes the label of the source voxel whose centre is nearest (0 outside).
        The same array when the grids match.
    """
    if source.matches(target):
        return labels
    to_source = np.linalg.inv(source.affine) @ target.affine
    out = np.zeros(target.spatial_shape, dtype=labels.dtype)
    _, rows, columns = target.spatial_shape
    row_index = np.arange(rows, dtype=np.float64)[:, np.newaxis, np.newaxis]
    column_index = np.arange(columns, dtype=np.float64)[np.newaxis, :, np.newaxis]
    plane = row_index * to_source[:3, 1] + column_index * to_source[:3, 2] + to_source[:3, 3]
    limits = np.asarray(source.spatial_shape)
    for k in range(target.spatial_shape[0]):
        index = np.rint(plane + k * to_source[:3, 0]).astype(np.int64)
        inside = np.all((index >= 0) & (index < limits), axis=-1)
        picked = index[inside]
        out[k][inside] = labels[picked[:, 0], picked[:, 1], picked[:, 2]]
    return out


def read_labelmap(path: str | Path, grid: ImageGrid) -> LabelArray:
    """Read a saved ``-quizlabel.nrrd`` (or any one-layer label NRRD) onto ``grid``.

    Returns
    -------
    ndarray of uint8/uint16/int32, shape ``grid.spatial_shape``
        Nearest-neighbour resampled when the file lies on another grid (reading-flow §11).

    Raises
    ------
    ImageReadError
        If the file is missing, not NRRD, has frames, or holds non-integer values.
    """
    volume = read_nrrd(path)
    if volume.array.ndim != 3:
        raise ImageReadError(f"{path}: label map has shape {volume.array.shape}; expected 3-D")
    return resample_labels(as_label_array(volume.array, str(path)), volume.grid, grid)


def labelmap_to_segmentation(
    labels: npt.NDArray[np.generic], grid: ImageGrid, color_table: ColorTable | None = None, *, source: str = ""
) -> Segmentation:
    """One-layer Segmentation of a label map, segments named and coloured from ``color_table``.

    Values the table lacks are named ``Label_<value>`` (for export, clarifications C10).
    """
    return labelmap_segmentation(labels, grid, color_table=color_table, source=source)


def starting_labelmap(
    image: Volume | Segmentation,
    grid: ImageGrid,
    color_table: ColorTable | None = None,
) -> LabelArray:
    """Convert an existing segmentation into the editable label map of a drawing (issue #7 item 5).

    Parameters
    ----------
    image : Volume or Segmentation
        What :func:`~sessionkit.io.read_image` returns for a ``.seg.nrrd``, DICOM SEG, RTSTRUCT or a
        label-map volume (a Volume's integer values are kept as labels).
    grid : ImageGrid
        The background image's grid; other grids are resampled nearest-neighbour.
    color_table : mapping of int to (name, rgb), optional
        The page's ROIColorFile. A segment whose name equals a table name (exactly, else ignoring
        case, surrounding spaces and ``_`` for space) takes that table's value; other segments keep their
        ``label_value`` unless it is taken, then the lowest free value not in the table.

    Returns
    -------
    ndarray of uint8, shape ``grid.spatial_shape``
        Segments painted in file order (a later segment wins where segments overlap).

    Raises
    ------
    SegmentationError
        If more values than 255 would be needed, or a Volume holds values outside 0-255.
    ImageReadError
        If a Volume holds non-integer values.
    """
    if isinstance(image, Volume):
        values = as_label_array(image.array, image.source or "starting contour")
        if values.ndim != 3 or (values.size and (int(values.min()) < 0 or int(values.max()) > MAX_DRAWN_LABEL)):
            raise SegmentationError(
                f"{image.source}: a starting contour must be one 3-D label map with values 0-255 "
                "(the browser draws 8-bit labels)"
            )
        return resample_labels(values.astype(np.uint8), image.grid, grid)
    values_of = _segment_values(image, color_table or {})
    out = np.zeros(image.grid.spatial_shape, dtype=np.uint8)
    for segment, value in zip(image.segments, values_of, strict=True):
        out[image.mask(segment)] = value
    return resample_labels(out, image.grid, grid)


def loose_name(name: str) -> str:
    """Segment/colour name compared loosely: case, surrounding spaces and ``_`` for space ignored.

    Colour-file names are single tokens (session-format §8), so ``right_lung`` names ``right lung``.
    """
    return name.replace("_", " ").strip().lower()


def _segment_values(image: Segmentation, table: ColorTable) -> list[int]:
    """Label value of each segment of ``image`` in the drawing (see :func:`starting_labelmap`)."""
    exact = {name: value for value, (name, _) in table.items()}
    loose = {loose_name(name): value for value, (name, _) in table.items()}
    chosen: list[int | None] = [
        exact.get(segment.name, loose.get(loose_name(segment.name))) for segment in image.segments
    ]
    taken = {value for value in chosen if value is not None}
    for index, segment in enumerate(image.segments):
        if chosen[index] is not None:
            continue
        value = segment.label_value
        if value in taken or not 1 <= value <= MAX_DRAWN_LABEL:
            value = next((v for v in range(1, MAX_DRAWN_LABEL + 1) if v not in taken and v not in table), 0)
        if value == 0:
            raise SegmentationError(f"{image.source}: more than {MAX_DRAWN_LABEL} label values needed")
        chosen[index] = value
        taken.add(value)
    return [int(value) for value in chosen if value is not None]


def merge_labelmaps(maps: Sequence[LabelArray]) -> LabelArray:
    """Voxel-wise maximum of label maps on one grid, computed in int32 (D25), in the smallest label dtype.

    Raises
    ------
    SegmentationError
        If ``maps`` is empty or the shapes differ.
    """
    if not maps:
        raise SegmentationError("no label maps to merge")
    merged = np.zeros(maps[0].shape, dtype=np.int32)
    for labels in maps:
        if labels.shape != merged.shape:
            raise SegmentationError(f"label maps to merge have shapes {labels.shape} and {merged.shape}")
        np.maximum(merged, labels.astype(np.int32, copy=False), out=merged)
    high = int(merged.max()) if merged.size else 0
    return merged.astype(label_dtype(0, high), copy=False)
