"""docs/errors.md and docs/session-reference.md are generated; fail when a committed page is stale."""

from __future__ import annotations

from pathlib import Path

from sessionkit.session.codes import RULES
from sessionkit.session.docs import render_errors_md, render_session_reference_md

REPO = Path(__file__).resolve().parent.parent.parent
CORPUS = REPO / "tests" / "data" / "sessions" / "invalid"
REGENERATE = "regenerate with: python -m sessionkit.session.docs docs"


def test_errors_md_is_current() -> None:
    assert (REPO / "docs" / "errors.md").read_text(encoding="utf-8") == render_errors_md(CORPUS), REGENERATE


def test_session_reference_is_current() -> None:
    page = (REPO / "docs" / "session-reference.md").read_text(encoding="utf-8")
    assert page == render_session_reference_md(), REGENERATE


def test_every_code_has_an_entry_with_example_and_fix() -> None:
    page = render_errors_md(CORPUS)
    for code, rule in RULES.items():
        section = page.split(f"\n## {code}\n", 1)[1].split("\n## ", 1)[0]
        assert "Bad" in section and f"Fix: {rule.hint}" in section, code


def test_reference_documents_every_attribute() -> None:
    page = render_session_reference_md()
    for name in ("ROIVisibilityCode", "ButtonToggleColorOff", "MergeLabelMaps", "RandomizedPageGroupIndices"):
        assert f"`{name}`" in page
    assert "(no description)" not in page
