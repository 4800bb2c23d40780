"""DICOM image series (CT, MR, PET, ... one slice per file) with pydicom.

Geometry follows DICOM PS3.3 C.7.6.2.1.1: ``ImageOrientationPatient`` gives the LPS directions of
a row (increasing column index) and of a column (increasing row index); the slice normal is their
cross product; ``ImagePositionPatient`` is the centre of the first transmitted voxel. Slices are
sorted by position along the normal and must be evenly spaced and share one orientation.
Stored values become modality values with ``RescaleSlope``/``RescaleIntercept`` (C.11.1.1.2).

A time series (several acquisitions of the same positions in one series, ``Image Type=
"VolumeSequence"``) becomes frames, ``(frame, slice, row, column)``: the slices are split by the
first of :data:`TEMPORAL_KEYS` that gives every frame each position exactly once, frames in
increasing order of that value. Colour images (SamplesPerPixel 3, 8 bits; pydicom converts YBR
to RGB) become RGB Volumes (``is_rgb``); a single file without ImagePositionPatient/
ImageOrientationPatient (a secondary-capture picture on a ``Vector`` page, session-format §6.3)
gets the upright picture grid of :func:`~sessionkit.io.picture.picture_grid` with its PixelSpacing.

A series stored as a mask (binary values in a fake CT series, seed 004 / corpus B3) is read by
:func:`read_dicom_mask_series`: values at or above half the largest value become label 1.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.errors import InvalidDicomError

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segment, Segmentation, Volume
from sessionkit.imaging.palette import generic_color
from sessionkit.io._common import require_file

LOG = logging.getLogger(__name__)

#: Slice spacing may vary by this much (mm) plus 1 % of the mean before the series is refused.
SPACING_TOLERANCE_MM = 0.01
#: Files scanned at most when looking for a referenced series.
SEARCH_LIMIT = 5000
#: Orientation cosines may differ by this much between slices.
ORIENTATION_TOLERANCE = 1e-4
#: Slices closer than this (mm) along the normal are at the same position (a time series).
SAME_POSITION_MM = 0.01
#: What tells the acquisitions of a time series apart, in the order tried: the classic image
#: attribute and, for enhanced multi-frame images, the per-frame attribute used instead.
TEMPORAL_KEYS = (
    ("TemporalPositionIdentifier", "TemporalPositionIndex"),
    ("AcquisitionNumber", "FrameAcquisitionNumber"),
    ("TriggerTime", "NominalCardiacTriggerDelayTime"),
)

_HEADER_TAGS = [
    "SeriesInstanceUID",
    "ImageOrientationPatient",
    "ImagePositionPatient",
    "SOPClassUID",
    "NumberOfFrames",
    "InstanceNumber",
    "SeriesDescription",
    "SeriesNumber",
    # geometry, rescale and pixel format of a single-frame slice: one header read serves grouping
    # and geometry (:func:`_load_slices`)
    "FrameOfReferenceUID",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "Rows",
    "Columns",
    "RescaleSlope",
    "RescaleIntercept",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    *(classic for classic, _ in TEMPORAL_KEYS),
]


@dataclass(frozen=True)
class _Slice:
    path: Path
    position: npt.NDArray[np.float64]
    orientation: npt.NDArray[np.float64]
    frame: int = 0  # index into a multi-frame file
    slope: float = 1.0
    intercept: float = 0.0
    temporal: tuple[float | None, ...] = (None,) * len(TEMPORAL_KEYS)  # values of TEMPORAL_KEYS


def _number(value: Any) -> float | None:
    """``float(value)``, or None when absent or not a number."""
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def looks_like_dicom(head: bytes) -> bool:
    """True for the DICOM preamble (``DICM`` at byte 128) or a preamble-less data set starting with
    a group 0008 element in implicit little endian (old files such as corpus F ``rtstruct.dcm``)."""
    return head[128:132] == b"DICM" or head[:2] == b"\x08\x00"


def is_dicom(path: Path) -> bool:
    """True when the file at ``path`` :func:`looks_like_dicom`."""
    with path.open("rb") as handle:
        return looks_like_dicom(handle.read(132))


def sop_class_uid(path: Path) -> str:
    """SOPClassUID of a DICOM file ("" when absent), read without pixel data."""
    header = pydicom.dcmread(str(path), stop_before_pixels=True, specific_tags=["SOPClassUID"], force=True)
    return str(getattr(header, "SOPClassUID", ""))


def read_dataset(path: Path, *, stop_before_pixels: bool = False, specific_tags: list[str] | None = None) -> Any:
    """pydicom data set of ``path`` (``force=True``: preamble-less files are read too).

    Raises
    ------
    ImageReadError
        If pydicom cannot parse the file.
    """
    try:
        return pydicom.dcmread(
            str(path), stop_before_pixels=stop_before_pixels, specific_tags=specific_tags, force=True
        )
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{path}: not a readable DICOM file ({exc})") from exc


def _header(path: Path) -> Any:
    return read_dataset(path, stop_before_pixels=True, specific_tags=_HEADER_TAGS)


def series_files(path: str | Path | Sequence[str | Path], series_instance_uid: str | None = None) -> list[Path]:
    """The files of one series.

    Parameters
    ----------
    path : str, Path or sequence of them
        One file of the series (its folder is searched for the same SeriesInstanceUID, as
        ``DicomRead="Y"`` means), a folder, or an explicit list of files.
    series_instance_uid : str, optional
        Which series when a folder holds several.

    Raises
    ------
    ImageReadError
        If no DICOM file is found, a file lacks SeriesInstanceUID, or a folder holds several
        series and none was chosen (the message lists them).
    """
    return [file for file, _ in _series_headers(path, series_instance_uid)]


def _series_headers(
    path: str | Path | Sequence[str | Path], series_instance_uid: str | None = None
) -> list[tuple[Path, Any]]:
    """:func:`series_files` with each file's header (:data:`_HEADER_TAGS`, no pixel data)."""
    if isinstance(path, str | Path):
        root = Path(path)
        if root.is_file():
            uid = series_instance_uid or getattr(_header(root), "SeriesInstanceUID", None)
            if uid is None:
                raise ImageReadError(f"{root}: DICOM file has no SeriesInstanceUID; expected an image of a series")
            series_instance_uid, candidates = str(uid), sorted(p for p in root.parent.iterdir() if p.is_file())
            # a broken file next to the one asked for must not make it unreadable (issue 12 item 4)
            return _grouped_headers(candidates, skip_unreadable=True).get(series_instance_uid, [])
        elif root.is_dir():
            candidates = sorted(p for p in root.iterdir() if p.is_file())
        else:
            require_file(root)
            candidates = []
    else:
        candidates = [Path(p) for p in path]
    groups = _grouped_headers(candidates)
    if series_instance_uid is not None:
        if series_instance_uid not in groups:
            raise ImageReadError(f"{path}: no DICOM file of series {series_instance_uid} found")
        return groups[series_instance_uid]
    if not groups:
        raise ImageReadError(f"{path}: no DICOM image files found; expected a folder or file of a DICOM series")
    if len(groups) > 1:
        listing = ", ".join(f"{uid} ({len(files)} files)" for uid, files in groups.items())
        raise ImageReadError(f"{path}: holds {len(groups)} series: {listing}; name one file of the series to read")
    return next(iter(groups.values()))


