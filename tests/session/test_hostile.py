"""Hostile input gives a coded Problem, never an exception, a network access or a file read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from sessionkit.session import check_session, validate_session
from sessionkit.session.findings import PROBLEMS_PER_CODE
from sessionkit.session.parse import SafetyLimits, parse_session_bytes, parse_session_file
from sessionkit.session.report import format_json, format_text, summary_line
from sessionkit.session.schema import load_schema, page_stand_in


def _codes(path: Path) -> list[str]:
    return [p.code for p in validate_session(path, check_files=False)]


def test_external_entity_is_refused_before_parsing(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    session = tmp_path / "xxe.xml"
    session.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Session [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<Session><Page ID="&x;"><QuestionSet/></Page></Session>'
    )
    problems = validate_session(session, check_files=False)
    assert [p.code for p in problems] == ["SK104"]
    assert problems[0].line == 2
    assert "TOP-SECRET" not in problems[0].message


def test_doctype_after_comment_and_in_utf16(tmp_path: Path) -> None:
    session = tmp_path / "doc16.xml"
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<!-- c -->\n<!DOCTYPE Session>\n<Session/>'
    session.write_bytes(text.encode("utf-16"))
    assert _codes(session) == ["SK104"]


def test_internal_entity_in_attribute_is_not_expanded(tmp_path: Path) -> None:
    session = tmp_path / "lol.xml"
    session.write_text(
        '<!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<Session><Page ID="&b;"><QuestionSet/></Page></Session>'
    )
    assert _codes(session) == ["SK104"]


def test_ten_thousand_deep_nesting(tmp_path: Path) -> None:
    session = tmp_path / "deep.xml"
    session.write_text("<Session>" + "<Page>" * 10_000 + "</Page>" * 10_000 + "</Session>")
    assert _codes(session) == ["SK105"]


def test_size_limit_checked_before_reading(tmp_path: Path) -> None:
    session = tmp_path / "big.xml"
    with session.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse 200 MB file: nothing is read
    problems = validate_session(session, check_files=False)
    assert [p.code for p in problems] == ["SK105"]
    assert "209715200" in problems[0].message


def test_element_count_and_text_limits() -> None:
    many = b"<Session>" + b"<Page/>" * 50 + b"</Session>"
    doc = parse_session_bytes(many, "many.xml", SafetyLimits(max_elements=20))
    assert [p.code for p in doc.problems] == ["SK105"]
    long_text = b'<Session><Page ID="' + b"x" * 5000 + b'"/></Session>'
    doc = parse_session_bytes(long_text, "long.xml", SafetyLimits(max_text=1000))
    assert [p.code for p in doc.problems] == ["SK105"]


def test_xinclude_is_not_processed(tmp_path: Path) -> None:
    (tmp_path / "other.xml").write_text('<Page ID="included"><QuestionSet/></Page>')
    session = tmp_path / "xi.xml"
    session.write_text('<Session xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="other.xml"/></Session>')
    codes = _codes(session)
    assert "SK201" in codes or "SK203" in codes


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x00\x01\x02\xff\xfe binary", "SK103"),
        (b'<?xml version="1.0" encoding="x-no-such-codec"?><Session/>', "SK103"),
        (b'<?xml version="1.0"?><Session><Page ID="caf\xe9"/></Session>', "SK103"),
        (b"", "SK102"),
        (b"<Session><Page></Session>", "SK102"),
        (b"<Session>&undefined;</Session>", "SK102"),
    ],
)
def test_undecodable_or_malformed_bytes(tmp_path: Path, data: bytes, code: str) -> None:
    session = tmp_path / "bad.xml"
    session.write_bytes(data)
    problems = validate_session(session, check_files=False)
    assert [p.code for p in problems] == [code]
    assert problems[0].hint


def test_unreadable_inputs(tmp_path: Path) -> None:
    assert [p.code for p in parse_session_file(tmp_path / "absent.xml").problems] == ["SK101"]
    assert [p.code for p in parse_session_file(tmp_path).problems] == ["SK101"]


def test_latin1_declared_file_is_read(tmp_path: Path) -> None:
    session = tmp_path / "latin.xml"
    session.write_bytes(
        '<?xml version="1.0" encoding="latin-1"?>\n<Session><Page ID="Café"><QuestionSet/></Page></Session>'.encode(
            "latin-1"
        )
    )
    assert validate_session(session, check_files=False) == []


@pytest.mark.parametrize("encoding", ["rot13", "zlib", "base64", "hex", "bz2", "uu", "quopri", "punycode", "undefined"])
def test_non_text_codec_declaration_is_sk103(tmp_path: Path, encoding: str) -> None:
    session = tmp_path / "codec.xml"
    session.write_bytes(f'<?xml version="1.0" encoding="{encoding}"?>\n<Session/>'.encode("ascii"))
    problems = validate_session(session, check_files=False)
    assert [p.code for p in problems] == ["SK103"]
    assert f"'{encoding}'" in problems[0].message


@pytest.mark.parametrize("codec", ["utf-7", "unicode_escape", "raw_unicode_escape"])
def test_lone_surrogate_after_decoding_is_sk103(tmp_path: Path, codec: str) -> None:
    surrogate = b"+2AA-" if codec == "utf-7" else b"\\ud800"
    session = tmp_path / "surrogate.xml"
    session.write_bytes(
        f'<?xml version="1.0" encoding="{codec}"?>\n<Session><Page ID="'.encode("ascii")
        + surrogate
        + b'"><QuestionSet/></Page></Session>'
    )
    problems = validate_session(session, check_files=False)
    assert [(p.code, p.line, p.column) for p in problems] == [("SK103", 2, 20)]
    assert "U+D800" in problems[0].message


def test_problems_past_the_cap_are_counted_not_listed(tmp_path: Path) -> None:
    pages = "\n".join(f'<Page ID="P{n}" Bogus="1"><QuestionSet/></Page>' for n in range(1, 131))
    session = tmp_path / "many.xml"
    session.write_text(f"<Session>\n{pages}\n</Session>\n")
    result = check_session(session, check_files_on_disk=False)
    listed = [p for p in result.problems if p.code == "SK202"]
    assert len(listed) == PROBLEMS_PER_CODE
    assert result.omitted == {"SK202": 130 - PROBLEMS_PER_CODE}
    # the first pages are listed, each at its own line, column and positional XPath
    assert [(p.line, p.column, p.xpath, p.attribute, p.page_index) for p in listed[:2]] == [
        (2, 15, "/Session/Page[1]", "Bogus", 1),
        (3, 15, "/Session/Page[2]", "Bogus", 2),
    ]
    assert listed[1].message.startswith("page 2 'P2': attribute 'Bogus'")
    lines = format_text([result])
    assert lines[-1] == f"{session}: … and 80 more SK202 errors (the first 50 of each code are listed)"
    assert summary_line([result]) == "130 errors, 0 warnings in 1 file"
    document = json.loads(format_json([result]))
    assert document["files"][0]["omitted"] == [{"code": "SK202", "severity": "error", "count": 80}]
    assert document["summary"] == {"errors": 130, "warnings": 0}


def test_each_of_thousands_of_unknown_attributes_is_found_in_its_tag(tmp_path: Path) -> None:
    attributes = " ".join(f'a{n}="v>{n}"' for n in range(5000))  # '>' inside values must not end the tag
    session = tmp_path / "attributes.xml"
    session.write_text(f'<Session>\n<Page ID="P" {attributes}><QuestionSet/></Page></Session>')
    result = check_session(session, check_files_on_disk=False)
    listed = [p for p in result.problems if p.code == "SK202"]
    assert result.omitted == {"SK202": 5000 - PROBLEMS_PER_CODE}
    text = session.read_text().splitlines()[1]
    for problem in listed:
        assert problem.line == 2
        assert text[(problem.column or 0) - 1 :].startswith(f'{problem.attribute}="v>')


def test_page_stand_in_is_valid() -> None:
    """Validation replaces pages by this stand-in at the root; it must raise no error of its own."""
    session = etree.Element("Session")
    page_stand_in(session)
    page_stand_in(session)
    assert load_schema().schema.validate(session), load_schema().schema.error_log


def test_errors_inside_pages_after_an_unknown_root_child_keep_their_paths(tmp_path: Path) -> None:
    session = tmp_path / "mixed.xml"
    session.write_text(
        '<Session>\n<Page ID="A"><QuestionSet/></Page>\n<Bogus/>\n'
        '<Page ID="B"><Image ID="I" Type="Volume" Extra="1"><Path>x.nrrd</Path></Image><QuestionSet/></Page>\n'
        "</Session>"
    )
    problems = check_session(session, check_files_on_disk=False).problems
    found = {(p.code, p.xpath, p.line, p.column) for p in problems if p.code.startswith("SK2")}
    assert ("SK201", "/Session/Bogus", 3, 1) in found
    assert ("SK202", "/Session/Page[2]/Image", 4, 42) in found
