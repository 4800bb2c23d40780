"""SliceOmatic ``.tag`` label maps (seed 000; corpus G).

A ``.tag`` file is an ASCII header of ``key:value`` pairs (keys case-insensitive, separated by
spaces, commas, tabs or new lines; ``*`` starts a comment to the end of the line) terminated by a
form feed (0x0C), followed by ``x*y*z`` bytes of labels written image by image, top line first,
left pixel first, i.e. a C-order ``(z, y, x)`` = ``(slice, row, column)`` array. Geometry:
``org_x/y/z`` is the centre of the top-left pixel of the first image (patient coordinates, LPS),
``inc_x``/``inc_y`` the pixel spacing, ``epais`` the slice thickness (taken as slice spacing),
``dir_h_*`` the direction of increasing column, ``dir_v_*`` of increasing row; the slice
direction is ``dir_h x dir_v`` (as Slicer's maintainers map it to NRRD, seed 000 post #4). The
labels are the last ``x*y*z`` bytes of the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation
from sessionkit.io._common import ColorTable, labelmap_segmentation, require_file

_FORM_FEED = b"\x0c"
_PAIR = re.compile(r"([A-Za-z_]+):([^\s,]+)")


def parse_tag_header(text: str) -> dict[str, str]:
    """``key -> value`` of a tag header; keys lower-cased, comments (``*`` to end of line) dropped."""
    lines = (line.split("*", 1)[0] for line in text.splitlines())
    return {key.lower(): value for line in lines for key, value in _PAIR.findall(line)}


def is_sliceomatic_tag(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) looks like a tag header."""
    end = head.find(_FORM_FEED)
    return end > 0 and {"x", "y", "type"} <= set(parse_tag_header(head[:end].decode("latin-1")))


def read_sliceomatic_tag(path: str | Path, *, color_table: ColorTable | None = None) -> Segmentation:
    """Read a SliceOmatic ``.tag`` file as a one-layer Segmentation.

    Parameters
    ----------
    path : str or Path
    color_table : mapping of int to (str, (int, int, int)), optional
        Names and colours per label value; others are ``Label_<value>``.

    Returns
    -------
    Segmentation
        Layer shape ``(z, y, x)``; one segment per non-zero label value.

    Raises
    ------
    ImageReadError
        If the header has no form feed, lacks ``x``/``y``, uses a type other than BYTE, or the
        file is shorter than ``x*y*z`` bytes after the header.
    """
    file = require_file(path)
    data = file.read_bytes()
    end = data.find(_FORM_FEED)
    if end < 0:
        raise ImageReadError(f"{file}: no form feed (0x0C) ending a SliceOmatic header; expected a .tag file")
    fields = parse_tag_header(data[:end].decode("latin-1"))
    try:
        nx, ny, nz = int(fields["x"]), int(fields["y"]), int(fields.get("z", "1"))
        if fields.get("type", "BYTE").upper() != "BYTE":
            raise ImageReadError(f"{file}: tag voxel type {fields['type']!r}; expected BYTE")

        def number(key: str, default: float) -> float:
            return float(fields.get(key, default))

        origin = [number("org_x", 0.0), number("org_y", 0.0), number("org_z", 0.0)]
        spacing = (number("epais", 1.0), number("inc_y", 1.0), number("inc_x", 1.0))
        dir_h = np.array([number("dir_h_x", 1.0), number("dir_h_y", 0.0), number("dir_h_z", 0.0)])
        dir_v = np.array([number("dir_v_x", 0.0), number("dir_v_y", 1.0), number("dir_v_z", 0.0)])
    except (KeyError, ValueError) as exc:
        raise ImageReadError(f"{file}: SliceOmatic header field missing or not a number ({exc})") from exc
    count = nx * ny * nz
    if len(data) - (end + 1) < count:
        raise ImageReadError(
            f"{file}: {len(data) - end - 1} bytes after the header; expected {count} labels ({nx}x{ny}x{nz})"
        )
    labels = np.frombuffer(data[len(data) - count :], dtype=np.uint8).reshape(nz, ny, nx)
    dir_h, dir_v = dir_h / np.linalg.norm(dir_h), dir_v / np.linalg.norm(dir_v)
    direction = np.column_stack([np.cross(dir_h, dir_v), dir_v, dir_h])
    grid = ImageGrid.from_parts((nz, ny, nx), spacing=spacing, direction=direction, origin=origin)
    return labelmap_segmentation(labels.copy(), grid, color_table=color_table, source=str(file))
