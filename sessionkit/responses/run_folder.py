"""One run folder on disk: snapshot, state, logs, recovery at restart (reading-flow §1, C2, issue 11)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sessionkit.errors import ResponseLogError
from sessionkit.responses.csvlog import (
    ANNOTATION_COLUMNS,
    RESPONSE_COLUMNS,
    Recovery,
    append_rows,
    fsync_dir,
    mkdir_durable,
    read_rows,
    recover,
)
from sessionkit.responses.paths import RunPaths, pending_path
from sessionkit.responses.state_file import HISTORY_DIR, read_state, write_bytes_atomic, write_state

#: (page_index, repetition, question_id, option_index)
ResponseKey = tuple[int, int, str, int]


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2025-01-31T14:05:09.123Z`` (reading-flow §14.2)."""
    value = (moment or datetime.now(UTC)).astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def latest_responses(rows: Sequence[Mapping[str, str]]) -> dict[ResponseKey, Mapping[str, str]]:
    """Latest row per (page_index, repetition, question_id, option_index) by ``seq`` (§14.2).

    Raises
    ------
    ResponseLogError
        When a key column is not an integer.
    """
    latest: dict[ResponseKey, Mapping[str, str]] = {}
    best: dict[ResponseKey, int] = {}
    for row in rows:
        try:
            key = (int(row["page_index"]), int(row["repetition"]), row["question_id"], int(row["option_index"]))
            seq = int(row["seq"])
        except (KeyError, ValueError) as exc:
            raise ResponseLogError(f"responses.csv row with unreadable keys: {exc}") from exc
        if key not in best or seq >= best[key]:
            best[key] = seq
            latest[key] = row
    return latest


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes.

    Raises
    ------
    ResponseLogError
        When the file cannot be read.
    """
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ResponseLogError(f"Cannot read {path}: {exc}") from exc


def settle_annotation(target: Path, sha256: str) -> None:
    """Put an acknowledged annotation write in place (issue 11): the last step of a save.

    Parameters
    ----------
    target : Path
        The annotation file its ``annotations.csv`` row names.
    sha256 : str
        The row's ``sha256``: the pending file (:func:`~sessionkit.responses.paths.pending_path`) is
        renamed over ``target``; empty (a logged deletion): ``target`` is removed. The folder is fsync'ed.

    Raises
    ------
    ResponseLogError
        On an OS error (recovery at the next resume finishes the step).
    """
    try:
        if sha256:
            os.replace(pending_path(target), target)
        else:
            target.unlink(missing_ok=True)
        fsync_dir(target.parent)
    except OSError as exc:
        raise ResponseLogError(f"Cannot put the saved annotation {target} in place: {exc}") from exc


def acknowledged_file(target: Path, sha256: str) -> Path:
    """The file holding an acknowledged annotation row's bytes: ``target``, or its pending file when a
    kill came between the acknowledgement and the rename (before any recovery ran; see :func:`settle_annotation`).

    Raises
    ------
    ResponseLogError
        When the pending file exists but cannot be read.
    """
    pending = pending_path(target)
    if sha256 and pending.is_file() and file_sha256(pending) == sha256:
        return pending
    return target


@dataclass(frozen=True)
class CommittedState:
    """The state a run resumes from and the log rows it keeps (C2; issue 11).

    Attributes
    ----------
    data : dict or None
        ``state.json``; when it is missing, empty or unreadable, the ``state-history`` copy with the
        highest ``last_seq`` (then version); None when no state survives.
    source : Path or None
        The file ``data`` was read from.
    keep_seq : int
        Log rows with ``seq <= keep_seq`` are kept: the highest ``last_seq`` any surviving state
        acknowledged and, when ``state.json`` itself is lost, every complete logged row (the lost state
        may have acknowledged it; a row is never removed on a guess).
    """

    data: dict[str, Any] | None
    source: Path | None
    keep_seq: int


class RunFolder:
    """The files of one run: ``<results root>/<reader_id>/<session_stem>/.sessionkit/``.

    Every method that writes is durable when it returns (fsync). Nothing here knows the runner.
    """

    def __init__(self, paths: RunPaths) -> None:
        self.paths = paths

    def exists(self) -> bool:
        """True when the run has a state (current or kept) or a log: it is resumed, never re-created."""
        paths = self.paths
        return (
            any(f.exists() for f in (paths.state, paths.responses, paths.annotations))
            or any((paths.meta_dir / HISTORY_DIR).glob("state-*.json"))
        )

    def create(self, snapshot: bytes, colors_source: Path | None = None) -> None:
        """Make the folders and write the session snapshot (and the colour table copy, if any).

        Raises
        ------
        ResponseLogError
            On an OS error.
        """
        try:
            mkdir_durable(self.paths.meta_dir)
            write_bytes_atomic(self.paths.snapshot, snapshot)
            if colors_source is not None and colors_source.is_file():
                shutil.copyfile(colors_source, self.paths.colors)
            fsync_dir(self.paths.meta_dir)
        except OSError as exc:
            raise ResponseLogError(f"Cannot create the run folder {self.paths.run_dir}: {exc}") from exc

    def read_snapshot(self) -> bytes:
        """Bytes of ``snapshot.xml``."""
        try:
            return self.paths.snapshot.read_bytes()
        except OSError as exc:
            raise ResponseLogError(f"Cannot read {self.paths.snapshot}: {exc}") from exc

    def committed_state(self) -> CommittedState:
        """The state to resume from and the rows to keep (see :class:`CommittedState`); writes nothing.

        Raises
        ------
        ResponseLogError
            When ``state.json`` is lost and a log cannot be read.
        """
        current: tuple[dict[str, Any], int] | None = None
        kept: list[tuple[int, int, Path, dict[str, Any]]] = []
        history = sorted((self.paths.meta_dir / HISTORY_DIR).glob("state-*.json"))
        for path in [self.paths.state, *history]:
            try:
                data = read_state(path)
                last_seq, version = int(data["last_seq"]), int(data["version"])
            except (ResponseLogError, KeyError, TypeError, ValueError):
                continue
            if path == self.paths.state:
                current = (data, last_seq)
            else:
                kept.append((last_seq, version, path, data))
        floor = max([seq for seq, *_ in kept] + ([current[1]] if current else []), default=0)
        if current is not None:
            return CommittedState(current[0], self.paths.state, floor)
        logged = [int(row["seq"]) for row in self.read_responses() + self.read_annotations() if row["seq"].isdigit()]
        keep = max([floor, *logged])
        if not kept:
            return CommittedState(None, None, keep)
        _, _, path, data = max(kept, key=lambda item: item[:2])
        return CommittedState(data, path, keep)

    def read_state(self) -> dict[str, Any]:
        """The committed ``state.json``."""
        return read_state(self.paths.state)

    def commit_state(self, data: dict[str, Any]) -> None:
        """Write ``state.json`` atomically, keeping the previous 20 versions."""
        write_state(self.paths.state, data)

    def append_responses(self, rows: Sequence[Mapping[str, object]]) -> None:
        """Append rows to ``responses.csv`` (flushed and fsync'ed)."""
        if rows:
            append_rows(self.paths.responses, RESPONSE_COLUMNS, rows)

    def append_annotations(self, rows: Sequence[Mapping[str, object]]) -> None:
        """Append rows to ``annotations.csv`` (flushed and fsync'ed)."""
        if rows:
            append_rows(self.paths.annotations, ANNOTATION_COLUMNS, rows)

    def read_responses(self) -> list[dict[str, str]]:
        """Complete rows of ``responses.csv``."""
        return read_rows(self.paths.responses, RESPONSE_COLUMNS)

    def read_annotations(self) -> list[dict[str, str]]:
        """Complete rows of ``annotations.csv``."""
        return read_rows(self.paths.annotations, ANNOTATION_COLUMNS)

    def read_events(self) -> list[dict[str, Any]]:
        """Records of ``events.jsonl``; unreadable lines (e.g. torn by a crash) are skipped."""
        if not self.paths.events.is_file():
            return []
        records: list[dict[str, Any]] = []
        try:
            text = self.paths.events.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ResponseLogError(f"Cannot read {self.paths.events}: {exc}") from exc
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def log_event(self, kind: str, **fields: object) -> None:
        """Append one JSON line to ``events.jsonl`` (flushed; not part of acknowledgement)."""
        record = {"time": utc_timestamp(), "kind": kind, **fields}
        try:
            with open(self.paths.events, "a", encoding="utf-8", newline="\n") as handle:
                handle.write(json.dumps(record, sort_keys=True, default=str) + "\n")
                handle.flush()
        except OSError as exc:
            raise ResponseLogError(f"Cannot append to {self.paths.events}: {exc}") from exc

    def recover(self, last_seq: int) -> list[Recovery]:
        """Truncate unacknowledged CSV tails, remove orphan temp files and settle annotation files (C2).

        Each step is logged in ``events.jsonl``. Annotation files (issue 11): a pending file whose
        bytes are those of its file's latest acknowledged row is renamed into place
        (``annotation_settled``), any other pending file is removed (``orphan_removed``), and a file
        whose latest row is a deletion is removed.

        Returns
        -------
        list of Recovery
            One per log that was truncated.
        """
        done: list[Recovery] = []
        for path, columns in ((self.paths.responses, RESPONSE_COLUMNS), (self.paths.annotations, ANNOTATION_COLUMNS)):
            result = recover(path, columns, last_seq)
            if result is not None:
                done.append(result)
                self.log_event(
                    "log_truncated",
                    file=path.name,
                    last_seq=last_seq,
                    torn_line=result.torn_line,
                    removed_seqs=list(result.removed_seqs),
                    removed_bytes=result.removed_bytes,
                )
        for orphan in self.paths.run_dir.rglob(".*.tmp"):
            try:
                orphan.unlink()
            except OSError as exc:
                raise ResponseLogError(f"Cannot remove orphan temp file {orphan}: {exc}") from exc
            self.log_event("orphan_removed", file=str(orphan.relative_to(self.paths.run_dir)))
        self._settle_annotations()
        return done

    def _settle_annotations(self) -> None:
        """Finish the acknowledged annotation writes a kill interrupted; drop unacknowledged ones (issue 11)."""
        reader_dir = self.paths.run_dir.parent
        latest = {row["file"]: row for row in self.read_annotations()}  # rows are in seq order
        for pending in sorted(self.paths.run_dir.rglob(".*.pending")):
            target = pending.with_name(pending.name[1:].removesuffix(".pending"))
            name = target.relative_to(reader_dir).as_posix()
            row = latest.get(name)
            if row is not None and row["sha256"] and file_sha256(pending) == row["sha256"]:
                settle_annotation(target, row["sha256"])
                self.log_event("annotation_settled", file=name, seq=row["seq"])
                continue
            try:
                pending.unlink()
            except OSError as exc:
                raise ResponseLogError(f"Cannot remove the unacknowledged file {pending}: {exc}") from exc
            self.log_event("orphan_removed", file=str(pending.relative_to(self.paths.run_dir)))
        run_dir = self.paths.run_dir.resolve()
        for name, row in latest.items():
            target = reader_dir / name
            if not row["sha256"] and target.resolve().is_relative_to(run_dir) and target.exists():
                settle_annotation(target, "")
                self.log_event("annotation_settled", file=name, seq=row["seq"])
