"""Contour metrics (analysis.md §3.4) equal DeepMind's surface-distance and SimpleITK on real corpus masks."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from sessionkit.analysis.contour_metrics import contour_metrics
from sessionkit.errors import GeometryError
from sessionkit.geometry import ImageGrid
from sessionkit.io import read_image

sd = pytest.importorskip("surface_distance")
sitk = pytest.importorskip("SimpleITK")

C = "C-nrrd-labelmap-pyradiomics"
E1 = "E1-nifti-totalsegmentator"


def reference_values(a: np.ndarray, b: np.ndarray, spacing: tuple[float, ...], tolerance: float) -> dict[str, float]:
    """surface-distance's HD, HD95, MSD and surface Dice; SimpleITK's Dice and Jaccard."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # it imports scipy.ndimage.filters
        distances = sd.compute_surface_distances(a, b, spacing)
    overlap = sitk.LabelOverlapMeasuresImageFilter()
    overlap.Execute(sitk.GetImageFromArray(a.astype(np.uint8)), sitk.GetImageFromArray(b.astype(np.uint8)))
    return {
        "hd_mm": sd.compute_robust_hausdorff(distances, 100),
        "hd95_mm": sd.compute_robust_hausdorff(distances, 95),
        "msd_mm": float(np.mean(sd.compute_average_surface_distance(distances))),
        "surface_dice": sd.compute_surface_dice_at_tolerance(distances, tolerance),
        "dice": overlap.GetDiceCoefficient(),
        "jaccard": overlap.GetJaccardCoefficient(),
    }


def assert_matches(a: np.ndarray, b: np.ndarray, grid: ImageGrid, tolerance: float = 2.0) -> None:
    ours = contour_metrics(a, b, grid, tolerance).to_json()
    expected = reference_values(a, b, tuple(float(s) for s in grid.spacing), tolerance)
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=1e-6), name


def test_anisotropic_real_mask_against_a_grown_shifted_copy(corpus: Path) -> None:
    image = read_image(corpus / C / "brain1_label.nrrd")  # 6.5 x 0.78 x 0.78 mm
    reference = image.array > 0
    test = np.roll(ndimage.binary_dilation(reference, iterations=2), 3, axis=2)
    assert_matches(reference, test, image.grid)
    assert_matches(test, reference, image.grid, tolerance=1.0)
    volume = contour_metrics(reference, test, image.grid)
    voxel_ml = float(np.prod(image.grid.spacing)) / 1000
    assert volume.reference_volume_ml == pytest.approx(reference.sum() * voxel_ml)
    assert volume.volume_diff_ml == pytest.approx((test.sum() - reference.sum()) * voxel_ml)


def test_two_real_readers_every_structure(corpus: Path) -> None:
    """TotalSegmentator's normal and fast models as two readers: every structure both segmented."""
    first, second = read_image(corpus / E1 / "example_seg.nii.gz"), read_image(corpus / E1 / "example_seg_fast.nii.gz")
    labels = sorted(set(np.unique(first.array)) & set(np.unique(second.array)) - {0})
    assert len(labels) >= 5
    for label in labels:
        assert_matches(first.array == label, second.array == label, first.grid, tolerance=3.0)


def test_prostate_labels_and_a_one_voxel_mask(corpus: Path) -> None:
    image = read_image(corpus / C / "prostate_phantom_subvolume-label.nrrd")  # 3 x 0.5 x 0.5 mm, labels 1,7,8,9
    labels = image.array
    assert_matches(labels == 1, labels > 1, image.grid)
    one = np.zeros(labels.shape, dtype=bool)
    one[tuple(int(i) for i in np.argwhere(labels == 7)[0])] = True
    assert_matches(labels == 7, one, image.grid)
    assert_matches(one, one, image.grid)


def test_oblique_grid_distances_are_between_lps_points(corpus: Path) -> None:
    """On a rotated grid the Hausdorff distance is the largest LPS distance from a surface voxel centre
    of one mask to the nearest of the other's (computed here with a KD-tree on LPS points)."""
    image = read_image(corpus / C / "breast1_label.nrrd")
    reference = image.array > 0
    test = np.roll(ndimage.binary_erosion(reference), 2, axis=0)
    angle = math.radians(25)
    rotation = np.array([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]])
    oblique = ImageGrid.from_parts(reference.shape, image.grid.spacing, rotation @ image.grid.direction, (10, -4, 7))
    assert_matches(reference, test, oblique)

    def surface_points(mask: np.ndarray) -> np.ndarray:
        padded = np.pad(mask, ((0, 1), (0, 1), (0, 1))).astype(np.uint8)
        kernel = np.array([[[128, 64], [32, 16]], [[8, 4], [2, 1]]])
        codes = ndimage.correlate(padded, kernel, mode="constant", cval=0)
        return oblique.index_to_lps(np.argwhere((codes != 0) & (codes != 255)))

    ref_points, test_points = surface_points(reference), surface_points(test)
    brute = max(cKDTree(test_points).query(ref_points)[0].max(), cKDTree(ref_points).query(test_points)[0].max())
    assert contour_metrics(reference, test, oblique).hd_mm == pytest.approx(brute, abs=1e-6)


def test_empty_masks_follow_metrics_reloaded(corpus: Path) -> None:
    image = read_image(corpus / C / "breast1_label.nrrd")
    empty, mask = np.zeros(image.array.shape, dtype=bool), image.array > 0
    both = contour_metrics(empty, empty, image.grid)
    assert (both.dice, both.jaccard, both.surface_dice, both.volume_ml) == (1.0, 1.0, 1.0, 0.0)
    assert all(math.isnan(v) for v in (both.hd_mm, both.hd95_mm, both.msd_mm))
    for reference, test in ((empty, mask), (mask, empty)):
        one = contour_metrics(reference, test, image.grid)
        assert (one.dice, one.jaccard, one.surface_dice) == (0.0, 0.0, 0.0)
        assert all(math.isnan(v) for v in (one.hd_mm, one.hd95_mm, one.msd_mm))


def test_a_sheared_grid_is_refused() -> None:
    sheared = ImageGrid.from_parts((4, 4, 4), (1, 1, 1), [[1, 0.3, 0], [0, 0.954, 0], [0, 0, 1]])
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[1:3, 1:3, 1:3] = True
    with pytest.raises(GeometryError, match="not perpendicular"):
        contour_metrics(mask, mask, sheared)
