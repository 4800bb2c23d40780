"""Pictures for ``Type="Vector"`` pages (PNG, JPEG) with Pillow (clarifications C5).

A picture becomes one slice: ``(1, rows, columns)``, 1 mm pixels, origin 0, slice normal +z;
the column index runs along +x (patient left) and row index along +y (posterior): the picture is
upright in an axial view in radiological convention. Grey pictures keep their values; colour
pictures are converted to luminance (ITU-R 601-2, Pillow mode ``L``) because the image model holds
scalar voxels only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io._common import require_file

_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_GREY_MODES = {"L", "I", "I;16", "I;16B", "I;16L", "F", "1"}


def is_picture(head: bytes) -> bool:
    """True for PNG or JPEG content."""
    return head.startswith(_MAGIC)


def read_picture(path: str | Path) -> Volume:
    """Read a PNG or JPEG picture as a one-slice Volume.

    Returns
    -------
    Volume
        ``array`` ``(1, rows, columns)``: uint8/uint16/int32/float32 for grey pictures as stored,
        uint8 luminance for colour ones.

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
            grey = picture if picture.mode in _GREY_MODES else picture.convert("L")
            array = np.asarray(grey)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageReadError(f"{file}: cannot decode the picture ({exc}); expected a PNG or JPEG file") from exc
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    # direction columns (slice, row, column) = (+z, +y, +x)
    grid = ImageGrid.from_parts((1, *array.shape[:2]), direction=np.eye(3)[:, ::-1])
    return Volume(array=np.ascontiguousarray(array[np.newaxis]), grid=grid, source=str(file))
