"""NIfTI-1/2 (``.nii``, ``.nii.gz``) with nibabel, and the NIfTI bytes the browser viewer loads.

NIfTI stores voxels ``(i, j, k[, t])`` with ``i`` fastest and an affine from ``(i, j, k)`` to
RAS+ mm (NIfTI-1 header ``qform``/``sform``, https://nifti.nimh.nih.gov/nifti-1/documentation/
nifti1fields/nifti1fields_pages/qsform.html). The model is ``(slice, row, column) = (k, j, i)``
in LPS; the flip ``diag(-1, -1, 1)`` happens only here (ARCHITECTURE §4).

The viewer (Niivue) gets every image through :func:`write_nifti` / :func:`encode_nifti`: label
maps carry ``intent_code`` 1002 (NIFTI_INTENT_LABEL) and an integer type, and a label map and its
background volume encode the same grid with the same code path, so they overlay voxel for voxel.
RGB volumes (``Volume.is_rgb``) are NIfTI ``RGB24`` (datatype 128, three uint8 per voxel), which
Niivue shows in colour.
"""

from __future__ import annotations

import gzip
from collections.abc import Collection
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import numpy.typing as npt

from sessionkit.errors import GeometryError, ImageReadError, SegmentationError
from sessionkit.geometry import LPS_TO_RAS, ImageGrid
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io._common import as_label_array, grid_from_ijk, ijk_affine, native, require_file

#: NIFTI_INTENT_LABEL (nifti1.h): voxel values are indices into a label table.
NIFTI_INTENT_LABEL = 1002

_GZIP_MAGIC = b"\x1f\x8b"

#: numpy type of NIfTI ``DT_RGB24`` (datatype 128) as nibabel reads and writes it.
RGB24 = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])

#: What nibabel raises on files that are not (whole) NIfTI images.
_NIBABEL_ERRORS = (
    nib.filebasedimages.ImageFileError,
    nib.wrapstruct.WrapStructError,
    nib.spatialimages.HeaderDataError,
    OSError,
    ValueError,
    EOFError,
)


def load_nifti(path: Path) -> Any:
    """nibabel image of ``path``, header read, voxels not (typed ``Any``: nibabel is only partly annotated).

    Raises
    ------
    ImageReadError
        If nibabel cannot read the file's header.
    """
    try:
        return nib.load(str(path))
    except _NIBABEL_ERRORS as exc:
        raise ImageReadError(f"{path}: cannot read NIfTI ({exc}); expected a .nii or .nii.gz file") from exc


def _ijk_shape(image: Any, source: str) -> tuple[int, ...]:
    """Shape without trailing unit axes beyond the third; 2-4 axes."""
    shape = tuple(int(n) for n in image.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) > 4 or len(shape) < 2:
        raise ImageReadError(
            f"{source}: NIfTI has shape {list(image.shape)}; expected a 2-D or 3-D image, or 3-D frames (4-D)"
        )
    return shape + (1,) * (3 - len(shape))


def _grid(image: Any, shape: tuple[int, ...]) -> ImageGrid:
    return grid_from_ijk(LPS_TO_RAS @ np.asarray(image.affine, dtype=np.float64), shape[:3])


def read_nifti_header(path: str | Path) -> tuple[ImageGrid, np.dtype[np.generic], int]:
    """Grid, stored voxel type (native order) and number of frames, without reading voxels.

    Raises
    ------
    ImageReadError
        As :func:`read_nifti`.
    """
    file = require_file(path)
    image = load_nifti(file)
    _require_nifti(image, str(file))
    shape = _ijk_shape(image, str(file))
    frames = shape[3] if len(shape) == 4 else 1
    return _grid(image, shape), np.dtype(image.get_data_dtype().newbyteorder("=")), frames


def _require_nifti(image: Any, source: str) -> None:
    if not isinstance(image, nib.Nifti1Image | nib.Nifti2Image):
        raise ImageReadError(f"{source}: {type(image).__name__} is not NIfTI; expected a .nii or .nii.gz file")


