"""Stage 4 (files on disk): colour files, pictures, image existence, case, links, and the probe hook."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sessionkit.errors import ImageReadError, SessionError
from sessionkit.geometry import ImageGrid
from sessionkit.session import DEFAULT_COLOR_TABLE, ImageFacts, read_color_table, validate_session
from sessionkit.session.colors import parse_color_table
from sessionkit.session.model import SessionImage

PAGE = """<Session{attrs}>
  <Page ID="P1" EnableSegmentEditor="Y">
    <Image ID="CT" Type="Volume">
      <Path>{path}</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
{extra}
    <QuestionSet/>
  </Page>
</Session>
"""
SEG = """    <Image ID="Seg" Type="Segmentation">
      <Path>seg.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="Select"><ROI>heart</ROI><ROI>Liver</ROI></ROIs>
    </Image>"""


def _session(folder: Path, path: str = "ct.nrrd", attrs: str = "", extra: str = "") -> Path:
    session = folder / "study.xml"
    session.write_text(PAGE.format(path=path, attrs=attrs, extra=extra))
    return session


def _codes(session: Path, **kwargs: object) -> list[str]:
    return [p.code for p in validate_session(session, **kwargs)]  # type: ignore[arg-type]


def test_existing_image_under_default_root(tmp_path: Path) -> None:
    (tmp_path / "ct.nrrd").write_bytes(b"x")
    assert _codes(_session(tmp_path)) == []


def test_missing_image_and_explicit_root(tmp_path: Path) -> None:
    session = _session(tmp_path, path="data\\ct.nrrd")
    problems = validate_session(session)
    assert [p.code for p in problems] == ["SK801"]
    assert problems[0].line == 4
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "ct.nrrd").write_bytes(b"x")
    assert _codes(session, images_root=root) == []


def test_case_only_match_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "Data").mkdir()
    (tmp_path / "Data" / "CT.nrrd").write_bytes(b"x")
    problems = validate_session(_session(tmp_path, path="data\\ct.nrrd"))
    assert [p.code for p in problems] == ["SK802"]
    assert problems[0].expected == "Data/CT.nrrd"


def test_symlink_leaving_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside.nrrd"
    outside.write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "ct.nrrd")
    os.symlink(root / "nothing", root / "dangling.nrrd")
    assert _codes(_session(root)) == ["SK803"]
    assert _codes(_session(root, path="dangling.nrrd")) == ["SK801"]


def test_colour_file_problems_point_at_colour_lines(tmp_path: Path) -> None:
    (tmp_path / "ct.nrrd").write_bytes(b"x")
    (tmp_path / "zones.txt").write_text("# zones\n1 PZ 255 0 0 255\n2 TZ 0 300 0 255\n1 PZ2 9 9 9 255\n3 PZ 1 1 1 1\n")
    problems = validate_session(_session(tmp_path, attrs=' ROIColorFile="zones.txt"'))
    found = sorted((p.code, p.file and Path(p.file).name, p.line) for p in problems)
    assert found == [
        ("SK301", "study.xml", 1),
        ("SK816", "zones.txt", 4),
        ("SK817", "zones.txt", 3),
        ("SK817", "zones.txt", 5),
    ]


def test_read_color_table(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("# comment\n5 lesion 255 0 0 255\n2 edema 0 0 255 128\n")
    table = read_color_table(good)
    assert [(e.label_value, e.name, e.rgba, e.line) for e in table.entries] == [
        (5, "lesion", (255, 0, 0, 255), 2),
        (2, "edema", (0, 0, 255, 128), 3),
    ]
    assert table.default_label_value == 5 and table.by_name()["edema"].label_value == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("1 a 1 2 3 4\n\n")
    with pytest.raises(SessionError) as info:
        read_color_table(bad)
    assert [p.code for p in info.value.problems] == ["SK813"]
    with pytest.raises(SessionError):
        read_color_table(tmp_path / "absent.txt")


def test_default_color_table() -> None:
    values = [e.label_value for e in DEFAULT_COLOR_TABLE.entries]
    assert values[0] == 1 and 0 not in values and len(set(values)) == len(values)
    assert all(0 <= c <= 255 for e in DEFAULT_COLOR_TABLE.entries for c in e.rgba)
    table, problems = parse_color_table("1 a 1 2 3 4\n", "t.txt")
    assert problems == [] and table.entries[0].rgba == (1, 2, 3, 4)


def test_colour_ids_above_255_with_drawing(tmp_path: Path) -> None:
    (tmp_path / "ct.nrrd").write_bytes(b"x")
    (tmp_path / "wide.txt").write_text("1 a 1 2 3 4\n256 b 1 2 3 4\n")
    assert _codes(_session(tmp_path, attrs=' ROIColorFile="wide"')) == ["SK820"]


def test_no_files_opens_nothing(tmp_path: Path) -> None:
    session = _session(tmp_path, path="absent.nrrd", attrs=' ROIColorFile="absent"')
    assert _codes(session, check_files=False) == []
    assert sorted(_codes(session)) == ["SK801", "SK812"]


class _Probe:
    """Header facts from fixed grids (the probe is a dependency of the files pass, not its subject)."""

    def __init__(self, facts: dict[str, ImageFacts], fail: str | None = None) -> None:
        self.facts = facts
        self.fail = fail
        self.calls: list[str] = []

    def __call__(self, path: Path, image: SessionImage) -> ImageFacts:
        self.calls.append(path.name)
        if path.name == self.fail:
            raise ImageReadError(f"{path.name}: not a volume")
        return self.facts[path.name]


def test_probe_hook_geometry_and_roi_names(tmp_path: Path) -> None:
    for name in ("ct.nrrd", "seg.nrrd"):
        (tmp_path / name).write_bytes(b"x")
    ct = ImageGrid.from_parts((4, 6, 5), spacing=(3.0, 1.5, 1.5))
    shifted = ImageGrid.from_parts((4, 6, 5), spacing=(3.0, 1.5, 1.5), origin=(0.0, 0.0, 100.0))
    probe = _Probe(
        {
            "ct.nrrd": ImageFacts(grid=ct, bounds=((0, 0, 0), (6, 7.5, 9))),
            "seg.nrrd": ImageFacts(grid=shifted, bounds=((0, 0, 100), (6, 7.5, 109)), segment_names=("heart",)),
        }
    )
    problems = validate_session(_session(tmp_path, extra=SEG), probe=probe)
    assert sorted(p.code for p in problems) == ["SK808", "SK809", "SK810"]
    sk808 = next(p for p in problems if p.code == "SK808")
    assert "origin" in sk808.message and "tolerance" in sk808.message
    assert next(p for p in problems if p.code == "SK810").found == "Liver"
    assert sorted(probe.calls) == ["ct.nrrd", "seg.nrrd"]


def test_probe_failure_is_sk804(tmp_path: Path) -> None:
    (tmp_path / "ct.nrrd").write_bytes(b"x")
    problems = validate_session(_session(tmp_path), probe=_Probe({}, fail="ct.nrrd"))
    assert [p.code for p in problems] == ["SK804"]
    assert "not a volume" in problems[0].message


def test_initial_slice_offset_outside_extent(tmp_path: Path) -> None:
    (tmp_path / "ct.nrrd").write_bytes(b"x")
    facts = {"ct.nrrd": ImageFacts(bounds=((-10.0, -20.0, 5.0), (10.0, 20.0, 50.0)))}
    inside = PAGE.format(path="ct.nrrd", attrs="", extra="").replace(
        'Type="Volume"', 'Type="Volume" InitialSliceOffset="40"'
    )
    session = tmp_path / "inside.xml"
    session.write_text(inside)
    assert _codes(session, probe=_Probe(facts)) == []
    session.write_text(inside.replace('InitialSliceOffset="40"', 'InitialSliceOffset="-245"'))
    problems = validate_session(session, probe=_Probe(facts))
    assert [p.code for p in problems] == ["SK811"]
    assert problems[0].expected == [5.0, 50.0]


def test_dicom_problems_from_the_probe(tmp_path: Path) -> None:
    for name in ("ct.dcm", "rs.dcm"):
        (tmp_path / name).write_bytes(b"x")
    rtstruct = """    <Image ID="RT" Type="RTStruct" DicomRead="Y">
      <Path>rs.dcm</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="All"/>
    </Image>"""
    session = tmp_path / "rt.xml"
    session.write_text(
        PAGE.format(path="ct.dcm", attrs="", extra=rtstruct).replace('Type="Volume"', 'Type="Volume" DicomRead="Y"')
    )
    probe = _Probe(
        {
            "ct.dcm": ImageFacts(series_instance_uid="1.2.3", dicom_problem="no SeriesInstanceUID (0020,000E)"),
            "rs.dcm": ImageFacts(referenced_series_uids=("9.9.9",)),
        }
    )
    assert sorted(_codes(session, probe=probe)) == ["SK806", "SK807"]
    probe.facts["rs.dcm"] = ImageFacts(referenced_series_uids=("1.2.3",))
    probe.facts["ct.dcm"] = ImageFacts(series_instance_uid="1.2.3")
    assert _codes(session, probe=probe) == []
