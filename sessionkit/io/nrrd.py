"""NRRD volumes and label maps (``.nrrd`` attached, ``.nhdr`` detached) with pynrrd.

Geometry comes from ``space``, ``space directions`` and ``space origin`` (NRRD0004/0005,
https://teem.sourceforge.net/nrrd/format.html#space). The header lists per-axis vectors in file
order ``(i, j, k)`` with ``i`` fastest; pynrrd with ``index_order="C"`` gives arrays ``(k, j, i)``,
i.e. ``(slice, row, column)``, so the header's axis order is reversed against the array's.
``space`` may be LPS or RAS (either spelling) or LAS; values are converted to LPS here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nrrd
import numpy as np
import numpy.typing as npt

from sessionkit.errors import ImageReadError, SegmentationError
from sessionkit.geometry import FloatArray, ImageGrid
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io._common import confine_data_file, grid_from_ijk, ijk_affine, native, require_file

NrrdHeader = dict[str, Any]

#: NRRD ``space`` values (both spellings) -> matrix taking that space's coordinates to LPS.
SPACE_TO_LPS: dict[str, FloatArray] = {
    "left-posterior-superior": np.eye(3),
    "lps": np.eye(3),
    "right-anterior-superior": np.diag([-1.0, -1.0, 1.0]),
    "ras": np.diag([-1.0, -1.0, 1.0]),
    "left-anterior-superior": np.diag([1.0, -1.0, 1.0]),
    "las": np.diag([1.0, -1.0, 1.0]),
}

_SPATIAL_KINDS = {"domain", "space"}
#: NRRD kinds of a 3-component colour axis (NRRD0005 "kinds").
_RGB_KINDS = {"rgb-color", "3-color"}


def read_nrrd_header(path: str | Path) -> NrrdHeader:
    """The NRRD header as pynrrd parses it, without reading voxels.

    Raises
    ------
    ImageReadError
        If the file is missing or its header is not NRRD.
    """
    file = require_file(path)
    try:
        header = dict(nrrd.read_header(str(file)))
    except (nrrd.NRRDError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise ImageReadError(f"{file}: not a readable NRRD header ({exc}); expected a .nrrd/.nhdr file") from exc
    check_header_bounds(header, file)
    return header


#: Bytes a compressed NRRD payload may inflate to per stored byte (deflate's limit is about 1032).
_MAX_INFLATION = 1100


def check_header_bounds(header: NrrdHeader, path: str | Path) -> None:
    """Refuse header fields that would make a reader loop or allocate beyond what the file holds.

    ``line skip: 999999999`` made pynrrd read 10⁹ lines (minutes) and a ``sizes`` product beyond
    the data allocated gigabytes before failing. Checked against the bytes on disk (the file for
    attached data, the data file for a detached header): ``line skip`` and ``byte skip`` at most
    that many; the declared voxels (``sizes`` × voxel bytes) at most that many for ``raw``, half as
    many values for ``ascii``/``text``, and :data:`_MAX_INFLATION` times as many bytes for gzip.

    Raises
    ------
    ImageReadError
        Naming the field, its value and the bytes available.
    """
    file = Path(path)
    data = nrrd_data_file(header, file)
    available_file = file if data is None else data
    try:
        available = available_file.stat().st_size
    except OSError:
        return  # a missing or unreadable data file is refused when it is opened (check_data_file)
    sizes = [int(n) for n in np.atleast_1d(np.asarray(header.get("sizes", []), dtype=np.int64))]
    if any(n < 1 for n in sizes):
        raise ImageReadError(f"{file}: NRRD sizes {sizes} include a size below 1; every axis needs at least one voxel")
    for field in ("line skip", "byte skip"):
        value = header.get(field, header.get(field.replace(" ", "")))
        if value is not None and int(value) > available:
            raise ImageReadError(
                f"{file}: NRRD '{field}: {value}' is beyond the {available} bytes of {available_file.name}; "
                "fix the header"
            )
    voxels = int(np.prod(sizes, dtype=object)) if sizes else 0
    encoding = str(header.get("encoding", "raw")).lower()
    itemsize = nrrd_dtype(header).itemsize if header.get("type") in NRRD_TYPES else 1
    if encoding == "raw":
        needed, allowed = voxels * itemsize, available
    elif encoding in ("ascii", "text", "txt"):
        needed, allowed = voxels, (available + 1) // 2
    elif encoding in ("gzip", "gz"):
        needed, allowed = voxels * itemsize, available * _MAX_INFLATION
    else:
        return
    if needed > allowed:
        raise ImageReadError(
            f"{file}: NRRD sizes {sizes} of {header.get('type')} ({encoding}) need {needed} bytes of data but "
            f"{available_file.name} has {available} bytes; the file is truncated or its header is wrong"
        )


def nrrd_data_file(header: NrrdHeader, path: str | Path) -> Path | None:
    """The detached data file a header names (``data file:``), as pynrrd opens it; ``None`` when attached.

    A relative name is relative to the header's folder; an absolute name is taken as it is.
    """
    name = header.get("datafile", header.get("data file"))
    return None if name is None else Path(path).parent / str(name)


def check_data_file(header: NrrdHeader, path: str | Path, root: str | Path | None = None) -> None:
    """Refuse a detached data file outside ``root`` or that is not a regular file, before reading it.

    Parameters
    ----------
    header : dict
        The header of ``path`` (:func:`read_nrrd_header`).
    path : str or Path
        The ``.nhdr``/``.nrrd`` file.
    root : str or Path, optional
        Folder the data file must lie in after following links (the images root); ``None``: anywhere.

    Raises
    ------
    ImageReadError
        If the data file resolves outside ``root`` (an absolute or ``../`` name, a link), or is a
        device, FIFO, folder or missing (``data file: /dev/zero`` would be read forever).
    """
    data = nrrd_data_file(header, path)
    if data is not None:
        confine_data_file(data, path, root)


def _type_names(code: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, code)


#: NRRD ``type`` field values (every spelling the NRRD format defines) -> NumPy type code.
NRRD_TYPES: dict[str, str] = {
    **_type_names("i1", "signed char", "int8", "int8_t"),
    **_type_names("u1", "uchar", "unsigned char", "uint8", "uint8_t"),
    **_type_names("i2", "short", "short int", "signed short", "signed short int", "int16", "int16_t"),
    **_type_names("u2", "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"),
    **_type_names("i4", "int", "signed int", "int32", "int32_t"),
    **_type_names("u4", "uint", "unsigned int", "uint32", "uint32_t"),
    **_type_names(
        "i8", "longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t"
    ),
    **_type_names("u8", "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t"),
    "float": "f4",
    "double": "f8",
}


def nrrd_dtype(header: NrrdHeader) -> np.dtype[np.generic]:
    """Voxel type named by the header's ``type`` field (native byte order), e.g. ``int16``."""
    try:
        name = NRRD_TYPES[header["type"]]
    except KeyError:
        raise ImageReadError(f"NRRD type {header.get('type')!r} is not a numeric voxel type") from None
    return np.dtype(name)


