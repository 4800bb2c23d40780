from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit.errors import GeometryError
from sessionkit.geometry import ImageGrid


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_parts_round_trip() -> None:
    direction = _rotation(0.3)
    grid = ImageGrid.from_parts((5, 7, 9), spacing=(3.0, 0.7, 0.5), direction=direction, origin=(10, -20, 5))
    assert np.allclose(grid.spacing, [3.0, 0.7, 0.5])
    assert np.allclose(grid.direction, direction)
    assert np.allclose(grid.origin, [10, -20, 5])
    # voxel (1, 0, 0) lies one slice spacing along the first direction column
    assert np.allclose(grid.index_to_lps([[1, 0, 0]])[0], np.array([10, -20, 5]) + 3.0 * direction[:, 0])


@given(
    st.floats(-3.1, 3.1),
    st.lists(st.floats(-50, 50), min_size=3, max_size=3),
    st.lists(st.floats(0.1, 5), min_size=3, max_size=3),
)
def test_index_lps_inverse_on_oblique_grids(angle: float, index: list[float], spacing: list[float]) -> None:
    grid = ImageGrid.from_parts((4, 4, 4), spacing=tuple(spacing), direction=_rotation(angle), origin=(1, 2, 3))
    back = grid.lps_to_index(grid.index_to_lps([index]))
    assert np.allclose(back[0], index, atol=1e-6)


def test_differences_name_property_and_values() -> None:
    a = ImageGrid.from_parts((2, 3, 4), spacing=(1, 1, 1))
    b = ImageGrid.from_parts((2, 3, 4), spacing=(1, 1, 1), origin=(0, 0, 0.5))
    assert a.differences(a) == []
    (difference,) = a.differences(b)
    assert difference.startswith("origin [0.0, 0.0, 0.5] vs [0.0, 0.0, 0.0]")


def test_rejects_bad_shape() -> None:
    with pytest.raises(GeometryError):
        ImageGrid((0, 2, 2), np.eye(4))