@dataclass(frozen=True)
class SeriesEntry:
    """One series found by :func:`group_dicom_series`."""

    series_instance_uid: str
    files: tuple[Path, ...]
    series_number: int | None
    description: str
    sop_class_uid: str


def group_dicom_series(files: Iterable[Path], *, on_file: Callable[[Path], None] | None = None) -> list[SeriesEntry]:
    """Group DICOM files by SeriesInstanceUID, reading headers only.

    Parameters
    ----------
    files : iterable of Path
        Candidates; files that are not DICOM (:func:`looks_like_dicom`) or lack
        SeriesInstanceUID are skipped.
    on_file : callable, optional
        Called with each candidate once it is examined (e.g. to advance a progress bar).

    Returns
    -------
    list of SeriesEntry
        In order of first appearance; ``files`` in the order given.

    Raises
    ------
    ImageReadError
        If a DICOM file cannot be parsed.
    """
    entries = []
    for uid, members in _grouped_headers(files, on_file=on_file).items():
        first = members[0][1]
        number = _number(getattr(first, "SeriesNumber", None))
        entries.append(
            SeriesEntry(
                uid,
                tuple(file for file, _ in members),
                None if number is None else int(number),
                str(getattr(first, "SeriesDescription", "") or ""),
                str(getattr(first, "SOPClassUID", "") or ""),
            )
        )
    return entries


