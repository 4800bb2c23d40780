"""Append-only CSV logs: ``responses.csv`` and ``annotations.csv`` (reading-flow §14.2-§14.3).

RFC 4180, UTF-8 without BOM, CRLF, header once. Rows are appended, flushed and ``fsync``ed before
:func:`append_rows` returns. Fields never contain CR or LF (they are replaced by spaces), so every
record is exactly one CRLF-terminated line and a torn tail is recognisable. The only rewrite ever done
is :func:`recover`: truncating an unacknowledged tail (``seq > last_seq`` or a torn last line, C2).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sessionkit.errors import ResponseLogError

LOG_VERSION = "1"

RESPONSE_COLUMNS: tuple[str, ...] = (
    "log_version",
    "session_id",
    "session_sha256",
    "reader_id",
    "run_id",
    "login_id",
    "submission_id",
    "seq",
    "event",
    "nav_position",
    "page_index",
    "page_id",
    "page_instance",
    "page_descriptor",
    "page_group",
    "repetition",
    "question_set_index",
    "question_set_id",
    "question_index",
    "question_id",
    "question_descriptor",
    "question_type",
    "option_index",
    "option",
    "value",
    "value_numeric",
    "qs_completion",
    "page_complete",
    "started_at",
    "answered_at",
    "saved_at",
    "client",
)

ANNOTATION_COLUMNS: tuple[str, ...] = (
    "log_version",
    "session_id",
    "reader_id",
    "run_id",
    "submission_id",
    "seq",
    "event",
    "page_index",
    "page_instance",
    "page_group",
    "repetition",
    "image_id",
    "image_path",
    "kind",
    "file",
    "sha256",
    "labels",
    "voxel_count",
    "length_mm",
    "saved_at",
)

_CRLF = b"\r\n"


def _encode(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise ResponseLogError(f"Unknown CSV columns {sorted(unknown)}")
        writer.writerow(
            [str(row.get(c, "")).replace("\r\n", " ").replace("\r", " ").replace("\n", " ") for c in columns]
        )
    return buffer.getvalue().encode("utf-8")


def fsync_dir(directory: Path) -> None:
    """``fsync`` a directory so a new or renamed entry in it is durable (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def mkdir_durable(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each made durable by an ``fsync`` of its parent.

    Raises
    ------
    OSError
        When a folder cannot be created.
    """
    missing: list[Path] = []
    folder = directory
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        fsync_dir(created.parent)


def append_rows(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> None:
    """Append ``rows`` (header first when the file is new or empty), flush and ``fsync``.

    Parameters
    ----------
    path : Path
        The CSV file.
    columns : sequence of str
        Column order (:data:`RESPONSE_COLUMNS` or :data:`ANNOTATION_COLUMNS`).
    rows : sequence of mapping
        Values by column name; absent columns are written empty.

    Raises
    ------
    ResponseLogError
        On an OS error (disk full, permissions) or a row with unknown columns.
    """
    try:
        new = not path.exists() or path.stat().st_size == 0
        payload = (_encode(columns, [dict(zip(columns, columns, strict=True))]) if new else b"") + _encode(
            columns, rows
        )
        with open(path, "ab") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if new:
            fsync_dir(path.parent)
    except OSError as exc:
        raise ResponseLogError(f"Cannot append to {path}: {exc}") from exc


def read_rows(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """All complete data rows of a log (an unterminated last line is ignored), as dicts.

    Raises
    ------
    ResponseLogError
        When the header differs from ``columns`` or a row has the wrong number of fields.
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(_CRLF)[:-1]  # the piece after the last CRLF is empty or torn
    if not lines:
        return []
    parsed = _parse(path, lines)
    if tuple(parsed[0]) != tuple(columns):
        raise ResponseLogError(f"{path}: header {parsed[0]!r} differs from the expected columns")
    rows: list[dict[str, str]] = []
    for number, fields in enumerate(parsed[1:], start=2):
        if len(fields) != len(columns):
            raise ResponseLogError(f"{path}:{number}: {len(fields)} fields, expected {len(columns)}")
        rows.append(dict(zip(columns, fields, strict=True)))
    return rows


def _parse(path: Path, lines: Sequence[bytes]) -> list[list[str]]:
    try:
        text = [line.decode("utf-8") for line in lines]
    except UnicodeDecodeError as exc:
        raise ResponseLogError(f"{path}: not UTF-8: {exc}") from exc
    return [next(csv.reader([line])) if line else [] for line in text]


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover` removed from a log.

    Attributes
    ----------
    path : Path
    kept_bytes, removed_bytes : int
    torn_line : bool
        The file ended in an unterminated line.
    removed_seqs : tuple of int
        ``seq`` of complete rows removed because they exceeded ``last_seq``.
    """

    path: Path
    kept_bytes: int
    removed_bytes: int
    torn_line: bool
    removed_seqs: tuple[int, ...]


def recover(path: Path, columns: Sequence[str], last_seq: int) -> Recovery | None:
    """Truncate the unacknowledged tail of a log at restart (clarifications C2).

    A torn last line (no final CRLF) and every row with ``seq > last_seq`` are removed; the file is
    truncated in place and ``fsync``ed. Returns ``None`` when nothing was removed.

    Raises
    ------
    ResponseLogError
        When the file cannot be read or truncated, or a complete row has a non-integer ``seq``.
    """
    if not path.exists():
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResponseLogError(f"Cannot read {path}: {exc}") from exc
    keep = data.rfind(_CRLF) + len(_CRLF) if _CRLF in data else 0
    torn = keep != len(data)
    seq_column = list(columns).index("seq")
    removed: list[int] = []
    offset = 0
    lines = data[:keep].split(_CRLF)[:-1]
    for number, line in enumerate(lines):
        end = offset + len(line) + len(_CRLF)
        if number > 0:
            fields = _parse(path, [line])[0]
            try:
                seq = int(fields[seq_column])
            except (IndexError, ValueError) as exc:
                raise ResponseLogError(f"{path}:{number + 1}: unreadable seq") from exc
            if seq > last_seq:
                if not removed:
                    keep = offset
                removed.append(seq)
        offset = end
    if not torn and not removed:
        return None
    try:
        with open(path, "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise ResponseLogError(f"Cannot truncate {path}: {exc}") from exc
    return Recovery(path, keep, len(data) - keep, torn, tuple(removed))
