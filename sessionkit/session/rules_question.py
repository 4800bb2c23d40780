"""Question-scope rules SK601–SK612 (validation-rules.md §2)."""

from __future__ import annotations

import math
from collections import Counter

from sessionkit.session.build import parse_xsd_float, parse_xsd_integer
from sessionkit.session.findings import Findings, question_name
from sessionkit.session.model import BUTTON_ACTIONS, Page, Question, QuestionSet
from sessionkit.session.rules_image import path_escape_reason

_LABELLED = frozenset({"Radio", "CheckBox", "Text", "IntegerValue", "FloatValue"})


def parse_bound(question: Question, text: str | None) -> float | int | None:
    """Min/Max as a number of the question's kind (IntegerValue: int; FloatValue: finite float), else None."""
    if text is None:
        return None
    if question.type == "IntegerValue":
        return parse_xsd_integer(text)
    value = parse_xsd_float(text)
    return value if value is not None and math.isfinite(value) else None


def _bounds(page: Page, question: Question, name: str, out: Findings) -> None:
    loc = question.location
    if question.type not in ("IntegerValue", "FloatValue"):
        for attribute in ("Min", "Max"):
            if attribute in question.attributes:
                out.add(
                    "SK604",
                    f"{name}: {attribute} on a {question.type} question is ignored",
                    loc,
                    attribute=attribute,
                    page=page,
                    found=question.type,
                )
        return
    kind = "an integer" if question.type == "IntegerValue" else "a finite decimal number"
    values: dict[str, float | int] = {}
    for attribute, text in (("Min", question.min), ("Max", question.max)):
        if text is None:
            continue
        value = parse_bound(question, text)
        if value is None:
            out.add(
                "SK602",
                f"{name}: {attribute} '{text}' is not {kind}",
                loc,
                attribute=attribute,
                page=page,
                found=text,
                expected=kind,
            )
        else:
            values[attribute] = value
    if "Min" in values and "Max" in values and values["Min"] > values["Max"]:
        out.add(
            "SK603",
            f"{name}: Min {question.min} is greater than Max {question.max}",
            loc,
            attribute="Min",
            page=page,
            found=[question.min, question.max],
        )


def _attribute_rules(page: Page, question: Question, name: str, out: Findings) -> None:
    loc = question.location
    if question.group_layout is not None and question.type not in ("Radio", "CheckBox", "Picture"):
        out.add(
            "SK605",
            f"{name}: GroupLayout on a {question.type} question is ignored",
            loc,
            attribute="GroupLayout",
            page=page,
            found=question.type,
        )
    for attribute, colour in (
        ("ButtonCustomColorOn", question.button_custom_color_on),
        ("ButtonToggleColorOff", question.button_toggle_color_off),
    ):
        if attribute in question.attributes and question.type != "Button":
            out.add(
                "SK606",
                f"{name}: {attribute} on a {question.type} question is ignored",
                loc,
                attribute=attribute,
                page=page,
                found=question.type,
            )
        elif colour is not None and any(not 0 <= c <= 255 for c in colour):
            out.add(
                "SK607",
                f"{name}: {attribute} {' '.join(map(str, colour))} has a component outside 0-255 (clamped)",
                loc,
                attribute=attribute,
                page=page,
                found=list(colour),
                expected="0-255",
            )


def _option_rules(page: Page, question: Question, name: str, out: Findings) -> None:
    if not question.options:
        out.add(
            "SK601",
            f"{name}: {question.type} question without Option (shown as a notice, counts as answered)",
            question.location,
            page=page,
        )
        return
    if question.type in _LABELLED:
        for option in question.options:
            if not option.label:
                out.add("SK608", f"{name}: option {option.index} has an empty label", option.location, page=page)
    labels = [o.label for o in question.options if o.label]
    duplicated = Counter(labels).items() if len(set(labels)) != len(labels) else ()
    for label, count in duplicated:
        if count > 1:
            first = next(o for o in question.options if o.label == label)
            out.add(
                "SK609",
                f"{name}: option label '{label}' is used {count} times",
                first.location,
                page=page,
                subject=label,
                found=label,
            )
    if question.type in ("Picture", "Button"):
        for option in question.options:
            label = option.label.replace("\\", "/")
            reason = path_escape_reason(label) if label else None
            if reason or (question.type == "Button" and "/" in label):
                out.add(
                    "SK611",
                    f"{name}: option {option.index} '{option.label}' is not a plain relative file name"
                    + (f" ({reason})" if reason else ""),
                    option.location,
                    page=page,
                    found=option.label,
                )
            elif question.type == "Button" and label.rsplit("/", 1)[-1] not in BUTTON_ACTIONS:
                out.add(
                    "SK612",
                    f"{name}: Button option '{option.label}' names no action registered on the server "
                    f"(registered: {', '.join(sorted(BUTTON_ACTIONS))}); the button only records the click",
                    option.location,
                    page=page,
                    found=option.label,
                    expected=sorted(BUTTON_ACTIONS),
                )


def check_questions(page: Page, out: Findings) -> None:
    """Run SK601–SK612 on every question of a page."""
    question_set: QuestionSet
    for question_set in page.question_sets:
        for question in question_set.questions:
            if "Type" in question.invalid:
                continue
            name = question_name(page, question_set, question)
            _option_rules(page, question, name, out)
            _bounds(page, question, name, out)
            _attribute_rules(page, question, name, out)
            if question.is_answerable and not question.descriptor.strip():
                out.add(
                    "SK610",
                    f"{name}: {question.type} question without Descriptor",
                    question.location,
                    page=page,
                    hint="add a Descriptor; readers see it in 'missing answer' messages",
                )
