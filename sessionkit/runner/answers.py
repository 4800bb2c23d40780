"""Answer evaluation for one question set (reading-flow §6).

The browser sends, per question, one string per Option in order: Radio/CheckBox ``"Y"``/``"N"``;
Text/IntegerValue/FloatValue the typed text; Button the button's current label. Evaluation turns
that into the values to log and the list of missing or invalid answers that refuse Next, Finish and
Repeat (SK910, SK911).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Literal

from sessionkit.errors import RunnerStateError
from sessionkit.session.model import Question, QuestionSet

INTEGER_RE = re.compile(r"^\s*[+-]?[0-9]+\s*$", re.ASCII)
FLOAT_RE = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$", re.ASCII)
#: Longest Text answer kept (reading-flow §6).
MAX_TEXT = 10_000

Completion = Literal["complete", "partial", "empty"]


@dataclass(frozen=True)
class AnswerIssue:
    """One question that blocks Next/Finish/Repeat.

    ``code`` is ``SK910`` (missing) or ``SK911`` (invalid number or value); ``message`` names the
    question by Descriptor, e.g. ``"Missing answer: Lesion present?"``.
    """

    question_index: int
    code: str
    message: str


@dataclass(frozen=True)
class Evaluation:
    """Result of evaluating one question set's submitted answers.

    Attributes
    ----------
    logged : dict of int to tuple of str
        Logged value per option (§6), keyed by 1-based question index; only answerable questions.
    numeric : dict of int to tuple of str
        ``value_numeric`` per option for IntegerValue/FloatValue ('' when empty), else ''.
    issues : tuple of AnswerIssue
        Everything that refuses a required-answer transition, in question order.
    completion : {"complete", "partial", "empty"}
        State of the question set in this submission (CSV ``qs_completion``).
    """

    logged: dict[int, tuple[str, ...]]
    numeric: dict[int, tuple[str, ...]]
    issues: tuple[AnswerIssue, ...]
    completion: Completion


def button_stem(label: str) -> str:
    """The file stem a Button option shows (``script1.py`` -> ``script1``; session-format §7)."""
    return PurePosixPath(label.replace("\\", "/")).stem or label


def is_toggle(question: Question) -> bool:
    """True for toggle-mode Buttons (``ButtonToggleColorOff`` present): never required."""
    return question.button_toggle_color_off is not None


def _name(question: Question) -> str:
    return question.descriptor or f"question {question.index}"


def _bounds_text(question: Question, noun: str) -> str:
    low, high = question.min, question.max
    if low is not None and high is not None:
        return f"Enter {noun} between {low} and {high}"
    if low is not None:
        return f"Enter {noun} of at least {low}"
    if high is not None:
        return f"Enter {noun} of at most {high}"
    return f"Enter {noun}"


def parse_number(question: Question, text: str) -> Decimal | None:
    """The value of an IntegerValue/FloatValue box, or ``None`` when invalid or out of range.

    Syntax per reading-flow §6 (ASCII digits; floats finite); ``Min``/``Max`` are inclusive.
    """
    pattern = INTEGER_RE if question.type == "IntegerValue" else FLOAT_RE
    if not pattern.match(text):
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if question.type == "FloatValue" and not math.isfinite(float(value)):
        return None
    try:
        if question.min is not None and value < Decimal(question.min.strip()):
            return None
        if question.max is not None and value > Decimal(question.max.strip()):
            return None
    except InvalidOperation:
        return None
    return value


def _values_for(question: Question, raw: Sequence[str] | None) -> list[str]:
    count = len(question.options)
    if raw is None:
        return [""] * count
    if len(raw) != count or not all(isinstance(v, str) for v in raw):
        raise RunnerStateError(
            f"Question {question.index} ({_name(question)}) expects {count} value(s), got {len(raw)}",
            code="SK911",
            hint="send one string per option, in order",
        )
    return list(raw)


def _evaluate_question(
    question: Question, raw: Sequence[str] | None, *, partial: bool
) -> tuple[tuple[str, ...], tuple[str, ...], AnswerIssue | None, bool]:
    """Logged values, numeric values, blocking issue, and whether anything is set."""
    values = _values_for(question, raw)
    name = _name(question)
    missing = AnswerIssue(question.index, "SK910", f"Missing answer: {name}")
    empty_numeric = ("",) * len(values)
    if not values:
        return (), (), None, False
    if question.type in ("Radio", "CheckBox"):
        flags = [v.strip().upper() for v in values]
        if any(flag not in ("Y", "N", "") for flag in flags):
            raise RunnerStateError(f"{question.type} answers must be Y or N: {name}", code="SK911", hint="send Y/N")
        logged = tuple("Y" if flag == "Y" else "N" for flag in flags)
        chosen = logged.count("Y")
        if question.type == "Radio" and chosen > 1:
            raise RunnerStateError(f"Select only one option: {name}", code="SK911", hint="Radio is exclusive")
        return logged, empty_numeric, (missing if chosen == 0 else None), chosen > 0
    if question.type == "Text":
        texts = [v.replace("\r", "").replace("\n", "") for v in values]
        if any(len(t) > MAX_TEXT for t in texts):
            if not partial:
                return (
                    tuple(texts),
                    empty_numeric,
                    AnswerIssue(question.index, "SK911", f"Shorten the text to at most {MAX_TEXT} characters: {name}"),
                    True,
                )
            texts = [t[:MAX_TEXT] for t in texts]
        blank = any(not t.strip() for t in texts)
        return tuple(texts), empty_numeric, (missing if blank else None), any(t.strip() for t in texts)
    if question.type in ("IntegerValue", "FloatValue"):
        noun = "an integer" if question.type == "IntegerValue" else "a number"
        logged_list: list[str] = []
        numeric: list[str] = []
        issue: AnswerIssue | None = None
        for text in values:
            number = parse_number(question, text)
            if number is None:
                logged_list.append("")
                numeric.append("")
                if issue is None or issue.code == "SK910":
                    if not text.strip():
                        issue = issue or missing
                    else:
                        message = f"{_bounds_text(question, noun)}: {name}"
                        if question.type == "FloatValue" and "," in text:
                            message += " (use a decimal point, not a comma)"
                        issue = AnswerIssue(question.index, "SK911", message)
            else:
                logged_list.append(text.strip())
                numeric.append(text.strip())
        return tuple(logged_list), tuple(numeric), issue, any(logged_list)
    # Button
    stems = [button_stem(option.label) for option in question.options]
    labels: list[str] = []
    for stem, value in zip(stems, values, strict=True):
        label = value.strip() or stem
        if label not in (stem, f"{stem}-Done"):
            raise RunnerStateError(
                f"Button value must be {stem!r} or {stem + '-Done'!r}: {name}", code="SK911", hint="send the label"
            )
        labels.append(stem if is_toggle(question) else label)
    done = all(label.endswith("-Done") for label in labels)
    issue = None if (done or is_toggle(question)) else AnswerIssue(question.index, "SK910", f"Missing answer: {name}")
    return tuple(labels), empty_numeric, issue, any(label.endswith("-Done") for label in labels)


def evaluate(question_set: QuestionSet, answers: Mapping[int, Sequence[str]], *, partial: bool = False) -> Evaluation:
    """Evaluate the submitted answers of one question set (reading-flow §6).

    Parameters
    ----------
    question_set : QuestionSet
    answers : mapping of int to sequence of str
        Per 1-based question index, one string per option; absent questions count as empty.
    partial : bool
        True for saves that do not require answers (Previous, Bookmark, exit, autosave): over-long
        text is cut to 10,000 characters instead of refused. Invalid numbers are logged empty either way.

    Returns
    -------
    Evaluation

    Raises
    ------
    RunnerStateError
        SK911 for a malformed payload: unknown question index, wrong number of values, Radio/CheckBox
        values other than Y/N, more than one Radio selection, or an unknown Button label.
    """
    by_index = {question.index: question for question in question_set.questions}
    unknown = sorted(set(answers) - set(by_index))
    if unknown:
        raise RunnerStateError(
            f"Answers for unknown question index {unknown} in question set {question_set.index}",
            code="SK911",
            hint="reload the page",
        )
    logged: dict[int, tuple[str, ...]] = {}
    numeric: dict[int, tuple[str, ...]] = {}
    issues: list[AnswerIssue] = []
    any_set = False
    for question in question_set.questions:
        if not question.is_answerable:
            continue
        values, numbers, issue, anything = _evaluate_question(question, answers.get(question.index), partial=partial)
        logged[question.index] = values
        numeric[question.index] = numbers
        any_set = any_set or anything
        if issue is not None:
            issues.append(issue)
    completion: Completion = "complete" if not issues else ("partial" if any_set else "empty")
    return Evaluation(logged, numeric, tuple(issues), completion)


def required_issues(question_set: QuestionSet, logged: Mapping[int, Sequence[str]]) -> tuple[AnswerIssue, ...]:
    """Issues of already-logged values (used for earlier question sets and completion, §7).

    Logged values are re-evaluated as if submitted; a question never logged counts as empty.
    """
    present = {index: tuple(values) for index, values in logged.items() if index in _answerable(question_set)}
    return evaluate(question_set, present).issues


def _answerable(question_set: QuestionSet) -> set[int]:
    return {q.index for q in question_set.questions if q.is_answerable and q.options}
