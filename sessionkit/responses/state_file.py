"""Atomic ``state.json`` with the previous versions kept (reading-flow §1 "Atomicity", C2).

Write order: temporary file, ``fsync``, keep the current file as ``state-history/state-<version>.json``
(a hard link, or a copy where links are unsupported), ``rename`` over ``state.json``, ``fsync`` the
folder. Only the newest :data:`KEEP` history files are kept.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from sessionkit.errors import ResponseLogError
from sessionkit.responses.csvlog import fsync_dir

#: Previous state versions kept beside ``state.json``.
KEEP = 20
HISTORY_DIR = "state-history"


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp, fsync, rename, fsync dir).

    ``durable=False`` skips both fsyncs (still atomic for readers): for derived files that are
    regenerated anyway, such as the results XML.

    Raises
    ------
    ResponseLogError
        On any OS error; ``path`` then still holds its previous content.
    """
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temp, path)
        if durable:
            fsync_dir(path.parent)
    except OSError as exc:
        raise ResponseLogError(f"Cannot write {path}: {exc}") from exc


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` with :func:`write_bytes_atomic`."""
    write_bytes_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))


def write_state(path: Path, data: dict[str, Any]) -> None:
    """Commit a new ``state.json``, keeping the previous one in ``state-history/`` (newest 20).

    Parameters
    ----------
    path : Path
        ``.sessionkit/state.json``.
    data : dict
        JSON-ready state; its ``"version"`` (int) names the kept copy of the *previous* state.

    Raises
    ------
    ResponseLogError
        On an OS error.
    """
    history = path.parent / HISTORY_DIR
    try:
        previous = _readable_version(path)
        if previous is not None:  # a damaged state.json (resumed from a kept copy) is not kept
            history.mkdir(exist_ok=True)
            kept = history / f"state-{previous:08d}.json"
            if not kept.exists():
                try:
                    os.link(path, kept)
                except OSError:
                    shutil.copyfile(path, kept)
        write_json_atomic(path, data)
        if history.is_dir():
            for old in sorted(history.glob("state-*.json"))[:-KEEP]:
                old.unlink()
    except OSError as exc:
        raise ResponseLogError(f"Cannot keep state history in {history}: {exc}") from exc


def _readable_version(path: Path) -> int | None:
    """The ``version`` of a readable state file; None when it is missing or damaged."""
    try:
        return int(read_state(path).get("version", 0))
    except (ResponseLogError, TypeError, ValueError):
        return None


def read_state(path: Path) -> dict[str, Any]:
    """Load ``state.json``.

    Raises
    ------
    ResponseLogError
        When it is missing, unreadable or not a JSON object.
    """
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResponseLogError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ResponseLogError(f"{path} is not a JSON object")
    return data
