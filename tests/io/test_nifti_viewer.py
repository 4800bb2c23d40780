"""The NIfTI bytes the viewer loads, checked with nibabel (independent reader), plus LPS/RAS
round-trip properties on random oblique grids."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit.errors import GeometryError, ImageReadError, SegmentationError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segment, Segmentation, Volume
from sessionkit.io import encode_nifti, read_image, read_nifti, read_nifti_bytes, read_nrrd, write_nifti, write_nrrd


def _nib(data: bytes) -> Any:
    return nib.Nifti1Image.from_bytes(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)


def _grid(phantom: Any) -> ImageGrid:
    return ImageGrid.from_parts(phantom.shape, phantom.spacing, phantom.direction, phantom.origin)


def test_volume_bytes_have_the_ras_affine_of_the_lps_grid(phantom: Any) -> None:
    grid = _grid(phantom)
    image = _nib(write_nifti(Volume(phantom.volume(), grid)))
    # index (i, j, k) = (column, row, slice); RAS = LPS with x and y negated
    for s, r, c in [(0, 0, 0), phantom.corner, (2, 5, 1)]:
        ras = image.affine @ [c, r, s, 1]
        lps = grid.index_to_lps([[s, r, c]])[0]
        np.testing.assert_allclose(ras[:3], [-lps[0], -lps[1], lps[2]], atol=1e-4)
    assert int(image.header["sform_code"]) == 1 and int(image.header["qform_code"]) == 1
    np.testing.assert_allclose(image.get_qform(), image.get_sform(), atol=1e-4)
    assert image.get_data_dtype() == np.int16
    assert int(image.header["intent_code"]) == 0
    data = np.asanyarray(image.dataobj)
    assert data.shape == (9, 7, 5)
    assert data[8, 6, 4] == 2000  # the marked corner (column, row, slice)


def test_segmentation_layer_is_a_label_map_on_the_same_geometry(phantom: Any) -> None:
    grid = _grid(phantom)
    second = np.zeros(phantom.shape, dtype=np.uint8)
    second[0, 0, 0] = 1
    seg = Segmentation(
        np.stack([phantom.labels(), second]),
        grid,
        (Segment("a", "a", 1, (1, 2, 3), 0), Segment("b", "b", 1, (1, 2, 3), 1)),
    )
    background = _nib(write_nifti(Volume(phantom.volume(), grid)))
    for layer, expected in ((0, phantom.labels()), (1, second)):
        label = _nib(write_nifti(seg, layer=layer))
        assert int(label.header["intent_code"]) == 1002
        assert label.get_data_dtype() == np.uint8
        np.testing.assert_array_equal(label.affine, background.affine)
        np.testing.assert_array_equal(np.asanyarray(label.dataobj), expected.T)
    with pytest.raises(SegmentationError, match="layer 2 requested"):
        write_nifti(seg, layer=2)


@pytest.mark.parametrize(
    ("values", "dtype"),
    [((0, 255), np.uint8), ((0, 256), np.uint16), ((0, 70000), np.int32), ((-1, 3), np.int32)],
)
def test_label_dtype_is_the_smallest_that_fits(values: tuple[int, int], dtype: type) -> None:
    grid = ImageGrid.from_parts((1, 1, 2))
    image = _nib(encode_nifti(np.array([[values]], dtype=np.int64), grid, label=True))
    assert image.get_data_dtype() == dtype
    assert int(image.header["intent_code"]) == 1002
    assert np.asanyarray(image.dataobj).ravel().tolist() == list(values)


@pytest.mark.parametrize(
    ("array", "dtype"),
    [
        (np.array([[[0, 200]]], dtype=np.uint8), np.uint8),
        (np.array([[[-1024, 3071]]], dtype=np.int32), np.int16),
        (np.array([[[0, 70000]]], dtype=np.int32), np.float32),
        (np.array([[[0.5, 1.5]]], dtype=np.float64), np.float32),
    ],
)
def test_volume_dtype(array: np.ndarray, dtype: type) -> None:
    image = _nib(encode_nifti(array, ImageGrid.from_parts((1, 1, 2))))
    assert image.get_data_dtype() == dtype
    np.testing.assert_array_equal(np.asanyarray(image.dataobj).ravel(), array.ravel())


def test_encode_uint8_contour_on_a_volume_grid_and_read_it_back(phantom: Any) -> None:
    grid = _grid(phantom)
    contour = np.zeros(phantom.shape, dtype=np.uint8)
    contour[1:3, 2:4, 5] = 4
    data = encode_nifti(contour, grid, label=True)
    assert data[:2] == b"\x1f\x8b"
    back = read_nifti_bytes(data)
    assert back.grid.matches(grid)
    np.testing.assert_array_equal(back.array, contour)
    raw = encode_nifti(contour, grid, label=True, compression_level=None)
    assert raw[344:348] == b"n+1\x00"
    np.testing.assert_array_equal(read_nifti_bytes(raw).array, contour)


def test_encode_refuses_wrong_shape_and_non_integer_labels(phantom: Any) -> None:
    grid = _grid(phantom)
    with pytest.raises(GeometryError, match="does not end with the grid shape"):
        encode_nifti(np.zeros((2, 2, 2)), grid)
    with pytest.raises(ImageReadError, match="non-integer"):
        encode_nifti(np.full(phantom.shape, 0.5), grid, label=True)
    with pytest.raises(ImageReadError, match="not a NIfTI-1 image"):
        read_nifti_bytes(b"not a nifti")


def test_write_nifti_to_path_compresses_by_suffix(phantom: Any, tmp_path: Path) -> None:
    volume = Volume(phantom.volume(), _grid(phantom))
    gz = write_nifti(volume, tmp_path / "v.nii.gz")
    raw = write_nifti(volume, tmp_path / "v.nii")
    assert (tmp_path / "v.nii.gz").read_bytes() == gz and gz[:2] == b"\x1f\x8b"
    assert (tmp_path / "v.nii").read_bytes() == raw and raw[344:348] == b"n+1\x00"


unit = st.floats(-1.0, 1.0, allow_nan=False)


@st.composite
def oblique_grids(draw: st.DrawFn) -> ImageGrid:
    """Random grid: orthonormal direction (either handedness), anisotropic spacing, any origin."""
    matrix = np.array([[draw(unit) for _ in range(3)] for _ in range(3)]) + np.eye(3) * 2.5
    q, _ = np.linalg.qr(matrix)
    if draw(st.booleans()):
        q[:, 0] = -q[:, 0]
    spacing = [draw(st.floats(0.1, 10.0)) for _ in range(3)]
    origin = [draw(st.floats(-500.0, 500.0)) for _ in range(3)]
    shape = tuple(draw(st.integers(1, 4)) for _ in range(3))
    return ImageGrid.from_parts(shape, spacing, q, origin)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(grid=oblique_grids())
def test_lps_ras_round_trip_through_nifti(grid: ImageGrid) -> None:
    array = np.arange(np.prod(grid.spatial_shape), dtype=np.int16).reshape(grid.spatial_shape)
    back = read_nifti_bytes(write_nifti(Volume(array, grid)))
    np.testing.assert_allclose(back.grid.affine, grid.affine, atol=1e-4)
    np.testing.assert_array_equal(back.array, array)


@settings(max_examples=25, deadline=None)
@given(grid=oblique_grids())
def test_lps_round_trip_through_nrrd(grid: ImageGrid, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("prop") / "g.nrrd"
    array = np.arange(np.prod(grid.spatial_shape), dtype=np.int16).reshape(grid.spatial_shape)
    write_nrrd(Volume(array, grid), path)
    back = read_nrrd(path)
    np.testing.assert_allclose(back.grid.affine, grid.affine, atol=1e-9)
    np.testing.assert_array_equal(back.array, array)


def test_corpus_label_and_ct_encode_the_same_affine(corpus: Path) -> None:
    ct = read_image(corpus / "D-segnrrd-slicerio" / "CTChest4.nrrd")
    seg = read_image(corpus / "D-segnrrd-slicerio" / "Segmentation.seg.nrrd")
    ct_nii, seg_nii = _nib(write_nifti(ct)), _nib(write_nifti(seg))
    np.testing.assert_allclose(ct_nii.affine, seg_nii.affine, atol=1e-6)
    # header: space directions (-3.0469, 0, 0) ... LPS -> RAS (+3.0469, 0, 0); origin (193.096, 216.396) -> negated
    np.testing.assert_allclose(ct_nii.affine[:3, 0], (3.04687595367432, 0, 0), atol=1e-6)
    np.testing.assert_allclose(ct_nii.affine[:3, 3], (-193.09599304199222, -216.39599609374994, -340.25), atol=1e-4)
    assert ct_nii.get_data_dtype() == np.int16  # CT stored int32 with values -3024..3070
    assert read_nifti(corpus / "E2-nifti-nibabel" / "anatomical.nii").array.dtype.isnative
