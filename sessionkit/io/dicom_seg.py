"""DICOM Segmentation objects (SEG: BINARY, FRACTIONAL; Label Map Segmentation) via highdicom.

Each frame of a SEG is placed on the grid of the referenced image series by its own geometry
(``PlanePositionSequence``/``PlaneOrientationSequence`` of the functional groups, DICOM PS3.3
C.7.6.16), so segments that cover only some slices land on the right ones and references that
dangle do not matter once the series is known. Without the series (no reference given, none found
near the file) the grid comes from the SEG itself: the frames' positions, orientation and
``PixelMeasuresSequence`` (highdicom's ``get_volume_geometry``), with the slice axis along
row x column direction as for an image series, so frames stored in any order land on their slice.
Bit-packed BINARY frames whose pixel count is not a multiple of 8 follow each other without padding
(PS3.5 8.1.1); pydicom unpacks them. Pixel meaning (PS3.3 C.8.20.2): BINARY frames are 0/1 per
segment (``SegmentIdentificationSequence``); FRACTIONAL values are divided by
``MaximumFractionalValue``, kept as the segments' ``probabilities`` and thresholded at 0.5 for the
label layers; Label Map frames hold segment numbers
(segment 0 = background; values without a segment, e.g. ``PixelPaddingValue``, are dropped).
Colours come from ``RecommendedDisplayCIELabValue`` converted to RGB by highdicom.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.sr.codedict import codes

from sessionkit.errors import GeometryError, ImageReadError, SegmentationError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import RGB, Segmentation, Volume
from sessionkit.imaging.palette import generic_color
from sessionkit.io._common import SparseMask, pack_segments, require_file
from sessionkit.io.dicom_series import (
    find_series,
    functional_item,
    is_dicom,
    ordered_series_files,
    read_dataset,
    read_dicom_series_header,
)
from sessionkit.version import __version__

SEG_SOP_CLASSES = ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7")
LABELMAP_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.7"
#: DICOM SEG outputs (``--seg-type``): SegmentationType BINARY, Label Map Segmentation, FRACTIONAL.
SEG_TYPES = ("binary", "labelmap", "fractional")
#: A frame's position may be this far (in voxels) from a voxel of the reference grid.
POSITION_TOLERANCE_VOXELS = 0.01


def _read(path: Path) -> Any:
    try:
        return hd.seg.segread(str(path))
    except (InvalidDicomError, OSError, ValueError, AttributeError, KeyError) as exc:
        raise ImageReadError(f"{path}: not a readable DICOM Segmentation ({exc})") from exc


def referenced_series(dataset: Any) -> tuple[str | None, str | None]:
    """``(FrameOfReferenceUID, referenced SeriesInstanceUID)`` of a SEG."""
    series = getattr(dataset, "ReferencedSeriesSequence", None)
    series_uid = str(series[0].SeriesInstanceUID) if series else None
    for_uid = getattr(dataset, "FrameOfReferenceUID", None)
    return (None if for_uid is None else str(for_uid)), series_uid


def read_dicom_seg_references(path: str | Path) -> tuple[str | None, str | None]:
    """``(FrameOfReferenceUID, referenced SeriesInstanceUID)`` of a SEG file, without its pixels."""
    return referenced_series(read_dataset(require_file(path), stop_before_pixels=True))


def _color(description: Any, index: int) -> RGB:
    lab = getattr(description, "RecommendedDisplayCIELabValue", None)
    if lab is None:
        return generic_color(index)
    r, g, b = hd.color.CIELabColor.from_dicom_value([int(v) for v in lab]).to_rgb(clip=True)
    return (int(r), int(g), int(b))


def _frame_slices(dataset: Any, grid: ImageGrid, source: str) -> list[int]:
    """Slice index of the reference grid for every frame, checked against the grid's geometry."""
    shared = dataset.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in dataset else None
    expected = np.concatenate([grid.direction[:, 2], grid.direction[:, 1]])
    if (int(dataset.Rows), int(dataset.Columns)) != grid.spatial_shape[1:]:
        raise ImageReadError(
            f"{source}: frames are {dataset.Rows}x{dataset.Columns}, the reference image "
            f"{grid.spatial_shape[1]}x{grid.spatial_shape[2]}; expected a SEG drawn on that image"
        )
    indices = []
    for number, group in enumerate(dataset.PerFrameFunctionalGroupsSequence, start=1):
        plane = functional_item(group, shared, "PlaneOrientationSequence")
        if plane is None:
            raise ImageReadError(f"{source}: frame {number} has no PlaneOrientationSequence")
        orientation = np.array([float(v) for v in plane.ImageOrientationPatient])
        if np.max(np.abs(orientation - expected)) > 1e-4:
            raise ImageReadError(
                f"{source}: frame {number} orientation {orientation.tolist()} differs from the reference image's "
                f"{np.round(expected, 5).tolist()}"
            )
        position = [float(v) for v in group.PlanePositionSequence[0].ImagePositionPatient]
        index = grid.lps_to_index([position])[0]
        nearest = np.rint(index)
        if np.max(np.abs(index - nearest)) > POSITION_TOLERANCE_VOXELS or nearest[1] != 0 or nearest[2] != 0:
            raise ImageReadError(
                f"{source}: frame {number} at {position} is not a slice of the reference image (index "
                f"{np.round(index, 3).tolist()}); expected whole slices on the reference grid"
            )
        if not 0 <= nearest[0] < grid.spatial_shape[0]:
            raise ImageReadError(f"{source}: frame {number} at {position} lies outside the reference image")
        indices.append(int(nearest[0]))
    return indices


