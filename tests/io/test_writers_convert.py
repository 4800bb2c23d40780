"""Writers (DICOM SEG with highdicom, write_image dispatch) and ``sessionkit convert``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.errors import GeometryError, SegmentationError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import read_dicom_seg, read_image, read_seg_nrrd, write_dicom_seg, write_image

A1 = "A1-rtstruct-ibsi-ct-phantom"
B1 = "B1-seg-binary-dcmqi-ct3slice"
B3 = "B3-seg-labelmap-dcmqi-24x38x3/24x38x3"


def _segmentation(path: Path, **kwargs: Any) -> Segmentation:
    image = read_image(path, **kwargs)
    assert isinstance(image, Segmentation)
    return image


def test_rtstruct_to_dicom_seg_round_trip(corpus: Path, tmp_path: Path) -> None:
    gtv = _segmentation(corpus / A1 / "dicom/mask/DCM_RS_00060.dcm")
    write_dicom_seg(gtv, tmp_path / "gtv.dcm", reference=corpus / A1 / "dicom/image")
    header = pydicom.dcmread(tmp_path / "gtv.dcm", stop_before_pixels=True)
    assert header.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4" and header.SegmentationType == "BINARY"
    assert header.ReferencedSeriesSequence[0].SeriesInstanceUID == (
        "1.3.6.1.4.1.9590.100.1.2.296658988911737913102339329841519593982"
    )
    back = read_dicom_seg(tmp_path / "gtv.dcm", reference=corpus / A1 / "dicom/image")
    assert back.grid.matches(gtv.grid)
    assert [(s.name, s.color) for s in back.segments] == [("GTV-1", (0, 230, 0))]
    np.testing.assert_array_equal(back.layers[0] > 0, gtv.layers[0] > 0)
    assert back.voxel_count(back.segments[0]) == 125256


def test_overlapping_seg_round_trip_keeps_every_segment(corpus: Path, tmp_path: Path) -> None:
    seg = _segmentation(corpus / B1 / "partial_overlaps.dcm")
    write_dicom_seg(seg, tmp_path / "o.dcm", reference=corpus / B1 / "ct-3slice")
    back = read_dicom_seg(tmp_path / "o.dcm", reference=corpus / B1 / "ct-3slice")
    assert [s.name for s in back.segments] == ["GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"]
    for before, after in zip(seg.segments, back.segments, strict=True):
        np.testing.assert_array_equal(seg.mask(before), back.mask(after))
        assert before.color == after.color  # RGB -> CIELab -> RGB


def test_dicom_seg_refuses_another_grid(corpus: Path, tmp_path: Path) -> None:
    seg = _segmentation(corpus / B1 / "liver.dcm")
    with pytest.raises(GeometryError, match=r"grid differs from the reference series .*size"):
        write_dicom_seg(seg, tmp_path / "x.dcm", reference=corpus / A1 / "dicom/image")


def test_convert_mask_series_to_dicom_seg(corpus: Path, tmp_path: Path) -> None:
    """Issue #5 item 5: a mask stored as a fake CT series becomes a DICOM SEG."""
    out = tmp_path / "mask.dcm"
    result = CliRunner().invoke(
        main, ["convert", str(corpus / B3 / "image/IMG0002.dcm"), str(out), "--type", "Segmentation"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    back = read_dicom_seg(out, reference=corpus / B3 / "image")
    label = _segmentation(corpus / B3 / "nrrd/label.nrrd", image_type="LabelMap")
    np.testing.assert_array_equal(back.layers, label.layers)


def test_convert_rtstruct_to_seg_nrrd_and_nifti(corpus: Path, tmp_path: Path) -> None:
    rs = str(corpus / A1 / "dicom/mask/DCM_RS_00060.dcm")
    for name in ("gtv.seg.nrrd", "gtv.nii.gz"):
        result = CliRunner().invoke(main, ["convert", rs, str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    seg_nrrd = read_seg_nrrd(tmp_path / "gtv.seg.nrrd")
    assert [(s.name, seg_nrrd.voxel_count(s)) for s in seg_nrrd.segments] == [("GTV-1", 125256)]
    nifti = _segmentation(tmp_path / "gtv.nii.gz", image_type="LabelMap")
    mirp = _segmentation(corpus / A1 / "nifti/mask/mask.nii.gz", image_type="LabelMap")
    assert nifti.grid.matches(mirp.grid)
    np.testing.assert_array_equal(nifti.layers, mirp.layers)


def test_write_image_refusals(corpus: Path, tmp_path: Path) -> None:
    grid = ImageGrid.from_parts((1, 2, 2))
    volume = Volume(np.zeros((1, 2, 2), dtype=np.int16), grid)
    with pytest.raises(SegmentationError, match="cannot be written as a segmentation"):
        write_image(volume, tmp_path / "v.seg.nrrd")
    overlapping = _segmentation(corpus / "D-segnrrd-slicerio/SegmentationOverlapping.seg.nrrd")
    with pytest.raises(SegmentationError, match="2 overlapping layers; NIfTI holds one"):
        write_image(overlapping, tmp_path / "o.nii.gz")
    with pytest.raises(SegmentationError, match="references its image series; give --reference"):
        write_image(overlapping, tmp_path / "o.dcm")
    with pytest.raises(SegmentationError, match="unknown output format"):
        write_image(volume, tmp_path / "v.png")
    result = CliRunner().invoke(main, ["convert", str(corpus / B1 / "liver.dcm"), str(tmp_path / "x.mha")])
    assert result.exit_code == 2 and "unknown output format" in result.output


def test_phantom_written_as_dicom_series_reads_back_in_place(phantom: Any, phantom_dicom: Path) -> None:
    """Conformance for DICOM: the oblique phantom written slice by slice with pydicom (test-only
    writer, clarifications C12); every voxel lands at the same LPS position with the same value."""
    from sessionkit.io import read_dicom_series

    volume = phantom.volume()
    read = read_dicom_series(phantom_dicom)
    np.testing.assert_allclose(sorted(read.grid.spacing), sorted(phantom.spacing), atol=1e-6)
    s, r, c = np.indices(phantom.shape).reshape(3, -1)
    points = phantom.origin + (np.stack([s, r, c], axis=1) * phantom.spacing) @ phantom.direction.T
    index = np.rint(read.grid.lps_to_index(points)).astype(int)
    np.testing.assert_array_equal(read.array[index[:, 0], index[:, 1], index[:, 2]], volume[s, r, c])
    assert read.frame_of_reference_uid == pydicom.dcmread(phantom_dicom / "0.dcm").FrameOfReferenceUID


def test_convert_names_the_fix_for_a_nifti_label_map_and_a_nrrd_reference(corpus: Path, tmp_path: Path) -> None:
    labels = str(corpus / "E1-nifti-totalsegmentator/example_seg.nii.gz")  # TotalSegmentator's label map
    refused = CliRunner().invoke(main, ["convert", labels, str(tmp_path / "seg.seg.nrrd")])
    assert refused.exit_code == 2
    assert "read as a volume" in refused.output and "--type LabelMap" in refused.output
    written = CliRunner().invoke(main, ["convert", labels, str(tmp_path / "seg.seg.nrrd"), "--type", "LabelMap"])
    assert written.exit_code == 0, written.output  # the fix the message names works
    # a NRRD background as --reference of a DICOM SEG: the SEG needs the DICOM series
    seg = str(corpus / "D-segnrrd-slicerio/Segmentation.seg.nrrd")
    ct = str(corpus / "D-segnrrd-slicerio/CTChest4.nrrd")
    result = CliRunner().invoke(main, ["convert", seg, str(tmp_path / "seg.dcm"), "--reference", ct])
    assert result.exit_code == 2
    assert "CTChest4.nrrd: not a DICOM file" in result.output and "DICOM image series" in result.output
    assert "SeriesInstanceUID" not in result.output
    assert not (tmp_path / "seg.dcm").exists()
