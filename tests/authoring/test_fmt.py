"""``sessionkit fmt``: canonical, idempotent, meaning-preserving rewrite of session files."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.errors import SessionError
from sessionkit.session import check_session
from sessionkit.session.fmt import format_session, session_meaning

REPO = Path(__file__).resolve().parents[2]
SESSIONS = sorted((REPO / "tests" / "data").rglob("*.xml")) + sorted((REPO / "sample_sessions").rglob("*.xml"))
#: Files that do not pass stage 1 (not XML, DOCTYPE, wrong root…): fmt refuses them.
UNPARSEABLE = {p for p in SESSIONS if p.name.startswith(("sk101", "sk102", "sk103", "sk104", "sk105", "sk106"))}


def _fmt(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["fmt", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("path", sorted(set(SESSIONS) - UNPARSEABLE), ids=lambda p: p.name)
def test_fmt_is_idempotent_and_keeps_meaning(path: Path, tmp_path: Path) -> None:
    """Formatting twice changes nothing more; the model and the validation findings stay the same."""
    formatted = format_session(path.read_bytes(), str(path))
    again = format_session(formatted.text.encode("utf-8"), str(path))
    assert again.text == formatted.text
    assert not again.changed
    # written beside the original so relative colour files and pictures resolve the same way
    copy = path.with_name(f"_fmt_{path.name}")
    try:
        copy.write_text(formatted.text, encoding="utf-8")
        before, after = check_session(path, check_files_on_disk=False), check_session(copy, check_files_on_disk=False)
    finally:
        copy.unlink()
    assert before.session is not None and after.session is not None
    assert session_meaning(after.session) == session_meaning(before.session)
    assert collections.Counter(p.code for p in after.problems) == collections.Counter(p.code for p in before.problems)


@pytest.mark.parametrize("path", sorted(UNPARSEABLE), ids=lambda p: p.name)
def test_fmt_refuses_what_does_not_parse(path: Path) -> None:
    with pytest.raises(SessionError, match="cannot format"):
        format_session(path.read_bytes(), str(path))


IQ_STYLE = """<Session>
<!-- case A -->
<Page ID = 'A' PageGroup='1' Descriptor='CT'>
\t<Image ID='CT' Type='Volume'>
\t\t<Layer>Background</Layer>
\t\t<!-- the file -->
\t\t<Path> images\\a.nrrd </Path>
\t\t<ROIs ROIVisibilityCode='All'/>
\t\t<DefaultOrientation>Axial</DefaultOrientation>
\t</Image>
\t<QuestionSet ID='q' Descriptor='Q'><Question Type='Radio' Descriptor='Sure?'>
<Option>Yes</Option><Option>No</Option></Question></QuestionSet>
</Page>
</Session>"""

CANONICAL = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <!-- case A -->
  <Page ID="A" Descriptor="CT" PageGroup="1">
    <Image Type="Volume" ID="CT">
      <!-- the file -->
      <Path> images\\a.nrrd </Path>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
      <ROIs ROIVisibilityCode="All"/>
    </Image>
    <QuestionSet ID="q" Descriptor="Q">
      <Question Type="Radio" Descriptor="Sure?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""


def test_canonical_form_of_an_image_quizzer_style_file() -> None:
    """Two-space indent, XSD attribute order, Image children ordered, one Option per line, comments kept,
    leaf text (the Path with its spaces and backslash) untouched."""
    assert format_session(IQ_STYLE.encode("utf-8")).text == CANONICAL


def test_cli_check_exit_codes_and_rewrite(tmp_path: Path) -> None:
    session = tmp_path / "study.xml"
    session.write_text(IQ_STYLE, encoding="utf-8")
    assert _fmt("--check", str(session)) == (1, f"would reformat {session}\n")
    assert session.read_text(encoding="utf-8") == IQ_STYLE  # --check writes nothing
    code, output = _fmt(str(session))
    assert (code, output) == (0, f"reformatted {session}\n")
    assert session.read_text(encoding="utf-8") == CANONICAL
    assert _fmt("--check", str(session)) == (0, "")  # exit 0 on its own output


def test_cli_unparseable_file_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<Session><Page ID='P'></Session>", encoding="utf-8")
    code, output = _fmt("--check", str(broken))
    assert code == 2
    assert "SK102" in output


PRE_2_0 = """<Session>
  <Page ID="P" Description="first case">
    <Image ID="CT" Type="Volume" EnableSegmentEditor="Y" ROIVisibilityCode="All">
      <Path>ct.nrrd</Path>
      <Destination>Green</Destination>
      <Orientation>Sagittal</Orientation>
      <ROIs/>
    </Image>
    <QuestionSet/>
  </Page>
