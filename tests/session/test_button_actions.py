"""Button actions (D9, C6): registered names validate silently, any other name warns SK612."""

from __future__ import annotations

from pathlib import Path

from sessionkit.session import BUTTON_ACTIONS, validate_session

PAGE = """<Session><Page ID="P" Descriptor="d"><QuestionSet ID="q">
{questions}
</QuestionSet></Page></Session>"""


def _sk612(tmp_path: Path, options: list[str]) -> list[tuple[int | None, object]]:
    questions = "\n".join(
        f'<Question Type="Button" Descriptor="b{i}"><Option>{o}</Option></Question>' for i, o in enumerate(options)
    )
    path = tmp_path / "s.xml"
    path.write_text(PAGE.format(questions=questions), encoding="utf-8")
    return [(p.line, p.found) for p in validate_session(path, check_files=False) if p.code == "SK612"]


def test_registered_actions_do_not_warn(tmp_path: Path) -> None:
    assert {"record_click.py", "reset_view.py", "reset_window_level.py"} == set(BUTTON_ACTIONS)
    assert _sk612(tmp_path, sorted(BUTTON_ACTIONS)) == []


def test_unregistered_action_warns_and_lists_the_registered_ones(tmp_path: Path) -> None:
    assert _sk612(tmp_path, ["record_click.py", "script1.py", "Reset_View.py"]) == [
        (3, "script1.py"),
        (4, "Reset_View.py"),
    ]
    path = tmp_path / "s.xml"
    (problem,) = [p for p in validate_session(path, check_files=False) if p.found == "script1.py"]
    assert "record_click.py, reset_view.py, reset_window_level.py" in problem.message
    assert problem.expected == sorted(BUTTON_ACTIONS) and not problem.is_error
