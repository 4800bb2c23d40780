"""Drawing decode, quizlabel.nrrd encode and starting contours (sessionkit.io.contours, issue #7)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from sessionkit.errors import GeometryError, ImageReadError, SegmentationError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segment, Segmentation, Volume
from sessionkit.io import (
    decode_drawing,
    encode_labelmap_nrrd,
    encode_nifti,
    merge_labelmaps,
    read_image,
    read_labelmap,
    read_nrrd,
    resample_labels,
    starting_labelmap,
    summarize_labels,
)
from sessionkit.io.contours import drawing_size_limit

GRID = ImageGrid.from_parts(
    (5, 7, 9),
    spacing=(3.3, 0.7, 0.9),
    direction=[[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]],
    origin=(193.096, 216.396, -340.25),
)


def labels_on(grid: ImageGrid = GRID) -> np.ndarray:
    labels = np.zeros(grid.spatial_shape, dtype=np.uint8)
    labels[1, 2:5, 3:7] = 1
    labels[3, 0, :] = 255
    return labels


def test_both_niivue_encodings_decode_onto_the_grid() -> None:
    labels = labels_on()
    raw = encode_nifti(labels, GRID, label=True, compression_level=None)
    assert raw[:2] != b"\x1f\x8b"
    for data in (raw, gzip.compress(raw)):
        decoded = decode_drawing(data, GRID)
        assert decoded.dtype == np.uint8 and np.array_equal(decoded, labels)


def test_float32_header_of_the_viewer_is_within_tolerance() -> None:
    """Niivue writes the background's header back: float32 affine, same voxel order."""
    image: Any = nib.Nifti1Image.from_bytes(encode_nifti(labels_on(), GRID, label=True, compression_level=None))
    header = image.header.copy()
    header.set_data_dtype(np.uint8)
    rounded: Any = nib.Nifti1Image(np.asanyarray(image.dataobj), image.affine.astype(np.float32), header)
    assert np.array_equal(decode_drawing(rounded.to_bytes(), GRID), labels_on())


def test_wrong_grids_name_found_and_expected() -> None:
    data = encode_nifti(labels_on(), GRID, label=True)
    flipped = ImageGrid.from_parts(GRID.spatial_shape, spacing=GRID.spacing, origin=GRID.origin)
    with pytest.raises(GeometryError, match=r"direction .* vs .*found vs expected"):
        decode_drawing(data, flipped)
    bigger = ImageGrid(((6, 7, 9)), GRID.affine)
    with pytest.raises(GeometryError, match=r"size \[5, 7, 9\] vs \[6, 7, 9\]"):
        decode_drawing(data, bigger)


def test_a_gzip_drawing_is_bounded_by_its_inflated_size() -> None:
    """Issue #11 item 3: a few kilobytes that inflate past 2 bytes per voxel + header are refused."""
    drawing = encode_nifti(np.zeros(GRID.spatial_shape, np.uint8), GRID, label=True, compression_level=None)
    bomb = gzip.compress(drawing + bytes(drawing_size_limit(GRID)), compresslevel=9)
    assert len(bomb) < drawing_size_limit(GRID) // 100
    with pytest.raises(ImageReadError, match="inflates to more than"):
        decode_drawing(bomb, GRID)
    with pytest.raises(ImageReadError, match="truncated gzip"):
        decode_drawing(gzip.compress(drawing)[:-20], GRID)
    assert decode_drawing(gzip.compress(drawing), GRID).shape == GRID.spatial_shape


def test_contents_that_are_not_a_drawing() -> None:
    with pytest.raises(ImageReadError, match="not a NIfTI-1"):
        decode_drawing(b"\x1f\x8b" + b"junk" * 100, GRID)
    frames = encode_nifti(np.zeros((2, *GRID.spatial_shape), np.uint8), GRID, label=True)
    with pytest.raises(ImageReadError, match="one 3-D label map"):
        decode_drawing(frames, GRID)
    halves = encode_nifti(np.full(GRID.spatial_shape, 0.5, np.float32), GRID)
    with pytest.raises(ImageReadError, match="non-integer"):
        decode_drawing(halves, GRID)
    negative = encode_nifti(np.full(GRID.spatial_shape, -1, np.int16), GRID)
    with pytest.raises(ImageReadError, match="negative"):
        decode_drawing(negative, GRID)


def test_quizlabel_nrrd_copies_the_grid_exactly(tmp_path: Path) -> None:
    path = tmp_path / "P_CT-quizlabel.nrrd"
    path.write_bytes(encode_labelmap_nrrd(labels_on(), GRID))
    volume = read_nrrd(path)
    assert volume.array.dtype == np.uint8 and np.array_equal(volume.array, labels_on())
    assert np.array_equal(volume.grid.affine, GRID.affine)
    assert np.array_equal(volume.grid.spacing, GRID.spacing) and np.array_equal(volume.grid.origin, GRID.origin)
    header = path.read_bytes()[:700]
    assert b"space: left-posterior-superior" in header and b"encoding: gzip" in header
    wide = labels_on().astype(np.uint16)
    wide[0, 0, 0] = 300
    path.write_bytes(encode_labelmap_nrrd(wide, GRID))
    assert read_nrrd(path).array.dtype == np.uint16 and read_nrrd(path).array[0, 0, 0] == 300
    with pytest.raises(SegmentationError):
        encode_labelmap_nrrd(np.full(GRID.spatial_shape, -1, np.int32), GRID)
    with pytest.raises(GeometryError):
        encode_labelmap_nrrd(np.zeros((1, 2, 3), np.uint8), GRID)