def _grouped_headers(
    files: Iterable[Path], *, on_file: Callable[[Path], None] | None = None, skip_unreadable: bool = False
) -> dict[str, list[tuple[Path, Any]]]:
    """``(file, header)`` pairs by SeriesInstanceUID, in order of first appearance (see :func:`group_dicom_series`).

    ``skip_unreadable``: leave out files whose header cannot be read (the neighbours of a file
    asked for by name) instead of raising.
    """
    groups: dict[str, list[tuple[Path, Any]]] = defaultdict(list)
    for candidate in files:
        try:
            header = _header(candidate) if is_dicom(candidate) else None
        except Exception:  # pydicom raises many types for damaged files
            if not skip_unreadable:
                raise
            header = None
        if header is not None:
            uid = getattr(header, "SeriesInstanceUID", None)
            if uid is not None:
                groups[str(uid)].append((candidate, header))
        if on_file is not None:
            on_file(candidate)
    return groups


def _nearby_files(near: Path) -> Iterator[Path]:
    """Files in ``near``'s folder, then elsewhere under its parent folder (sorted, at most SEARCH_LIMIT).

    The walk is lazy and bounded and never starts at a filesystem root, so a file in a shallow
    folder (``/tmp``) does not trigger a scan of the disk; unreadable folders are skipped.
    """
    seen = 0
    first = near.parent
    roots = [first] if first.parent == Path(first.anchor) else [first, first.parent]  # never walk "/"
    for root in roots:
        for folder, subfolders, names in os.walk(root):
            subfolders.sort()
            if root != first and Path(folder).is_relative_to(first):
                subfolders[:] = []
                continue
            for name in sorted(names):
                candidate = Path(folder) / name
                if candidate == near or not candidate.is_file():
                    continue
                seen += 1
                if seen > SEARCH_LIMIT:
                    return
                yield candidate


def find_series(
    near: Path, series_instance_uid: str | None, frame_of_reference_uid: str | None
) -> tuple[Path | None, str]:
    """A file of the image series a derived object (RTSTRUCT, SEG) references.

    Searches the folder of ``near``, then the rest of its parent folder, recursively (at most
    :data:`SEARCH_LIMIT` files, see :func:`_nearby_files`) for an image with
    ``series_instance_uid``; failing that, for an image sharing
    ``frame_of_reference_uid`` (logged as a warning: corpus A2's references dangle).

    Returns
    -------
    path : Path or None
    matched_by : {"series", "frame_of_reference", "none"}
    """
    by_for: Path | None = None
    for candidate in _nearby_files(near):
        if not is_dicom(candidate):
            continue
        try:
            header = pydicom.dcmread(
                str(candidate),
                stop_before_pixels=True,
                specific_tags=["SeriesInstanceUID", "FrameOfReferenceUID", "ImagePositionPatient"],
                force=True,
            )
        except (InvalidDicomError, OSError, ValueError, EOFError):
            continue  # not an image we could use; the search goes on
        if "ImagePositionPatient" not in header:
            continue  # not a single-frame image (a SEG, RTSTRUCT, enhanced multi-frame)
        if series_instance_uid is not None and str(getattr(header, "SeriesInstanceUID", "")) == series_instance_uid:
            return candidate, "series"
        same_for = str(getattr(header, "FrameOfReferenceUID", "")) == frame_of_reference_uid
        if by_for is None and frame_of_reference_uid is not None and same_for:
            by_for = candidate
    if by_for is not None:
        LOG.warning(
            "%s: referenced series %s not found; using %s, which shares frame of reference %s",
            near,
            series_instance_uid,
            by_for,
            frame_of_reference_uid,
        )
        return by_for, "frame_of_reference"
    return None, "none"


