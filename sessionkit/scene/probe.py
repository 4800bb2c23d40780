"""The image probe of the validator's files pass (stage 4), backed by the io readers.

``sessionkit.session`` checks files without decoding images; it takes an
:class:`~sessionkit.session.files.ImageProbe`. This one reads headers where they suffice (a
``.seg.nrrd``'s segment names too) and decodes a segmentation only where its segments are its
label values (rules SK804, SK805, SK808–SK810; SK804 also for NRRD/NIfTI data shorter than the
header declares), and the DICOM identity of ``DicomRead="Y"`` and RTStruct images (SK806, SK807).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation
from sessionkit.io import ImageHeader, read_header, read_image
from sessionkit.io.dicom_identity import read_series_instance_uid
from sessionkit.io.dicom_series import is_dicom
from sessionkit.io.integrity import check_data_length
from sessionkit.io.registry import header_data_files
from sessionkit.io.rtstruct import find_reference
from sessionkit.session.files import ImageFacts
from sessionkit.session.model import SessionImage

#: Types the probe decodes (others, e.g. Vector pictures, are only checked for existence).
_GRID_TYPES = frozenset({"Volume", "VolumeSequence", "LabelMap", "Segmentation"})


def grid_bounds(grid: ImageGrid) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """LPS mm bounding box (min corner, max corner) of the voxel centres of ``grid``."""
    corners = [
        [a * (n - 1) for a, n in zip(c, grid.spatial_shape, strict=True)] for c in itertools.product((0, 1), repeat=3)
    ]
    points = grid.index_to_lps(corners)
    low, high = points.min(axis=0), points.max(axis=0)
    return (float(low[0]), float(low[1]), float(low[2])), (float(high[0]), float(high[1]), float(high[2]))


def dicom_facts(path: Path, image: SessionImage) -> ImageFacts | None:
    """DICOM identity of an RTStruct or ``DicomRead="Y"`` image; ``None`` for other images.

    An RTStruct reports the series it references (``referenced_series_uids``, for SK807) and the
    names and numbers of its contoured ROIs (``segment_names``, for SK810, without rasterising); a
    ``DicomRead="Y"`` image its own ``series_instance_uid``. ``dicom_problem`` (SK806) says why the
    file cannot be used that way: not DICOM, no SeriesInstanceUID, or an RTStruct without the
    ReferencedFrameOfReferenceSequence > RTReferencedStudySequence > RTReferencedSeriesSequence chain.
    """
    if image.type != "RTStruct" and not image.dicom_read:
        return None
    if not is_dicom(path):
        return ImageFacts(dicom_problem="the file is not DICOM (no 'DICM' preamble or DICOM data set)")
    try:
        if image.type == "RTStruct":
            references = find_reference(path)
            referenced = references.series_instance_uid
            if not referenced:
                return ImageFacts(
                    dicom_problem="the RTStruct lacks its referenced-series chain (ReferencedFrameOfReferenceSequence"
                    " > RTReferencedStudySequence > RTReferencedSeriesSequence > SeriesInstanceUID)"
                )
            return ImageFacts(
                frame_of_reference_uid=references.frame_of_reference_uid,
                referenced_series_uids=(referenced,),
                segment_names=references.roi_names,
            )
        uid = read_series_instance_uid(path)
    except ImageReadError as exc:
        return ImageFacts(dicom_problem=str(exc))
    if uid is None:
        return ImageFacts(dicom_problem="the file has no SeriesInstanceUID (0020,000E)")
    return ImageFacts(series_instance_uid=uid)


def probe_image(path: Path, image: SessionImage) -> ImageFacts:
    """Header facts of one session image for the files pass.

    DICOM identity first (:func:`dicom_facts`): a ``DicomRead="Y"`` file that is not a usable
    series reports only its SK806 problem, and an RTStruct only what it references; other images
    then have their grid read.

    Raises
    ------
    ImageReadError
        When the file cannot be read as its ``Type`` (reported as SK804).
    """
    dicom = dicom_facts(path, image)
    if dicom is not None and (dicom.dicom_problem or image.type == "RTStruct"):
        return dicom
    facts = _grid_facts(path, image)
    return facts if dicom is None else replace(facts, series_instance_uid=dicom.series_instance_uid)


def _grid_facts(path: Path, image: SessionImage) -> ImageFacts:
    if image.type not in _GRID_TYPES:
        return ImageFacts()
    data_files = header_data_files(path) if path.is_file() else ()
    if any(not file.resolve().is_file() for file in data_files):
        return ImageFacts(data_files=data_files)  # the files pass reports it; a device is never read
    header = read_header(path, image_type=image.type)
    check_data_length(path)  # a cut NRRD/NIfTI: SK804 now rather than when a reader opens the page
    return replace(_header_facts(path, image, header), data_files=data_files)


def _header_facts(path: Path, image: SessionImage, header: ImageHeader) -> ImageFacts:
    if image.type == "Segmentation":
        grid, for_uid, segments = header.grid, header.frame_of_reference_uid, header.segments
        if segments is None:  # a label map: its segments are the label values present
            segmentation = read_image(path, image_type=image.type)
            if not isinstance(segmentation, Segmentation):
                raise ImageReadError(f"{path}: read as a {segmentation.kind}, expected a segmentation")
            grid, for_uid, segments = segmentation.grid, segmentation.frame_of_reference_uid, segmentation.segments
        names = tuple(dict.fromkeys(n for s in segments for n in (s.name, s.segment_id)))
        return ImageFacts(grid=grid, bounds=grid_bounds(grid), frame_of_reference_uid=for_uid, segment_names=names)
    integer = bool(np.issubdtype(np.dtype(header.dtype), np.integer))
    facts = ImageFacts(grid=header.grid, bounds=grid_bounds(header.grid))
    if image.type != "LabelMap":
        return facts
    labels = read_image(path, image_type="LabelMap") if integer else None
    min_value = float(labels.layers.min()) if isinstance(labels, Segmentation) else None
    return ImageFacts(grid=facts.grid, bounds=facts.bounds, integer_voxels=integer, min_value=min_value)
