"""Sessions written in Image Quizzer's style (tests/data/sessions/iq-compatible/) load without errors.

They use what IQ sessions use in practice: no XML declaration, tabs, Windows ``\\`` paths, single
quotes, spaces around ``=``, Image children in any order, IQ's optional children omitted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionkit.session import load_session, validate_session

IQ = Path(__file__).resolve().parent.parent / "data" / "sessions" / "iq-compatible"
CASES = sorted(IQ.glob("*.xml"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_no_errors_without_files(case: Path) -> None:
    problems = validate_session(case, check_files=False)
    assert [p.format_text() for p in problems if p.is_error] == []


def test_corpus_present() -> None:
    assert len(CASES) >= 4


def test_windows_paths_and_merge_are_modelled() -> None:
    session = load_session(IQ / "contouring-loop-merge.xml")
    first, summary = session.pages
    assert first.images[0].path == "ImageVolumes/Pt001/MR/t2 axial.nrrd"
    assert first.loop and first.page_group == 1 and first.bookmark_id == "pt1start"
    assert summary.images[0].merge_label_maps and summary.images[0].display_label_map_id == "t2-lesions"
    assert summary.go_to_bookmark == "pt1start Redo"


def test_button_colours_and_warnings() -> None:
    session = load_session(IQ / "buttons-and-rerun.xml")
    questions = session.pages[0].question_sets[0].questions
    assert questions[0].button_custom_color_on == (200, 200, 120)
    assert questions[1].button_toggle_color_off == (90, 90, 90)
    codes = {p.code for p in validate_session(IQ / "buttons-and-rerun.xml", check_files=False)}
    assert {"SK303", "SK612"} <= codes