def _split_frames(slices: list[_Slice], distances: list[float], source: str) -> list[list[int]]:
    """Indices of ``slices`` per frame, each in order along the normal (one frame unless positions repeat).

    Raises
    ------
    ImageReadError
        If positions repeat but no attribute of :data:`TEMPORAL_KEYS` splits the slices into frames
        that hold every position exactly once.
    """
    order = sorted(range(len(slices)), key=distances.__getitem__)
    position_of = [0] * len(slices)
    count = 0
    for previous, current in itertools.pairwise(order):
        count += distances[current] - distances[previous] > SAME_POSITION_MM
        position_of[current] = count
    positions = count + 1
    if positions == len(slices):
        return [order]
    for k in range(len(TEMPORAL_KEYS)):
        values = [item.temporal[k] for item in slices]
        if None in values:
            continue
        groups: dict[float, list[int]] = defaultdict(list)
        for index, value in enumerate(values):
            groups[value or 0.0].append(index)
        if all(sorted(position_of[i] for i in members) == list(range(positions)) for members in groups.values()):
            return [sorted(groups[value], key=distances.__getitem__) for value in sorted(groups)]
    per_position = Counter(position_of)
    usual = per_position.most_common(1)[0][1]
    where = {position_of[i]: distances[i] for i in order}
    odd = [
        f"position {p + 1} of {positions} ({where[p]:.3f} mm along the normal) x{n}"
        for p, n in sorted(per_position.items())
        if n != usual
    ]
    seen = [sorted({v for item in slices if (v := item.temporal[k]) is not None}) for k in range(len(TEMPORAL_KEYS))]
    found = "; ".join(
        f"{classic}/{enhanced}: {', '.join(f'{v:g}' for v in values) or 'absent'}"
        for (classic, enhanced), values in zip(TEMPORAL_KEYS, seen, strict=True)
    )
    raise ImageReadError(
        f"{source}: {len(slices)} slices at {positions} positions: positions repeat"
        + (f" unevenly ({', '.join(odd[:5])}; most positions x{usual})" if odd else f" {usual} times")
        + f", and no attribute splits them into frames holding every position once ({found}). "
        "Expected one acquisition per position and frame; remove the extra files or split the series."
    )


def _geometry(slices: list[_Slice], first: Any, source: str) -> tuple[ImageGrid, list[list[_Slice]]]:
    """Grid of the series and its slices per frame (one frame unless it is a time series), in slice order."""
    orientation = slices[0].orientation
    for item in slices:
        if np.max(np.abs(item.orientation - orientation)) > ORIENTATION_TOLERANCE:
            raise ImageReadError(
                f"{source}: slices have different orientations ({item.path.name}: {item.orientation.tolist()} vs "
                f"{orientation.tolist()}); expected one ImageOrientationPatient for the series"
            )
    row_dir, col_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, col_dir)
    all_distances = [float(item.position @ normal) for item in slices]
    frames = [[slices[i] for i in frame] for frame in _split_frames(slices, all_distances, source)]
    ordered = frames[0]
    distances = np.array([float(item.position @ normal) for item in ordered])
    steps = np.diff(distances)
    if steps.size:
        mean = float(steps.mean())
        if mean <= 0 or np.max(np.abs(steps - mean)) > SPACING_TOLERANCE_MM + 0.01 * abs(mean):
            raise ImageReadError(
                f"{source}: slice spacing is not uniform: measured {np.round(steps, 4).tolist()} mm between "
                f"{len(ordered)} slices; expected equal spacing. Resample the series or export the missing slices."
            )
        slice_spacing = mean
    else:
        slice_spacing = float(getattr(first, "SpacingBetweenSlices", None) or getattr(first, "SliceThickness", 1) or 1)
    row_spacing, col_spacing = (float(v) for v in (getattr(first, "PixelSpacing", None) or (1.0, 1.0)))
    direction = np.column_stack([normal, col_dir, row_dir])
    grid = ImageGrid.from_parts(
        (len(ordered), int(first.Rows), int(first.Columns)),
        spacing=(slice_spacing, row_spacing, col_spacing),
        direction=direction,
        origin=ordered[0].position,
    )
    return grid, frames


def _pixels(dataset: Any, source: Path) -> npt.NDArray[np.generic]:
    try:
        return np.asarray(dataset.pixel_array)
    except Exception as exc:  # pydicom raises many types for missing decoders / broken data
        raise ImageReadError(
            f"{source}: cannot decode pixel data ({exc}); transfer syntax {dataset.file_meta.TransferSyntaxUID.name}. "
            "Install the decoder pydicom names (e.g. pylibjpeg-openjpeg for JPEG 2000)."
        ) from exc


def _rescale(dataset: Any) -> tuple[float, float]:
    slope = float(getattr(dataset, "RescaleSlope", 1) or 1)
    return slope, float(getattr(dataset, "RescaleIntercept", 0) or 0)


