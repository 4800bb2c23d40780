"""DICOM SEG on corpus B1, B2, B3: segments placed on the referenced series' grid, compared with
the NRRD label maps dcmqi made them from (counts via pynrrd: liver_seg 107098; partial_overlaps-1
{1: 9602, 4: 6693, 5: 4713}; sparse labelmap 630) and with the mask series of B3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# --- standalone: the SEG's own geometry (issue 12 item 1) -----------------------------------


def _alone(source: Path, tmp_path: Path) -> Path:
    """A copy of the SEG in a folder of its own (its image series is not near it)."""
    target = tmp_path / "alone" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return target


def _lps_voxels(seg: Segmentation) -> dict[str, np.ndarray]:
    """Per segment name: the LPS mm centres of its voxels, sorted (grid-independent)."""
    out = {}
    for segment in seg.segments:
        points = seg.grid.index_to_lps(np.argwhere(seg.mask(segment)))
        out[segment.name] = np.round(points[np.lexsort(points.T[::-1])], 3)
    return out


@pytest.mark.parametrize(
    "name",
    [
        f"{B1}/liver.dcm",
        f"{B1}/partial_overlaps.dcm",
        f"{B2}/seg_image_ct_binary_single_frame.dcm",
        f"{B3}/sparse-labelmap-noppv.dcm",
        f"{B3}/sparse-labelmap-ppv5.dcm",
        f"{B3}/24x38x3/seg/label.seg",
    ],
)
def test_seg_without_its_series_reads_from_its_own_geometry(corpus: Path, tmp_path: Path, name: str) -> None:
    with_series = _seg(corpus / name)
    alone = _seg(_alone(corpus / name, tmp_path))
    # every corpus SEG spans its series here, so the grid is the series' grid, not just the same voxels
    assert alone.grid.matches(with_series.grid)
    np.testing.assert_array_equal(alone.layers, with_series.layers)
    assert [(s.segment_id, s.name, s.color) for s in alone.segments] == [
        (s.segment_id, s.name, s.color) for s in with_series.segments
    ]
    assert alone.frame_of_reference_uid == with_series.frame_of_reference_uid


def test_b2_seg_on_three_of_four_irregular_slices_reads_alone(corpus: Path, tmp_path: Path) -> None:
    from sessionkit.io.dicom_series import read_dicom_series_header

    # the SEG covers CT2's three evenly spaced slices; their grid is the reference path's answer
    grid = read_dicom_series_header([corpus / B2 / "CT2" / n for n in ("17136", "17166", "17196")]).grid
    for name in ("seg_image_ct_binary.dcm", "seg_image_ct_true_fractional.dcm"):
        alone = read_dicom_seg(_alone(corpus / B2 / name, tmp_path))
        on_reference = read_dicom_seg(corpus / B2 / name, reference=grid)
        assert alone.grid.matches(grid)
        np.testing.assert_array_equal(alone.layers, on_reference.layers)
        assert alone.voxel_count(alone.segments[0]) > 0


def test_seg_with_descending_frames_and_unaligned_bits(phantom: Any, phantom_dicom: Path, tmp_path: Path) -> None:
    """highdicom writes a BINARY SEG of the oblique 5x7x9 phantom with its frames in descending slice
    order; 7x9 = 63 bits per frame, so frames 2-5 start mid-byte (PS3.5 8.1.1: no padding)."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    files = sorted(phantom_dicom.glob("*.dcm"), key=lambda f: int(f.stem))  # names run in reverse slice order
    sources = [pydicom.dcmread(f) for f in files]
    positions = [float(np.dot(s.ImagePositionPatient, phantom.direction[:, 0])) for s in sources]
    assert positions == sorted(positions, reverse=True)  # descending along the slice axis
    labels = phantom.labels()
    masks = np.stack([labels[::-1] == 1, labels[::-1] == 2], axis=-1).astype(np.uint8)
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=label,
                segmented_property_category=codes.SCT.Tissue,
                segmented_property_type=codes.SCT.Tissue,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            )
            for number, label in ((1, "block"), (2, "column"))
        ],
        series_instance_uid=hd.UID(),
        series_number=2,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="0",
        device_serial_number="0",
        omit_empty_frames=False,
    )
    path = tmp_path / "alone" / "phantom_seg.dcm"
    path.parent.mkdir()
    seg.save_as(path)
    stored = pydicom.dcmread(path)
    frame_positions = [
        float(np.dot(g.PlanePositionSequence[0].ImagePositionPatient, phantom.direction[:, 0]))
        for g in stored.PerFrameFunctionalGroupsSequence
    ]
    assert frame_positions[0] > frame_positions[-1]  # stored high to low
    assert int(stored.Rows) * int(stored.Columns) % 8 != 0
    for read in (read_dicom_seg(path), read_dicom_seg(path, reference=phantom_dicom)):
        np.testing.assert_allclose(read.grid.spacing, phantom.spacing, atol=1e-6)
        np.testing.assert_allclose(read.grid.direction, phantom.direction, atol=1e-6)
        np.testing.assert_allclose(read.grid.origin, phantom.origin, atol=1e-4)
        for name, value in (("block", 1), ("column", 2)):
            segment = read.segment_named(name)
            assert segment is not None
            np.testing.assert_array_equal(read.mask(segment), labels == value)


def test_seg_alone_without_a_regular_grid_asks_for_the_reference(corpus: Path, tmp_path: Path) -> None:
    import pydicom

    # B2's BINARY SEG (frames at z 103.02, 104.27, 105.52) with its middle frame moved 0.6 mm: the
    # frames no longer form a regular stack, so only the image series could place them
    dataset = pydicom.dcmread(corpus / B2 / "seg_image_ct_binary.dcm")
    plane = dataset.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0]
    x, y, z = (float(v) for v in plane.ImagePositionPatient)
    plane.ImagePositionPatient = [x, y, z + 0.6]
    (tmp_path / "alone").mkdir()
    dataset.save_as(tmp_path / "alone" / "irregular.dcm")
    with pytest.raises(
        ImageReadError, match=r"do not define a regular 3-D grid.*give the reference image \(--reference\)"
    ):
        read_dicom_seg(tmp_path / "alone" / "irregular.dcm")
