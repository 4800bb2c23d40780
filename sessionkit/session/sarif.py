"""``validate --format sarif``: SARIF 2.1.0 for code-scanning tools (GitHub code scanning, IDEs).

One run with the tool ``sessionkit`` and its rules (only the codes reported, with the rule table's
condition, hint and default severity); one result per problem with its file, 1-based line and
column. Paths are written as given, with ``/`` separators, so a path relative to the repository
root (what a CI step passes) is what code scanning expects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sessionkit.session.codes import RULES
from sessionkit.session.report import FileReport, omitted, tool_version

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _rule(code: str) -> dict[str, Any]:
    rule = RULES.get(code)
    if rule is None:  # a code outside the table (should not happen): still a valid descriptor
        return {"id": code}
    return {
        "id": code,
        "shortDescription": {"text": rule.condition},
        "help": {"text": rule.hint},
        "defaultConfiguration": {"level": rule.severity},
        "properties": {"scope": rule.scope},
    }


def format_sarif(reports: Sequence[FileReport]) -> str:
    """SARIF 2.1.0 log of the problems of ``reports``.

    Parameters
    ----------
    reports : sequence of FileReport
        Validated files (``ValidationResult``).

    Returns
    -------
    str
        The JSON document (``version`` ``2.1.0``, one run; ``level`` ``error`` or ``warning``;
        ``region`` only when the line is known).
    """
    codes = sorted({problem.code for report in reports for problem in report.problems})
    index = {code: n for n, code in enumerate(codes)}
    results: list[dict[str, Any]] = []
    for report in reports:
        for problem in report.problems:
            location: dict[str, Any] = {"artifactLocation": {"uri": (problem.file or report.file).replace("\\", "/")}}
            if problem.line:
                location["region"] = {
                    "startLine": problem.line,
                    **({"startColumn": problem.column} if problem.column else {}),
                }
            result: dict[str, Any] = {
                "ruleId": problem.code,
                "ruleIndex": index[problem.code],
                "level": problem.severity,
                "message": {"text": f"{problem.message} ({problem.hint})"},
                "locations": [{"physicalLocation": location}],
            }
            if problem.xpath:
                result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": problem.xpath, "kind": "element"}]
            results.append(result)
        for more in omitted(report):
            results.append(
                {
                    "ruleId": more.code,
                    "ruleIndex": index[more.code],
                    "level": more.severity,
                    "message": {"text": more.format_text(report.file)},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": report.file.replace("\\", "/")}}}],
                }
            )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sessionkit",
                        "version": tool_version(),
                        "rules": [_rule(code) for code in codes],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