def _output_dtype(first: Any, slices: list[_Slice]) -> np.dtype[np.generic]:
    """int16/int32 when every rescaled stored value is an integer that fits, else float32.

    Decided from the stored value range (BitsStored, PixelRepresentation) and the rescale of every
    slice before any pixel is decoded, so the output is allocated once (peak memory ~ the array).
    """
    bits = int(getattr(first, "BitsStored", 16) or 16)
    signed = bool(getattr(first, "PixelRepresentation", 0))
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if all(item.slope == int(item.slope) and item.intercept == int(item.intercept) for item in slices):
        ends = [v for item in slices for v in (low * item.slope + item.intercept, high * item.slope + item.intercept)]
        for dtype in (np.int16, np.int32):
            info = np.iinfo(dtype)
            if info.min <= min(ends) and max(ends) <= info.max:
                return np.dtype(dtype)
    return np.dtype(np.float32)


def _store(out: npt.NDArray[np.generic], index: int, pixels: npt.NDArray[np.generic], item: _Slice) -> None:
    if item.slope == 1 and item.intercept == 0:
        out[index] = pixels
    elif np.issubdtype(out.dtype, np.integer):  # int64 per slice: stored + intercept may exceed the stored type
        out[index] = pixels.astype(np.int64) * int(item.slope) + int(item.intercept)
    else:
        out[index] = pixels.astype(np.float32) * np.float32(item.slope) + np.float32(item.intercept)


def _load_slices(members: list[tuple[Path, Any]]) -> tuple[dict[Path, Any], list[_Slice]]:
    """Headers by file and per-slice geometry and rescale (frames of a single multi-frame file).

    ``members`` come from :func:`_series_headers`; only a multi-frame file is read again (whole
    header: its geometry is in the functional group sequences).
    """
    datasets: dict[Path, Any] = {}
    slices = []
    for file, dataset in members:
        if int(getattr(dataset, "NumberOfFrames", 1) or 1) > 1:
            if len(members) > 1:
                raise ImageReadError(f"{file}: a multi-frame image in a series of {len(members)} files; expected one")
            full = read_dataset(file, stop_before_pixels=True)
            return {file: full}, _frames(full, file)
        picture = len(members) == 1 and not ("ImagePositionPatient" in dataset and "ImageOrientationPatient" in dataset)
        try:
            if picture:  # a lone picture: upright, origin 0 (picture_grid)
                position, orientation = np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
                _ = dataset.Rows, dataset.Columns
            else:
                position = np.array([float(v) for v in dataset.ImagePositionPatient])
                orientation = np.array([float(v) for v in dataset.ImageOrientationPatient])
                _ = dataset.PixelSpacing, dataset.Rows, dataset.Columns
        except AttributeError as exc:
            raise ImageReadError(
                f"{file}: lacks image geometry ({exc}); expected ImagePositionPatient, ImageOrientationPatient, "
                "PixelSpacing"
            ) from exc
        datasets[file] = dataset
        temporal = tuple(_number(getattr(dataset, classic, None)) for classic, _ in TEMPORAL_KEYS)
        slices.append(_Slice(file, position, orientation, 0, *_rescale(dataset), temporal))
    return datasets, slices


def functional_item(group: Any, shared: Any, sequence: str) -> Any:
    """Item of a functional group macro, per-frame first, else shared (PS3.3 C.7.6.16)."""
    for holder in (group, shared):
        if holder is not None and sequence in holder:
            return holder[sequence].value[0]
    return None


def _frames(dataset: Any, file: Path) -> list[_Slice]:
    """Per-frame geometry and rescale of an enhanced multi-frame image."""
    groups = getattr(dataset, "PerFrameFunctionalGroupsSequence", None)
    if not groups:
        raise ImageReadError(
            f"{file}: multi-frame image without PerFrameFunctionalGroupsSequence: its frames have no position; "
            "expected an Enhanced image with PlanePositionSequence per frame"
        )
    shared_sequence = getattr(dataset, "SharedFunctionalGroupsSequence", None)
    shared = shared_sequence[0] if shared_sequence else None
    slices = []
    for index, group in enumerate(groups):
        position = functional_item(group, shared, "PlanePositionSequence")
        orientation = functional_item(group, shared, "PlaneOrientationSequence")
        if position is None or orientation is None:
            raise ImageReadError(f"{file}: frame {index + 1} lacks PlanePositionSequence/PlaneOrientationSequence")
        transform = functional_item(group, shared, "PixelValueTransformationSequence")
        slope, intercept = _rescale(transform if transform is not None else dataset)
        content = functional_item(group, None, "FrameContentSequence")
        cardiac = functional_item(group, shared, "CardiacSynchronizationSequence")
        temporal = tuple(
            _number(getattr(cardiac if enhanced.startswith("Nominal") else content, enhanced, None))
            for _, enhanced in TEMPORAL_KEYS
        )
        slices.append(
            _Slice(
                file,
                np.array([float(v) for v in position.ImagePositionPatient]),
                np.array([float(v) for v in orientation.ImageOrientationPatient]),
                index,
                slope,
                intercept,
                temporal,
            )
        )
    return slices


