"""Truncated NRRD and NIfTI files, found from the header's declared size without decoding voxels.

A file whose header is intact but whose data was cut (an interrupted copy or download) reads fine
with :func:`~sessionkit.io.read_header` and fails only when a reader decodes it. The expected data
length is the product of the declared sizes times the voxel size (plus NIfTI's ``vox_offset``):

* raw data: the file (NRRD: the attached data after the header, or the detached data file) must
  hold at least that many bytes after the data offset;
* gzip data (NRRD ``encoding: gzip``, ``.nii.gz``): the gzip trailer's ISIZE (RFC 1952 §2.3.1,
  uncompressed length modulo 2³²) must match; when it does not (a cut stream ends in compressed
  bytes, not a trailer), the stream is inflated in bounded chunks and its output counted, nothing
  kept.

Other encodings (bzip2, text, hex) are not checked.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import nrrd
import numpy as np

from sessionkit.errors import ImageReadError
from sessionkit.io.nifti import load_nifti
from sessionkit.io.nrrd import nrrd_data_file, nrrd_dtype
from sessionkit.io.registry import sniff_format

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def inflated_length(handle: BinaryIO, start: int, needed: int) -> int:
    """Bytes a gzip stream starting at ``start`` inflates to, counted up to ``needed``.

    Parameters
    ----------
    handle : binary file
        Seekable, positioned anywhere.
    start : int
        Byte offset of the gzip stream.
    needed : int
        Stop counting once this many bytes came out (the caller needs no more).

    Returns
    -------
    int
        Uncompressed bytes available (``needed`` when there are at least that many; fewer when the
        stream is cut or corrupt).
    """
    handle.seek(0, 2)
    end = handle.tell()
    if end - start >= 18:  # 10-byte header, 8-byte trailer: check the trailer's ISIZE first
        handle.seek(start)
        magic = handle.read(2)
        handle.seek(end - 4)
        (isize,) = struct.unpack("<I", handle.read(4))
        if magic == _GZIP_MAGIC and isize == needed % (1 << 32):
            return needed
    handle.seek(start)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    try:
        while total < needed:
            data = handle.read(_CHUNK)
            if not data:
                break
            while data and total < needed:
                total += len(inflater.decompress(data, _CHUNK))
                data = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        pass
    return min(total, needed)


def _require(available: int, needed: int, source: str, what: str) -> None:
    if available < needed:
        raise ImageReadError(
            f"{source}: truncated: the header declares {needed} bytes of {what}, the file holds {available}; "
            "copy the file again from its source"
        )


def check_nrrd_length(path: str | Path) -> None:
    """Refuse a NRRD whose raw or gzip data is shorter than its header declares.

    Raises
    ------
    ImageReadError
        If the (attached or detached) data is cut. A detached data file that is missing or not a
        regular file is not opened (the caller reports it).
    """
    file = Path(path)
    with file.open("rb") as handle:
        header = dict(nrrd.read_header(handle))
        offset = handle.tell()
    encoding = str(header.get("encoding", "raw")).lower()
    if encoding not in ("raw", "gzip", "gz") or "line skip" in header or "lineskip" in header:
        return
    skip = int(header.get("byte skip") or header.get("byteskip") or 0)
    if skip < 0:  # "data at the end of the file": nothing to compare the start with
        return
    needed = math.prod(int(n) for n in header["sizes"]) * nrrd_dtype(header).itemsize + skip
    detached = nrrd_data_file(header, file)
    data = file if detached is None else detached
    if detached is not None:
        if not detached.resolve().is_file():
            return
        offset = 0
    with data.open("rb") as handle:
        if encoding == "raw":
            handle.seek(0, 2)
            available = handle.tell() - offset
        else:
            available = inflated_length(handle, offset, needed)
    _require(available, needed, str(file), f"{encoding} voxel data")


def check_nifti_length(path: str | Path, vox_offset: int, shape: tuple[int, ...], dtype: np.dtype[np.generic]) -> None:
    """Refuse a ``.nii``/``.nii.gz`` file shorter than ``vox_offset`` plus its declared voxel bytes.

    Parameters
    ----------
    path : str or Path
    vox_offset : int
        Byte offset of the voxel data (header field ``vox_offset``).
    shape : tuple of int
        Declared data shape (``dim``).
    dtype : numpy dtype
        Stored voxel type (``datatype``).

    Raises
    ------
    ImageReadError
        If the file (after inflating, for gzip) is shorter than declared.
    """
    file = Path(path)
    needed = int(vox_offset) + math.prod(int(n) for n in shape) * dtype.itemsize
    with file.open("rb") as handle:
        gzipped = handle.read(2) == _GZIP_MAGIC
        if gzipped:
            available = inflated_length(handle, 0, needed)
        else:
            handle.seek(0, 2)
            available = handle.tell()
    _require(available, needed, str(file), "header and voxel data" + (" (inflated)" if gzipped else ""))


def check_data_length(path: str | Path) -> None:
    """Refuse a truncated NRRD, Slicer ``.seg.nrrd`` or NIfTI file; other formats pass unchecked.

    Raises
    ------
    ImageReadError
        If the file's data is shorter than its header declares, or its header is unreadable.
    """
    fmt = sniff_format(path)
    if fmt in ("nrrd", "seg_nrrd"):
        check_nrrd_length(path)
    elif fmt == "nifti":
        header = load_nifti(Path(path)).header
        check_nifti_length(path, int(header.get_data_offset()), header.get_data_shape(), header.get_data_dtype())
