"""One entry point for every image file: sniff the format, read into the model.

:func:`read_image` is what the scene resolver, the server and ``sessionkit inspect`` call;
:func:`read_header` gives grid and kind without reading voxels (the validator's files pass).
The session ``Image@Type`` (session-format §6.3) is the ``image_type`` hint: ``LabelMap`` and
``Segmentation`` turn an integer image into a one-layer :class:`Segmentation` (clarifications C5).
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from sessionkit.errors import ImageReadError, SegmentationError, SessionKitError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segment, Segmentation, Volume
from sessionkit.io._common import ColorTable, labelmap_segmentation, require_file
from sessionkit.io.dicom_seg import SEG_SOP_CLASSES, read_dicom_seg, write_dicom_seg
from sessionkit.io.dicom_series import (
    looks_like_dicom,
    read_dicom_mask_series,
    read_dicom_series,
    read_dicom_series_header,
    sop_class_uid,
)
from sessionkit.io.metaimage import is_metaimage, metaimage_data_files, read_metaimage
from sessionkit.io.nifti import read_nifti, read_nifti_header, write_nifti
from sessionkit.io.nrrd import (
    nrrd_data_file,
    nrrd_dtype,
    nrrd_geometry,
    nrrd_is_rgb,
    read_nrrd,
    read_nrrd_header,
    write_nrrd,
)
from sessionkit.io.picture import is_picture, read_picture
from sessionkit.io.rtstruct import RTSTRUCT_SOP_CLASS, read_rtstruct
from sessionkit.io.seg_nrrd import (
    is_segmentation_header,
    read_seg_nrrd,
    seg_nrrd_geometry,
    seg_nrrd_segments,
    write_seg_nrrd,
)
from sessionkit.io.sliceomatic_tag import is_sliceomatic_tag, read_sliceomatic_tag

Format = Literal[
    "nrrd", "seg_nrrd", "nifti", "dicom", "rtstruct", "dicom_seg", "sliceomatic_tag", "metaimage", "picture"
]

#: ``Image@Type`` values (session-format §6.3).
IMAGE_TYPES = ("Volume", "VolumeSequence", "Vector", "LabelMap", "Segmentation", "RTStruct")
_LABEL_TYPES = {"LabelMap", "Segmentation"}


@dataclass(frozen=True)
class ImageHeader:
    """What a file holds, read without its voxels.

    Attributes
    ----------
    path : str
    format : str
        One of :data:`Format`, as :func:`sniff_format` decided.
    kind : {"volume", "segmentation"}
        ``segmentation`` for ``.seg.nrrd`` files and for any file read with a LabelMap/Segmentation
        type hint.
    grid : ImageGrid
    dtype : str
        Voxel type as stored (numpy name).
    frames : int
        Number of frames (1 for a 3-D image).
    frame_of_reference_uid : str or None
        DICOM FrameOfReferenceUID where the file carries one (validation rule SK808, C4).
    segments : tuple of Segment or None
        The file's segments where they are known without decoding label values: ``.seg.nrrd``
        (from its ``Segment<N>_*`` header fields), and RTSTRUCT, DICOM SEG and SliceOmatic
        ``.tag`` files (which :func:`read_header` reads whole). ``None`` otherwise (a label map's
        segments come from the label values present: :func:`read_image`).
    """

    path: str
    format: Format
    kind: Literal["volume", "segmentation"]
    grid: ImageGrid
    dtype: str
    frames: int = 1
    frame_of_reference_uid: str | None = None
    segments: tuple[Segment, ...] | None = None


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _malformed_files_raise_image_read_error(read: Callable[_P, _R]) -> Callable[_P, _R]:
    """The boundary of every reader: a damaged file gives :class:`ImageReadError`, never a traceback.

    pynrrd, nibabel, pydicom, highdicom, zlib and NumPy raise dozens of exception types for
    truncated, flipped or out-of-range files (``zlib.error``, ``OSError: No tag to read``,
    ``OverflowError``, ``IndexError``, ``KeyError``, ``MemoryError``, ...). Each becomes an
    ImageReadError naming the file (the first argument) and the reason; sessionkit's own errors
    pass unchanged, and ``KeyboardInterrupt``/``SystemExit`` are not touched.
    """

    @functools.wraps(read)
    def reading(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return read(*args, **kwargs)
        except SessionKitError:
            raise
        except MemoryError as exc:
            raise ImageReadError(
                f"{args[0] if args else ''}: declares more image data than fits in memory; "
                "the file is damaged or its header is wrong"
            ) from exc
        except Exception as exc:
            raise ImageReadError(
                f"{args[0] if args else ''}: cannot be read ({type(exc).__name__}: {exc}); "
                "the file is damaged or not what its format declares"
            ) from exc

    return reading


def _is_nifti_magic(head: bytes) -> bool:
    return head[344:348] in (b"n+1\x00", b"ni1\x00") or head[4:8] in (b"n+2\x00", b"ni2\x00")


@_malformed_files_raise_image_read_error
def sniff_format(path: str | Path) -> Format:
    """The format of ``path``, decided by content (magic bytes), not only by extension.

    Raises
    ------
    ImageReadError
        If the file is missing or of a format no reader handles.
    """
    return _sniff(path)[0]


def _sniff(path: str | Path) -> tuple[Format, dict[str, Any] | None]:
    """:func:`sniff_format` and, for NRRD files, the header it parsed to decide (so it is read once)."""
    if Path(path).is_dir():
        return "dicom", None
    file = require_file(path)
    with file.open("rb") as handle:
        head = handle.read(544)
    if head.startswith(b"NRRD"):
        header = read_nrrd_header(file)
        return ("seg_nrrd" if is_segmentation_header(header) else "nrrd"), header
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(file, "rb") as handle:
                head = handle.read(544)
        except (OSError, EOFError) as exc:
            raise ImageReadError(f"{file}: broken gzip stream ({exc}); expected a .nii.gz image") from exc
    if _is_nifti_magic(head):
        return "nifti", None
    if looks_like_dicom(head):
        sop_class = sop_class_uid(file)
        if sop_class == RTSTRUCT_SOP_CLASS:
            return "rtstruct", None
        return ("dicom_seg" if sop_class in SEG_SOP_CLASSES else "dicom"), None
    if is_sliceomatic_tag(head):
        return "sliceomatic_tag", None
    if is_metaimage(head):
        return "metaimage", None
    if is_picture(head):
        return "picture", None
    found = f"first bytes {head[:8]!r}"
    raise ImageReadError(
        f"{file}: unsupported image format ({found}); expected NRRD (.nrrd/.nhdr), Slicer .seg.nrrd, "
        "NIfTI (.nii/.nii.gz), DICOM, SliceOmatic .tag, MetaImage (.mha/.mhd), PNG, JPEG or BMP. "
        "Convert the file, or check Image@Type and DicomRead."
    )


def _check_type(image_type: str | None, file: Path) -> None:
    if image_type is not None and image_type not in IMAGE_TYPES:
        raise ImageReadError(f"{file}: image type {image_type!r} is unknown; expected one of {', '.join(IMAGE_TYPES)}")


@_malformed_files_raise_image_read_error
def read_image(
    path: str | Path,
    *,
    image_type: str | None = None,
    color_table: ColorTable | None = None,
    reference: Volume | str | Path | None = None,
    root: str | Path | None = None,
) -> Volume | Segmentation:
    """Read any supported image file into the model.

    Parameters
    ----------
    path : str or Path
        An image file; for DICOM one file of the series (its folder is searched for the same
        SeriesInstanceUID) or the series folder.
    image_type : str, optional
        ``Image@Type`` of the session (``Volume``, ``VolumeSequence``, ``Vector``, ``LabelMap``,
        ``Segmentation``, ``RTStruct``). ``LabelMap``/``Segmentation`` read a NRRD/NIfTI as a
        one-layer Segmentation with one segment per non-zero value, and a DICOM series as a mask
        stored as a fake image series (clarifications C5). ``Volume`` refuses 4-D files
        and Slicer segmentations. ``None``: the file decides (``.seg.nrrd`` -> Segmentation, else Volume).
    color_table : mapping of int to (str, (int, int, int)), optional
        Names and RGB 0-255 colours of label values (an ROIColorFile) for label maps; values
        it lacks are named ``Label_<value>``.
    reference : Volume, str or Path, optional
        For an RT Structure Set or DICOM SEG: the image its contours/frames are placed onto (a Volume, or a file
        or folder of its DICOM series). Default: the series the structure set references, found
        near the file (by SeriesInstanceUID, else by FrameOfReferenceUID).
    root : str or Path, optional
        Folder every file a header names must lie in (the images root): a detached NRRD's data
        file outside it is refused, as is one that is not a regular file (always).

    Returns
    -------
    Volume or Segmentation

    Raises
    ------
    ImageReadError
        If the file is missing, unreadable, of an unknown format, or not of the expected kind;
        the message names the file, what was found, what was expected and the fix.
    """
    file = Path(path)
    _check_type(image_type, file)
    fmt = "rtstruct" if image_type == "RTStruct" else sniff_format(file)
    if fmt == "rtstruct":
        return read_rtstruct(file, reference)
    if fmt == "dicom_seg":
        return read_dicom_seg(file, reference)
    if fmt == "dicom" and image_type in _LABEL_TYPES:
        return read_dicom_mask_series(file)
    if fmt in ("seg_nrrd", "sliceomatic_tag"):
        if image_type in ("Volume", "VolumeSequence", "Vector"):
            raise ImageReadError(
                f"{file}: is a segmentation ({fmt}); expected a {image_type}. "
                'Set Image Type="Segmentation" for this file.'
            )
        if fmt == "sliceomatic_tag":
            return read_sliceomatic_tag(file, color_table=color_table)
        return read_seg_nrrd(file, root=root)
    readers: dict[str, Callable[[Path], Volume]] = {
        "dicom": read_dicom_series,
        "nrrd": partial(read_nrrd, root=root),
        "nifti": read_nifti,
        "metaimage": partial(read_metaimage, root=root),
        "picture": read_picture,
    }
    volume = readers[fmt](file)
    frames = volume.frames
    if image_type in _LABEL_TYPES:
        if volume.is_rgb:
            raise ImageReadError(
                f"{file}: is a colour (RGB) picture; a {image_type} holds integer labels. "
                'Use Image Type="Vector" for pictures.'
            )
        if frames > 1:
            raise ImageReadError(
                f"{file}: has {frames} frames; a {image_type} must be one 3-D label map. Split the frames."
            )
        return labelmap_segmentation(
            volume.array.reshape(volume.grid.spatial_shape),
            volume.grid,
            color_table=color_table,
            frame_of_reference_uid=volume.frame_of_reference_uid,
            source=volume.source,
        )
    if image_type == "Volume" and frames > 1:
        raise ImageReadError(
            f"{file}: is 4-D ({frames} frames of {list(volume.grid.spatial_shape)}); expected a 2-D or 3-D "
            'Volume. Use Image Type="VolumeSequence" or pick one frame.'
        )
    return volume


@_malformed_files_raise_image_read_error
def header_data_files(path: str | Path) -> tuple[Path, ...]:
    """Other files an image header names: a detached NRRD's ``data file``, a MetaImage's ``ElementDataFile``.

    Joined to the header's folder, links not followed (callers resolve them against the images
    root: rule SK803); ``()`` for every other file and for attached data.

    Raises
    ------
    ImageReadError
        If the file is missing or its header unreadable.
    """
    fmt, header = _sniff(path)
    if header is not None:
        data = nrrd_data_file(header, path)
        return () if data is None else (data,)
    return metaimage_data_files(path) if fmt == "metaimage" else ()


@_malformed_files_raise_image_read_error
def read_header(path: str | Path, *, image_type: str | None = None) -> ImageHeader:
    """Grid, kind, voxel type and frame count of an image file without reading its voxels.

    Parameters
    ----------
    path : str or Path
    image_type : str, optional
        As for :func:`read_image`; ``LabelMap``/``Segmentation`` give kind ``segmentation``.

    Raises
    ------
    ImageReadError
        As :func:`read_image`, for what the header alone shows.
    """
    file = Path(path)
    _check_type(image_type, file)
    fmt, header = ("rtstruct", None) if image_type == "RTStruct" else _sniff(file)
    kind: Literal["volume", "segmentation"] = "segmentation" if image_type in _LABEL_TYPES else "volume"
    for_uid: str | None = None
    segments: tuple[Segment, ...] | None = None
    if fmt in ("rtstruct", "dicom_seg"):
        # derived objects carry no grid of their own: read them onto their reference
        image = read_image(file, image_type=image_type)
        grid, dtype, frames, kind, for_uid = image.grid, "uint8", 1, "segmentation", image.frame_of_reference_uid
        segments = image.segments if isinstance(image, Segmentation) else None
    elif fmt == "dicom":
        grid, for_uid, dtype, frames, _ = read_dicom_series_header(file)
    elif fmt == "sliceomatic_tag":
        tag = read_sliceomatic_tag(file)
        grid, dtype, frames, kind, segments = tag.grid, "uint8", 1, "segmentation", tag.segments
    elif header is not None:  # nrrd, seg_nrrd: the header sniffing parsed
        if fmt == "seg_nrrd":
            grid, frames, kind = seg_nrrd_geometry(header, str(file)), 1, "segmentation"
            segments = seg_nrrd_segments(header)
        else:
            grid, other = nrrd_geometry(header, str(file))
            frames = 1 if other is None or nrrd_is_rgb(header, other) else int(header["sizes"][other])
        dtype = str(nrrd_dtype(header))
    elif fmt in ("metaimage", "picture"):
        volume = read_metaimage(file) if fmt == "metaimage" else read_picture(file)
        grid, dtype, frames = volume.grid, str(volume.array.dtype), 1
    else:
        grid, dtype_np, frames = read_nifti_header(file)
        dtype = str(dtype_np)
    return ImageHeader(
        path=str(file),
        format=fmt,
        kind=kind,
        grid=grid,
        dtype=dtype,
        frames=frames,
        frame_of_reference_uid=for_uid,
        segments=segments,
    )


def write_image(
    image: Volume | Segmentation,
    path: str | Path,
    *,
    reference: str | Path | None = None,
    seg_type: str = "binary",
) -> None:
    """Write ``image`` in the format its file name asks for.

    ``.seg.nrrd`` (Slicer segmentation), ``.nrrd``/``.nhdr`` (volume or one-layer label map),
    ``.nii``/``.nii.gz`` (volume, or label map: one layer), ``.dcm`` (DICOM SEG of ``seg_type``
    binary, labelmap or fractional; needs ``reference``, the image series it was drawn on).
    A segmentation with ``probabilities`` (read from a FRACTIONAL SEG) keeps them in NIfTI
    (float32; one frame per segment when there are several) and in a fractional SEG; label-map
    outputs (``.seg.nrrd``, ``.nrrd``, binary/labelmap SEG) hold them thresholded at 0.5.

    Raises
    ------
    SegmentationError
        If the format cannot hold the image (a Volume as ``.seg.nrrd``/DICOM SEG, several layers
        as NIfTI or plain NRRD).
    GeometryError
        If a DICOM SEG's reference series has another grid.
    """
    name = Path(path).name.lower()
    segmentation = image if isinstance(image, Segmentation) else None
    if name.endswith((".seg.nrrd", ".dcm")) and segmentation is None:
        raise SegmentationError(
            f"{path}: {image.source or 'the image'} was read as a volume, which cannot be written as a segmentation; "
            "read a label map with --type LabelMap (a mask series: --type Segmentation), or write .nrrd or .nii.gz"
        )
    if name.endswith(".seg.nrrd") and segmentation is not None:
        write_seg_nrrd(segmentation, path)
    elif name.endswith(".dcm") and segmentation is not None:
        if reference is None:
            raise SegmentationError(f"{path}: a DICOM SEG references its image series; give --reference SERIES")
        write_dicom_seg(segmentation, path, reference=reference, seg_type=seg_type)
    elif name.endswith((".nrrd", ".nhdr")):
        write_nrrd(image, path)
    elif name.endswith((".nii", ".nii.gz")) and segmentation is not None and segmentation.probabilities is not None:
        fractions = segmentation.probabilities
        write_nifti(Volume(fractions[0] if len(fractions) == 1 else fractions, segmentation.grid), path)
    elif name.endswith((".nii", ".nii.gz")):
        if segmentation is not None and segmentation.layers.shape[0] > 1:
            raise SegmentationError(
                f"{path}: the segmentation has {segmentation.layers.shape[0]} overlapping layers; NIfTI holds one. "
                "Write .seg.nrrd or .dcm instead."
            )
        write_nifti(image, path)
    else:
        raise SegmentationError(f"{path}: unknown output format; use .seg.nrrd, .nrrd, .nhdr, .nii, .nii.gz or .dcm")
