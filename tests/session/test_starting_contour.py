"""``Image@StartingContourID`` (issue #7 item 5): schema, model field and rules SK425–SK427, SK524."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionkit.session import load_session, validate_session

PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="P1" Descriptor="d"{page}>
    <Image ID="CT" Type="Volume"{ct}>
      <Path>ct.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="Organs" Type="{kind}"{organs}>
      <Path>organs.seg.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>{layer}</Layer>
      <ROIs ROIVisibilityCode="All"/>
    </Image>
    <QuestionSet ID="qs" Descriptor="Q">
      <Question Type="Radio" Descriptor="Done?">
        <Option>Yes</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""


def _write(
    tmp_path: Path,
    page: str = ' EnableSegmentEditor="Y"',
    ct: str = ' StartingContourID="Organs"',
    kind: str = "Segmentation",
    organs: str = "",
    layer: str = "Segmentation",
) -> Path:
    path = tmp_path / "s.xml"
    path.write_text(PAGE.format(page=page, ct=ct, kind=kind, organs=organs, layer=layer), encoding="utf-8")
    return path


def _codes(path: Path) -> list[str]:
    return [p.code for p in validate_session(path, check_files=False)]


@pytest.mark.parametrize(
    ("kind", "layer"), [("Segmentation", "Segmentation"), ("RTStruct", "Segmentation"), ("LabelMap", "Label")]
)
def test_valid_targets_pass_and_reach_the_model(tmp_path: Path, kind: str, layer: str) -> None:
    organs = ' DicomRead="Y"' if kind == "RTStruct" else ""
    path = _write(tmp_path, kind=kind, layer=layer, organs=organs)
    assert _codes(path) == []
    session = load_session(path, check_files=False)
    ct, target = session.pages[0].images
    assert ct.starting_contour_id == "Organs" and target.starting_contour_id is None


def test_unknown_and_non_label_targets_are_errors(tmp_path: Path) -> None:
    assert _codes(_write(tmp_path, ct=' StartingContourID="organs"')) == ["SK425"]  # IDs are case-sensitive
    assert _codes(_write(tmp_path, ct=' StartingContourID="CT"')) == ["SK426"]


def test_ignored_uses_are_warnings(tmp_path: Path) -> None:
    # no segment editor: ignored, and the target is then not checked
    assert _codes(_write(tmp_path, page="", ct=' StartingContourID="nothing"')) == ["SK427"]
    # on the segmentation itself: ignored (only Volume/VolumeSequence images are drawn on)
    assert _codes(_write(tmp_path, ct="", organs=' StartingContourID="Organs"')) == ["SK524"]


def test_schema_rejects_a_misspelt_attribute(tmp_path: Path) -> None:
    # the attribute is declared once with its exact spelling; another case is an unknown attribute
    assert "SK202" in _codes(_write(tmp_path, ct=' StartingContourId="Organs"'))
