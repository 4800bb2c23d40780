"""The image probe of the validator's files pass (stage 4), backed by the io readers.

``sessionkit.session`` checks files without decoding images; it takes an
:class:`~sessionkit.session.files.ImageProbe`. This one reads headers where they suffice and whole
segmentations only where segment names are needed (rules SK804, SK805, SK808–SK810).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation
from sessionkit.io import read_header, read_image
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


def probe_image(path: Path, image: SessionImage) -> ImageFacts:
    """Header facts of one session image for the files pass.

    Raises
    ------
    ImageReadError
        When the file cannot be read as its ``Type`` (reported as SK804).
    """
    if image.type not in _GRID_TYPES:
        return ImageFacts()
    if image.type == "Segmentation":
        segmentation = read_image(path, image_type=image.type)
        if not isinstance(segmentation, Segmentation):
            raise ImageReadError(f"{path}: read as a {segmentation.kind}, expected a segmentation")
        names = tuple(dict.fromkeys(n for s in segmentation.segments for n in (s.name, s.segment_id)))
        return ImageFacts(
            grid=segmentation.grid,
            bounds=grid_bounds(segmentation.grid),
            frame_of_reference_uid=segmentation.frame_of_reference_uid,
            segment_names=names,
        )
    header = read_header(path, image_type=image.type)
    integer = bool(np.issubdtype(np.dtype(header.dtype), np.integer))
    facts = ImageFacts(grid=header.grid, bounds=grid_bounds(header.grid))
    if image.type != "LabelMap":
        return facts
    labels = read_image(path, image_type="LabelMap") if integer else None
    min_value = float(labels.layers.min()) if isinstance(labels, Segmentation) else None
    return ImageFacts(grid=facts.grid, bounds=facts.bounds, integer_voxels=integer, min_value=min_value)