def test_summary_counts_values_and_voxels() -> None:
    assert summarize_labels(labels_on()) == summarize_labels(labels_on().astype(np.int32))
    summary = summarize_labels(labels_on())
    assert summary.labels == (1, 255) and summary.voxel_count == 12 + 9
    assert summarize_labels(np.zeros(GRID.spatial_shape, np.uint8)).labels == ()


def test_merge_takes_the_maximum_without_overflow() -> None:
    """IQ defect D25: unsigned overflow when merging label maps; here an int32 maximum, no wrap-around."""
    a = np.full((2, 2, 2), 200, np.uint8)
    b = np.full((2, 2, 2), 100, np.uint8)
    b[0, 0, 0] = 250
    merged = merge_labelmaps([a, b])
    assert merged.dtype == np.uint8 and merged[0, 0, 0] == 250 and merged[1, 1, 1] == 200
    with pytest.raises(SegmentationError):
        merge_labelmaps([])


def test_nearest_neighbour_resampling_onto_a_finer_grid(tmp_path: Path) -> None:
    coarse = ImageGrid.from_parts((2, 2, 2), spacing=(2.0, 2.0, 2.0))
    fine = ImageGrid.from_parts((4, 4, 4), spacing=(1.0, 1.0, 1.0), origin=(-0.4, -0.4, -0.4))
    labels = np.arange(1, 9, dtype=np.uint8).reshape(2, 2, 2)
    out = resample_labels(labels, coarse, fine)
    assert out[0, 0, 0] == 1 and out[3, 3, 3] == 8 and out[2, 0, 0] == labels[1, 0, 0]
    path = tmp_path / "m.nrrd"
    path.write_bytes(encode_labelmap_nrrd(labels, coarse))
    assert np.array_equal(read_labelmap(path, fine), out)
    assert resample_labels(labels, coarse, coarse) is labels


def test_starting_contour_from_corpus_d_keeps_every_voxel(corpus: Path) -> None:
    folder = corpus / "D-segnrrd-slicerio"
    background = read_image(folder / "CTChest4.nrrd")
    source = read_image(folder / "Segmentation.seg.nrrd")
    assert isinstance(source, Segmentation)
    plain = starting_labelmap(source, background.grid)
    assert plain.dtype == np.uint8 and np.array_equal(plain, source.layers[0])
    table = {10: ("Right Lung", (0, 255, 0)), 1: ("lesion", (255, 0, 0))}
    named = starting_labelmap(source, background.grid, table)
    right_lung = source.segment_named("right lung")
    ribs = source.segment_named("ribs")
    assert right_lung is not None and ribs is not None
    assert np.array_equal(named == 10, source.mask(right_lung))  # name match, case-insensitive
    # unmatched names keep their segment label values (ribs 1, even though the table calls 1 "lesion")
    assert np.array_equal(named == 1, source.mask(ribs))
    assert set(np.unique(named)) == {0, 1, 2, 3, 4, 6, 7, 10}


def test_overlapping_layers_paint_in_file_order(corpus: Path) -> None:
    source = read_image(corpus / "D-segnrrd-slicerio" / "SegmentationOverlapping.seg.nrrd")
    assert isinstance(source, Segmentation) and source.layers.shape[0] == 2
    labels = starting_labelmap(source, source.grid)
    sphere = source.segment_named("overlapping sphere")
    assert sphere is not None
    values = np.unique(labels[source.mask(sphere)])
    assert len(values) == 1 and values[0] == 8  # label 1 of layer 1 collides with ribs: next free value


def test_dicom_seg_and_rtstruct_start_on_their_series(corpus: Path) -> None:
    b1 = corpus / "B1-seg-binary-dcmqi-ct3slice"
    ct = read_image(b1 / "ct-3slice")
    seg = read_image(b1 / "liver.dcm")
    assert isinstance(seg, Segmentation)
    labels = starting_labelmap(seg, ct.grid, {3: ("Liver", (200, 0, 0))})
    assert np.array_equal(labels == 3, seg.layers[0] == 1) and set(np.unique(labels)) == {0, 3}
    a2 = corpus / "A2-rtstruct-sts002-ct-mr-pet" / "CT" / "dicom"
    series = read_image(a2 / "image")
    structure = read_image(a2 / "mask" / "RS.dcm")
    assert isinstance(structure, Segmentation)
    labels = starting_labelmap(structure, series.grid)
    assert labels.shape == series.grid.spatial_shape and summarize_labels(labels).voxel_count > 1000


def test_a_label_volume_starts_as_is_and_limits_apply() -> None:
    volume = Volume(labels_on().astype(np.int16), GRID, source="mask.nrrd")
    assert np.array_equal(starting_labelmap(volume, GRID), labels_on())
    with pytest.raises(SegmentationError, match="0-255"):
        starting_labelmap(Volume(np.full(GRID.spatial_shape, 300, np.int16), GRID, source="big.nrrd"), GRID)
    many = tuple(Segment(str(i), f"s{i}", 1, (0, 0, 0), i) for i in range(256))
    crowded = Segmentation(np.ones((256, *GRID.spatial_shape), np.uint8), GRID, many, source="crowded")
    with pytest.raises(SegmentationError, match="255"):
        starting_labelmap(crowded, GRID)
