"""The files pass with the io-backed probe: grid and segment-name checks on real corpus files."""

from __future__ import annotations

import shutil
from pathlib import Path

from sessionkit.scene.probe import probe_image
from sessionkit.session import validate_session

SESSION = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="P1" Descriptor="probe">
    <Image ID="CT" Type="Volume">
      <Path>CTChest4.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="Seg" Type="Segmentation">
      <Path>{segmentation}</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="Select">
        <ROI>left lung</ROI>
        <ROI>Left Lung</ROI>
      </ROIs>
    </Image>
    <QuestionSet ID="Q">
      <Question Type="Radio" Descriptor="ok?"><Option>Yes</Option><Option>No</Option></Question>
    </QuestionSet>
  </Page>
</Session>
"""


def _session(tmp_path: Path, corpus: Path, segmentation: str) -> Path:
    shutil.copy(corpus / "D-segnrrd-slicerio" / "CTChest4.nrrd", tmp_path)
    shutil.copy(corpus / "D-segnrrd-slicerio" / "Segmentation.seg.nrrd", tmp_path)
    shutil.copy(corpus / "C-nrrd-labelmap-pyradiomics" / "breast1_label.nrrd", tmp_path)
    session = tmp_path / "s.xml"
    session.write_text(SESSION.format(segmentation=segmentation), encoding="utf-8")
    return session


def test_unknown_roi_name_is_reported_with_the_available_names(tmp_path: Path, corpus: Path) -> None:
    problems = validate_session(_session(tmp_path, corpus, "Segmentation.seg.nrrd"), probe=probe_image)
    sk810 = [p for p in problems if p.code == "SK810"]
    assert len(sk810) == 1
    assert "'Left Lung'" in sk810[0].message and "left lung" in sk810[0].message
    assert not [p for p in problems if p.is_error]


def test_grid_mismatch_is_reported_with_numbers(tmp_path: Path, corpus: Path) -> None:
    # breast1_label (45x120x21) is on another grid than the chest CT (128x128x34)
    session = _session(tmp_path, corpus, "breast1_label.nrrd")
    problems = validate_session(session, probe=probe_image)
    (sk808,) = [p for p in problems if p.code == "SK808"]
    assert "size [21, 120, 45] vs [34, 128, 128]" in sk808.message
    assert "spacing [2.1, 0.6641, 0.6641] vs [10.0, 3.0469, 3.0469] mm" in sk808.message
    assert [p.code for p in problems if p.code == "SK809"] == ["SK809"]  # the boxes do not overlap


DICOM_SESSION = """<Session>
  <Page ID="P1" Descriptor="rt">
    <Image ID="CT" Type="Volume" DicomRead="Y"><Path>{image}</Path>
      <DefaultDestination>Red</DefaultDestination><DefaultOrientation>Axial</DefaultOrientation><Layer>Background</Layer>
    </Image>
    <Image ID="ROIs" Type="{kind}" DicomRead="Y"><Path>{mask}</Path>
      <DefaultDestination>Red</DefaultDestination><Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="{code}"><ROI>{present}</ROI><ROI>Spleen</ROI></ROIs>
    </Image>
    <QuestionSet/>
  </Page>
</Session>
"""


def _dicom_session(tmp_path: Path, kind: str, image: str, mask: str, present: str, code: str) -> Path:
    session = tmp_path / "s.xml"
    session.write_text(
        DICOM_SESSION.format(kind=kind, image=image, mask=mask, present=present, code=code), encoding="utf-8"
    )
    return session


def test_rtstruct_roi_name_missing_from_the_file_is_sk810(tmp_path: Path, corpus: Path) -> None:
    # A2's CT RTSTRUCT (MIM) has one ROI, GTV_Mass_CT, ROI Number 1; names are read from the
    # header (StructureSetROISequence/ROIContourSequence), nothing is rasterised
    shutil.copytree(corpus / "A2-rtstruct-sts002-ct-mr-pet" / "CT" / "dicom", tmp_path / "ct")
    for code in ("Select", "Ignore"):
        session = _dicom_session(tmp_path, "RTStruct", "ct/image/000000.dcm", "ct/mask/RS.dcm", "GTV_Mass_CT", code)
        problems = validate_session(session, probe=probe_image)
        (sk810,) = [p for p in problems if p.code == "SK810"]
        assert sk810.found == "Spleen" and sk810.expected == ["GTV_Mass_CT", "1"]
        assert sk810.severity == "warning"
        assert not [p for p in problems if p.is_error]


def test_dicom_seg_roi_name_missing_from_the_file_is_sk810(tmp_path: Path, corpus: Path) -> None:
    shutil.copytree(corpus / "B1-seg-binary-dcmqi-ct3slice", tmp_path / "b1")
    session = _dicom_session(
        tmp_path, "Segmentation", "b1/ct-3slice/01.dcm", "b1/partial_overlaps.dcm", "GREEN", "Select"
    )
    problems = validate_session(session, probe=probe_image)
    (sk810,) = [p for p in problems if p.code == "SK810"]
    assert sk810.found == "Spleen" and "GREEN" in sk810.expected and "DARK_BLUE" in sk810.expected
    assert not [p for p in problems if p.is_error]


def test_truncated_volume_is_sk804_in_validate(tmp_path: Path, corpus: Path) -> None:
    # CTChest4.nrrd (gzip, written by Slicer) with its last tenth cut: the header still reads
    _session(tmp_path, corpus, "Segmentation.seg.nrrd")
    ct = tmp_path / "CTChest4.nrrd"
    data = ct.read_bytes()
    ct.write_bytes(data[: len(data) * 9 // 10])
    problems = validate_session(tmp_path / "s.xml", probe=probe_image)
    (sk804,) = [p for p in problems if p.code == "SK804"]
    assert "'CTChest4.nrrd' cannot be read as Volume" in sk804.message
    assert "truncated: the header declares 2228224 bytes of gzip voxel data" in sk804.message
