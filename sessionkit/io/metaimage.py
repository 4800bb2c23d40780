"""MetaImage (``.mha`` / ``.mhd``) through SimpleITK, only when it is installed (clarifications C5).

ITK images are LPS with ``Origin`` the centre of voxel 0 and ``Direction`` columns the directions of
the index axes ``(x, y, z)``; ``GetArrayFromImage`` returns ``(z, y, x)`` = ``(slice, row, column)``.
Without SimpleITK the reader says which extra to install (``sessionkit[itk]``, rule SK804).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io._common import native, require_file


def is_metaimage(head: bytes) -> bool:
    """True when the first bytes of a file are a MetaImage text header."""
    return head.lstrip().startswith((b"ObjectType", b"NDims"))


def _simpleitk(file: Path) -> Any:
    try:
        return importlib.import_module("SimpleITK")
    except ImportError as exc:
        raise ImageReadError(
            f"{file}: MetaImage files are read with SimpleITK, which is not installed; "
            "install the extra: pip install 'sessionkit[itk]'"
        ) from exc


def read_metaimage(path: str | Path) -> Volume:
    """Read a 2-D or 3-D scalar MetaImage (``.mha`` attached, ``.mhd`` + raw) as a Volume.

    Returns
    -------
    Volume
        ``array`` ``(slice, row, column)``; grid from Origin, Spacing and Direction (LPS).

    Raises
    ------
    ImageReadError
        If SimpleITK is missing (the message names the extra), the file is unreadable, or the image
        is not 2-D/3-D scalar.
    """
    file = require_file(path)
    sitk = _simpleitk(file)
    try:
        image = sitk.ReadImage(str(file))
    except RuntimeError as exc:
        raise ImageReadError(f"{file}: cannot read MetaImage ({str(exc).strip()[:200]})") from exc
    dimension = image.GetDimension()
    if dimension not in (2, 3) or image.GetNumberOfComponentsPerPixel() != 1:
        raise ImageReadError(
            f"{file}: {dimension}-D image with {image.GetNumberOfComponentsPerPixel()} components per voxel; "
            "expected a 2-D or 3-D scalar image"
        )
    array = native(np.asarray(sitk.GetArrayFromImage(image)))
    spacing = np.ones(3)
    spacing[:dimension] = image.GetSpacing()
    direction = np.eye(3)
    direction[:dimension, :dimension] = np.asarray(image.GetDirection(), dtype=np.float64).reshape(dimension, dimension)
    origin = np.zeros(3)
    origin[:dimension] = image.GetOrigin()
    if dimension == 2:
        array = array[np.newaxis]
    # index axes (x, y, z) = (column, row, slice): reverse to the model's order
    grid = ImageGrid.from_parts(array.shape, spacing=spacing[::-1], direction=direction[:, ::-1], origin=origin)
    return Volume(array=np.ascontiguousarray(array), grid=grid, source=str(file))
