"""Answer evaluation (reading-flow §6): logged values, missing/invalid messages, completion."""

from __future__ import annotations

import pytest

from sessionkit.errors import RunnerStateError
from sessionkit.runner.answers import button_stem, evaluate


def _one(make, qtype, descriptor, options, values, *, partial=False, **kw):
    qs = make.qset(make.question(qtype, descriptor, options, **kw))
    return evaluate(qs, {1: values}, partial=partial)


@pytest.mark.parametrize(
    ("qtype", "options", "kw", "values", "logged", "message"),
    [
        ("Radio", ("Yes", "No"), {}, ["N", "Y"], ("N", "Y"), None),
        ("Radio", ("Yes", "No"), {}, ["N", "N"], ("N", "N"), "Missing answer: Q"),
        ("Radio", ("Yes", "No"), {}, ["", ""], ("N", "N"), "Missing answer: Q"),
        ("CheckBox", ("a", "b", "c"), {}, ["Y", "N", "Y"], ("Y", "N", "Y"), None),
        ("CheckBox", ("a", "b"), {}, ["N", "N"], ("N", "N"), "Missing answer: Q"),  # D3: at least one
        ("Text", ("note",), {}, ["two\r\nlines"], ("twolines",), None),
        ("Text", ("note", "more"), {}, ["x", "   "], ("x", "   "), "Missing answer: Q"),
        ("IntegerValue", ("n",), {"min": "1", "max": "5"}, [" 3 "], ("3",), None),
        ("IntegerValue", ("n",), {"min": "1", "max": "5"}, ["+5"], ("+5",), None),
        ("IntegerValue", ("n",), {"min": "1", "max": "5"}, ["7"], ("",), "Enter an integer between 1 and 5: Q"),
        ("IntegerValue", ("n",), {"min": "1", "max": "5"}, ["2.0"], ("",), "Enter an integer between 1 and 5: Q"),
        ("IntegerValue", ("n",), {"min": "1", "max": "5"}, ["1_0"], ("",), "Enter an integer between 1 and 5: Q"),
        ("IntegerValue", ("n",), {"min": "1", "max": "5"}, ["٣"], ("",), "Enter an integer between 1 and 5: Q"),
        ("IntegerValue", ("n",), {"min": "1"}, ["0"], ("",), "Enter an integer of at least 1: Q"),
        ("IntegerValue", ("n",), {"max": "5"}, ["6"], ("",), "Enter an integer of at most 5: Q"),
        ("IntegerValue", ("n",), {}, ["x"], ("",), "Enter an integer: Q"),
        ("IntegerValue", ("n",), {}, [""], ("",), "Missing answer: Q"),
        ("FloatValue", ("mm",), {"min": "0.5", "max": "2"}, ["1e0"], ("1e0",), None),
        ("FloatValue", ("mm",), {"min": "0.5", "max": "2"}, [".5"], (".5",), None),
        ("FloatValue", ("mm",), {"min": "0.5", "max": "2"}, ["2."], ("2.",), None),
        ("FloatValue", ("mm",), {"min": "0.5", "max": "2"}, ["2.01"], ("",), "Enter a number between 0.5 and 2: Q"),
        ("FloatValue", ("mm",), {}, ["1,5"], ("",), "Enter a number: Q (use a decimal point, not a comma)"),
        ("FloatValue", ("mm",), {}, ["1e999"], ("",), "Enter a number: Q"),
        ("FloatValue", ("mm",), {}, ["nan"], ("",), "Enter a number: Q"),
        ("Button", ("script1.py",), {}, ["script1-Done"], ("script1-Done",), None),
        ("Button", ("script1.py",), {}, ["script1"], ("script1",), "Missing answer: Q"),
        ("Button", ("script1.py",), {}, [""], ("script1",), "Missing answer: Q"),
        ("Button", ("s.py",), {"button_toggle_color_off": (1, 2, 3)}, ["s"], ("s",), None),
    ],
)  # fmt: skip
def test_question_types(make, qtype, options, kw, values, logged, message):
    result = _one(make, qtype, "Q", options, values, **kw)
    assert result.logged[1] == logged
    assert [issue.message for issue in result.issues] == ([] if message is None else [message])
    if message and message.startswith("Enter"):
        assert result.issues[0].code == "SK911"
    elif message:
        assert result.issues[0].code == "SK910"


def test_examples_from_the_spec(make):
    qs = make.qset(
        make.question("Radio", "Lesion present?", ("Yes", "No")),
        make.question("IntegerValue", "PI-RADS", ("score",), min="1", max="5"),
    )
    result = evaluate(qs, {2: ["9"]})
    assert [i.message for i in result.issues] == [
        "Missing answer: Lesion present?",
        "Enter an integer between 1 and 5: PI-RADS",
    ]
    assert result.completion == "empty"
    assert result.numeric[2] == ("",)


def test_value_numeric_and_completion(make):
    qs = make.qset(
        make.question("IntegerValue", "n", ("a", "b")),
        make.question("FloatValue", "f", ("x",)),
    )
    result = evaluate(qs, {1: ["4", " -2 "], 2: ["0.25"]})
    assert result.logged == {1: ("4", "-2"), 2: ("0.25",)}
    assert result.numeric == {1: ("4", "-2"), 2: ("0.25",)}
    assert result.completion == "complete"
    partial = evaluate(qs, {1: ["4", ""]}, partial=True)
    assert partial.completion == "partial" and partial.logged[1] == ("4", "")


def test_infobox_and_picture_are_never_required_or_logged(make):
    qs = make.qset(make.question("InfoBox", "Read this", ("text",)), make.question("Picture", "p", ("img.png",)))
    result = evaluate(qs, {})
    assert result.logged == {} and result.issues == () and result.completion == "complete"


def test_question_without_options_counts_as_answered(make):
    qs = make.qset(make.question("Radio", "empty", ()))
    assert evaluate(qs, {}).issues == ()


def test_long_text_refused_on_next_and_cut_on_partial(make):
    qs = make.qset(make.question("Text", "t", ("x",)))
    long = "a" * 10_001
    assert evaluate(qs, {1: [long]}).issues[0].code == "SK911"
    assert evaluate(qs, {1: [long]}, partial=True).logged[1] == ("a" * 10_000,)


@pytest.mark.parametrize(
    ("qtype", "options", "answers"),
    [
        ("Radio", ("a", "b"), {1: ["Y", "Y"]}),
        ("Radio", ("a", "b"), {1: ["yes", "N"]}),
        ("Radio", ("a", "b"), {1: ["Y"]}),
        ("Text", ("a",), {2: ["x"]}),
        ("Button", ("run.py",), {1: ["other-Done"]}),
    ],
)
def test_malformed_payload_raises_sk911(make, qtype, options, answers):
    qs = make.qset(make.question(qtype, "Q", options))
    with pytest.raises(RunnerStateError) as info:
        evaluate(qs, answers)
    assert info.value.code == "SK911"


def test_button_stem():
    assert button_stem("script1.py") == "script1"
    assert button_stem("Scripts\\tool.sh") == "tool"
    assert button_stem("noext") == "noext"
