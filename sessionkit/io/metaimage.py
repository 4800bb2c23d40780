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
from sessionkit.io._common import confine_data_file, native, require_file

#: Most bytes of a MetaImage header (with an ``ElementDataFile = LIST`` of names) read to find its data files.
_MAX_HEADER_BYTES = 1 << 20
#: Most data files one header may name (a LIST or a numbered file-name pattern).
_MAX_DATA_FILES = 10_000


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


def metaimage_data_files(path: str | Path) -> tuple[Path, ...]:
    """The files a MetaImage header's ``ElementDataFile`` names, joined to its folder (``()`` for ``LOCAL``).

    ``ElementDataFile`` is one file name, ``LIST`` (the names follow, one a line) or a numbered
    pattern ``name%03d.raw first last [step]`` (MetaIO); names are not resolved here.

    Raises
    ------
    ImageReadError
        If the header has no ``ElementDataFile`` in its first megabyte, or names more than 10,000
        files or an unusable pattern.
    """
    file = require_file(path)
    with file.open("rb") as handle:
        lines = handle.read(_MAX_HEADER_BYTES).split(b"\n")
    index = next((i for i, line in enumerate(lines) if line.partition(b"=")[0].strip() == b"ElementDataFile"), None)
    if index is None:
        raise ImageReadError(f"{file}: MetaImage header without ElementDataFile; expected a .mha/.mhd header")
    value = lines[index].partition(b"=")[2].strip().decode("utf-8", "replace")
    if value.upper() == "LOCAL":
        return ()
    if value.upper().startswith("LIST"):
        names = [line.strip().decode("utf-8", "replace") for line in lines[index + 1 :] if line.strip()]
    elif "%" in value:
        pattern, *numbers = value.split()
        try:
            first, last, step = (int(n) for n in [*numbers[:3], "1"][:3])
            count = len(range(first, last + 1, step))
            if count > _MAX_DATA_FILES:
                raise ValueError(f"{count} files")
            names = [pattern % number for number in range(first, last + 1, step)]
        except (ValueError, TypeError) as exc:
            raise ImageReadError(f"{file}: unusable ElementDataFile pattern {value[:80]!r} ({exc})") from exc
    else:
        names = [value]
    if len(names) > _MAX_DATA_FILES:
        raise ImageReadError(f"{file}: ElementDataFile names {len(names)} files (at most {_MAX_DATA_FILES})")
    return tuple(file.parent / name for name in names)


def read_metaimage(path: str | Path, *, root: str | Path | None = None) -> Volume:
    """Read a 2-D or 3-D scalar MetaImage (``.mha`` attached, ``.mhd`` + raw) as a Volume.

    Parameters
    ----------
    path : str or Path
    root : str or Path, optional
        Folder every data file the header names must lie in (the images root); each must be a
        regular file in any case (:func:`~sessionkit.io._common.confine_data_file`).

    Returns
    -------
    Volume
        ``array`` ``(slice, row, column)``; grid from Origin, Spacing and Direction (LPS).

    Raises
    ------
    ImageReadError
        If SimpleITK is missing (the message names the extra), the file is unreadable, a data file
        is outside ``root`` or not a regular file, or the image is not 2-D/3-D scalar.
    """
    file = require_file(path)
    for data in metaimage_data_files(file):
        confine_data_file(data, file, root)
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
