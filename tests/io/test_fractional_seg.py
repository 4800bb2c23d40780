"""FRACTIONAL DICOM SEG (corpus B2, highdicom's PROBABILITY SEG with stored values {0, 64, 128} of 255):
the probabilities stay in the model, label-map outputs threshold them at 0.5, NIfTI and FRACTIONAL SEG
outputs keep them; ``--seg-type`` picks BINARY, LABELMAP or FRACTIONAL SEG output."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from click.testing import CliRunner

from sessionkit.cli import SEG_TYPES as CLI_SEG_TYPES
from sessionkit.cli import main
from sessionkit.imaging import Segmentation
from sessionkit.io import read_dicom_seg, read_image, read_seg_nrrd
from sessionkit.io.dicom_seg import SEG_TYPES

B1 = "B1-seg-binary-dcmqi-ct3slice"
B2 = "B2-seg-fractional-highdicom-ct2"


@pytest.fixture
def fractional(corpus: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The true-fractional SEG and a folder of the three evenly spaced CT2 slices it covers."""
    series = tmp_path / "ct"
    series.mkdir()
    for name in ("17136", "17166", "17196"):
        shutil.copy(corpus / B2 / "CT2" / name, series / f"{name}.dcm")
    return corpus / B2 / "seg_image_ct_true_fractional.dcm", series


def _stored_fractions(path: Path) -> np.ndarray:
    stored = pydicom.dcmread(path)
    return np.asarray(stored.pixel_array, dtype=np.float64) / float(stored.MaximumFractionalValue)


def test_fractional_seg_keeps_its_probabilities(fractional: tuple[Path, Path]) -> None:
    path, series = fractional
    seg = read_dicom_seg(path, reference=series)
    assert seg.probabilities is not None and seg.probabilities.dtype == np.float32
    assert seg.probabilities.shape == (1, 3, 16, 16)
    np.testing.assert_allclose(np.unique(seg.probabilities), [0.0, 64 / 255, 128 / 255], atol=1e-6)
    # the frames are the SEG's slices in order here: the model holds exactly the stored fractions
    np.testing.assert_allclose(seg.probabilities[0], _stored_fractions(path), atol=1e-6)
    # the label layer (display, label-map outputs) is the 0.5 threshold: 638 voxels at 128/255
    np.testing.assert_array_equal(seg.mask(seg.segments[0]), seg.probabilities[0] >= 0.5)
    assert seg.voxel_count(seg.segments[0]) == 638
    binary = read_dicom_seg(path.with_name("seg_image_ct_binary.dcm"), reference=series)
    assert binary.probabilities is None


def test_outputs_threshold_or_keep_the_floats(fractional: tuple[Path, Path], tmp_path: Path) -> None:
    path, series = fractional
    source = read_dicom_seg(path, reference=series)
    assert source.probabilities is not None

    def convert(output: str, *options: str) -> Path:
        args = ["convert", str(path), str(tmp_path / output), "--reference", str(series), *options]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return tmp_path / output

    nifti = nib.load(convert("p.nii.gz"))
    assert nifti.get_data_dtype() == np.float32
    np.testing.assert_allclose(read_image(tmp_path / "p.nii.gz").array, source.probabilities[0], atol=1e-6)
    assert np.asarray(nifti.dataobj).max() == pytest.approx(128 / 255, abs=1e-6)

    seg_nrrd = read_seg_nrrd(convert("p.seg.nrrd"))
    assert seg_nrrd.voxel_count(seg_nrrd.segments[0]) == 638 and seg_nrrd.probabilities is None

    fractional_out = convert("p_fractional.dcm", "--seg-type", "fractional")
    assert pydicom.dcmread(fractional_out, stop_before_pixels=True).SegmentationType == "FRACTIONAL"
    again = read_dicom_seg(fractional_out, reference=series)
    assert again.probabilities is not None
    np.testing.assert_allclose(again.probabilities, source.probabilities, atol=0.5 / 255)

    binary_out = convert("p_binary.dcm")  # default --seg-type binary
    assert pydicom.dcmread(binary_out, stop_before_pixels=True).SegmentationType == "BINARY"
    binary = read_dicom_seg(binary_out, reference=series)
    assert binary.probabilities is None and binary.voxel_count(binary.segments[0]) == 638


def test_labelmap_seg_output_and_its_refusal_of_overlaps(corpus: Path, tmp_path: Path) -> None:
    series = corpus / B1 / "ct-3slice"
    result = CliRunner().invoke(
        main, ["convert", str(corpus / B1 / "liver.dcm"), str(tmp_path / "l.dcm"), "--seg-type", "labelmap",
               "--reference", str(series)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pydicom.dcmread(tmp_path / "l.dcm", stop_before_pixels=True).SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7"
    written, original = read_image(tmp_path / "l.dcm"), read_image(corpus / B1 / "liver.dcm")
    assert isinstance(written, Segmentation) and isinstance(original, Segmentation)
    np.testing.assert_array_equal(written.mask(written.segments[0]), original.mask(original.segments[0]))
    refused = CliRunner().invoke(
        main, ["convert", str(corpus / B1 / "partial_overlaps.dcm"), str(tmp_path / "o.dcm"), "--seg-type",
               "labelmap", "--reference", str(series)],
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "overlap" in refused.output and "--seg-type binary" in refused.output


def test_cli_offers_the_writer_seg_types() -> None:
    assert CLI_SEG_TYPES == SEG_TYPES
