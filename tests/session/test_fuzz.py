"""Fuzzing: mutated valid sessions produce Problems only, never an exception (issue #4 §5)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from sessionkit.errors import Problem
from sessionkit.session import check_session
from sessionkit.session.codes import RULES
from sessionkit.session.schema import load_schema

DATA = Path(__file__).resolve().parent.parent / "data" / "sessions"
SOURCES = sorted((DATA / "valid").glob("*.xml")) + sorted((DATA / "iq-compatible").glob("*.xml"))
TEXTS = [p.read_bytes() for p in SOURCES]
NAMES = sorted({n for spec in load_schema().elements.values() for n in (*spec.attributes, *spec.children)})
VALUES = [
    "",
    " ",
    "Y",
    "y",
    "N ",
    "NaN",
    "INF",
    "-INF",
    "0",
    "-1",
    "1e999",
    "99999999999999999999",
    "1 2",
    "1 2 3",
    "..\\..\\x",
    "C:\\x",
    "/etc/passwd",
    "a,b",
    "Axial",
    "Slice4",
    "Select",
    "Label",
    "0,0,1",
    "é",
    "-Rep3",
]
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _validate(data: bytes, check_files: bool) -> list[Problem]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.xml"
        path.write_bytes(data)
        result = check_session(path, check_files_on_disk=check_files)
    for problem in result.problems:
        assert isinstance(problem, Problem)
        assert problem.code in RULES and problem.message and problem.hint
    return result.problems


@FUZZ
@given(
    source=st.sampled_from(TEXTS),
    start=st.integers(min_value=0, max_value=10_000),
    length=st.integers(min_value=0, max_value=40),
    insert=st.binary(max_size=12),
    check_files=st.booleans(),
)
def test_byte_mutations(source: bytes, start: int, length: int, insert: bytes, check_files: bool) -> None:
    start %= len(source)
    _validate(source[:start] + insert + source[start + length :], check_files)


@FUZZ
@given(
    source=st.sampled_from(TEXTS),
    picks=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(NAMES), st.sampled_from(VALUES), st.integers(0, 3)),
        min_size=1,
        max_size=6,
    ),
)
def test_structural_mutations(source: bytes, picks: list[tuple[int, str, str, int]]) -> None:
    root = etree.fromstring(source)
    for index, name, value, action in picks:
        elements = list(root.iter(etree.Element))
        element = elements[index % len(elements)]
        if action == 0:
            element.set(name, value)
        elif action == 1 and element is not root:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
        elif action == 2:
            etree.SubElement(element, name).text = value
        else:
            element.text = value
    _validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), check_files=False)