def _pixel_measures(dataset: Any) -> Any:
    """The dataset itself, or for a multi-frame image its PixelMeasuresSequence item (spacing, thickness)."""
    shared_sequence = getattr(dataset, "SharedFunctionalGroupsSequence", None)
    groups = getattr(dataset, "PerFrameFunctionalGroupsSequence", None)
    if "PixelSpacing" in dataset or not groups:
        return dataset
    measures = functional_item(groups[0], shared_sequence[0] if shared_sequence else None, "PixelMeasuresSequence")
    if measures is None:
        raise ImageReadError("multi-frame image without PixelMeasuresSequence; pixel spacing unknown")
    measures.Rows, measures.Columns = dataset.Rows, dataset.Columns
    return measures


class SeriesHeader(NamedTuple):
    """What :func:`read_dicom_series_header` reads without pixel data."""

    grid: ImageGrid
    frame_of_reference_uid: str | None
    dtype: str  # stored pixel type, e.g. ``int16``
    frames: int = 1  # acquisitions of a time series
    rgb: bool = False  # SamplesPerPixel 3


def read_dicom_series_header(
    path: str | Path | Sequence[str | Path], *, series_instance_uid: str | None = None
) -> SeriesHeader:
    """Grid, frame of reference UID, stored pixel type (e.g. ``int16``), frame count and colour without pixel data.

    Raises
    ------
    ImageReadError
        As :func:`read_dicom_series` for geometry problems.
    """
    members = _series_headers(path, series_instance_uid)
    files = [file for file, _ in members]
    datasets, slices = _load_slices(members)
    first = datasets[files[0]]
    source = str(path if isinstance(path, str | Path) else files[0].parent)
    grid, frames = _geometry(slices, _pixel_measures(first), source)
    uid = getattr(first, "FrameOfReferenceUID", None)
    stored = f"{'int' if getattr(first, 'PixelRepresentation', 0) else 'uint'}{getattr(first, 'BitsAllocated', 16)}"
    return SeriesHeader(grid, None if uid is None else str(uid), stored, len(frames), _samples(first, source) == 3)


def _samples(first: Any, source: str) -> int:
    """SamplesPerPixel: 1 (grey), or 3 (colour, 8 bits only)."""
    samples = int(getattr(first, "SamplesPerPixel", 1) or 1)
    if samples not in (1, 3) or (samples == 3 and int(getattr(first, "BitsAllocated", 8)) != 8):
        raise ImageReadError(
            f"{source}: {samples} samples per pixel of {getattr(first, 'BitsAllocated', '?')} bits; expected grey "
            "images or 8-bit colour (RGB/YBR)"
        )
    return samples


def ordered_series_files(
    path: str | Path | Sequence[str | Path], *, series_instance_uid: str | None = None
) -> tuple[ImageGrid, list[Path]]:
    """Grid of a single-frame series and its files in slice order (what a derived object references).

    Raises
    ------
    ImageReadError
        As :func:`read_dicom_series_header`, or for a multi-frame image.
    """
    members = _series_headers(path, series_instance_uid)
    files = [file for file, _ in members]
    datasets, slices = _load_slices(members)
    if len(slices) != len(files):
        raise ImageReadError(f"{files[0]}: a multi-frame image; expected a series of single-frame images")
    grid, frames = _geometry(slices, datasets[files[0]], str(path if isinstance(path, str | Path) else files[0]))
    if len(frames) > 1:
        raise ImageReadError(f"{files[0]}: a time series of {len(frames)} frames; expected a single volume")
    return grid, [item.path for item in frames[0]]


