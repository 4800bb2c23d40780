"""DICOM SEG on corpus B1, B2, B3: segments placed on the referenced series' grid, compared with
the NRRD label maps dcmqi made them from (counts via pynrrd: liver_seg 107098; partial_overlaps-1
{1: 9602, 4: 6693, 5: 4713}; sparse labelmap 630) and with the mask series of B3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Segmentation
from sessionkit.io import read_dicom_seg, read_header, read_image

B1 = "B1-seg-binary-dcmqi-ct3slice"
B2 = "B2-seg-fractional-highdicom-ct2"
B3 = "B3-seg-labelmap-dcmqi-24x38x3"


def _seg(path: Path) -> Segmentation:
    image = read_image(path)
    assert isinstance(image, Segmentation)
    return image


def test_b1_binary_liver_equals_dcmqi_input(corpus: Path) -> None:
    seg = _seg(corpus / B1 / "liver.dcm")
    nrrd = _seg_labelmap(corpus / B1 / "liver_seg.nrrd")
    assert seg.grid.matches(nrrd.grid)
    assert [(s.segment_id, s.name, s.label_value, s.color) for s in seg.segments] == [
        ("1", "Liver", 1, (221, 130, 101))  # CIELab 41661 41167 40792
    ]
    np.testing.assert_array_equal(seg.layers[0] == 1, nrrd.layers[0] == 1)
    assert seg.voxel_count(seg.segments[0]) == 107098
    assert read_header(corpus / B1 / "liver.dcm").grid.matches(seg.grid)


def _seg_labelmap(path: Path) -> Segmentation:
    image = read_image(path, image_type="LabelMap")
    assert isinstance(image, Segmentation)
    return image


def test_b1_overlapping_segments_get_layers(corpus: Path) -> None:
    seg = _seg(corpus / B1 / "partial_overlaps.dcm")
    assert [(s.name, seg.voxel_count(s)) for s in seg.segments] == [
        ("GREEN", 9602),
        ("ORANGE", 11888),
        ("PURPLE", 10743),
        ("LIGHT_BLUE", 6693),
        ("DARK_BLUE", 4713),
    ]
    assert seg.layers.shape[0] > 1  # overlapping segments cannot share one label layer
    first = _seg_labelmap(corpus / B1 / "partial_overlaps-1.nrrd")
    for name, value in (("GREEN", 1), ("LIGHT_BLUE", 4), ("DARK_BLUE", 5)):
        segment = seg.segment_named(name)
        assert segment is not None
        np.testing.assert_array_equal(seg.mask(segment), first.layers[0] == value)


@pytest.mark.parametrize("name", ["sparse-labelmap-noppv.dcm", "sparse-labelmap-ppv5.dcm"])
def test_b3_sparse_labelmap_seg(corpus: Path, name: str) -> None:
    seg = _seg(corpus / B3 / name)
    assert seg.grid.spatial_shape == (3, 38, 24)
    assert [(s.segment_id, s.name) for s in seg.segments] == [("1", "Liver")]  # segment 0 Background dropped
    reference = _seg_labelmap(corpus / B3 / "sparse_labelmap_noppv_seg.nrrd")
    np.testing.assert_array_equal(seg.layers[0], reference.layers[0])
    assert seg.voxel_count(seg.segments[0]) == 630
    assert not seg.layers[0, 1].any()  # the slice without a frame stays empty


def test_b3_binary_seg_with_seg_extension_equals_mask_series(corpus: Path) -> None:
    seg = _seg(corpus / B3 / "24x38x3/seg/label.seg")
    mask = read_image(corpus / B3 / "24x38x3/image", image_type="Segmentation")
    assert isinstance(mask, Segmentation)
    assert seg.grid.matches(mask.grid)
    np.testing.assert_array_equal(seg.layers, mask.layers)


def test_b2_single_frame_seg_on_ct_small(corpus: Path) -> None:
    seg = _seg(corpus / B2 / "seg_image_ct_binary_single_frame.dcm")
    assert seg.grid.spatial_shape == (1, 128, 128)
    assert seg.segments[0].name == "first segment"
    assert seg.voxel_count(seg.segments[0]) == 1832


def test_b2_seg_on_irregular_series_names_the_spacings(corpus: Path) -> None:
    with pytest.raises(ImageReadError, match=r"not uniform: measured \[202\.5, 1\.25, 1\.25\]"):
        read_dicom_seg(corpus / B2 / "seg_image_ct_true_fractional.dcm")


def test_b2_fractional_thresholded_at_half_on_an_explicit_grid(corpus: Path) -> None:
    from pydicom import dcmread

    from sessionkit.geometry import ImageGrid

    # the three CT2 slices the SEG covers (z 103.02, 104.27, 105.52) are evenly spaced: build their grid
    first = dcmread(corpus / B2 / "CT2/17136")
    row, col = np.array(first.ImageOrientationPatient[:3], float), np.array(first.ImageOrientationPatient[3:], float)
    grid = ImageGrid.from_parts(
        (3, 16, 16),
        spacing=(1.25, float(first.PixelSpacing[0]), float(first.PixelSpacing[1])),
        direction=np.column_stack([np.cross(row, col), col, row]),
        origin=[float(v) for v in first.ImagePositionPatient],
    )
    fractional = read_dicom_seg(corpus / B2 / "seg_image_ct_true_fractional.dcm", reference=grid)
    binary = read_dicom_seg(corpus / B2 / "seg_image_ct_binary_fractional.dcm", reference=grid)
    # stored {0: 107, 64: 23, 128: 638} of 255 (pydicom pixel_array): 661 non-zero, 638 at >= 0.5;
    # the 0/1 FRACTIONAL twin has 638 pixels at 255
    assert fractional.voxel_count(fractional.segments[0]) == 638
    np.testing.assert_array_equal(fractional.layers, binary.layers)
