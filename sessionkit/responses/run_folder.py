"""One run folder on disk: snapshot, state, logs, recovery at restart (reading-flow §1, C2)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
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
    read_rows,
    recover,
)
from sessionkit.responses.paths import RunPaths
from sessionkit.responses.state_file import read_state, write_bytes_atomic, write_state

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


class RunFolder:
    """The files of one run: ``<results root>/<reader_id>/<session_stem>/.sessionkit/``.

    Every method that writes is durable when it returns (fsync). Nothing here knows the runner.
    """

    def __init__(self, paths: RunPaths) -> None:
        self.paths = paths

    def exists(self) -> bool:
        """True when the run has a committed ``state.json``."""
        return self.paths.state.exists()

    def create(self, snapshot: bytes, colors_source: Path | None = None) -> None:
        """Make the folders and write the session snapshot (and the colour table copy, if any).

        Raises
        ------
        ResponseLogError
            On an OS error.
        """
        try:
            self.paths.meta_dir.mkdir(parents=True, exist_ok=True)
            fsync_dir(self.paths.run_dir)
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
        """Truncate unacknowledged CSV tails and remove orphan temp files (C2); log each in events.

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
        return done
