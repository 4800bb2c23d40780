"""DICOM series reader on corpus A1, A2, B1, B2, B3, F, G; facts from pydicom attributes read
directly (ImagePositionPatient, PixelSpacing, RescaleIntercept, pixel_array) and from the NRRD /
NIfTI files that the corpus pairs with the series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import read_header, read_image
from sessionkit.io.dicom_series import read_dicom_mask_series, read_dicom_series

A1 = "A1-rtstruct-ibsi-ct-phantom"


def test_a1_ct_series_matches_its_nifti_mask_grid(corpus: Path) -> None:
    volume = read_image(corpus / A1 / "dicom/image/DCM_IMG_00007.dcm")  # any file names the series
    assert isinstance(volume, Volume)
    assert volume.grid.spatial_shape == (60, 201, 204)
    np.testing.assert_allclose(volume.grid.spacing, (3.0, 0.97699999809265, 0.97699999809265), atol=1e-6)
    # lowest slice z = -100.40000152587 (60 slices up to 76.5999984741211), IOP 1 0 0 0 1 0
    np.testing.assert_allclose(volume.grid.origin, (-174.39450073242, -79.625503540039, -100.40000152587))
    np.testing.assert_allclose(volume.grid.direction, np.eye(3)[:, ::-1])
    # pixel_array[100, 102] * 1 + (-1000) on the lowest slice
    assert volume.array[0, 100, 102] == 55 and volume.array.dtype == np.int16
    assert volume.frame_of_reference_uid == "1.3.6.1.4.1.9590.100.1.2.43753750011518494101799896492065629048"
    mask = read_image(corpus / A1 / "nifti/mask/mask.nii.gz", image_type="LabelMap")
    assert volume.grid.matches(mask.grid)
    folder = read_image(corpus / A1 / "dicom/image")
    np.testing.assert_array_equal(folder.array, volume.array)  # type: ignore[union-attr]
    assert read_header(corpus / A1 / "dicom/image/DCM_IMG_00000.dcm").grid.matches(volume.grid)


def test_a2_ct_series_matches_its_nifti_image(corpus: Path) -> None:
    root = corpus / "A2-rtstruct-sts002-ct-mr-pet/CT"
    series = read_image(root / "dicom/image/000000.dcm")
    nifti = read_image(root / "nifti/image/image.nii.gz")
    assert isinstance(series, Volume) and isinstance(nifti, Volume)
    assert series.grid.matches(nifti.grid)
    np.testing.assert_array_equal(series.array, nifti.array)


def test_f_single_ct_slice_rescaled(corpus: Path) -> None:
    volume = read_dicom_series(corpus / "F-pydicom/CT_small.dcm")
    assert volume.grid.spatial_shape == (1, 128, 128)
    assert volume.array[0, 64, 64] == 1928 - 1024  # stored value + RescaleIntercept
    np.testing.assert_allclose(volume.grid.spacing, (5.0, 0.661468, 0.661468))  # SliceThickness for one slice
    np.testing.assert_allclose(volume.grid.origin, (-158.135803, -179.035797, -75.699997))


def test_b1_three_slices(corpus: Path) -> None:
    volume = read_dicom_series(corpus / "B1-seg-binary-dcmqi-ct3slice/ct-3slice")
    assert volume.grid.spatial_shape == (3, 512, 512)
    np.testing.assert_allclose(volume.grid.spacing, (1.0, 0.810547, 0.810547), atol=1e-6)
    labels = read_image(corpus / "B1-seg-binary-dcmqi-ct3slice/liver_seg.nrrd", image_type="LabelMap")
    assert volume.grid.matches(labels.grid)  # the dcmqi NRRD inputs share the series grid


def test_b2_non_uniform_spacing_names_the_measured_spacings(corpus: Path) -> None:
    # z = -99.48, 103.02, 104.27, 105.52
    with pytest.raises(ImageReadError, match=r"not uniform: measured \[202\.5, 1\.25, 1\.25\] mm between 4 slices"):
        read_dicom_series(corpus / "B2-seg-fractional-highdicom-ct2/CT2")


def test_b3_mask_stored_as_ct_series(corpus: Path) -> None:
    root = corpus / "B3-seg-labelmap-dcmqi-24x38x3/24x38x3"
    mask = read_image(root / "image/IMG0001.dcm", image_type="Segmentation")
    assert isinstance(mask, Segmentation)
    assert read_dicom_mask_series(root / "image").segments == mask.segments
    assert [(s.label_value, s.name) for s in mask.segments] == [(1, "Image 24x38x3")]
    label = read_image(root / "nrrd/label.nrrd", image_type="LabelMap")
    assert isinstance(label, Segmentation)
    assert mask.grid.matches(label.grid)
    np.testing.assert_array_equal(mask.layers, label.layers)
    assert mask.voxel_count(mask.segments[0]) == 315  # np.count_nonzero of the NRRD via pynrrd


def test_b3_read_as_volume_notes_it_looks_like_a_mask(corpus: Path) -> None:
    from sessionkit.io import describe

    info = describe(read_image(corpus / "B3-seg-labelmap-dcmqi-24x38x3/24x38x3/image"))
    assert info["notes"] == ["values are only 0 and 1: looks like a mask; use --type Segmentation"]


def test_g_jpeg2000_slice(corpus: Path) -> None:
    volume = read_dicom_series(corpus / "G-sliceomatic-tag/test01.dcm")
    assert volume.grid.spatial_shape == (1, 512, 512)
    assert volume.array[0, 256, 256] == 982 - 1024
    np.testing.assert_allclose(volume.grid.origin, (-175.1474609375, -339.6474609375, -166.8))


def test_folder_with_several_series_asks_for_one(corpus: Path, tmp_path: Path) -> None:
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (tmp_path / name).write_bytes((corpus / "F-pydicom" / name).read_bytes())
    (tmp_path / "notes.txt").write_text("not dicom")
    with pytest.raises(ImageReadError, match=r"holds 2 series: .*name one file of the series"):
        read_dicom_series(tmp_path)
    assert read_dicom_series(tmp_path / "MR_small.dcm").grid.spatial_shape == (1, 64, 64)


def test_g_sliceomatic_tag_lies_on_its_dicom_slice(corpus: Path) -> None:
    tag = read_image(corpus / "G-sliceomatic-tag/test01.dcm.tag")
    assert isinstance(tag, Segmentation)
    # header: x:512 y:512 z:1, org -175.1475/-339.6475/-166.8, inc 0.7051, epais 1.5; labels {0: 238705, 1: 23439}
    assert tag.grid.spatial_shape == (1, 512, 512)
    np.testing.assert_allclose(tag.grid.origin, (-175.1475, -339.6475, -166.8))
    np.testing.assert_allclose(tag.grid.spacing, (1.5, 0.7051, 0.7051))
    assert [(s.label_value, tag.voxel_count(s)) for s in tag.segments] == [(1, 23439)]
    ct = read_dicom_series(corpus / "G-sliceomatic-tag/test01.dcm")
    assert ct.grid.matches(tag.grid)
    # the label covers soft tissue, not air: mean HU inside vs outside
    inside = float(np.mean(ct.array[tag.layers[0] == 1]))
    assert 0 < inside < 100 and float(np.mean(ct.array[tag.layers[0] == 0])) < -300
    assert read_header(corpus / "G-sliceomatic-tag/test01.dcm.tag").kind == "segmentation"


def test_tag_header_parsing_and_errors(tmp_path: Path) -> None:
    from sessionkit.io.sliceomatic_tag import parse_tag_header

    assert parse_tag_header("X:2 y:3,z:1\ttype:BYTE * comment x:9\r\norg_x:-1.5") == {
        "x": "2",
        "y": "3",
        "z": "1",
        "type": "BYTE",
        "org_x": "-1.5",
    }
    short = tmp_path / "short.tag"
    short.write_bytes(b"x:4 y:4 z:1 type:BYTE\r\n\x0c" + bytes(3))
    with pytest.raises(ImageReadError, match=r"3 bytes after the header; expected 16 labels \(4x4x1\)"):
        read_image(short)


def test_enhanced_multiframe_written_by_highdicom_equals_the_series(corpus: Path, tmp_path: Path) -> None:
    import warnings

    import highdicom as hd
    import pydicom
    from pydicom.uid import generate_uid

    datasets = [pydicom.dcmread(p) for p in sorted((corpus / A1 / "dicom/image").iterdir())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # highdicom's note on the corpus' one-part patient name
        enhanced = hd.legacy.LegacyConvertedEnhancedCTImage(
            datasets,
            series_instance_uid=generate_uid(),
            series_number=99,
            sop_instance_uid=generate_uid(),
            instance_number=1,
        )
    enhanced.save_as(tmp_path / "enhanced.dcm")
    multiframe = read_image(tmp_path / "enhanced.dcm")
    series = read_image(corpus / A1 / "dicom/image")
    assert isinstance(multiframe, Volume) and isinstance(series, Volume)
    assert multiframe.grid.matches(series.grid)
    np.testing.assert_array_equal(multiframe.array, series.array)
    assert read_header(tmp_path / "enhanced.dcm").grid.matches(series.grid)


def test_f_multiframe_without_frame_geometry_is_refused(corpus: Path) -> None:
    with pytest.raises(
        ImageReadError, match=r"emri_small\.dcm: multi-frame image without PerFrameFunctionalGroupsSequence"
    ):
        read_image(corpus / "F-pydicom/emri_small.dcm")
