"""Builders of in-memory sessions for runner tests (the frozen model constructors, no XML)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pytest

from sessionkit.session.model import Location, Option, Page, Question, QuestionSet, Session

LOC = Location("test.xml")


class Make:
    """Factory of model objects with sensible defaults (1-based indices assigned in order)."""

    @staticmethod
    def question(qtype: str, descriptor: str, options: Sequence[str] = ("a",), index: int = 1, **kw: Any) -> Question:
        opts = tuple(Option(label, i, LOC) for i, label in enumerate(options, start=1))
        return Question(qtype, index, LOC, descriptor, options=opts, **kw)  # type: ignore[arg-type]

    @staticmethod
    def qset(*questions: Question, index: int = 1, id: str = "") -> QuestionSet:
        numbered = tuple(
            Question(
                q.type,
                i,
                LOC,
                q.descriptor,
                q.min,
                q.max,
                q.group_layout,
                q.button_custom_color_on,
                q.button_toggle_color_off,
                q.options,
            )
            for i, q in enumerate(questions, start=1)
        )
        return QuestionSet(index, LOC, id, "", numbered)

    @staticmethod
    def radio(descriptor: str = "Lesion present?") -> QuestionSet:
        return Make.qset(Make.question("Radio", descriptor, ("Yes", "No")))

    @staticmethod
    def page(page_id: str, *qsets: QuestionSet, **kw: Any) -> Page:
        sets = qsets or (Make.radio(),)
        numbered = tuple(QuestionSet(i, LOC, s.id, s.descriptor, s.questions) for i, s in enumerate(sets, start=1))
        return Page(page_id, 0, LOC, kw.pop("descriptor", ""), question_sets=numbered, **kw)

    @staticmethod
    def session(*pages: Page, **kw: Any) -> Session:
        numbered = tuple(
            Page(**{**{f: getattr(p, f) for f in p.__dataclass_fields__}, "index": i})
            for i, p in enumerate(pages, start=1)
        )
        sha = hashlib.sha256(repr([p.id for p in numbered]).encode()).hexdigest()
        return Session("test.xml", kw.pop("sha256", sha), LOC, numbered, **kw)


@pytest.fixture
def make() -> type[Make]:
    """The :class:`Make` factory."""
    return Make
