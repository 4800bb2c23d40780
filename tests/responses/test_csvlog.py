"""Append-only CSV logs: exact header, RFC 4180 dialect, tail recovery (reading-flow §14.2, C2)."""

from __future__ import annotations

import csv
import io

import pytest

from sessionkit.errors import ResponseLogError
from sessionkit.responses.csvlog import (
    ANNOTATION_COLUMNS,
    RESPONSE_COLUMNS,
    append_rows,
    read_rows,
    recover,
)

HEADER = (
    "log_version,session_id,session_sha256,reader_id,run_id,login_id,submission_id,seq,event,nav_position,"
    "page_index,page_id,page_instance,page_descriptor,page_group,repetition,question_set_index,question_set_id,"
    "question_index,question_id,question_descriptor,question_type,option_index,option,value,value_numeric,"
    "qs_completion,page_complete,started_at,answered_at,saved_at,client"
)


def row(seq, **kw):
    return {"log_version": 1, "seq": seq, "page_index": 1, "repetition": 0, "question_id": "1.1.1", **kw}


def test_header_is_exactly_the_spec_columns_once(tmp_path):
    path = tmp_path / "responses.csv"
    append_rows(path, RESPONSE_COLUMNS, [row(1)])
    append_rows(path, RESPONSE_COLUMNS, [row(2), row(2)])
    data = path.read_bytes()
    assert data.startswith(HEADER.encode() + b"\r\n")
    assert data.count(HEADER.encode()) == 1
    assert data.count(b"\r\n") == 4 and b"\n" not in data.replace(b"\r\n", b"")
    assert not data.startswith(b"\xef\xbb\xbf")


def test_quoting_and_utf8_round_trip(tmp_path):
    path = tmp_path / "responses.csv"
    tricky = 'He said "yes", then left'
    append_rows(path, RESPONSE_COLUMNS, [row(1, value=tricky, option="Größe, mm", client="x\r\ny")])
    line = path.read_bytes().split(b"\r\n")[1].decode("utf-8")
    assert '"He said ""yes"", then left"' in line and '"Größe, mm"' in line
    parsed = next(csv.reader(io.StringIO(line)))
    assert parsed[RESPONSE_COLUMNS.index("value")] == tricky
    assert parsed[RESPONSE_COLUMNS.index("client")] == "x y"  # CR/LF never inside a record
    assert read_rows(path, RESPONSE_COLUMNS)[0]["option"] == "Größe, mm"


def test_unknown_column_is_refused(tmp_path):
    with pytest.raises(ResponseLogError):
        append_rows(tmp_path / "r.csv", RESPONSE_COLUMNS, [{"nope": 1}])


def test_torn_last_line_is_truncated(tmp_path):
    path = tmp_path / "responses.csv"
    append_rows(path, RESPONSE_COLUMNS, [row(1), row(2)])
    intact = path.read_bytes()
    with open(path, "ab") as handle:
        handle.write(b"1,s,abc,reader,run,login,sub,3,ne")
    assert len(read_rows(path, RESPONSE_COLUMNS)) == 2  # the reader ignores the torn line
    result = recover(path, RESPONSE_COLUMNS, last_seq=3)
    assert result is not None and result.torn_line and result.removed_seqs == ()
    assert path.read_bytes() == intact


def test_rows_past_last_seq_are_truncated(tmp_path):
    path = tmp_path / "responses.csv"
    append_rows(path, RESPONSE_COLUMNS, [row(1), row(2)])
    intact = path.read_bytes()
    append_rows(path, RESPONSE_COLUMNS, [row(3), row(3), row(4)])
    result = recover(path, RESPONSE_COLUMNS, last_seq=2)
    assert result is not None and result.removed_seqs == (3, 3, 4) and not result.torn_line
    assert path.read_bytes() == intact
    assert recover(path, RESPONSE_COLUMNS, last_seq=2) is None


def test_torn_header_leaves_an_empty_file_that_gets_a_new_header(tmp_path):
    path = tmp_path / "annotations.csv"
    path.write_bytes(b"log_version,sess")
    result = recover(path, ANNOTATION_COLUMNS, last_seq=0)
    assert result is not None and result.kept_bytes == 0 and path.read_bytes() == b""
    append_rows(path, ANNOTATION_COLUMNS, [{"seq": 1, "kind": "labelmap"}])
    assert read_rows(path, ANNOTATION_COLUMNS)[0]["kind"] == "labelmap"


def test_wrong_header_is_an_error(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n")
    with pytest.raises(ResponseLogError):
        read_rows(path, RESPONSE_COLUMNS)


def test_missing_file_reads_empty(tmp_path):
    assert read_rows(tmp_path / "none.csv", RESPONSE_COLUMNS) == []
    assert recover(tmp_path / "none.csv", RESPONSE_COLUMNS, 0) is None