def _space_to_lps(header: NrrdHeader, source: str) -> FloatArray:
    space = header.get("space")
    if space is None:
        # No ``space`` but ``space dimension``: coordinates are taken as LPS, as ITK does.
        return np.eye(3)
    try:
        return SPACE_TO_LPS[str(space).strip().lower()]
    except KeyError:
        raise ImageReadError(
            f"{source}: NRRD space {space!r} is not supported; expected left-posterior-superior or "
            "right-anterior-superior (or left-anterior-superior). Resave the image in LPS or RAS."
        ) from None


def nrrd_geometry(header: NrrdHeader, source: str = "") -> tuple[ImageGrid, int | None]:
    """Grid of a NRRD header and the file axis that is not spatial (a list/time axis), if any.

    Parameters
    ----------
    header : dict
        Header as returned by pynrrd.
    source : str
        File name for messages.

    Returns
    -------
    grid : ImageGrid
        LPS grid, ``spatial_shape`` ``(slice, row, column)``. A 2-D image becomes one slice whose
        normal is the cross product of its two axes (spacing 1 mm).
    non_spatial_axis : int or None
        File-order index (``i`` first) of the single non-spatial axis.

    Raises
    ------
    ImageReadError
        If the header has more than one non-spatial axis, fewer than 2 or more than 3 spatial
        axes, or an unsupported ``space``.
    """
    dimension = int(header["dimension"])
    sizes = [int(n) for n in header["sizes"]]
    directions = header.get("space directions")
    kinds = header.get("kinds")
    if directions is not None:
        directions = np.asarray(directions, dtype=np.float64)
        spatial = [a for a in range(dimension) if not np.all(np.isnan(directions[a]))]
    elif kinds is not None:
        spatial = [a for a in range(dimension) if str(kinds[a]).lower() in _SPATIAL_KINDS]
    else:
        spatial = list(range(min(dimension, 3)))
    others = [a for a in range(dimension) if a not in spatial]
    if len(spatial) not in (2, 3) or len(others) > 1:
        raise ImageReadError(
            f"{source}: NRRD has {len(spatial)} spatial and {len(others)} other axes (sizes {sizes}, kinds "
            f"{kinds}); expected a 2-D or 3-D image, optionally with one list/time axis"
        )
    to_lps = _space_to_lps(header, source)
    columns = np.zeros((3, 3))
    if directions is not None:
        for column, axis in enumerate(spatial):
            columns[:, column] = to_lps @ directions[axis][:3]
    else:
        spacings = header.get("spacings")
        for column, axis in enumerate(spatial):
            step = 1.0 if spacings is None or np.isnan(spacings[axis]) else float(spacings[axis])
            columns[column, column] = step
    shape = [sizes[a] for a in spatial]
    if len(spatial) == 2:
        normal = np.cross(columns[:, 0], columns[:, 1])
        columns[:, 2] = normal / np.linalg.norm(normal)
        shape.append(1)
    origin = np.asarray(header.get("space origin", np.zeros(3)), dtype=np.float64)[:3]
    ijk = np.eye(4)
    ijk[:3, :3] = columns
    ijk[:3, 3] = to_lps @ np.nan_to_num(origin)
    return grid_from_ijk(ijk, tuple(shape)), (others[0] if others else None)


