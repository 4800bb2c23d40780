"""``sessionkit export --contours`` (C10): every reader label map as seg.nrrd, NIfTI or DICOM SEG."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.imaging import Segmentation
from sessionkit.io import encode_nifti, read_dicom_seg, read_image, read_nifti, read_seg_nrrd
from sessionkit.runner.contours import save_drawing
from sessionkit.runner.service import ReadingService
from sessionkit.session.model import Location, SessionImage

LOC = Location("test.xml")
B1 = "B1-seg-binary-dcmqi-ct3slice"


@pytest.fixture
def run(make, tmp_path: Path, corpus: Path):
    """Reader r1 draws on the 3-slice CT series of corpus B1 on page Draw and its repeat."""
    path = tmp_path / "study.xml"
    path.write_bytes(b"<Session/>")
    (tmp_path / "colors.txt").write_text("1 liver 200 80 40 255\n2 spine 10 20 250 255\n")
    image = SessionImage("CT", "Volume", 1, LOC, path="ct-3slice")
    session = make.session(
        make.page("Draw", enable_segment_editor=True, loop=True, images=(image,)),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
        roi_color_file="colors",
    )
    grid = read_image(corpus / B1 / "ct-3slice").grid
    service = ReadingService(session, path, tmp_path / "runs")
    run_id = service.login("r1")["run_id"]
    first = np.zeros(grid.spatial_shape, np.uint8)
    first[1, 200:260, 100:180] = 1
    first[2, 300:320, 250:260] = 2
    save_drawing(service, run_id, "CT", encode_nifti(first, grid, label=True), grid)
    version = service.current(run_id)["state_version"]
    service.submit(run_id, state_version=version, transition="repeat", answers={"1": ["Y", "N"]})
    second = np.zeros(grid.spatial_shape, np.uint8)
    second[0, 10:20, 10:20] = 9  # not in the colour table
    save_drawing(service, run_id, "CT", encode_nifti(second, grid, label=True), grid)
    return service.run_dir(run_id), grid, first, second


def export(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["export", *args])
    return result.exit_code, result.output


def test_seg_nrrd_and_nifti_per_reader_and_page(run, tmp_path: Path) -> None:
    run_dir, grid, first, second = run
    code, output = export(str(tmp_path / "runs"), "--contours", "--format", "seg.nrrd", "-o", str(tmp_path / "x"))
    assert code == 0, output
    assert "2 label map(s) exported" in output
    folder = tmp_path / "x" / "r1" / "study"
    seg = read_seg_nrrd(folder / "PgGroup1_Draw_" / "Draw_CT.seg.nrrd")
    assert [(s.name, s.label_value, s.color) for s in seg.segments] == [
        ("liver", 1, (200, 80, 40)),
        ("spine", 2, (10, 20, 250)),
    ]
    assert np.array_equal(seg.layers[0], first) and np.allclose(seg.grid.affine, grid.affine)
    repeat = read_seg_nrrd(folder / "PgGroup1_Draw-Rep1_" / "Draw-Rep1_CT.seg.nrrd")
    assert [s.name for s in repeat.segments] == ["Label_9"]
    code, output = export(str(run_dir), "--contours", "--format", "nifti")
    assert code == 0, output
    nifti = read_nifti(run_dir / "exports" / "r1" / "study" / "PgGroup1_Draw-Rep1_" / "Draw-Rep1_CT.nii.gz")
    assert np.array_equal(nifti.array, second) and nifti.grid.matches(grid)


def test_dicom_seg_references_the_background_series(run, tmp_path: Path, corpus: Path) -> None:
    run_dir, grid, first, _ = run
    code, output = export(str(run_dir), "--contours", "--format", "dicom-seg")
    assert code == 2 and "--images-root" in output
    code, output = export(
        str(run_dir),
        "--contours",
        "--format",
        "dicom-seg",
        "--images-root",
        str(corpus / B1),
        "-o",
        str(tmp_path / "d"),
    )
    assert code == 0, output
    seg = read_dicom_seg(tmp_path / "d" / "r1" / "study" / "PgGroup1_Draw_" / "Draw_CT.dcm", corpus / B1 / "ct-3slice")
    assert isinstance(seg, Segmentation) and seg.grid.matches(grid)
    assert sorted(s.name for s in seg.segments) == ["liver", "spine"]
    liver = seg.segment_named("liver")
    assert liver is not None and np.array_equal(seg.mask(liver), first == 1)


def test_dicom_seg_needs_a_dicom_background(make, tmp_path: Path) -> None:
    images = Path(__file__).resolve().parents[2] / "sample_sessions"
    path = tmp_path / "s.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page(
            "P", enable_segment_editor=True, images=(SessionImage("CT", "Volume", 1, LOC, path="images/CTChest4.nrrd"),)
        ),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )
    grid = read_image(images / "images" / "CTChest4.nrrd").grid
    service = ReadingService(session, path, tmp_path / "runs")
    run_id = service.login("r2")["run_id"]
    labels = np.zeros(grid.spatial_shape, np.uint8)
    labels[3, 3, 3] = 1
    save_drawing(service, run_id, "CT", encode_nifti(labels, grid, label=True), grid)
    code, output = export(
        str(service.run_dir(run_id)), "--contours", "--format", "dicom-seg", "--images-root", str(images)
    )
    assert code == 2 and "not a DICOM series" in output
    code, output = export(str(service.run_dir(run_id)), "--format", "nifti")
    assert code == 2 and "--contours" in output


def test_dicom_seg_export_as_labelmap_seg(run, tmp_path: Path, corpus: Path) -> None:
    import pydicom

    run_dir, _, first, _ = run
    code, output = export(
        str(run_dir), "--contours", "--format", "dicom-seg", "--images-root", str(corpus / B1),
        "--seg-type", "labelmap", "-o", str(tmp_path / "d"),
    )  # fmt: skip
    assert code == 0, output
    path = tmp_path / "d" / "r1" / "study" / "PgGroup1_Draw_" / "Draw_CT.dcm"
    stored = pydicom.dcmread(path, stop_before_pixels=True)
    assert stored.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7" and stored.SegmentationType == "LABELMAP"
    seg = read_dicom_seg(path, corpus / B1 / "ct-3slice")
    for name, value in (("liver", 1), ("spine", 2)):
        segment = seg.segment_named(name)
        assert segment is not None and np.array_equal(seg.mask(segment), first == value)
