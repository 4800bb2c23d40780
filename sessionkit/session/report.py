"""Report formats of ``sessionkit validate`` (validation-rules.md §4, clarifications C4).

``text``: ``file:line:col: CODE severity: message (hint)`` plus a summary line; ``json``: the
envelope ``{"tool", "version", "files": [{"path", "sha256", "problems"}], "summary"}``; ``junit``:
one testsuite per file; ``github``: workflow commands with escaped properties.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

from sessionkit.errors import Problem
from sessionkit.session.findings import PROBLEMS_PER_CODE

FORMATS = ("text", "json", "junit", "github")


class FileReport(Protocol):
    """What a report needs of one validated file (``ValidationResult`` satisfies it)."""

    @property
    def file(self) -> str:
        """Path as given."""
        ...

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes ("" when unreadable)."""
        ...

    @property
    def problems(self) -> list[Problem]:
        """Problems sorted by file, line, column, code."""
        ...

    @property
    def omitted(self) -> dict[str, int]:
        """Problems found but not listed, per code."""
        ...


@dataclass(frozen=True)
class Omitted:
    """Problems of one code that a file's report counts but does not list."""

    code: str
    severity: str
    count: int

    def format_text(self, file: str) -> str:
        """``file: … and 19,950 more SK202 errors (the first 50 of each code are listed)``."""
        noun = self.severity + ("s" if self.count != 1 else "")
        listed = f"the first {PROBLEMS_PER_CODE} of each code are listed"
        return f"{file}: … and {self.count:,} more {self.code} {noun} ({listed})"


def omitted(report: FileReport) -> list[Omitted]:
    """The unlisted problems of a report, per code, with the severity of the listed ones.

    A code none of whose problems is listed (a filtered report, e.g. ``--quiet``) is left out.
    """
    severities = {p.code: p.severity for p in report.problems}
    return [
        Omitted(code, severities[code], count) for code, count in report.omitted.items() if code in severities
    ]


def tool_version() -> str:
    """Installed sessionkit version ("0+unknown" when not installed)."""
    try:
        return metadata.version("sessionkit")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def counts(reports: Sequence[FileReport]) -> tuple[int, int]:
    """(errors, warnings) over all files."""
    errors = sum(1 for r in reports for p in r.problems if p.is_error)
    warnings = sum(1 for r in reports for p in r.problems if not p.is_error)
    for report in reports:
        for more in omitted(report):
            if more.severity == "error":
                errors += more.count
            else:
                warnings += more.count
    return errors, warnings


def summary_line(reports: Sequence[FileReport]) -> str:
    """``N errors, M warnings in K files``."""
    errors, warnings = counts(reports)
    files = len(reports)
    return (
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''} "
        f"in {files} file{'s' if files != 1 else ''}"
    )


def format_text(reports: Sequence[FileReport]) -> list[str]:
    """One ``file:line:col: CODE severity: message (hint)`` line per problem, then one per omitted code."""
    lines: list[str] = []
    for report in reports:
        lines += [problem.format_text() for problem in report.problems]
        lines += [more.format_text(report.file) for more in omitted(report)]
    return lines


def _json_safe(value: object) -> object:
    """Replace non-finite floats (not representable in JSON) by their text, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def format_json(reports: Sequence[FileReport]) -> str:
    """The JSON envelope of validation-rules §4 as one UTF-8 document."""
    errors, warnings = counts(reports)
    document = {
        "tool": "sessionkit",
        "version": tool_version(),
        "files": [
            {
                "path": r.file,
                "sha256": r.sha256 or None,
                "problems": [_json_safe(p.to_dict()) for p in r.problems],
                "omitted": [{"code": m.code, "severity": m.severity, "count": m.count} for m in omitted(r)],
            }
            for r in reports
        ],
        "summary": {"errors": errors, "warnings": warnings},
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str, allow_nan=False)


def format_junit(reports: Sequence[FileReport], warnings_as_errors: bool = False) -> str:
    """JUnit XML: one ``<testsuite>`` per file, one ``<testcase>`` per problem (§4)."""
    suites: list[str] = []
    total_failures = 0
    total_tests = 0
    for report in reports:
        cases: list[str] = []
        failures = 0
        for problem in report.problems:
            name = f"{problem.code} {problem.xpath or ''}".strip()
            head = f"<testcase classname={quoteattr('sessionkit.' + (problem.scope or 'file'))} name={quoteattr(name)}"
            text = escape(problem.format_text())
            if problem.is_error or warnings_as_errors:
                failures += 1
                cases.append(
                    f"    {head}>\n      <failure type={quoteattr(problem.code)} "
                    f"message={quoteattr(problem.message)}>{text}</failure>\n    </testcase>"
                )
            else:
                cases.append(f"    {head}>\n      <system-out>{text}</system-out>\n    </testcase>")
        for more in omitted(report):
            head = f"<testcase classname=\"sessionkit.file\" name={quoteattr(more.code + ' omitted')}"
            line = more.format_text(report.file)
            text = escape(line)
            if more.severity == "error" or warnings_as_errors:
                failures += 1
                cases.append(
                    f"    {head}>\n      <failure type={quoteattr(more.code)} message={quoteattr(line)}>"
                    f"{text}</failure>\n    </testcase>"
                )
            else:
                cases.append(f"    {head}>\n      <system-out>{text}</system-out>\n    </testcase>")
        if not cases:
            cases.append('    <testcase classname="sessionkit.file" name="valid"/>')
        total_failures += failures
        total_tests += len(cases)
        suites.append(
            f'  <testsuite name={quoteattr(report.file)} tests="{len(cases)}" failures="{failures}" '
            f'errors="0">\n' + "\n".join(cases) + "\n  </testsuite>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="sessionkit validate" tests="{total_tests}" failures="{total_failures}">\n'
        + "\n".join(suites)
        + "\n</testsuites>"
    )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(reports: Sequence[FileReport]) -> list[str]:
    """GitHub workflow commands, ``::error file=…,line=…,col=…,title=CODE::message (hint)``."""
    lines: list[str] = []
    for report in reports:
        for problem in report.problems:
            properties = [f"file={_escape_property(problem.file or report.file)}"]
            if problem.line:
                properties.append(f"line={problem.line}")
                if problem.column:
                    properties.append(f"col={problem.column}")
            properties.append(f"title={_escape_property(problem.code)}")
            lines.append(
                f"::{problem.severity} {','.join(properties)}::"
                f"{_escape_data(problem.message + ' (' + problem.hint + ')')}"
            )
        for more in omitted(report):
            lines.append(
                f"::{more.severity} file={_escape_property(report.file)},title={_escape_property(more.code)}::"
                f"{_escape_data(more.format_text(report.file))}"
            )
    return lines