def own_grid(dataset: Any, source: str) -> ImageGrid:
    """The grid a SEG's frames span, from its own functional groups (no reference image needed).

    Parameters
    ----------
    dataset : highdicom.seg.Segmentation
        The SEG as read by highdicom.
    source : str
        File name used in messages.

    Returns
    -------
    ImageGrid
        ``(slices, Rows, Columns)`` from the lowest to the highest frame position along
        ``row direction x column direction`` (LPS mm; the convention of a DICOM image series),
        slice spacing from the positions (or ``SpacingBetweenSlices``/``SliceThickness`` for a
        single frame); slices without a frame are part of the grid.

    Raises
    ------
    ImageReadError
        If the frames do not form a regularly spaced stack of parallel planes, or lack
        positions, orientation or pixel spacing; the fix is to give the reference image.
    """
    try:
        geometry = dataset.get_volume_geometry()
    except (AttributeError, KeyError, ValueError, TypeError, IndexError) as exc:
        geometry = None
        reason = f" ({exc})"
    else:
        reason = ""
    if geometry is None:
        raise ImageReadError(
            f"{source}: the SEG's frames do not define a regular 3-D grid{reason} and its referenced series was "
            "not found near the file; give the reference image (--reference)"
        )
    affine = np.array(geometry.affine, dtype=np.float64)
    shape = tuple(int(n) for n in geometry.spatial_shape)
    columns, rows = affine[:3, 2], affine[:3, 1]
    if float(np.dot(affine[:3, 0], np.cross(columns, rows))) < 0:  # highdicom stacks against the normal
        affine[:3, 3] = affine[:3, 3] + (shape[0] - 1) * affine[:3, 0]
        affine[:3, 0] = 0.0 - affine[:3, 0]  # (0.0 - x avoids printing -0.0)
    return ImageGrid((shape[0], shape[1], shape[2]), affine)


