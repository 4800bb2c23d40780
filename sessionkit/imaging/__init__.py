"""The one image model: arrays on an :class:`~sessionkit.geometry.ImageGrid`, no file formats.

* :class:`Volume`: a scalar image (CT, MR, PET, ...), ``array`` shape ``(slice, row, column)``;
  a sequence of them (``Image Type="VolumeSequence"``) adds a leading frame axis,
  ``(frame, slice, row, column)``; a colour picture (``Type="Vector"``, ``is_rgb``) adds a
  trailing channel axis of 3 instead, ``(slice, row, column, 3)`` uint8 RGB.
* :class:`Segmentation`: one or more label-map **layers** sharing one grid, shape
  ``(layer, slice, row, column)``; each :class:`Segment` is a ``label_value`` in one layer
  (Slicer's ``.seg.nrrd`` model, which also covers overlapping segments). A FRACTIONAL DICOM SEG
  also keeps each segment's probabilities (``probabilities``, float in [0, 1]); its layers hold
  them thresholded at 0.5, which is what display and label-map outputs use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from sessionkit.errors import SegmentationError
from sessionkit.geometry import ImageGrid

RGB = tuple[int, int, int]


@dataclass(frozen=True, eq=False)
class Volume:
    """A scalar image, a sequence of scalar images, or an RGB colour image.

    Attributes
    ----------
    array : ndarray
        Shape rules (the grid describes the spatial axes only):

        * scalar: ``grid.spatial_shape``, i.e. ``(slice, row, column)``;
        * sequence: ``(frame,) + grid.spatial_shape`` (frames first, e.g. cardiac phases);
        * RGB (``is_rgb``): ``grid.spatial_shape + (3,)``, dtype uint8, channels R, G, B 0-255.

        Scalar voxel values are after any rescale (e.g. Hounsfield units); dtype as stored or float.
    grid : ImageGrid
        Geometry in LPS mm.
    frame_of_reference_uid : str or None
        DICOM FrameOfReferenceUID when the source carries one.
    source : str
        Path the image was read from (for messages).
    is_rgb : bool
        The array's last axis holds R, G, B (colour pictures of ``Image Type="Vector"``,
        session-format §6.3). Default False.

    Raises
    ------
    SegmentationError
        If the array shape does not follow the rules above (wrong spatial shape, an RGB array
        that is not uint8 with a trailing axis of 3, more than 4 axes).
    """

    array: npt.NDArray[np.generic]
    grid: ImageGrid
    frame_of_reference_uid: str | None = None
    source: str = ""
    is_rgb: bool = False

    kind: Literal["volume"] = "volume"

    def __post_init__(self) -> None:
        shape = tuple(self.array.shape)
        if self.is_rgb:
            if shape != (*self.grid.spatial_shape, 3) or self.array.dtype != np.uint8:
                raise SegmentationError(
                    f"RGB array has shape {shape} and type {self.array.dtype}; expected "
                    f"{(*self.grid.spatial_shape, 3)} uint8 (slice, row, column, channel)"
                )
        elif shape[-3:] != self.grid.spatial_shape or len(shape) > 4:
            raise SegmentationError(
                f"array shape {shape} does not end with the grid shape {self.grid.spatial_shape}; expected "
                "(slice, row, column) or (frame, slice, row, column)"
            )

    @property
    def frames(self) -> int:
        """Number of frames: ``array.shape[0]`` for a sequence, else 1 (RGB channels are not frames)."""
        return int(self.array.shape[0]) if self.array.ndim == 4 and not self.is_rgb else 1


@dataclass(frozen=True)
class Segment:
    """One segment of a :class:`Segmentation`.

    Attributes
    ----------
    segment_id : str
        Stable identifier (``Segment<k>_ID`` in ``.seg.nrrd``, SegmentNumber in DICOM SEG).
    name : str
        Human-readable name (``Segment<k>_Name``, SegmentLabel, ROIName); what ``ROI`` elements match.
    label_value : int
        Voxel value of the segment in its layer (1..).
    color : tuple of 3 int
        Display colour, RGB 0-255.
    layer : int
        Index into ``Segmentation.layers``.
    """

    segment_id: str
    name: str
    label_value: int
    color: RGB
    layer: int = 0


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Label-map layers plus the segment table.

    Attributes
    ----------
    layers : ndarray of unsigned/signed int, shape ``(n_layers,) + grid.spatial_shape``
        Label values; 0 is background.
    grid : ImageGrid
    segments : tuple of Segment
    frame_of_reference_uid : str or None
    source : str
    probabilities : ndarray of float32, shape ``(len(segments),) + grid.spatial_shape``, or None
        Per segment (in ``segments`` order), the probability or occupancy fraction of each voxel in
        [0, 1] (FRACTIONAL DICOM SEG, PS3.3 C.8.20.2.3); ``layers`` hold it thresholded at 0.5.
        ``None`` for binary and label-map sources.

    Raises
    ------
    SegmentationError
        If ``layers`` is not 4-D on the grid, a segment points at a missing layer, or
        ``probabilities`` is not one float array per segment on the grid.
    """

    layers: npt.NDArray[np.integer]
    grid: ImageGrid
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    frame_of_reference_uid: str | None = None
    source: str = ""
    probabilities: npt.NDArray[np.floating] | None = None

    kind: Literal["segmentation"] = "segmentation"

    def __post_init__(self) -> None:
        if self.layers.ndim != 4 or tuple(self.layers.shape[1:]) != self.grid.spatial_shape:
            raise SegmentationError(
                f"layers must have shape (n_layers,) + {self.grid.spatial_shape}, found {self.layers.shape}"
            )
        for segment in self.segments:
            if not 0 <= segment.layer < self.layers.shape[0]:
                raise SegmentationError(
                    f"segment {segment.name!r} is in layer {segment.layer}, but there are {self.layers.shape[0]}"
                )
        expected = (len(self.segments), *self.grid.spatial_shape)
        if self.probabilities is not None and (
            tuple(self.probabilities.shape) != expected or not np.issubdtype(self.probabilities.dtype, np.floating)
        ):
            raise SegmentationError(
                f"probabilities must be a float array of shape {expected} (one per segment), found "
                f"{self.probabilities.dtype} {self.probabilities.shape}"
            )

    def mask(self, segment: Segment) -> npt.NDArray[np.bool_]:
        """Boolean mask, shape ``grid.spatial_shape``, of the voxels of ``segment``."""
        return np.asarray(self.layers[segment.layer] == segment.label_value)

    def voxel_count(self, segment: Segment) -> int:
        """Number of voxels of ``segment``."""
        return int(np.count_nonzero(self.mask(segment)))

    def segment_named(self, name: str) -> Segment | None:
        """The segment whose name (else ID) equals ``name`` exactly (session-format §6.4)."""
        for segment in self.segments:
            if segment.name == name:
                return segment
        for segment in self.segments:
            if segment.segment_id == name:
                return segment
        return None


Image = Volume | Segmentation
