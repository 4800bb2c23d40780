"""Ratings tables for MRMC: from records, a long CSV or iMRMC's ``.imrmc`` file (analysis.md §1).

Long CSV: header ``reader,modality,case,truth,rating`` (``treatment`` is accepted for ``modality``).
``.imrmc``: free header lines, ``BEGIN DATA:``, truth rows ``-1,case,<any>,truth``, then
``reader,case,modality,score`` (the format iMRMC and RJafroc's ``DfReadDataFile`` read).
Readers, modalities and cases keep the order they first appear in.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sessionkit.errors import AnalysisInputError, RatingsReadError

#: How many problems an error message spells out before "… and N more".
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class RatingRecord:
    """One rating: ``reader`` rated ``case`` in ``modality``; ``where`` is ``file:row`` for messages."""

    reader: str
    modality: str
    case: str
    truth: int
    rating: float
    where: str


@dataclass(frozen=True)
class RatingTable:
    """A fully crossed ratings table.

    Attributes
    ----------
    readers, modalities, cases : tuple of str
        Labels in order of first appearance.
    truth : ndarray of int64, shape (K,)
        0 (disease absent) or 1 (present) per case.
    scores : ndarray of float64, shape (T, R, K)
        ``scores[t, r, k]``: reader r's rating of case k in modality t (higher = more suspicious).
    source : str
        File (or description) the ratings came from, for messages.
    """

    readers: tuple[str, ...]
    modalities: tuple[str, ...]
    cases: tuple[str, ...]
    truth: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    source: str


def _complain(problems: list[str], source: str) -> None:
    if problems:
        shown = problems[:SHOWN_PROBLEMS]
        more = f"\n  … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise AnalysisInputError(f"{source}: {len(problems)} problem(s)\n  " + "\n  ".join(shown) + more, problems)


def build_rating_table(
    records: Iterable[RatingRecord], source: str, case_order: tuple[str, ...] | None = None
) -> RatingTable:
    """Check that every reader rated every case in every modality once, then build the table.

    Readers, modalities and cases keep the order they first appear in ``records``; ``case_order``
    (e.g. the truth rows of an ``.imrmc`` file) puts the cases it names first, in its order.

    Raises
    ------
    AnalysisInputError
        A case with two truths, a (reader, modality, case) rated twice, or missing cells
        (listed in ``missing`` and in the message as ``reader R, modality M, case C``).
    """
    readers: dict[str, None] = {}
    modalities: dict[str, None] = {}
    cases: dict[str, int] = {}
    cells: dict[tuple[str, str, str], float] = {}
    problems: list[str] = []
    truth_where: dict[str, str] = {}
    for rec in records:
        readers.setdefault(rec.reader)
        modalities.setdefault(rec.modality)
        if rec.case in cases and cases[rec.case] != rec.truth:
            problems.append(
                f"{rec.where}: case {rec.case!r} has truth {rec.truth}, but {cases[rec.case]} at "
                f"{truth_where[rec.case]}; give each case one truth"
            )
            continue
        cases.setdefault(rec.case, rec.truth)
        truth_where.setdefault(rec.case, rec.where)
        key = (rec.reader, rec.modality, rec.case)
        if key in cells:
            problems.append(
                f"{rec.where}: reader {rec.reader!r} rated case {rec.case!r} in modality {rec.modality!r} twice; "
                "keep one rating per reader, modality and case"
            )
        cells[key] = rec.rating
    _complain(problems, source)
    if case_order is not None:
        rank = {case: i for i, case in enumerate(case_order)}
        cases = dict(sorted(cases.items(), key=lambda item: rank.get(item[0], len(rank))))
    missing = [(r, m, c) for r in readers for m in modalities for c in cases if (r, m, c) not in cells]
    if missing:
        lines = [f"reader {r}, modality {m}, case {c}" for r, m, c in missing]
        shown = lines[:SHOWN_PROBLEMS]
        more = f"\n  … and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
        raise AnalysisInputError(
            f"{source}: the design is not fully crossed: {len(missing)} missing (reader, modality, case) "
            "rating(s); MRMC needs every reader to rate every case in every modality\n  " + "\n  ".join(shown) + more,
            problems=lines,
            missing=missing,
        )
    scores = np.array(
        [[[cells[(r, m, c)] for c in cases] for r in readers] for m in modalities], dtype=np.float64
    ).reshape(len(modalities), len(readers), len(cases))
    truth = np.array(list(cases.values()), dtype=np.int64)
    return RatingTable(tuple(readers), tuple(modalities), tuple(cases), truth, scores, source)


def _number(text: str, where: str, what: str, problems: list[str]) -> float | None:
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{where}: {what} {text!r} is not a number; write a number")
        return None
    if not math.isfinite(value):
        problems.append(f"{where}: {what} {text!r} is not finite; write a finite number")
        return None
    return value


def _truth(text: str, where: str, problems: list[str]) -> int | None:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value not in (0.0, 1.0):
        problems.append(f"{where}: truth {text!r} is not 0 or 1; write 0 (disease absent) or 1 (present)")
        return None
    return int(value)


def read_text(path: Path) -> str:
    """The UTF-8 text of a ratings or design file (a BOM is dropped).

    Raises
    ------
    RatingsReadError
        The file is missing, a folder, or not UTF-8.
    """
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RatingsReadError(f"{path}: cannot read the file ({exc}); give a UTF-8 text file") from exc


def read_csv_rows(path: Path, required: dict[str, tuple[str, ...]]) -> list[tuple[str, dict[str, str]]]:
    """Rows of a CSV file with a header, as ``(file:line, {column: value})``.

    Parameters
    ----------
    path : Path
        The CSV file (UTF-8, header row).
    required : dict
        Column name → accepted aliases (the name itself first); each row is keyed by the name.

    Raises
    ------
    RatingsReadError
        Unreadable file, no header, or a required column missing (the message names the found columns).
    """
    text = read_text(path)
    reader = csv.reader(text.splitlines())
    header = [name.strip().lower() for name in next(reader, [])]
    if not header:
        raise RatingsReadError(f"{path}: the file is empty; expected a header row")
    index: dict[str, int] = {}
    for name, aliases in required.items():
        found = [alias for alias in aliases if alias in header]
        if not found:
            raise RatingsReadError(
                f"{path}:1: no {' or '.join(aliases)} column; found columns {', '.join(header)}; "
                f"expected {', '.join(required)}"
            )
        index[name] = header.index(found[0])
    extra = {name: i for i, name in enumerate(header) if name not in index}
    rows = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}
        cells.update({name: (row[i].strip() if i < len(row) else "") for name, i in extra.items()})
        rows.append((f"{path}:{line}", cells))
    return rows


def read_mrmc_csv(path: Path) -> RatingTable:
    """MRMC ratings from a long CSV ``reader,modality|treatment,case,truth,rating``."""
    columns = {
        "reader": ("reader",),
        "modality": ("modality", "treatment"),
        "case": ("case",),
        "truth": ("truth",),
        "rating": ("rating",),
    }
    records: list[RatingRecord] = []
    problems: list[str] = []
    for where, row in read_csv_rows(path, columns):
        truth = _truth(row["truth"], where, problems)
        rating = _number(row["rating"], where, "rating", problems)
        if truth is not None and rating is not None:
            records.append(RatingRecord(row["reader"], row["modality"], row["case"], truth, rating, where))
    _complain(problems, str(path))
    return build_rating_table(records, str(path))


def read_imrmc(path: Path) -> RatingTable:
    """MRMC ratings from iMRMC's ``.imrmc`` format (truth rows ``-1,case,<any>,truth``)."""
    lines = read_text(path).splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().upper().startswith("BEGIN DATA")]
    if not starts:
        raise RatingsReadError(f"{path}: no 'BEGIN DATA:' line; an .imrmc file has header lines, then BEGIN DATA:")
    truth: dict[str, int] = {}
    ratings: list[tuple[str, str, str, float, str]] = []
    problems: list[str] = []
    for number, line in enumerate(lines[starts[0] + 1 :], start=starts[0] + 2):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 4:
            problems.append(f"{where}: {len(fields)} fields; expected reader,case,modality,score")
            continue
        reader, case, modality, value = fields
        if reader == "-1":
            t = _truth(value, where, problems)
            if t is not None:
                truth[case] = t
            continue
        score = _number(value, where, "score", problems)
        if score is not None:
            ratings.append((reader, case, modality, score, where))
    for reader, case, _, _, where in ratings:
        if case not in truth:
            problems.append(f"{where}: case {case!r} of reader {reader!r} has no truth row; add -1,{case},0,<0|1>")
    _complain(problems, str(path))
    records = [
        RatingRecord(reader, modality, case, truth[case], score, where)
        for reader, case, modality, score, where in ratings
    ]
    return build_rating_table(records, str(path), case_order=tuple(truth))


def read_mrmc_ratings(path: str | Path) -> RatingTable:
    """MRMC ratings from ``.imrmc`` (by suffix) or a long CSV (anything else).

    Raises
    ------
    RatingsReadError
        The file cannot be read or lacks a required column / ``BEGIN DATA:``.
    AnalysisInputError
        Bad values (file:line, found, expected) or an incomplete design (the missing cells).
    """
    path = Path(path)
    return read_imrmc(path) if path.suffix.lower() == ".imrmc" else read_mrmc_csv(path)
