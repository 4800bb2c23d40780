"""Helpers shared by the format modules: axis order, byte order, label maps.

File formats index voxels ``(i, j, k)`` with ``i`` fastest (NRRD, NIfTI, slicerio); the model
indexes ``(slice, row, column) = (k, j, i)`` (ARCHITECTURE §4). The helpers here are the only place
that swaps the two, so every reader and writer agrees on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sessionkit.errors import ImageReadError
from sessionkit.geometry import FloatArray, ImageGrid
from sessionkit.imaging import RGB, Segment, Segmentation
from sessionkit.imaging.palette import generic_color

#: ``label_value -> (name, rgb)``: names and colours of a label map's values (an ROIColorFile).
ColorTable = Mapping[int, tuple[str, RGB]]

#: Swaps axis 0 and axis 2 of a homogeneous index: ``(i, j, k, 1) <-> (k, j, i, 1)``.
_SWAP_IK: FloatArray = np.array(
    [[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


def grid_from_ijk(ijk_to_lps: npt.ArrayLike, ijk_shape: tuple[int, ...]) -> ImageGrid:
    """Grid of an ``(i, j, k)`` file layout (``i`` fastest).

    Parameters
    ----------
    ijk_to_lps : (4, 4) array_like of float
        Maps ``(i, j, k, 1)`` to LPS mm of voxel centres.
    ijk_shape : tuple of 3 int
        ``(ni, nj, nk)``.

    Returns
    -------
    ImageGrid
        ``spatial_shape == (nk, nj, ni)``; ``affine`` maps ``(slice, row, column) = (k, j, i)``.
    """
    affine = np.asarray(ijk_to_lps, dtype=np.float64) @ _SWAP_IK
    ni, nj, nk = (int(n) for n in ijk_shape)
    return ImageGrid((nk, nj, ni), affine)


def ijk_affine(grid: ImageGrid) -> FloatArray:
    """``(4, 4)`` float64 mapping file indices ``(i, j, k, 1)`` (``i`` = column) to LPS mm."""
    return np.asarray(grid.affine @ _SWAP_IK, dtype=np.float64)


def native(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """``array`` in native byte order (big-endian files give ``>i2`` arrays)."""
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def label_dtype(min_value: int, max_value: int) -> np.dtype[np.integer]:
    """Smallest of uint8, uint16, int32 that holds ``[min_value, max_value]``.

    Raises
    ------
    ImageReadError
        If the values do not fit in int32.
    """
    for candidate in (np.uint8, np.uint16, np.int32):
        info = np.iinfo(candidate)
        if info.min <= min_value and max_value <= info.max:
            return np.dtype(candidate)
    raise ImageReadError(f"label values {min_value}..{max_value} do not fit in int32")


def as_label_array(array: npt.NDArray[np.generic], source: str) -> npt.NDArray[np.integer]:
    """Integer copy of a label map in the smallest fitting dtype (see :func:`label_dtype`).

    Raises
    ------
    ImageReadError
        If ``array`` holds non-integer values (e.g. a probability map read as a label map).
    """
    values = native(array)
    if values.dtype == np.bool_:
        return values.astype(np.uint8)
    if not np.issubdtype(values.dtype, np.integer):
        if not np.issubdtype(values.dtype, np.floating) or not np.all(np.isfinite(values)):
            raise ImageReadError(f"{source}: label map has voxel type {values.dtype}; expected integer labels")
        rounded = np.rint(values)
        if not np.array_equal(rounded, values):
            raise ImageReadError(
                f"{source}: label map has non-integer values (voxel type {values.dtype}); expected integer "
                "labels. Read it as a Volume, or store labels as unsigned integers."
            )
        values = rounded
    if values.size == 0:
        return values.astype(np.uint8)
    dtype = label_dtype(int(values.min()), int(values.max()))
    return values.astype(dtype, copy=False)


def labelmap_segmentation(
    labels: npt.NDArray[np.generic],
    grid: ImageGrid,
    *,
    color_table: ColorTable | None = None,
    frame_of_reference_uid: str | None = None,
    source: str = "",
) -> Segmentation:
    """One-layer :class:`Segmentation` with one segment per non-zero value of ``labels``.

    Parameters
    ----------
    labels : ndarray of int, shape ``grid.spatial_shape``
        Label values, 0 = background.
    grid : ImageGrid
    color_table : mapping of int to (str, (int, int, int)), optional
        Names and RGB 0-255 colours per label value (an ROIColorFile). Values it lacks are named
        ``Label_<value>`` and coloured by :func:`~sessionkit.imaging.palette.generic_color`.
    frame_of_reference_uid, source : str, optional

    Returns
    -------
    Segmentation
        Segment ``segment_id`` is ``str(label_value)``; segments are ordered by label value.
    """
    layer = as_label_array(labels, source)
    values = [int(v) for v in np.unique(layer) if v != 0]
    table = color_table or {}
    segments = []
    for value in values:
        name, color = table.get(value, (f"Label_{value}", generic_color(value - 1)))
        segments.append(Segment(segment_id=str(value), name=name, label_value=value, color=color, layer=0))
    return Segmentation(
        layers=layer[np.newaxis],
        grid=grid,
        segments=tuple(segments),
        frame_of_reference_uid=frame_of_reference_uid,
        source=source,
    )


#: A segment's voxels slice by slice: ``slice index -> (row0, column0, (h, w) bool patch)``.
SparseMask = dict[int, tuple[int, int, npt.NDArray[np.bool_]]]


def pack_segments(
    entries: list[tuple[str, str, RGB, SparseMask]], spatial_shape: tuple[int, int, int]
) -> tuple[npt.NDArray[np.uint8], tuple[Segment, ...]]:
    """Pack possibly overlapping segments into as few uint8 label layers as possible.

    Parameters
    ----------
    entries : list of (segment_id, name, color, sparse mask)
        The mask is given per slice as a patch at ``(row0, column0)`` (:data:`SparseMask`), so
        work and memory follow the segments' extent, not the volume's.
    spatial_shape : (slice, row, column)

    Returns
    -------
    layers : (n_layers, slice, row, column) ndarray of uint8
        Each segment goes to the first layer where it overlaps nothing (a new layer otherwise,
        or when a layer already holds 255 segments) with the next free label value there.
    segments : tuple of Segment
        In the order of ``entries``.
    """
    layers: list[npt.NDArray[np.uint8]] = []
    used: list[int] = []
    segments = []
    for segment_id, name, color, mask in entries:

        def overlaps(layer: npt.NDArray[np.uint8], mask: SparseMask = mask) -> bool:
            return any(
                np.any(layer[k, r0 : r0 + patch.shape[0], c0 : c0 + patch.shape[1]][patch])
                for k, (r0, c0, patch) in mask.items()
            )

        target = next((i for i, layer in enumerate(layers) if used[i] < 255 and not overlaps(layer)), None)
        if target is None:
            layers.append(np.zeros(spatial_shape, dtype=np.uint8))
            used.append(0)
            target = len(layers) - 1
        used[target] += 1
        for k, (r0, c0, patch) in mask.items():
            layers[target][k, r0 : r0 + patch.shape[0], c0 : c0 + patch.shape[1]][patch] = used[target]
        segments.append(Segment(segment_id, name, used[target], color, target))
    if len(layers) == 1:
        return layers[0][np.newaxis], tuple(segments)  # no copy
    stacked = np.stack(layers) if layers else np.zeros((1, *spatial_shape), dtype=np.uint8)
    return stacked, tuple(segments)


def require_file(path: str | Path) -> Path:
    """``Path(path)`` if it is an existing file, else :class:`ImageReadError` saying so."""
    file = Path(path)
    if not file.is_file():
        what = "is a directory" if file.is_dir() else "does not exist"
        raise ImageReadError(f"{file}: {what}; expected an image file. Check the path and the images root.")
    return file


def confine_data_file(data: Path, header: str | Path, root: str | Path | None = None) -> None:
    """Refuse a file an image header names (``data``) outside ``root`` or that is not a regular file.

    Parameters
    ----------
    data : Path
        The named file, joined to the header's folder (links not yet followed).
    header : str or Path
        The header file, for messages.
    root : str or Path, optional
        Folder ``data`` must lie in after following links (the images root); ``None``: anywhere.

    Raises
    ------
    ImageReadError
        If ``data`` resolves outside ``root`` (an absolute or ``../`` name, a link), or is a device,
        FIFO, folder or missing (``/dev/zero`` would be read until memory runs out).
    """
    real = data.resolve()
    if root is not None and not real.is_relative_to(Path(root).resolve()):
        raise ImageReadError(
            f"{header}: its data file {data.name!r} lies outside the images root; keep the data file beside its header"
        )
    if not real.is_file():
        raise ImageReadError(f"{header}: its data file {data.name!r} is missing or not a regular file")
