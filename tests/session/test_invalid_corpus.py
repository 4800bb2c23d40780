"""Every file of tests/data/sessions/invalid/ yields exactly its expected codes at the expected lines.

A case whose ``expected.json`` names a ``dialect`` is validated in that dialect (default ``sessionkit``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionkit.session import validate_session
from sessionkit.session.codes import RULES, severity

INVALID = Path(__file__).resolve().parent.parent / "data" / "sessions" / "invalid"
CASES = sorted(INVALID.glob("*.xml"))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 12
    error_codes = {code for code, rule in RULES.items() if rule.severity == "error"}
    covered = {
        problem["code"]
        for case in CASES
        for problem in json.loads(case.with_suffix(".expected.json").read_text())["problems"]
    }
    # Codes that need an image decoder (SK804/SK806), a broken install (SK107), a missing file (SK101)
    # or a symlink (SK803) are exercised in test_hostile.py / test_files.py instead.
    assert error_codes - covered <= {"SK101", "SK107", "SK803", "SK804", "SK806"}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_invalid_session(case: Path) -> None:
    expected = json.loads(case.with_suffix(".expected.json").read_text())
    dialect = expected.get("dialect", "sessionkit")
    problems = validate_session(case, check_files=expected["check_files"], dialect=dialect)
    found = [{"code": p.code, "line": p.line, "file": Path(p.file or "").name} for p in problems]
    assert found == expected["problems"]
    assert any(p.is_error for p in problems)
    for problem in problems:
        assert problem.hint.strip(), f"{problem.code} has no hint"
        assert problem.message.strip()
        assert problem.severity == severity(problem.code, dialect)
