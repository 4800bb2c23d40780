"""Contour metrics of two masks on one image grid (analysis.md §3.4): overlap, volume and surface distances.

Surface points and their areas are those of DeepMind's ``surface-distance`` (Nikolov et al. 2021,
Apache-2.0): a voxel is a surface element when its 2×2×2 neighbourhood (the voxel and its neighbours
towards lower indices) is neither empty nor full, and its area in mm² comes from the marching-cubes
normals of that neighbourhood code (``data/surfel_normals.json``, copied from the package's
``lookup_tables.py``) scaled by the voxel spacing. Distances are Euclidean distance transforms in mm on
the grid's spacing; a grid's direction is a rotation (orthonormal columns), which keeps distances, so
oblique grids are measured exactly. A sheared grid (non-orthogonal axes) is refused.

Empty masks follow Metrics Reloaded: Dice, Jaccard and surface Dice of two empty masks are 1, of one
empty mask 0; every distance to or from an empty mask is NaN.
"""

from __future__ import annotations

import importlib.resources
import json
import math
from dataclasses import asdict, dataclass
from functools import cache, cached_property

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from sessionkit.errors import GeometryError
from sessionkit.geometry import ImageGrid

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

#: Weights of the 2×2×2 neighbourhood code, as ``surface-distance`` encodes it.
_NEIGHBOURHOOD_KERNEL = np.array([[[128, 64], [32, 16]], [[8, 4], [2, 1]]], dtype=np.uint8)
#: Tolerance on the orthogonality of a grid's axes (radians, as cosine of the angle between them).
_ORTHOGONAL_TOL = 1e-4


@cache
def _surfel_normals() -> tuple[FloatArray, ...]:
    """The marching-cubes normals of each of the 256 neighbourhood codes (surface-distance's table)."""
    text = importlib.resources.files("sessionkit.analysis").joinpath("data", "surfel_normals.json").read_text()
    return tuple(np.asarray(code, dtype=np.float64).reshape(-1, 3) for code in json.loads(text))


@cache
def surfel_area_table(spacing_mm: tuple[float, float, float]) -> FloatArray:
    """Area (mm²) of the surface element of each neighbourhood code 0–255 for voxels of ``spacing_mm``.

    Parameters
    ----------
    spacing_mm : tuple of 3 float
        mm between voxel centres along the array axes ``(slice, row, column)``.

    Returns
    -------
    (256,) ndarray of float64
        ``surface-distance``'s ``create_table_neighbour_code_to_surface_area``.
    """
    s0, s1, s2 = spacing_mm
    scale = np.array([s1 * s2, s0 * s2, s0 * s1])
    return np.array([float(np.linalg.norm(normals * scale, axis=1).sum()) for normals in _surfel_normals()])


def grid_spacing(grid: ImageGrid) -> tuple[float, float, float]:
    """The grid's spacing (mm per array axis) after checking its axes are orthogonal.

    Raises
    ------
    GeometryError
        When two axes of the grid's direction are not perpendicular (a sheared grid), where spacing alone
        does not give distances in mm.
    """
    direction = grid.direction
    cosines = direction.T @ direction - np.eye(3)
    if np.abs(cosines).max() > _ORTHOGONAL_TOL:
        raise GeometryError(
            f"the image grid's axes are not perpendicular (direction {np.round(direction, 6).tolist()}); "
            "contour distances need an orthogonal grid: resample the image and its contours onto one"
        )
    s0, s1, s2 = (float(s) for s in grid.spacing)
    return (s0, s1, s2)


@dataclass(frozen=True)
class ContourMetrics:
    """Metrics of a test mask against a reference mask (analysis.md §3.4); distances in mm, volumes in mL.

    ``volume_diff_ml`` is test − reference. ``hd_mm``/``hd95_mm`` are surface-distance's robust
    Hausdorff at the 100th/95th percentile, ``msd_mm`` the mean of its two directed average surface
    distances, ``surface_dice`` its surface Dice at ``tolerance_mm``. NaN where a mask is empty.
    """

    dice: float
    jaccard: float
    volume_ml: float
    reference_volume_ml: float
    volume_diff_ml: float
    hd_mm: float
    hd95_mm: float
    msd_mm: float
    surface_dice: float
    tolerance_mm: float

    def to_json(self) -> dict[str, float]:
        """The metrics by name (NaN kept; :func:`sessionkit.analysis.output.dumps` writes ``null``)."""
        return asdict(self)


class MaskSurface:
    """One mask's voxel count and surface, on a crop shared by every mask of a case.

    Parameters
    ----------
    mask : ndarray of bool, shape ``crop`` + 1 along each axis
        The mask cropped by :func:`crop_masks` (one zero plane after the data on each axis).
    spacing_mm : tuple of 3 float
        From :func:`grid_spacing`.
    """

    def __init__(self, mask: BoolArray, spacing_mm: tuple[float, float, float]) -> None:
        self.spacing_mm = spacing_mm
        self.voxels = int(np.count_nonzero(mask))
        self.mask = mask
        codes = ndimage.correlate(mask.view(np.uint8), _NEIGHBOURHOOD_KERNEL, mode="constant", cval=0)
        self.border: BoolArray = (codes != 0) & (codes != 255)
        self.areas: FloatArray = surfel_area_table(spacing_mm)[codes[self.border]]

    @cached_property
    def distance_map(self) -> FloatArray:
        """Distance (mm) of every crop voxel to the nearest surface element of this mask (inf if none)."""
        if not self.border.any():
            return np.full(self.border.shape, np.inf)
        return np.asarray(ndimage.distance_transform_edt(~self.border, sampling=self.spacing_mm), dtype=np.float64)