def nrrd_is_rgb(header: NrrdHeader, other: int | None) -> bool:
    """True when the non-spatial axis ``other`` (from :func:`nrrd_geometry`) is an 8-bit RGB colour axis."""
    kinds = header.get("kinds")
    if other is None or kinds is None or int(header["sizes"][other]) != 3:
        return False
    return str(kinds[other]).lower() in _RGB_KINDS and nrrd_dtype(header) == np.uint8


def read_nrrd(path: str | Path, *, root: str | Path | None = None) -> Volume:
    """Read a NRRD volume (or a label map as its integer values).

    Parameters
    ----------
    path : str or Path
        ``.nrrd`` (attached) or ``.nhdr`` (detached) file; any encoding pynrrd reads.
    root : str or Path, optional
        Folder a detached data file must lie in (the images root), see :func:`check_data_file`.

    Returns
    -------
    Volume
        ``array`` shape ``(slice, row, column)`` in the file's voxel type (native byte order), or
        ``(frame, slice, row, column)`` when the file has one list/time axis, or an RGB Volume
        (``is_rgb``, ``(slice, row, column, 3)``) for a uint8 ``RGB-color``/``3-color`` axis.
        Grid in LPS mm.

    Raises
    ------
    ImageReadError
        If the file is missing, not NRRD, its data file is outside ``root`` or not a regular file,
        or its geometry is not a 2-D/3-D image (see :func:`nrrd_geometry`).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sessionkit.geometry import ImageGrid
    >>> grid = ImageGrid.from_parts((2, 3, 4), spacing=(3.0, 1.0, 0.5), origin=(1.0, 2.0, 3.0))
    >>> path = os.path.join(tempfile.mkdtemp(), "v.nrrd")
    >>> write_nrrd(Volume(np.arange(24, dtype=np.int16).reshape(2, 3, 4), grid), path)
    >>> read_nrrd(path).grid.matches(grid)
    True
    """
    file = require_file(path)
    check_data_file(read_nrrd_header(file), file, root)
    try:
        data, header = nrrd.read(str(file), index_order="C")
    except (nrrd.NRRDError, OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise ImageReadError(f"{file}: cannot read NRRD ({exc}); expected a .nrrd/.nhdr image") from exc
    grid, other = nrrd_geometry(header, str(file))
    array = native(np.asarray(data))
    if nrrd_is_rgb(header, other):
        array = np.moveaxis(array, array.ndim - 1 - int(other or 0), -1)
        rgb = np.ascontiguousarray(array.reshape((*grid.spatial_shape, 3)))
        return Volume(array=rgb, grid=grid, source=str(file), is_rgb=True)
    if other is not None:
        array = np.moveaxis(array, array.ndim - 1 - other, 0)
    lead = () if other is None else (array.shape[0],)
    array = np.ascontiguousarray(array.reshape(lead + grid.spatial_shape))
    return Volume(array=array, grid=grid, source=str(file))


def _nrrd_header(grid: ImageGrid, frames: bool, *, other_kind: str = "list") -> NrrdHeader:
    """Header of a gzip LPS NRRD on ``grid``; ``frames``: a leading non-spatial axis of kind ``other_kind``."""
    ijk = ijk_affine(grid)
    directions = ijk[:3, :3].T
    kinds = ["domain", "domain", "domain"]
    if frames:
        directions = np.vstack([np.full(3, np.nan), directions])
        kinds = [other_kind, *kinds]
    return {
        "space": "left-posterior-superior",
        "space directions": directions,
        "space origin": ijk[:3, 3],
        "kinds": kinds,
        "encoding": "gzip",
    }


def write_nrrd(image: Volume | Segmentation, path: str | Path, *, compression_level: int = 1) -> None:
    """Write a Volume or a one-layer label map as gzip NRRD in LPS.

    Parameters
    ----------
    image : Volume or Segmentation
        A Volume with ``(slice, row, column)`` or ``(frame, slice, row, column)`` array (frames
        become a leading ``list`` axis; RGB channels a leading ``RGB-color`` axis), or a
        Segmentation with exactly one layer (written as its label values; the segment table is
        not kept: use ``write_seg_nrrd`` for that).
    path : str or Path
        ``.nrrd`` or ``.nhdr`` (then a detached ``.raw.gz`` is written beside it).
    compression_level : int
        gzip level 1-9; 1 is fast (clarifications C9: contour saves use level 1).

    Raises
    ------
    SegmentationError
        If a Segmentation has more than one layer.
    """
    array: npt.NDArray[np.generic]
    if isinstance(image, Segmentation):
        if image.layers.shape[0] != 1:
            raise SegmentationError(
                f"segmentation has {image.layers.shape[0]} layers; NRRD holds one label map. "
                "Write it with write_seg_nrrd instead."
            )
        array = image.layers[0]
    else:
        array = image.array
    rgb = isinstance(image, Volume) and image.is_rgb
    frames = array.ndim == 4
    data = np.moveaxis(array, 0, -1) if frames and not rgb else array  # (C order) the extra axis is NRRD axis 0
    nrrd.write(
        str(path),
        np.ascontiguousarray(data),
        _nrrd_header(image.grid, frames, other_kind="RGB-color" if rgb else "list"),
        compression_level=compression_level,
        index_order="C",
    )
