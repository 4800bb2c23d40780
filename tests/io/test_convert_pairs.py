"""``sessionkit convert`` between every readable and writable form of the phantom, and ``convert
--format`` over a folder of DICOM series (progress per file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import read_image, write_image
from sessionkit.io.dicom_series import group_dicom_series, read_dicom_series

VOLUME_SOURCES = ["nrrd-lps", "nrrd-ras", "nhdr-lps", "nifti", "nifti-gz", "nifti-big-endian", "dicom"]
VOLUME_TARGETS = ["nrrd", "nhdr", "nii", "nii.gz"]
LABEL_SOURCES = ["nrrd", "nii.gz", "seg.nrrd", "dcm"]
LABEL_TARGETS = ["nrrd", "nhdr", "nii", "nii.gz", "seg.nrrd", "dcm"]


def _grid(phantom: Any) -> ImageGrid:
    return ImageGrid.from_parts(
        phantom.shape, spacing=tuple(phantom.spacing), direction=phantom.direction, origin=phantom.origin
    )


def _convert(*args: str) -> None:
    result = CliRunner().invoke(main, ["convert", *args])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("target", VOLUME_TARGETS)
@pytest.mark.parametrize("source", VOLUME_SOURCES)
def test_every_volume_form_converts_to_every_volume_form(
    phantom: Any, phantom_files: Any, phantom_dicom: Path, tmp_path: Path, source: str, target: str
) -> None:
    path = phantom_dicom if source == "dicom" else phantom_files.volumes[source]
    _convert(str(path), str(tmp_path / f"out.{target}"))
    back = read_image(tmp_path / f"out.{target}", image_type="Volume")
    assert isinstance(back, Volume)
    assert back.grid.matches(_grid(phantom)), back.grid.differences(_grid(phantom))
    np.testing.assert_array_equal(back.array, phantom.volume())


@pytest.fixture(scope="module")
def label_sources(phantom_files: Any, phantom_dicom: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The phantom label map as NRRD and NIfTI (written by pynrrd/nibabel), .seg.nrrd and DICOM SEG (ours)."""
    root = tmp_path_factory.mktemp("labels")
    labels = read_image(phantom_files.labels["nrrd-lps"], image_type="LabelMap")
    write_image(labels, root / "l.seg.nrrd")
    write_image(labels, root / "l.dcm", reference=phantom_dicom)
    return {
        "nrrd": phantom_files.labels["nrrd-lps"],
        "nii.gz": phantom_files.labels["nifti-gz"],
        "seg.nrrd": root / "l.seg.nrrd",
        "dcm": root / "l.dcm",
    }


@pytest.mark.parametrize("target", LABEL_TARGETS)
@pytest.mark.parametrize("source", LABEL_SOURCES)
def test_every_label_form_converts_to_every_label_form(
    phantom: Any, phantom_dicom: Path, label_sources: dict[str, Path], tmp_path: Path, source: str, target: str
) -> None:
    """Label values (1 block, 2 column, 3 corner) and grid survive every pair; a DICOM SEG source
    is placed on the phantom series, a DICOM SEG target references it."""
    args = [str(label_sources[source]), str(tmp_path / f"out.{target}"), "--reference", str(phantom_dicom)]
    if source in ("nrrd", "nii.gz"):
        args += ["--type", "LabelMap"]
    _convert(*args)
    out = tmp_path / f"out.{target}"
    back = read_image(out, image_type=None if target in ("seg.nrrd", "dcm") else "LabelMap", reference=phantom_dicom)
    assert isinstance(back, Segmentation)
    assert back.grid.matches(_grid(phantom)), back.grid.differences(_grid(phantom))
    assert back.layers.shape[0] == 1
    np.testing.assert_array_equal(back.layers[0], phantom.labels())


def test_convert_folder_of_series_one_file_per_series(phantom: Any, dicom_series_writer: Any, tmp_path: Path) -> None:
    """Two series (one in a subfolder) and a stray text file become two NIfTI files named by series."""
    source = tmp_path / "study"
    dicom_series_writer(source / "a", phantom.volume(), 3, "Chest CT")
    dicom_series_writer(source / "b" / "c", phantom.volume() * 2, 1, "")
    (source / "README.txt").write_text("not an image\n")
    result = CliRunner().invoke(main, ["convert", str(source), str(tmp_path / "out"), "--format", "nii.gz"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names[1] == "003_Chest_CT.nii.gz" and names[0].startswith("001_") and len(names) == 2
    chest = nib.load(tmp_path / "out" / "003_Chest_CT.nii.gz")
    np.testing.assert_array_equal(np.asanyarray(chest.dataobj).T, phantom.volume())
    doubled = nib.load(tmp_path / "out" / names[0])
    np.testing.assert_array_equal(np.asanyarray(doubled.dataobj).T, phantom.volume() * 2)
    refused = CliRunner().invoke(main, ["convert", str(source), str(tmp_path / "o2"), "--format", "dcm"])
    assert refused.exit_code == 2 and "needs --type Segmentation" in refused.output


def test_progress_callbacks_count_files(phantom_dicom: Path) -> None:
    files = sorted(phantom_dicom.iterdir())
    seen: list[Path] = []
    (entry,) = group_dicom_series(files, on_file=seen.append)
    assert seen == files and len(entry.files) == len(files)
    stored: list[Path] = []
    read_dicom_series(list(entry.files), on_file=stored.append)
    assert sorted(stored) == files
