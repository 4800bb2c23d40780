"""Image grid geometry: one voxel grid in patient LPS millimetres.

Conventions (ARCHITECTURE §4, ``docs/coordinates.md``):

* arrays are indexed ``(slice, row, column)``; ``spatial_shape`` is in that order;
* ``affine`` is a 4x4 float64 matrix that maps zero-based indices ``(slice, row, column, 1)``
  to the **centre** of the voxel in **LPS** millimetres (DICOM patient coordinates,
  DICOM PS3.3 C.7.6.2.1.1);
* ``spacing[a]`` is the distance in mm between neighbouring voxel centres along array axis ``a``;
  ``direction[:, a]`` is the unit LPS vector of array axis ``a``; ``origin`` is the centre of voxel
  ``(0, 0, 0)``.

RAS appears only inside the NIfTI / RAS-NRRD readers and writers (:data:`LPS_TO_RAS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sessionkit.errors import GeometryError

FloatArray = npt.NDArray[np.float64]

#: Diagonal flip between LPS and RAS (its own inverse).
LPS_TO_RAS: FloatArray = np.diag([-1.0, -1.0, 1.0, 1.0])

#: Default tolerances for "same grid" (validation rule SK808): mm and radians.
POSITION_TOLERANCE_MM = 1e-3
DIRECTION_TOLERANCE_RAD = 1e-4


@dataclass(frozen=True, eq=False)
class ImageGrid:
    """A 3-D voxel grid in LPS millimetres.

    Parameters
    ----------
    spatial_shape : tuple of 3 int
        Number of voxels along ``(slice, row, column)``.
    affine : (4, 4) ndarray of float64
        Index ``(slice, row, column, 1)`` to voxel centre in LPS mm.

    Raises
    ------
    GeometryError
        If the shape is not three positive integers, the affine is not 4x4 with last row
        ``0 0 0 1``, or a spacing is zero.

    Examples
    --------
    >>> g = ImageGrid.from_parts((2, 3, 4), spacing=(3.0, 1.0, 0.5))
    >>> g.index_to_lps([[1, 2, 3]]).tolist()
    [[3.0, 2.0, 1.5]]
    """

    spatial_shape: tuple[int, int, int]
    affine: FloatArray

    def __post_init__(self) -> None:
        shape = tuple(int(n) for n in self.spatial_shape)
        if len(shape) != 3 or any(n < 1 for n in shape):
            raise GeometryError(f"spatial_shape must be 3 positive integers, found {self.spatial_shape}")
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4) or not np.allclose(affine[3], [0, 0, 0, 1]):
            raise GeometryError(f"affine must be 4x4 with last row 0 0 0 1, found {affine.tolist()}")
        if np.any(np.linalg.norm(affine[:3, :3], axis=0) == 0):
            raise GeometryError("affine has a zero spacing along an axis")
        affine.setflags(write=False)
        object.__setattr__(self, "spatial_shape", shape)
        object.__setattr__(self, "affine", affine)

    @classmethod
    def from_parts(
        cls,
        spatial_shape: tuple[int, int, int],
        spacing: tuple[float, float, float] | npt.ArrayLike = (1.0, 1.0, 1.0),
        direction: npt.ArrayLike | None = None,
        origin: npt.ArrayLike = (0.0, 0.0, 0.0),
    ) -> ImageGrid:
        """Build a grid from spacing (mm per array axis), direction (3x3, unit columns) and origin (LPS mm)."""
        spacing_arr = np.asarray(spacing, dtype=np.float64).reshape(3)
        direction_arr = np.eye(3) if direction is None else np.asarray(direction, dtype=np.float64).reshape(3, 3)
        affine = np.eye(4)
        affine[:3, :3] = direction_arr * spacing_arr[np.newaxis, :]
        affine[:3, 3] = np.asarray(origin, dtype=np.float64).reshape(3)
        return cls(tuple(int(n) for n in spatial_shape), affine)  # type: ignore[arg-type]

    @property
    def spacing(self) -> FloatArray:
        """(3,) float64: mm between voxel centres along ``(slice, row, column)``."""
        return np.asarray(np.linalg.norm(self.affine[:3, :3], axis=0), dtype=np.float64)

    @property
    def direction(self) -> FloatArray:
        """(3, 3) float64: unit LPS vectors of the array axes, as columns."""
        return np.asarray(self.affine[:3, :3] / self.spacing[np.newaxis, :], dtype=np.float64)

    @property
    def origin(self) -> FloatArray:
        """(3,) float64: LPS mm of the centre of voxel ``(0, 0, 0)``."""
        return np.asarray(self.affine[:3, 3], dtype=np.float64)

    def index_to_lps(self, indices: npt.ArrayLike) -> FloatArray:
        """Map ``(N, 3)`` ``(slice, row, column)`` indices (may be fractional) to ``(N, 3)`` LPS mm."""
        idx = np.atleast_2d(np.asarray(indices, dtype=np.float64))
        return np.asarray(idx @ self.affine[:3, :3].T + self.affine[:3, 3], dtype=np.float64)

    def lps_to_index(self, points: npt.ArrayLike) -> FloatArray:
        """Map ``(N, 3)`` LPS mm points to fractional ``(slice, row, column)`` indices (inverse of
        :meth:`index_to_lps`)."""
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        inverse = np.linalg.inv(self.affine)
        return np.asarray(pts @ inverse[:3, :3].T + inverse[:3, 3], dtype=np.float64)

    def differences(
        self,
        other: ImageGrid,
        position_tolerance_mm: float = POSITION_TOLERANCE_MM,
        direction_tolerance_rad: float = DIRECTION_TOLERANCE_RAD,
    ) -> list[str]:
        """Describe how ``other`` differs from this grid (empty list: the grids match).

        Each entry names the property and gives found (``other``) vs expected (``self``) values
        and the tolerance, ready to go into a message (validation rule SK808).
        """
        out: list[str] = []
        if other.spatial_shape != self.spatial_shape:
            out.append(f"size {list(other.spatial_shape)} vs {list(self.spatial_shape)}")
        if np.max(np.abs(other.spacing - self.spacing)) > position_tolerance_mm:
            out.append(
                f"spacing {np.round(other.spacing, 4).tolist()} vs {np.round(self.spacing, 4).tolist()} mm "
                f"(tolerance {position_tolerance_mm} mm)"
            )
        if np.max(np.linalg.norm(other.origin - self.origin)) > position_tolerance_mm:
            out.append(
                f"origin {np.round(other.origin, 4).tolist()} vs {np.round(self.origin, 4).tolist()} mm "
                f"(tolerance {position_tolerance_mm} mm)"
            )
        cosines = np.clip(np.sum(other.direction * self.direction, axis=0), -1.0, 1.0)
        if np.max(np.arccos(cosines)) > direction_tolerance_rad:
            out.append(
                f"direction {np.round(other.direction, 5).tolist()} vs {np.round(self.direction, 5).tolist()} "
                f"(tolerance {direction_tolerance_rad} rad)"
            )
        return out

    def matches(self, other: ImageGrid) -> bool:
        """True when :meth:`differences` finds nothing."""
        return not self.differences(other)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description: spatial_shape, spacing, origin, direction.

        ``direction[r][c]`` is LPS component ``r`` of the unit vector of array axis ``c`` (axes in
        ``(slice, row, column)`` order), i.e. the rows of :attr:`direction` as nested lists.

        Examples
        --------
        >>> g = ImageGrid.from_parts((2, 3, 4), direction=[[0, 0, -1], [0, -1, 0], [1, 0, 0]])
        >>> g.to_dict()["direction"]  # column 0: the slice axis runs along +z (superior)
        [[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]
        """
        return {
            "spatial_shape": list(self.spatial_shape),
            "spacing": self.spacing.tolist(),
            "origin": self.origin.tolist(),
            "direction": self.direction.tolist(),
        }