def crop_masks(masks: list[BoolArray]) -> tuple[tuple[slice, ...], list[BoolArray]]:
    """Crop masks of one grid to the bounding box of their union, plus one zero plane after it per axis.

    Returns
    -------
    box : tuple of slice
        The union's bounding box in the full array (empty slices when every mask is empty).
    cropped : list of ndarray of bool
        Each mask inside ``box``, padded as ``surface-distance`` pads (surfaces unchanged).
    """
    shape = masks[0].shape
    union = np.zeros(shape, dtype=bool)
    for mask in masks:
        union |= mask
    if not union.any():
        box = tuple(slice(0, 0) for _ in shape)
        return box, [np.zeros((1, 1, 1), dtype=bool) for _ in masks]
    bounds = []
    for axis in range(union.ndim):
        hits = np.flatnonzero(union.any(axis=tuple(a for a in range(union.ndim) if a != axis)))
        bounds.append(slice(int(hits[0]), int(hits[-1]) + 1))
    box = tuple(bounds)
    cropped = []
    for mask in masks:
        padded = np.zeros(tuple(s.stop - s.start + 1 for s in box), dtype=bool)
        padded[tuple(slice(0, s.stop - s.start) for s in box)] = mask[box]
        cropped.append(padded)
    return box, cropped


def _percentile_distance(distances: FloatArray, areas: FloatArray, percent: float) -> float:
    """surface-distance's area-weighted percentile of one direction's distances (sorted by distance, area)."""
    order = np.lexsort((areas, distances))
    ordered, weights = distances[order], areas[order]
    cumulative = np.cumsum(weights) / np.sum(weights)
    index = int(np.searchsorted(cumulative, percent / 100.0))
    return float(ordered[min(index, len(ordered) - 1)])


def compare_surfaces(
    reference: MaskSurface, test: MaskSurface, voxel_ml: float, tolerance_mm: float = 2.0
) -> ContourMetrics:
    """Metrics of ``test`` against ``reference`` (two masks cropped together by :func:`crop_masks`).

    Parameters
    ----------
    reference, test : MaskSurface
    voxel_ml : float
        Volume of one voxel in mL (``|det(affine[:3, :3])| / 1000``).
    tolerance_mm : float
        Surface Dice tolerance.
    """
    both = int(np.count_nonzero(reference.mask & test.mask))
    total = reference.voxels + test.voxels
    dice = 1.0 if total == 0 else 2.0 * both / total
    jaccard = 1.0 if total == 0 else both / (total - both)
    volume, reference_volume = test.voxels * voxel_ml, reference.voxels * voxel_ml
    if reference.voxels == 0 or test.voxels == 0:
        nan, surface_dice = math.nan, 1.0 if total == 0 else 0.0
        diff = volume - reference_volume
        return ContourMetrics(dice, jaccard, volume, reference_volume, diff, nan, nan, nan, surface_dice, tolerance_mm)
    ref_to_test = test.distance_map[reference.border]
    test_to_ref = reference.distance_map[test.border]
    hd = max(
        _percentile_distance(ref_to_test, reference.areas, 100.0), _percentile_distance(test_to_ref, test.areas, 100.0)
    )
    hd95 = max(
        _percentile_distance(ref_to_test, reference.areas, 95.0), _percentile_distance(test_to_ref, test.areas, 95.0)
    )
    msd = 0.5 * (
        float(np.sum(ref_to_test * reference.areas) / np.sum(reference.areas))
        + float(np.sum(test_to_ref * test.areas) / np.sum(test.areas))
    )
    overlap = np.sum(reference.areas[ref_to_test <= tolerance_mm]) + np.sum(test.areas[test_to_ref <= tolerance_mm])
    surface_dice = float(overlap / (np.sum(reference.areas) + np.sum(test.areas)))
    return ContourMetrics(
        dice, jaccard, volume, reference_volume, volume - reference_volume, hd, hd95, msd, surface_dice, tolerance_mm
    )


def voxel_volume_ml(grid: ImageGrid) -> float:
    """Volume of one voxel of ``grid`` in mL (|det| of the affine's 3×3 part, mm³ / 1000)."""
    return abs(float(np.linalg.det(grid.affine[:3, :3]))) / 1000.0


def contour_metrics(
    reference: BoolArray, test: BoolArray, grid: ImageGrid, tolerance_mm: float = 2.0
) -> ContourMetrics:
    """Dice, Jaccard, volumes, HD, HD95, MSD and surface Dice of ``test`` against ``reference``.

    Parameters
    ----------
    reference, test : ndarray of bool, shape ``grid.spatial_shape``
        Masks on one grid, arrays ``(slice, row, column)``.
    grid : ImageGrid
        Their grid (LPS mm); its spacing gives the distances.
    tolerance_mm : float
        Surface Dice tolerance in mm.

    Raises
    ------
    GeometryError
        A mask's shape differs from the grid's, or the grid is sheared (:func:`grid_spacing`).
    """
    for mask in (reference, test):
        if mask.shape != grid.spatial_shape:
            raise GeometryError(f"a mask of shape {mask.shape} is not on the grid of shape {grid.spatial_shape}")
    spacing = grid_spacing(grid)
    _, (ref, tst) = crop_masks([np.asarray(reference, dtype=bool), np.asarray(test, dtype=bool)])
    return compare_surfaces(MaskSurface(ref, spacing), MaskSurface(tst, spacing), voxel_volume_ml(grid), tolerance_mm)
