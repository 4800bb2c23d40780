"""SK806/SK807 from the io-backed probe on real DICOM series and RT Structure Sets (corpus A1, A2, F)."""

from __future__ import annotations

from pathlib import Path

import pydicom

from sessionkit.errors import Problem
from sessionkit.scene.probe import probe_image
from sessionkit.session import validate_session

A1 = "A1-rtstruct-ibsi-ct-phantom/dicom"
A2 = "A2-rtstruct-sts002-ct-mr-pet/CT/dicom"

PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="P1" Descriptor="dicom">
    <Image ID="CT" Type="Volume" DicomRead="Y">
      <Path>{image}</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="RS" Type="RTStruct" DicomRead="Y">
      <Path>{rtstruct}</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="All"/>
    </Image>
    <QuestionSet ID="Q">
      <Question Type="Radio" Descriptor="ok?"><Option>Yes</Option><Option>No</Option></Question>
    </QuestionSet>
  </Page>
</Session>
"""


def _validate(tmp_path: Path, root: Path, image: str, rtstruct: str) -> list[Problem]:
    session = tmp_path / "s.xml"
    session.write_text(PAGE.format(image=image, rtstruct=rtstruct), encoding="utf-8")
    return validate_session(session, images_root=root, probe=probe_image)


def test_consistent_ct_and_rtstruct_pass(tmp_path: Path, corpus: Path) -> None:
    problems = _validate(tmp_path, corpus, f"{A1}/image/DCM_IMG_00000.dcm", f"{A1}/mask/DCM_RS_00060.dcm")
    assert [p.code for p in problems if p.code in ("SK806", "SK807", "SK804")] == []
    assert not [p for p in problems if p.is_error]


def test_rtstruct_referencing_a_series_not_on_the_page_warns(tmp_path: Path, corpus: Path) -> None:
    # A2's RS.dcm references the original TCIA CT series; the page shows MIRP's re-export of it
    problems = _validate(tmp_path, corpus, f"{A2}/image/000000.dcm", f"{A2}/mask/RS.dcm")
    (sk807,) = [p for p in problems if p.code == "SK807"]
    assert "1.3.6.1.4.1.14519.5.2.1.5168.1900.213265084688298564549535817201" in sk807.message
    assert (sk807.line, sk807.severity) == (10, "warning")
    assert not [p for p in problems if p.code == "SK806"]


def test_rtstruct_of_another_patient_on_the_page_warns(tmp_path: Path, corpus: Path) -> None:
    problems = _validate(tmp_path, corpus, f"{A1}/image/DCM_IMG_00000.dcm", f"{A2}/mask/RS.dcm")
    assert [p.code for p in problems if p.code == "SK807"] == ["SK807"]


def test_non_dicom_file_read_as_dicom_is_an_error(tmp_path: Path, corpus: Path) -> None:
    problems = _validate(tmp_path, corpus, "D-segnrrd-slicerio/CTChest4.nrrd", f"{A1}/mask/DCM_RS_00060.dcm")
    (sk806,) = [p for p in problems if p.code == "SK806"]
    assert sk806.is_error and sk806.line == 4 and "not DICOM" in sk806.message
    assert "CTChest4.nrrd" in sk806.message
    assert not [p for p in problems if p.code == "SK804"]


def test_rtstruct_without_its_referenced_series_chain_is_an_error(tmp_path: Path, corpus: Path) -> None:
    dataset = pydicom.dcmread(corpus / "F-pydicom" / "rtstruct.dcm", force=True)
    del dataset.ReferencedFrameOfReferenceSequence
    dataset.save_as(tmp_path / "orphan.dcm")
    (tmp_path / "image.dcm").write_bytes((corpus / f"{A1}/image/DCM_IMG_00000.dcm").read_bytes())
    problems = _validate(tmp_path, tmp_path, "image.dcm", "orphan.dcm")
    (sk806,) = [p for p in problems if p.code == "SK806"]
    assert sk806.line == 10 and "referenced-series chain" in sk806.message
    assert not [p for p in problems if p.code == "SK807"]


def test_dicom_file_without_series_instance_uid_is_an_error(tmp_path: Path, corpus: Path) -> None:
    dataset = pydicom.dcmread(corpus / f"{A1}/image/DCM_IMG_00000.dcm")
    del dataset.SeriesInstanceUID
    dataset.save_as(tmp_path / "no_series.dcm")
    problems = _validate(tmp_path, tmp_path, "no_series.dcm", "no_series.dcm")
    sk806 = [p for p in problems if p.code == "SK806"]
    assert [p.line for p in sk806] == [4, 10]
    assert "no SeriesInstanceUID" in sk806[0].message