</Session>
"""


def test_upgrade_renames_pre_2_0_names(tmp_path: Path) -> None:
    """--upgrade turns the SK201/SK202 errors of old names into the current names, with a note for each."""
    session = tmp_path / "old.xml"
    session.write_text(PRE_2_0, encoding="utf-8")
    old_codes = {p.code for p in check_session(session, check_files_on_disk=False).problems}
    assert {"SK201", "SK202"} <= old_codes
    code, output = _fmt(str(session))
    assert code == 0
    assert session.read_text(encoding="utf-8") != PRE_2_0  # formatted, but names kept without --upgrade
    assert {"SK201", "SK202"} <= {p.code for p in check_session(session, check_files_on_disk=False).problems}
    code, output = _fmt("--upgrade", str(session))
    assert code == 0
    assert "<Destination> renamed to <DefaultDestination>" in output
    assert "Description= on <Page> renamed to Descriptor=" in output
    assert "EnableSegmentEditor= moved from <Image> to <Page>" in output
    assert "ROIVisibilityCode= moved from <Image> to <ROIs>" in output
    result = check_session(session, check_files_on_disk=False)
    assert not {p.code for p in result.problems} & {"SK201", "SK202"}
    assert result.session is not None
    page = result.session.pages[0]
    assert (page.descriptor, page.enable_segment_editor) == ("first case", True)
    image = page.images[0]
    assert (image.destination, image.orientation, image.roi_visibility_code) == ("Green", "Sagittal", "All")


def test_fmt_warns_when_runs_exist(tmp_path: Path) -> None:
    """A changed file whose stem has run folders under --runs: the SK908 note."""
    session = tmp_path / "study.xml"
    session.write_text(IQ_STYLE, encoding="utf-8")
    state = tmp_path / "runs" / "reader1" / "study" / ".sessionkit" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text("{}", encoding="utf-8")
    code, output = _fmt(str(session), "--runs", str(tmp_path / "runs"))
    assert code == 0
    assert "1 run(s) of study" in output and "SK908" in output
    shutil.rmtree(tmp_path / "runs")
    session.write_text(IQ_STYLE, encoding="utf-8")
    assert "SK908" not in _fmt(str(session), "--runs", str(tmp_path / "runs"))[1]


def test_session_meaning_sees_every_change(tmp_path: Path) -> None:
    """The comparison the tests and fmt's own guard rely on is not blind: a changed label, path
    or attribute value gives a different meaning; layout alone does not."""
    base = tmp_path / "a.xml"
    base.write_text(CANONICAL, encoding="utf-8")
    reference = check_session(base, check_files_on_disk=False).session
    for old, new in (("<Option>No</Option>", "<Option>Nope</Option>"), ("images\\a.nrrd", "images\\b.nrrd"),
                     ('PageGroup="1"', 'PageGroup="2"'), ("<Layer>Background</Layer>", "")):  # fmt: skip
        changed = tmp_path / "b.xml"
        changed.write_text(CANONICAL.replace(old, new), encoding="utf-8")
        assert session_meaning(check_session(changed, check_files_on_disk=False).session) != session_meaning(reference)
    relaid = tmp_path / "c.xml"
    relaid.write_text(IQ_STYLE, encoding="utf-8")
    assert session_meaning(check_session(relaid, check_files_on_disk=False).session) == session_meaning(reference)
