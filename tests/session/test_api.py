"""The public session API on a valid session: zero problems, a faithful model."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionkit.errors import SessionError
from sessionkit.session import load_session, schema_path, validate_session

DATA = Path(__file__).resolve().parent.parent / "data" / "sessions"
FULL = DATA / "valid" / "full.xml"


def test_full_session_is_valid_with_files() -> None:
    assert validate_session(FULL) == []


def test_full_session_model() -> None:
    session = load_session(FULL)
    assert session.randomize_page_groups is True
    assert session.contour_visibility == "Fill"
    assert session.randomized_page_group_indices == (2, 1)
    assert [p.id for p in session.pages] == ["Intro", "CaseA", "CaseA", "CaseB"]
    case = session.pages[1]
    assert case.layout == "TwoOverTwo" and case.loop and case.contour_tool_radius == 4.5
    ct = case.images[0]
    assert ct.path == "images/ct/chest.nrrd" and ct.raw_path == "images\\ct\\chest.nrrd"
    assert ct.pan_origin == (0.0, -20.5, 33.0) and ct.window_level == (400, 50)
    assert ct.location.line == 17 and ct.location.column == 5
    assert ct.location.xpath == "/Session/Page[2]/Image[1]"
    assert case.images[3].rois == ("heart", "left lung")
    assert case.images[3].roi_visibility_code == "Select"
    options = case.question_sets[0].questions[1].options
    assert options[1].label == "Effusion with septations"
    assert case.question_sets[0].questions[2].max == "+10"
    assert session.effective_page_groups() == [0, 1, 1, 2]


def test_load_session_strict_raises_with_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(
        '<Session><Page ID="p"><Image ID="i" Type="Volume"><Path>a.nrrd</Path>'
        "<Layer>Label</Layer></Image><QuestionSet/></Page></Session>"
    )
    with pytest.raises(SessionError) as info:
        load_session(bad)
    assert any(p.code == "SK508" for p in info.value.problems)
    session = load_session(bad, strict=False)
    assert session.pages[0].images[0].layer == "Label"


def test_load_session_unparsable_raises_even_when_not_strict(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<Session><Page>")
    with pytest.raises(SessionError) as info:
        load_session(bad, strict=False)
    assert info.value.problems[0].code == "SK102"


def test_schema_path_points_at_the_bundled_schema() -> None:
    path = schema_path()
    assert path.name == "session.xsd" and path.is_file()


def test_results_copy_items_are_warnings(tmp_path: Path) -> None:
    results = tmp_path / "results.xml"
    results.write_text(
        '<Session UserName="bob">\n<Page ID="p" PageComplete="Y" Rep="0"><QuestionSet>\n'
        '<Question Type="Radio" Descriptor="q"><Option>a<Response LoginTime="t">Y</Response></Option>'
        '<Option>b<Response>N</Response></Option></Question></QuestionSet></Page>\n<Login LoginTime="x"/></Session>'
    )
    problems = validate_session(results, check_files=False)
    assert [(p.code, p.line, p.found) for p in problems] == [
        ("SK304", 1, 1),
        ("SK304", 2, 1),
        ("SK304", 2, 1),
        ("SK304", 3, 2),
        ("SK304", 4, 1),
    ]
    assert not any(p.is_error for p in problems)
    assert load_session(results).results_only_items == ("UserName", "PageComplete", "Rep", "Response", "Login")
