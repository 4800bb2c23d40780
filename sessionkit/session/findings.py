"""Collects the Problems of the semantic and file stages with positions and de-duplication.

Every rule reports through :class:`Findings.add`, which looks up severity, scope, origin and the
default hint in :data:`sessionkit.session.codes.RULES`, resolves the attribute position in the
source text, and keeps at most one problem per (code, element, attribute, subject)
(validation-rules §1 "Deduplication").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sessionkit.errors import Problem
from sessionkit.session.codes import RULES
from sessionkit.session.model import Location, Page, Question, QuestionSet, SessionImage
from sessionkit.session.source import SourceText


def page_name(page: Page) -> str:
    """``page 3 'PatientB'`` (validation-rules §1 "Page numbering")."""
    return f"page {page.index} '{page.id}'"


def image_name(page: Page, image: SessionImage) -> str:
    """``page 3 'PatientB' image 2 'T2'``."""
    return f"{page_name(page)} image {image.index} '{image.id}'"


def question_name(page: Page, question_set: QuestionSet, question: Question) -> str:
    """``page 3 'PatientB' question-set 1 question 2 'Size'``."""
    return f"{page_name(page)} question-set {question_set.index} question {question.index} '{question.descriptor}'"


def _element_of(location: Location) -> str | None:
    if not location.xpath:
        return None
    return location.xpath.rsplit("/", 1)[-1].split("[", 1)[0] or None


#: Problems listed per code and file; the rest are counted (``… and N more SKxxx problems``).
PROBLEMS_PER_CODE = 50


class ProblemCap:
    """Counts problems per code across the stages of one file and admits the first ``per_code``.

    A hostile session can hold millions of problems of one kind (every attribute unknown); listing
    them all costs minutes and gigabytes and helps nobody. Stages ask :meth:`admit` before building
    a problem (its position and message), so the work past the cap is a counter increment.

    Parameters
    ----------
    per_code : int
        Problems listed per code (default :data:`PROBLEMS_PER_CODE`).
    """

    def __init__(self, per_code: int = PROBLEMS_PER_CODE) -> None:
        self.per_code = per_code
        self.counts: Counter[str] = Counter()

    def admit(self, code: str) -> bool:
        """Count one problem of ``code``; ``True`` while it is among the first ``per_code``."""
        self.counts[code] += 1
        return self.counts[code] <= self.per_code

    def full(self, code: str) -> bool:
        """``True`` when ``per_code`` problems of ``code`` are already listed."""
        return self.counts[code] >= self.per_code

    def omitted(self) -> dict[str, int]:
        """Number of problems found but not listed, per code (codes under the cap absent)."""
        return {code: n - self.per_code for code, n in sorted(self.counts.items()) if n > self.per_code}


class Findings:
    """Problem collector for one session file."""

    def __init__(
        self,
        file: str,
        source: SourceText | None = None,
        disabled: Iterable[str] = (),
        cap: ProblemCap | None = None,
    ) -> None:
        self.file = file
        self.source = source
        self.disabled = frozenset(disabled)
        self.cap = cap
        self.problems: list[Problem] = []
        self._seen: set[tuple[str, str | None, str | None, str]] = set()

    def add(
        self,
        code: str,
        message: str,
        location: Location | None,
        *,
        attribute: str | None = None,
        page: Page | None = None,
        hint: str | None = None,
        found: object = None,
        expected: object = None,
        related: Iterable[str] = (),
        subject: str = "",
        file: str | None = None,
    ) -> None:
        """Record one problem of rule ``code`` at ``location`` (attribute position when given)."""
        rule = RULES[code]
        if rule.severity == "warning" and code in self.disabled:
            return
        xpath = location.xpath if location else None
        key = (code, xpath, attribute, subject)
        if key in self._seen:
            return
        self._seen.add(key)
        if self.cap is not None and not self.cap.admit(code):
            return
        line = location.line if location else None
        column = location.column if location else None
        if attribute and self.source is not None and location is not None:
            line, column = self.source.attribute_in_tag(line, column, attribute)
        self.problems.append(
            Problem(
                code=code,
                severity=rule.severity,
                message=message,
                hint=hint or rule.hint,
                file=file or (location.file if location else self.file),
                line=line,
                column=column,
                xpath=xpath if not attribute or not xpath else f"{xpath}/@{attribute}",
                scope=rule.scope,
                page_index=page.index if page else None,
                page_id=page.id if page else None,
                element=_element_of(location) if location else None,
                attribute=attribute,
                found=found,
                expected=expected,
                origin=rule.origin,
                related=tuple(related),
            )
        )


def where(location: Location) -> str:
    """``file:line`` of a location, for ``related`` entries."""
    return f"{location.file}:{location.line or 0}"