def _volume_from_image(image: Any, source: str) -> Volume:
    _require_nifti(image, source)
    shape = _ijk_shape(image, source)
    try:
        data = native(np.asanyarray(image.dataobj)).reshape(shape)
    except (OSError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{source}: cannot read NIfTI voxels ({exc}); the file may be truncated") from exc
    grid = _grid(image, shape)
    # (i, j, k[, t]) -> ([t,] k, j, i)
    array: Any = data.transpose(tuple(range(data.ndim))[::-1])  # Any: structured RGB24 fields
    if array.dtype == RGB24:
        if array.ndim != 3:
            raise ImageReadError(f"{source}: RGB NIfTI has {shape[3]} frames; expected one RGB image")
        rgb = np.stack([array["R"], array["G"], array["B"]], axis=-1)
        return Volume(array=rgb, grid=grid, source=source, is_rgb=True)
    return Volume(array=np.ascontiguousarray(array), grid=grid, source=source)


def read_nifti(path: str | Path) -> Volume:
    """Read a NIfTI-1/2 image.

    Parameters
    ----------
    path : str or Path
        ``.nii`` or ``.nii.gz``; either byte order (big-endian files are converted to native).

    Returns
    -------
    Volume
        ``array`` ``(slice, row, column)`` = NIfTI ``(k, j, i)``, or ``(frame, slice, row, column)``
        for 4-D files; values after ``scl_slope``/``scl_inter``; grid in LPS mm from nibabel's
        affine (sform if its code is set, else qform). RGB24 files give an RGB Volume
        (``is_rgb``, ``(slice, row, column, 3)`` uint8).

    Raises
    ------
    ImageReadError
        If the file is missing, not NIfTI, truncated, or has more than 4 non-trivial dimensions.

    Examples
    --------
    >>> import os, tempfile
    >>> grid = ImageGrid.from_parts((2, 3, 4), spacing=(3.0, 1.0, 0.5), origin=(10.0, 20.0, 30.0))
    >>> path = os.path.join(tempfile.mkdtemp(), "v.nii.gz")
    >>> _ = write_nifti(Volume(np.arange(24, dtype=np.int16).reshape(2, 3, 4), grid), path)
    >>> volume = read_nifti(path)
    >>> volume.grid.matches(grid), int(volume.array[1, 2, 3])
    (True, 23)
    """
    file = require_file(path)
    return _volume_from_image(load_nifti(file), str(file))


def read_nifti_bytes(data: bytes, *, source: str = "<bytes>") -> Volume:
    """Read a NIfTI-1 image from memory (gzip-compressed or not), e.g. a drawing the viewer sent.

    Raises
    ------
    ImageReadError
        If the bytes are not a single-file NIfTI-1 image.
    """
    try:
        raw = gzip.decompress(data) if data[:2] == _GZIP_MAGIC else data
        image: Any = nib.Nifti1Image.from_bytes(raw)
    except _NIBABEL_ERRORS as exc:
        raise ImageReadError(f"{source}: not a NIfTI-1 image ({exc}); expected .nii or .nii.gz bytes") from exc
    return _volume_from_image(image, source)


def _volume_dtype(array: npt.NDArray[np.generic]) -> np.dtype[np.generic]:
    if array.dtype == np.bool_ or array.dtype == np.uint8:
        return np.dtype(np.uint8)
    if np.issubdtype(array.dtype, np.integer) and array.size:
        low, high = int(array.min()), int(array.max())
        if np.iinfo(np.int16).min <= low and high <= np.iinfo(np.int16).max:
            return np.dtype(np.int16)
    return np.dtype(np.float32)


def encode_nifti(
    array: npt.ArrayLike,
    grid: ImageGrid,
    *,
    label: bool = False,
    rgb: bool = False,
    compression_level: int | None = 1,
) -> bytes:
    """NIfTI-1 bytes of ``array`` on ``grid`` (what Niivue loads).

    Parameters
    ----------
    array : array_like, shape ``grid.spatial_shape`` or ``(frame,) + grid.spatial_shape``
        Voxels ``(slice, row, column)``, e.g. a uint8 contour drawn on a Volume's grid; with
        ``rgb``, shape ``grid.spatial_shape + (3,)`` uint8.
    grid : ImageGrid
        LPS geometry; written as the RAS affine (qform and sform, code 1 "scanner").
    label : bool
        Label map: ``intent_code`` 1002 and the smallest of uint8/uint16/int32 that holds the
        values. Otherwise uint8 stays uint8, integers within int16 become int16, anything else
        float32.
    rgb : bool
        Colour voxels: written as ``RGB24`` (datatype 128).
    compression_level : int or None
        gzip level (1 fast, 9 small); ``None`` returns uncompressed ``.nii`` bytes.

    Returns
    -------
    bytes

    Raises
    ------
    GeometryError
        If the array shape does not end with ``grid.spatial_shape`` (is not ``spatial_shape + (3,)``
        uint8 with ``rgb``).
    ImageReadError
        If ``label`` is set and the values are not integers.
    """
    values = np.asarray(array)
    if rgb:
        if values.shape != (*grid.spatial_shape, 3) or values.dtype != np.uint8:
            raise GeometryError(
                f"RGB array shape {values.shape} ({values.dtype}) is not the grid shape "
                f"{grid.spatial_shape} + (3,) uint8"
            )
        values = np.ascontiguousarray(values).view(RGB24)[..., 0]
    elif values.shape[-3:] != grid.spatial_shape or values.ndim not in (3, 4):
        raise GeometryError(f"array shape {values.shape} does not end with the grid shape {grid.spatial_shape}")
    elif label:
        values = as_label_array(values, "label map")
    else:
        values = values.astype(_volume_dtype(values), copy=False)
    ijk_data = values.transpose(tuple(range(values.ndim))[::-1])
    affine = LPS_TO_RAS @ ijk_affine(grid)
    image: Any = nib.Nifti1Image(ijk_data, affine)  # type: ignore[no-untyped-call]
    header = image.header
    header.set_qform(affine, code=1)
    header.set_sform(affine, code=1)
    header.set_xyzt_units("mm", "sec")
    if label:
        header.set_intent(NIFTI_INTENT_LABEL)
    raw: bytes = image.to_bytes()
    if compression_level is None:
        return raw
    return gzip.compress(raw, compresslevel=compression_level, mtime=0)


def write_nifti(
    image: Volume | Segmentation,
    path: str | Path | None = None,
    *,
    label: bool = False,
    layer: int = 0,
    shown_labels: Collection[int] | None = None,
    compression_level: int = 1,
) -> bytes:
    """Encode a Volume or one layer of a Segmentation as NIfTI-1 for the viewer (and write it).

    Parameters
    ----------
    image : Volume or Segmentation
        A Segmentation is always written as a label map (its ``layers[layer]``); an RGB Volume
        as ``RGB24`` (datatype 128).
    path : str or Path, optional
        Also write the bytes there. A path ending in ``.nii`` is uncompressed; otherwise (and
        when ``path`` is None) the bytes are gzip-compressed (``.nii.gz``).
    label : bool
        Write a Volume as a label map (``intent_code`` 1002, integer type).
    layer : int
        Which layer of a Segmentation.
    shown_labels : collection of int, optional
        Segmentation only: the label values written; every other voxel of the layer is written as
        0, so segments a page hides never reach the browser (clarifications C13). ``None``: all.
    compression_level : int
        gzip level 1-9 (clarifications C9: 1).

    Returns
    -------
    bytes
        The file content.

    Raises
    ------
    SegmentationError
        If ``layer`` is not a layer of the Segmentation, or ``label`` is asked of an RGB Volume.
    ImageReadError
        If a label map has non-integer values.
    """
    level: int | None = None if path is not None and str(path).endswith(".nii") else compression_level
    if isinstance(image, Segmentation):
        if not 0 <= layer < image.layers.shape[0]:
            raise SegmentationError(
                f"{image.source or 'segmentation'}: layer {layer} requested, the segmentation has "
                f"{image.layers.shape[0]} (0..{image.layers.shape[0] - 1})"
            )
        labels = image.layers[layer]
        if shown_labels is not None:
            labels = np.where(np.isin(labels, list(shown_labels)), labels, 0).astype(labels.dtype, copy=False)
        data = encode_nifti(labels, image.grid, label=True, compression_level=level)
    else:
        if label and image.is_rgb:
            raise SegmentationError(f"{image.source or 'volume'}: an RGB image cannot be written as a label map")
        data = encode_nifti(image.array, image.grid, label=label, rgb=image.is_rgb, compression_level=level)
    if path is not None:
        Path(path).write_bytes(data)
    return data
