"""The design table (``design.csv``): pages → cases, modalities and the reference standard (analysis.md §1)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sessionkit.analysis.ratings import read_csv_rows
from sessionkit.errors import AnalysisInputError

DESIGN_COLUMNS = ("arm", "page_id", "case_id", "modality", "truth", "reference_contour", "reference_segment")


@dataclass(frozen=True)
class DesignRow:
    """One row of ``design.csv``; ``arm`` empty = every arm, ``where`` = ``file:line``."""

    arm: str
    page_id: str
    case_id: str
    modality: str
    truth: str
    reference_contour: str
    reference_segment: str
    where: str


@dataclass(frozen=True)
class Design:
    """The design table, looked up by (arm, page ID); an arm-specific row wins over an every-arm row."""

    rows: tuple[DesignRow, ...]
    source: str

    def lookup(self, arm: str, page_id: str) -> DesignRow | None:
        """The row for ``page_id`` in ``arm``, else the every-arm row, else ``None`` (a training page)."""
        general = None
        for row in self.rows:
            if row.page_id == page_id:
                if row.arm == arm:
                    return row
                if not row.arm:
                    general = row
        return general

    def modality(self, row: DesignRow, arm: str) -> str:
        """The row's modality; default the arm's name (analysis.md §1)."""
        return row.modality or arm


def read_design(path: str | Path) -> Design:
    """Read ``design.csv`` (UTF-8, header; ``page_id`` and ``case_id`` required).

    Raises
    ------
    RatingsReadError
        Unreadable file or a required column absent.
    AnalysisInputError
        An empty ``page_id``/``case_id``, or one (arm, page ID) given twice (file:line of both).
    """
    path = Path(path)
    rows = read_csv_rows(path, {"page_id": ("page_id",), "case_id": ("case_id",)})
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    parsed = []
    for where, cells in rows:
        values = {name: cells.get(name, "") for name in DESIGN_COLUMNS}
        row = DesignRow(**values, where=where)
        if not row.page_id or not row.case_id:
            problems.append(f"{where}: empty page_id or case_id; every design row names a page and its case")
            continue
        key = (row.arm, row.page_id)
        if key in seen:
            problems.append(f"{where}: page {row.page_id!r} of arm {row.arm!r} is also at {seen[key]}; keep one row")
            continue
        seen[key] = where
        parsed.append(row)
    if problems:
        raise AnalysisInputError(f"{path}: {len(problems)} problem(s)\n  " + "\n  ".join(problems), problems)
    return Design(tuple(parsed), str(path))
