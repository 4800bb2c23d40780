"""Pictures for ``Type="Vector"`` pages (PNG, JPEG, BMP) with Pillow (clarifications C5, session-format §6.3).

A picture becomes one slice: ``(1, rows, columns)``, 1 mm pixels, origin 0, slice normal +z;
the column index runs along +x (patient left) and row index along +y (posterior): the picture is
upright in an axial view in radiological convention. Grey pictures keep their values; colour
pictures become an RGB :class:`~sessionkit.imaging.Volume` (``is_rgb``, ``(1, rows, columns, 3)``
uint8; alpha is dropped), unless their three channels are equal everywhere (then grey).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io._common import require_file

_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM")
_GREY_MODES = {"L", "I", "I;16", "I;16B", "I;16L", "F", "1"}
_GREY_WITH_ALPHA = {"LA", "La"}


def is_picture(head: bytes) -> bool:
    """True for PNG, JPEG or BMP content."""
    return head.startswith(_MAGIC)


def picture_grid(rows: int, columns: int, spacing: tuple[float, float] = (1.0, 1.0)) -> ImageGrid:
    """One-slice grid of an upright picture: columns along +x, rows along +y, origin 0, normal +z.

    Parameters
    ----------
    rows, columns : int
    spacing : (float, float)
        Row and column spacing in mm (1 mm for plain pictures, PixelSpacing for DICOM ones).
    """
    # direction columns (slice, row, column) = (+z, +y, +x)
    return ImageGrid.from_parts((1, rows, columns), spacing=(1.0, *spacing), direction=np.eye(3)[:, ::-1])


def read_picture(path: str | Path) -> Volume:
    """Read a PNG, JPEG or BMP picture as a one-slice Volume.

    Returns
    -------
    Volume
        Grey pictures: ``array`` ``(1, rows, columns)`` uint8/uint16/int32/float32 as stored.
        Colour pictures: ``is_rgb``, ``array`` ``(1, rows, columns, 3)`` uint8 R, G, B.

    Raises
    ------
    ImageReadError
        If Pillow cannot decode the file, or it holds several frames (an animation).
    """
    file = require_file(path)
    try:
        with Image.open(file) as picture:
            frames = int(getattr(picture, "n_frames", 1))
            if frames > 1:
                raise ImageReadError(f"{file}: picture has {frames} frames; expected a single picture")
            if picture.mode in _GREY_MODES:
                array = np.asarray(picture)
            elif picture.mode in _GREY_WITH_ALPHA:
                array = np.asarray(picture.convert("L"))
            else:
                array = np.asarray(picture.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageReadError(f"{file}: cannot decode the picture ({exc}); expected a PNG, JPEG or BMP file") from exc
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    rgb = array.ndim == 3
    if rgb and np.array_equal(array[..., 0], array[..., 1]) and np.array_equal(array[..., 0], array[..., 2]):
        array, rgb = np.ascontiguousarray(array[..., 0]), False
    grid = picture_grid(*array.shape[:2])
    return Volume(array=np.ascontiguousarray(array[np.newaxis]), grid=grid, source=str(file), is_rgb=rgb)
