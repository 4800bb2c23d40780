"""RTSTRUCT rasterisation: corpus A1 against MIRP's voxelised mask (the pixel-centre truth), A2 with
dangling references, F's orphan structure set, and the fill rule against a scalar PNPOLY."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.errors import ImageReadError
from sessionkit.imaging import Segmentation
from sessionkit.io import read_header, read_image, read_rtstruct
from sessionkit.io.rtstruct import fill_polygons

A1 = "A1-rtstruct-ibsi-ct-phantom"
A2 = "A2-rtstruct-sts002-ct-mr-pet"


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def test_a1_matches_mirp_mask_voxel_for_voxel(corpus: Path) -> None:
    """Even-odd at voxel centres gives MIRP's 125,256 voxels exactly (Dice 1.0, 0 voxels differ);
    fills counting every voxel an outline touches would give ~128,700 (MANIFEST, set A1)."""
    seg = read_image(corpus / A1 / "dicom/mask/DCM_RS_00060.dcm")
    assert isinstance(seg, Segmentation)
    assert [(s.segment_id, s.name, s.label_value, s.color) for s in seg.segments] == [("1", "GTV-1", 1, (0, 230, 0))]
    truth = read_image(corpus / A1 / "nifti/mask/mask.nii.gz", image_type="LabelMap")
    assert seg.grid.matches(truth.grid)
    mask, reference = seg.layers[0] == 1, truth.layers[0] == 1
    assert np.count_nonzero(mask) == 125256
    assert np.count_nonzero(mask != reference) == 0 and _dice(mask, reference) == 1.0
    assert seg.frame_of_reference_uid == "1.3.6.1.4.1.9590.100.1.2.43753750011518494101799896492065629048"
    assert read_header(corpus / A1 / "dicom/mask/DCM_RS_00060.dcm").grid.matches(seg.grid)


@pytest.mark.parametrize(("modality", "voxels"), [("CT", 17090), ("MR_T1", 17090), ("PET", 555)])
def test_a2_dangling_references_fall_back_to_frame_of_reference(
    corpus: Path, caplog: pytest.LogCaptureFixture, modality: str, voxels: int
) -> None:
    with caplog.at_level(logging.WARNING, logger="sessionkit.io.dicom_series"):
        seg = read_rtstruct(corpus / A2 / modality / "dicom/mask/RS.dcm")
    assert "not found; using" in caplog.text and "shares frame of reference" in caplog.text
    truth = read_image(corpus / A2 / modality / "nifti/mask/mask.nii.gz", image_type="LabelMap")
    assert seg.grid.matches(truth.grid)
    assert seg.segments[0].name == f"GTV_Mass_{modality}"
    assert np.count_nonzero(seg.layers[0]) == voxels
    assert _dice(seg.layers[0] > 0, truth.layers[0] > 0) == 1.0


def test_explicit_reference_volume_and_frame_of_reference_check(corpus: Path) -> None:
    ct = read_image(corpus / A2 / "CT/dicom/image")
    seg = read_image(corpus / A2 / "CT/dicom/mask/RS.dcm", image_type="RTStruct", reference=ct)
    assert seg.grid is ct.grid
    with pytest.raises(ImageReadError, match=r"frame of reference .* differs from the reference image's"):
        read_rtstruct(corpus / A2 / "CT/dicom/mask/RS.dcm", reference=corpus / A1 / "dicom/image")


@pytest.mark.parametrize("image_type", ["RTStruct", None])  # sniffed without the DICM preamble too
def test_f_orphan_rtstruct_without_preamble(corpus: Path, image_type: str | None) -> None:
    with pytest.raises(ImageReadError, match=r"referenced series .* not found near the file; give the reference"):
        read_image(corpus / "F-pydicom/rtstruct.dcm", image_type=image_type)


def test_inspect_rtstruct_reports_references(corpus: Path) -> None:
    path = str(corpus / A2 / "PET/dicom/mask/RS.dcm")
    result = CliRunner().invoke(main, ["inspect", path, "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)  # the fallback warning goes to stderr
    assert info["references"]["matched_by"] == "frame_of_reference"
    assert info["references"]["reference"].endswith("PET/dicom/image/000000.dcm")
    assert info["segments"][0]["voxel_count"] == 555
    given = CliRunner().invoke(main, ["inspect", path, "--json", "--reference", str(corpus / A2 / "PET/dicom/image")])
    assert json.loads(given.stdout)["references"]["matched_by"] == "given"


def _pnpoly(polygon: np.ndarray, r: float, c: float) -> bool:
    """W. R. Franklin's point-in-polygon test, one point at a time (the reference)."""
    inside = False
    n = len(polygon)
    for i in range(n):
        (r1, c1), (r2, c2) = polygon[i], polygon[i - 1]
        if (r1 > r) != (r2 > r) and c < (c2 - c1) * (r - r1) / (r2 - r1) + c1:
            inside = not inside
    return inside


def test_fill_matches_scalar_pnpoly_on_random_polygons() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
        radii = rng.uniform(2, 9, 12)
        polygon = np.column_stack([10 + radii * np.sin(angles), 11 + radii * np.cos(angles)])
        polygon[rng.integers(0, 12)] = np.round(polygon[0])  # a vertex exactly on a voxel centre
        filled = fill_polygons([polygon], (21, 23))
        expected = np.array([[_pnpoly(polygon, r, c) for c in range(23)] for r in range(21)])
        np.testing.assert_array_equal(filled, expected)


def test_nested_contour_is_a_hole() -> None:
    outer = np.array([[0.5, 0.5], [0.5, 8.5], [8.5, 8.5], [8.5, 0.5]])
    inner = np.array([[2.5, 2.5], [2.5, 5.5], [5.5, 5.5], [5.5, 2.5]])
    filled = fill_polygons([outer, inner], (10, 10))
    assert np.count_nonzero(filled) == 64 - 9
    assert not filled[4, 4] and filled[1, 1]
