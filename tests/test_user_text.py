"""What users read (command help, rule hints and conditions, validation messages) names no design
document that is not shipped (decision ids like D26, clarifications C10, validation-rules §4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.session import validate_session
from sessionkit.session.codes import RULES

UNSHIPPED = re.compile(
    r"\b[DC]\d{1,2}\b|§|clarifications|validation-rules|session-format|reading-flow|ARCHITECTURE|issue #\d+"
)
INVALID = Path(__file__).resolve().parent / "data" / "sessions" / "invalid"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            out += _commands(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


@pytest.mark.parametrize("path", _commands(main), ids=lambda p: " ".join(p) or "sessionkit")
def test_help_cites_no_unshipped_document(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert UNSHIPPED.findall(result.output) == [], result.output


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=200)
    listed = re.findall(r"^  (\S+)  ", result.output.split("Commands:")[1], flags=re.MULTILINE)
    assert listed == sorted(main.commands)
    description = result.output.split("Options:")[0]
    named = [name for name in main.commands if re.search(rf"\b{name}\b", description)]
    # the description names no command, or all of them (it once said "validate, inspect, serve")
    assert named in ([], sorted(main.commands)), description


def test_rule_hints_and_conditions_cite_no_unshipped_document() -> None:
    cited = {code: UNSHIPPED.findall(f"{rule.condition} {rule.hint}") for code, rule in RULES.items()}
    assert {code: found for code, found in cited.items() if found} == {}


def test_validation_messages_cite_no_unshipped_document() -> None:
    seen = 0
    for case in sorted(INVALID.glob("*.xml")):
        expected = json.loads(case.with_suffix(".expected.json").read_text())
        problems = validate_session(
            case, check_files=expected["check_files"], dialect=expected.get("dialect", "sessionkit")
        )
        for problem in problems:
            seen += 1
            assert UNSHIPPED.findall(f"{problem.message} {problem.hint}") == [], problem.format_text()
    assert seen > 50
