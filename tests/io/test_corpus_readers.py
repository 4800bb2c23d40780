"""Readers on the real corpus (../shared/corpus sets C, D, E1, E2) against independent facts.

Every literal below was taken from the raw NRRD header text (``sizes``, ``space directions``,
``space origin``) or from nibabel's affine, and voxel counts from pynrrd / nibabel arrays read
directly (``np.unique(..., return_counts=True)``), then converted by hand to the model's
conventions: axes ``(slice, row, column) = (k, j, i)``, LPS = RAS with x and y negated.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import read_header, read_image, read_nifti, read_nrrd, read_seg_nrrd

C = "C-nrrd-labelmap-pyradiomics"
D = "D-segnrrd-slicerio"
E1 = "E1-nifti-totalsegmentator"
E2 = "E2-nifti-nibabel"

# (file, spatial_shape, spacing, origin, direction columns (slice, row, column axis) as rows)
GRIDS = [
    (
        f"{C}/prostate_phantom_subvolume.nrrd",
        (13, 67, 82),
        (3.0, 0.5, 0.5),
        (15.683382511138916, 76.535760879516602, -52.776130676269538),
        ((0, 0, 1), (0, -1, 0), (-1, 0, 0)),
    ),
    (
        f"{C}/brain1_image.nrrd",
        (25, 256, 256),
        (6.4999999999999982, 0.78124999999999989, 0.78124999999999989),
        (-99.609374999999986, 99.609374999999986, -77.999999999999957),
        ((0, 0, 1), (0, -1, 0), (1, 0, 0)),
    ),
    (
        f"{C}/breast1_image.nrrd",
        (21, 120, 45),
        (2.1000000000000001, 0.66406200000000004, 0.66406200000000004),
        (-116.54304, -48.14465400000001, 9.4500000000000295),
        ((0, 0, 1), (0, 1, 0), (1, 0, 0)),
    ),
    (
        f"{D}/CTChest4.nrrd",
        (34, 128, 128),
        (9.9999999999999964, 3.04687595367432, 3.04687595367432),
        (193.09599304199222, 216.39599609374994, -340.24999999999994),
        ((0, 0, 1), (0, -1, 0), (-1, 0, 0)),
    ),
    (
        f"{E1}/example_ct_sm.nii.gz",
        (30, 101, 122),
        (3.0, 3.0, 3.0),
        (177.956329, -11.319, 94.301758),
        ((0, 0, 1), (0, -1, 0), (-1, 0, 0)),
    ),
    (
        f"{E1}/example_mr_sm.nii.gz",
        (20, 91, 117),
        (3.0, 3.0, 3.0),
        (-168.59964, -166.359436, 28.989641),
        ((0, 0, 1), (0, 1, 0), (1, 0, 0)),
    ),
    (
        f"{E2}/anatomical.nii",
        (25, 41, 33),
        (2.0, 2.0, 2.0),
        (-32.0, 40.0, -16.0),
        ((0, 0, 1), (0, -1, 0), (1, 0, 0)),
    ),
]

# (file, index (slice, row, column), value, value range): the value is the independent reader's
# voxel at (i, j, k) = (column, row, slice).
VOXELS = [
    (f"{C}/prostate_phantom_subvolume.nrrd", (6, 30, 40), 1730, (0, 2017), "uint16"),
    (f"{D}/CTChest4.nrrd", (5, 20, 10), -3024, (-3024, 3070), "int32"),
    (f"{E1}/example_ct_sm.nii.gz", (12, 11, 10), -962, (-1100, 1207), "int16"),
    (f"{E1}/example_mr_sm.nii.gz", (12, 11, 10), 2, (-47, 833), "int16"),
    (f"{E2}/anatomical.nii", (12, 11, 10), 9318, (-610, 30393), "int16"),  # stored big-endian >i2
]


@pytest.mark.parametrize(("name", "shape", "spacing", "origin", "direction"), GRIDS)
def test_grid_facts(corpus: Path, name: str, shape: tuple, spacing: tuple, origin: tuple, direction: tuple) -> None:
    for grid in (read_image(corpus / name).grid, read_header(corpus / name).grid):
        assert grid.spatial_shape == shape
        np.testing.assert_allclose(grid.spacing, spacing, atol=1e-6)
        np.testing.assert_allclose(grid.origin, origin, atol=1e-5)
        np.testing.assert_allclose(grid.direction.T, direction, atol=1e-9)


@pytest.mark.parametrize(("name", "index", "value", "value_range", "dtype"), VOXELS)
def test_voxel_facts(corpus: Path, name: str, index: tuple, value: int, value_range: tuple, dtype: str) -> None:
    volume = read_nifti(corpus / name) if ".nii" in name else read_nrrd(corpus / name)
    assert volume.array[index] == value
    assert (volume.array.min(), volume.array.max()) == value_range
    assert volume.array.dtype == np.dtype(dtype) and volume.array.dtype.isnative


@pytest.mark.parametrize(
    ("image", "label", "counts"),
    [
        (
            "prostate_phantom_subvolume.nrrd",
            "prostate_phantom_subvolume-label.nrrd",
            {1: 168, 7: 170, 8: 2997, 9: 9088},
        ),
        ("brain1_image.nrrd", "brain1_label.nrrd", {1: 4137}),
        ("breast1_image.nrrd", "breast1_label.nrrd", {1: 143}),
    ],
)
def test_set_c_label_maps(corpus: Path, image: str, label: str, counts: dict[int, int]) -> None:
    volume = read_image(corpus / C / image, image_type="Volume")
    labels = read_image(corpus / C / label, image_type="LabelMap")
    assert isinstance(labels, Segmentation)
    assert volume.grid.matches(labels.grid)
    assert {s.label_value: labels.voxel_count(s) for s in labels.segments} == counts
    assert [s.name for s in labels.segments] == [f"Label_{v}" for v in counts]


SLICER_SEGMENTS = [
    ("Segment_1", "ribs", 1, 0, (253, 232, 158), 8487),
    ("Segment_2", "cervical vertebral column", 2, 0, (255, 255, 207), 1216),
    ("Segment_3", "thoracic vertebral column", 3, 0, (226, 202, 134), 2712),
    ("Segment_4", "lumbar vertebral column", 4, 0, (212, 188, 102), 3259),
    ("Segment_5", "right lung", 5, 0, (22, 197, 71), 34450),
    ("Segment_6", "left lung", 6, 0, (197, 25, 99), 33700),
    ("Segment_7", "tissue", 7, 0, (128, 174, 128), 154589),
]


def _table(segmentation: Segmentation) -> list[tuple[object, ...]]:
    return [
        (s.segment_id, s.name, s.label_value, s.layer, s.color, segmentation.voxel_count(s))
        for s in segmentation.segments
    ]


def test_set_d_seg_nrrd(corpus: Path) -> None:
    ct = read_image(corpus / D / "CTChest4.nrrd")
    seg = read_image(corpus / D / "Segmentation.seg.nrrd")
    assert isinstance(seg, Segmentation)
    assert seg.layers.shape == (1, 34, 128, 128)
    assert ct.grid.matches(seg.grid)
    # colours: Segment0_Color 0.992157 0.909804 0.619608 -> (253, 232, 158) etc.
    assert _table(seg) == SLICER_SEGMENTS


def test_set_d_overlapping_layers(corpus: Path) -> None:
    seg = read_seg_nrrd(corpus / D / "SegmentationOverlapping.seg.nrrd")
    assert seg.layers.shape == (2, 34, 128, 128)
    assert seg.grid.matches(read_image(corpus / D / "CTChest4.nrrd").grid)
    assert _table(seg) == [
        *SLICER_SEGMENTS,
        ("2.25.256098691398322583637751658535111585949", "overlapping sphere", 1, 1, (220, 245, 20), 19139),
    ]
    # the sphere overlaps segments of layer 0
    sphere = seg.mask(seg.segments[7])
    assert np.count_nonzero(seg.layers[0][sphere]) > 0


def test_set_d_legacy_4d_seg_nrrd(corpus: Path) -> None:
    seg = read_image(corpus / D / "EclipseProstate_Bladder_Union_PTV.seg.nrrd")
    assert isinstance(seg, Segmentation)
    assert seg.grid.spatial_shape == (38, 89, 60)
    np.testing.assert_allclose(seg.grid.spacing, (2.5, 0.976562, 0.976562))
    # RAS origin (250, 250, -122.5) + directions x Segmentation_Extent start (223, 199, 9), then RAS -> LPS
    np.testing.assert_allclose(seg.grid.origin, (-(250 - 0.976562 * 223), -(250 - 0.976562 * 199), -100.0))
    np.testing.assert_allclose(seg.grid.direction.T, ((0, 0, 1), (0, 1, 0), (1, 0, 0)))
    assert _table(seg) == [("Bladder_Union_PTV", "Bladder_Union_PTV", 1, 0, (128, 128, 128), 69989)]
    assert read_header(corpus / D / "EclipseProstate_Bladder_Union_PTV.seg.nrrd").grid.matches(seg.grid)


def test_set_d_seg_nrrd_is_not_a_volume(corpus: Path) -> None:
    with pytest.raises(ImageReadError, match=r"is a segmentation \(seg_nrrd\); expected a Volume.*Segmentation"):
        read_image(corpus / D / "Segmentation.seg.nrrd", image_type="Volume")


def test_set_e1_multilabel_nifti_with_class_map(corpus: Path) -> None:
    class_map = json.loads((corpus / E1 / "class_map_total_total_mr.json").read_text())["total"]
    table = {int(v): (name, (255, 0, 0)) for v, name in class_map.items()}
    seg = read_image(corpus / E1 / "example_seg.nii.gz", image_type="Segmentation", color_table=table)
    assert isinstance(seg, Segmentation)
    assert seg.grid.matches(read_image(corpus / E1 / "example_ct_sm.nii.gz").grid)
    assert [s.label_value for s in seg.segments] == [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 18, 19, 20, 30, 31, 32, 33, 52, 63, 64, 79, 86,
        87, 88, 89, 98, 99, 100, 101, 102, 103, 110, 111, 112, 113, 114, 115, 117,
    ]  # fmt: skip
    by_value = {s.label_value: s for s in seg.segments}
    assert (by_value[5].name, seg.voxel_count(by_value[5])) == ("liver", 38634)
    assert (by_value[1].name, seg.voxel_count(by_value[1])) == ("spleen", 9452)
    assert by_value[117].name == "costal_cartilages"
    assert seg.layers.dtype == np.uint8


def test_set_e1_mr_labels_and_roi_subset(corpus: Path) -> None:
    seg = read_image(corpus / E1 / "example_seg_mr.nii.gz", image_type="LabelMap")
    assert isinstance(seg, Segmentation)
    assert len(seg.segments) == 23
    assert seg.voxel_count(seg.segments[4]) == 18480 and seg.segments[4].label_value == 5
    assert seg.grid.matches(read_image(corpus / E1 / "example_mr_sm.nii.gz").grid)
    subset = read_image(corpus / E1 / "example_seg_roi_subset.nii.gz", image_type="LabelMap")
    assert isinstance(subset, Segmentation)
    assert [(s.label_value, subset.voxel_count(s)) for s in subset.segments] == [(5, 38631)]


def test_set_e2_4d_nifti(corpus: Path) -> None:
    path = corpus / E2 / "example4d.nii.gz"
    volume = read_image(path)
    assert isinstance(volume, Volume)
    assert volume.array.shape == (2, 24, 96, 128)
    assert volume.array[1, 12, 50, 60] == 457 and volume.array[0, 12, 50, 60] == 468
    # nibabel affine columns i (-2, 0, 0), j (0, 1.973711, 0.323208), k (0, -0.355528, 2.171082) in RAS
    np.testing.assert_allclose(volume.grid.affine[:3, 2], (2.0, 0.0, 0.0), atol=1e-5)
    np.testing.assert_allclose(volume.grid.affine[:3, 1], (0.0, -1.973711, 0.323208), atol=1e-5)
    np.testing.assert_allclose(volume.grid.affine[:3, 0], (0.0, 0.355528, 2.171082), atol=1e-5)
    np.testing.assert_allclose(volume.grid.origin, (-117.855103, 35.722942, -7.248798), atol=1e-5)
    assert read_header(path).frames == 2
    with pytest.raises(ImageReadError, match=r"4-D \(2 frames.*VolumeSequence"):
        read_image(path, image_type="Volume")
    with pytest.raises(ImageReadError, match="2 frames"):
        read_image(path, image_type="LabelMap")
