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