def read_dicom_seg(path: str | Path, reference: Volume | ImageGrid | str | Path | None = None) -> Segmentation:
    """Read a DICOM SEG onto the grid of its reference image series.

    Parameters
    ----------
    path : str or Path
    reference : Volume, ImageGrid, str or Path, optional
        The reference image (or one file/folder of its series). Default: the series named in
        ``ReferencedSeriesSequence``, found near the file (else one sharing the frame of reference),
        else the grid of the SEG's own frames (:func:`own_grid`).

    Returns
    -------
    Segmentation
        One segment per SEG segment with pixels (``segment_id`` = SegmentNumber, ``name`` =
        SegmentLabel, colour from CIELab), packed into as few layers as overlaps allow.

    Raises
    ------
    ImageReadError
        If the file is not a SEG, a frame does not lie on a slice of the reference grid (size,
        orientation or position differ), or no reference is found and the SEG's own frames do
        not define a regular grid.
    """
    file = require_file(path)
    dataset = _read(file)
    for_uid, series_uid = referenced_series(dataset)
    if isinstance(reference, Volume):
        grid = reference.grid
    elif isinstance(reference, ImageGrid):
        grid = reference
    else:
        if reference is None:
            reference, _ = find_series(file, series_uid, for_uid)
        grid = own_grid(dataset, str(file)) if reference is None else read_dicom_series_header(reference)[0]
    slices = _frame_slices(dataset, grid, str(file))
    frames = np.asarray(dataset.pixel_array)
    frames = frames.reshape(len(slices), *grid.spatial_shape[1:])
    labelmap = str(dataset.SOPClassUID) == LABELMAP_SOP_CLASS
    fractions: npt.NDArray[np.float32] | None = None
    if str(getattr(dataset, "SegmentationType", "")) == "FRACTIONAL":
        fractions = (frames / np.float32(dataset.MaximumFractionalValue)).astype(np.float32)
        frames = fractions >= 0.5
    shared_sequence = getattr(dataset, "SharedFunctionalGroupsSequence", None)
    shared = shared_sequence[0] if shared_sequence else None
    frame_segments: list[int | None] = []
    for number, group in enumerate(dataset.PerFrameFunctionalGroupsSequence, start=1):
        identification = None if labelmap else functional_item(group, shared, "SegmentIdentificationSequence")
        if not labelmap and identification is None:
            raise ImageReadError(f"{file}: frame {number} has no SegmentIdentificationSequence")
        frame_segments.append(None if identification is None else int(identification.ReferencedSegmentNumber))
    entries = []
    probabilities: list[npt.NDArray[np.float32]] = []
    for index, description in enumerate(dataset.SegmentSequence):
        number = int(description.SegmentNumber)
        if labelmap and number == 0:
            continue
        mask: SparseMask = {}
        probability = None if fractions is None else np.zeros(grid.spatial_shape, dtype=np.float32)
        for frame_index, slice_index in enumerate(slices):
            if labelmap:
                pixels = frames[frame_index] == number
            elif frame_segments[frame_index] == number:
                pixels = frames[frame_index] > 0
                if probability is not None and fractions is not None:
                    probability[slice_index] = np.maximum(probability[slice_index], fractions[frame_index])
            else:
                continue
            previous = mask.get(slice_index)
            mask[slice_index] = (0, 0, pixels if previous is None else previous[2] | pixels)
        name = str(getattr(description, "SegmentLabel", f"Segment_{number}"))
        entries.append((str(number), name, _color(description, index), mask))
        if probability is not None:
            probabilities.append(probability)
    layers, segments = pack_segments(entries, grid.spatial_shape)
    return Segmentation(
        layers=layers,
        grid=grid,
        segments=segments,
        frame_of_reference_uid=for_uid,
        source=str(file),
        probabilities=np.stack(probabilities) if fractions is not None and probabilities else None,
    )