def read_dicom_series(
    path: str | Path | Sequence[str | Path],
    *,
    series_instance_uid: str | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> Volume:
    """Read a DICOM image series (one slice per file, or one enhanced multi-frame file) into a Volume.

    Parameters
    ----------
    path : str, Path or sequence
        See :func:`series_files`.
    series_instance_uid : str, optional
    on_file : callable, optional
        Called with each file once its pixels are stored (e.g. to advance a progress bar).

    Returns
    -------
    Volume
        ``array`` ``(slice, row, column)`` in modality units (e.g. HU): int16/int32 when the
        rescaled values are integers, else float32. Slices ordered along the normal
        ``row direction x column direction``; ``frame_of_reference_uid`` from the files.
        A time series gives ``(frame, slice, row, column)`` (see the module notes); colour
        images an RGB Volume (``is_rgb``, ``(slice, row, column, 3)`` uint8, no rescale).

    Raises
    ------
    ImageReadError
        If files are missing geometry, orientations differ, rows/columns/pixel spacing differ,
        spacing is not uniform (the measured spacings are in the message), positions repeat
        without a time attribute that splits them into complete frames, a colour series has
        several frames, or pixel data cannot be decoded.
    """
    members = _series_headers(path, series_instance_uid)
    files = [file for file, _ in members]
    source = str(path if isinstance(path, str | Path) else files[0].parent)
    datasets, slices = _load_slices(members)
    first = datasets[files[0]]
    grid, frames = _geometry(slices, _pixel_measures(first), source)
    rgb = _samples(first, source) == 3
    if rgb and len(frames) > 1:
        raise ImageReadError(f"{source}: a colour time series ({len(frames)} frames); expected one colour image")
    lead = (len(frames),) if len(frames) > 1 else ()
    if rgb:
        out = np.empty((*grid.spatial_shape, 3), dtype=np.uint8)
    else:
        out = np.empty(lead + grid.spatial_shape, dtype=_output_dtype(first, slices))
    targets = [out[f] for f in range(len(frames))] if lead else [out]
    multi_frame = (
        _pixels(read_dataset(files[0]), files[0]) if int(getattr(first, "NumberOfFrames", 1) or 1) > 1 else None
    )
    for target, ordered in zip(targets, frames, strict=True):
        for index, item in enumerate(ordered):  # one file at a time: peak memory ~ out + one slice
            if multi_frame is not None:
                _store(target, index, multi_frame[item.frame], item)
                continue
            dataset = read_dataset(item.path)
            if (int(dataset.Rows), int(dataset.Columns)) != grid.spatial_shape[1:]:
                raise ImageReadError(
                    f"{item.path}: {dataset.Rows}x{dataset.Columns} pixels, the series has {grid.spatial_shape[1:]}"
                )
            _store(target, index, _pixels(dataset, item.path), item)
            if on_file is not None:
                on_file(item.path)
    if multi_frame is not None and on_file is not None:
        on_file(files[0])
    uid = getattr(first, "FrameOfReferenceUID", None)
    for_uid = None if uid is None else str(uid)
    return Volume(array=out, grid=grid, frame_of_reference_uid=for_uid, source=source, is_rgb=rgb)


def read_dicom_mask_series(
    path: str | Path | Sequence[str | Path],
    *,
    series_instance_uid: str | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> Segmentation:
    """Read a mask stored as a fake image series (seed 004) as a one-segment Segmentation.

    Voxels at or above half of the largest value become label 1 (the threshold of 0.5 that Slicer
    users apply to such series); the segment is named after ``SeriesDescription`` (else ``Mask``).
    ``on_file`` as for :func:`read_dicom_series`.

    Raises
    ------
    ImageReadError
        As :func:`read_dicom_series`, or if the series holds no positive value, is a time series
        or is in colour.
    """
    files = series_files(path, series_instance_uid)
    volume = read_dicom_series(files, on_file=on_file)
    if volume.frames > 1 or volume.is_rgb:
        what = f"a time series of {volume.frames} frames" if volume.frames > 1 else "a colour image"
        raise ImageReadError(f"{volume.source}: {what}; a mask series is one grey volume")
    top = float(volume.array.max())
    if top <= 0:
        raise ImageReadError(f"{volume.source}: mask series has no positive voxel; expected a binary mask")
    layer = (np.asarray(volume.array, dtype=np.float64) >= 0.5 * top).astype(np.uint8)
    description = getattr(_header(files[0]), "SeriesDescription", "") or "Mask"
    segment = Segment(segment_id="1", name=str(description), label_value=1, color=generic_color(0), layer=0)
    return Segmentation(
        layers=layer[np.newaxis],
        grid=volume.grid,
        segments=(segment,),
        frame_of_reference_uid=volume.frame_of_reference_uid,
        source=volume.source,
    )
