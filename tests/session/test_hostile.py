"""Hostile input gives a coded Problem, never an exception, a network access or a file read."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionkit.session import validate_session
from sessionkit.session.parse import SafetyLimits, parse_session_bytes, parse_session_file


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
