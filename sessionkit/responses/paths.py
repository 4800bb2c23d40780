"""Run folder layout and safe path building (reading-flow §1, clarifications C3).

```
<results root>/<reader_id>/<session_stem>/
  PgGroup<G>_<PageID>[-Rep<n>]_<Descriptor>/ ...
  .sessionkit/  snapshot.xml  colors.txt  state.json  responses.csv  annotations.csv  events.jsonl
```
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sessionkit.errors import ResponseLogError

READER_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


def validate_reader_id(reader_id: str) -> str:
    """Return ``reader_id`` if it matches ``[A-Za-z0-9._-]{1,64}`` and is not ``.`` or ``..`` (C3).

    Raises
    ------
    ResponseLogError
        When the id would be an unsafe or ambiguous path component.
    """
    if not isinstance(reader_id, str) or not READER_ID_RE.match(reader_id) or reader_id in (".", ".."):
        raise ResponseLogError(
            f"Reader id {reader_id!r} is not allowed: use 1-64 characters from A-Z a-z 0-9 . _ - (not '.' or '..')"
        )
    return reader_id


def safe_name(text: str) -> str:
    """Map session text to a file-name component: characters outside ``[A-Za-z0-9._ -]`` -> ``_`` (C3).

    ``.`` and ``..`` (and the empty string) become ``_`` so the result is never a directory alias.
    """
    mapped = _UNSAFE.sub("_", text)
    return "_" if mapped in ("", ".", "..") else mapped


def ensure_inside(root: Path, path: Path) -> Path:
    """Return ``path`` resolved if it lies inside ``root`` (both resolved), else raise.

    Raises
    ------
    ResponseLogError
        When ``path`` escapes ``root`` (``..`` components, absolute parts, symlinks).
    """
    base = root.resolve()
    final = path.resolve()
    if final != base and base not in final.parents:
        raise ResponseLogError(f"Path {path} lies outside the run folder {base}")
    return final


@dataclass(frozen=True)
class RunPaths:
    """Paths of one run folder: ``<results_root>/<reader_id>/<session_stem>``."""

    results_root: Path
    reader_id: str
    session_stem: str

    @classmethod
    def create(cls, results_root: Path, reader_id: str, session_stem: str) -> RunPaths:
        """Validated paths (reader id per C3, session stem made safe); nothing is written."""
        paths = cls(Path(results_root), validate_reader_id(reader_id), safe_name(session_stem))
        ensure_inside(paths.results_root, paths.run_dir)
        return paths

    @property
    def run_dir(self) -> Path:
        """``<results_root>/<reader_id>/<session_stem>``."""
        return self.results_root / self.reader_id / self.session_stem

    @property
    def meta_dir(self) -> Path:
        """``<run_dir>/.sessionkit``."""
        return self.run_dir / ".sessionkit"

    @property
    def snapshot(self) -> Path:
        """Snapshot of the session bytes."""
        return self.meta_dir / "snapshot.xml"

    @property
    def colors(self) -> Path:
        """Copy of the colour table."""
        return self.meta_dir / "colors.txt"

    @property
    def state(self) -> Path:
        """Committed run state."""
        return self.meta_dir / "state.json"

    @property
    def responses(self) -> Path:
        """Append-only response log (reading-flow §14.2)."""
        return self.meta_dir / "responses.csv"

    @property
    def annotations(self) -> Path:
        """Append-only annotation log (reading-flow §14.3)."""
        return self.meta_dir / "annotations.csv"

    @property
    def events(self) -> Path:
        """Transition attempts, logins, recoveries (JSON lines)."""
        return self.meta_dir / "events.jsonl"

    def page_folder(self, page_group: int, instance_id: str, descriptor: str) -> Path:
        """``PgGroup<G>_<PageID>[-Rep<n>]_<Descriptor>`` inside the run folder (reading-flow §1).

        Raises
        ------
        ResponseLogError
            If the mapped name would leave the run folder.
        """
        folder = self.run_dir / f"PgGroup{page_group}_{safe_name(instance_id)}_{_descriptor_part(descriptor)}"
        ensure_inside(self.run_dir, folder)
        return folder

    def inside(self, relative: str | os.PathLike[str]) -> Path:
        """``run_dir / relative``, checked to stay inside the run folder."""
        return ensure_inside(self.run_dir, self.run_dir / relative)


def pending_path(path: Path) -> Path:
    """``.<name>.pending`` beside ``path``: a new annotation file written but not yet acknowledged.

    It replaces ``path`` only once its ``annotations.csv`` row is acknowledged (issue 11); recovery
    renames an acknowledged one into place and removes any other.
    """
    return path.with_name(f".{path.name}.pending")


def labelmap_file_name(instance_id: str, image_id: str) -> str:
    """``<PageID>[-Rep<n>]_<ImageID>-quizlabel.nrrd`` (reading-flow §1, §11), made file-name safe (C3)."""
    return f"{safe_name(instance_id)}_{safe_name(image_id)}-quizlabel.nrrd"


def line_file_name(instance_id: str, image_id: str, number: int = 1) -> str:
    """``<PageID>[-Rep<n>]_<ImageID>_MarkupsLine[_<k>]_quizline.mrk.json``; line 1 has no ``_<k>`` (§11)."""
    suffix = "" if number <= 1 else f"_{number - 1}"
    return f"{safe_name(instance_id)}_{safe_name(image_id)}_MarkupsLine{suffix}_quizline.mrk.json"


def line_number(file_name: str) -> int:
    """The 1-based line number of a :func:`line_file_name` (``..._MarkupsLine_quizline.mrk.json`` is 1).

    Raises
    ------
    ValueError
        When ``file_name`` is not a line file name.
    """
    match = _LINE_NUMBER.search(file_name)
    if match is None:
        raise ValueError(f"{file_name!r} is not a line file name")
    return 1 if match.group(1) is None else int(match.group(1)) + 1


_LINE_NUMBER = re.compile(r"_MarkupsLine(?:_(\d+))?_quizline\.mrk\.json$")


def _descriptor_part(descriptor: str) -> str:
    return "" if not descriptor else _UNSAFE.sub("_", descriptor)