def write_dicom_seg(
    segmentation: Segmentation,
    path: str | Path,
    *,
    reference: str | Path,
    series_description: str = "sessionkit segmentation",
    seg_type: str = "binary",
) -> None:
    """Write a Segmentation as a DICOM SEG referencing its source image series (highdicom).

    Parameters
    ----------
    segmentation : Segmentation
        Must lie on the grid of the reference series (checked).
    path : str or Path
    reference : str or Path
        One file or the folder of the single-frame image series the segmentation was drawn on;
        the SEG copies its patient/study and references every slice.
    series_description : str
    seg_type : {"binary", "labelmap", "fractional"}
        ``binary``: one bit per voxel and segment (overlaps allowed); ``labelmap``: a Label Map
        Segmentation (SOP class 1.2.840.10008.5.1.4.1.1.66.7, one segment number per voxel, no
        overlaps); ``fractional``: PROBABILITY values, the segmentation's ``probabilities`` when it
        has them (read from a FRACTIONAL SEG), else 0 or 1.

    Raises
    ------
    GeometryError
        If the segmentation's grid differs from the series' grid (each difference is named).
    ImageReadError
        If the reference is not DICOM (e.g. a NRRD) or not a readable single-frame series.
    SegmentationError
        If the segmentation has no segment, ``seg_type`` is unknown, or ``labelmap`` is asked of
        overlapping segments.
    """
    if seg_type not in SEG_TYPES:
        raise SegmentationError(f"unknown DICOM SEG type {seg_type!r}; use one of {', '.join(SEG_TYPES)}")
    if Path(reference).is_file() and not is_dicom(Path(reference)):
        raise ImageReadError(
            f"{reference}: not a DICOM file; a DICOM SEG references the DICOM image series it was drawn on: give "
            "one file or the folder of that series as --reference (for a NRRD/NIfTI background, write .seg.nrrd)"
        )
    grid, files = ordered_series_files(reference)
    differences = grid.differences(segmentation.grid)
    if differences:
        raise GeometryError(
            f"{segmentation.source or 'segmentation'}: grid differs from the reference series {reference}: "
            f"{'; '.join(differences)}; resample it onto the series or pick the series it was drawn on"
        )
    if not segmentation.segments:
        raise SegmentationError(f"{segmentation.source or 'segmentation'}: no segment to write")
    sources = [pydicom.dcmread(str(file)) for file in files]
    for source in sources:
        if "SpecificCharacterSet" in source and not source.SpecificCharacterSet:
            del source.SpecificCharacterSet  # an empty value means the default repertoire; highdicom refuses ''
    pixels = _pixel_array(segmentation, seg_type)
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=segment.name,
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            display_color=hd.color.CIELabColor.from_rgb(*segment.color),
        )
        for number, segment in enumerate(segmentation.segments, start=1)
    ]
    with warnings.catch_warnings():
        # highdicom re-checks person names copied from the source images; the writer cannot fix them
        warnings.filterwarnings("ignore", message=".*unlikely to represent the intended person name")
        try:
            seg = _segmentation(sources, pixels, seg_type, descriptions, series_description)
        except (ValueError, TypeError, AttributeError) as exc:
            raise SegmentationError(f"cannot build a DICOM SEG on {reference}: {exc}") from exc
    seg.save_as(str(path))


def _pixel_array(segmentation: Segmentation, seg_type: str) -> npt.NDArray[Any]:
    """What highdicom encodes: ``(slice, row, column, segment)`` 0/1 or fractions, or a ``(slice, row,
    column)`` map of segment numbers 1.. (``labelmap``)."""
    source = segmentation.source or "segmentation"
    if seg_type == "labelmap":
        if segmentation.layers.shape[0] > 1:
            raise SegmentationError(
                f"{source}: its segments overlap ({segmentation.layers.shape[0]} layers); a LABELMAP SEG holds one "
                "segment per voxel: use --seg-type binary (or fractional)"
            )
        labels = np.zeros(segmentation.grid.spatial_shape, dtype=np.uint16)
        for number, segment in enumerate(segmentation.segments, start=1):
            labels[segmentation.mask(segment)] = number
        return labels if len(segmentation.segments) > 255 else labels.astype(np.uint8)
    if seg_type == "fractional" and segmentation.probabilities is not None:
        return np.moveaxis(segmentation.probabilities.astype(np.float32), 0, -1)
    masks = np.stack([segmentation.mask(segment) for segment in segmentation.segments], axis=-1)
    return masks.astype(np.float32 if seg_type == "fractional" else np.uint8)


def _segmentation(
    sources: list[Any], pixels: npt.NDArray[Any], seg_type: str, descriptions: list[Any], description: str
) -> Any:
    kind = {
        "binary": hd.seg.SegmentationTypeValues.BINARY,
        "labelmap": hd.seg.SegmentationTypeValues.LABELMAP,
        "fractional": hd.seg.SegmentationTypeValues.FRACTIONAL,
    }[seg_type]
    return hd.seg.Segmentation(
        source_images=sources,
        pixel_array=pixels,
        segmentation_type=kind,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=int(getattr(sources[0], "SeriesNumber", 0) or 0) + 1000,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="sessionkit",
        manufacturer_model_name="sessionkit",
        software_versions=__version__,
        device_serial_number="0",
        series_description=description,
    )
