"""Final answers of run folders: one row per reader, arm, read, page instance and question (analysis.md §4).

The run folder's own files are the only source: ``state.json`` (acknowledged ``last_seq``, completion),
``responses.csv`` (latest row per option by ``seq``) and, for study runs, ``.sessionkit/study.json``
(``arm``, ``read``). The design table joins in case, modality and truth.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from sessionkit.analysis.design import Design
from sessionkit.analysis.ratings import RatingRecord, RatingTable, build_rating_table
from sessionkit.errors import AnalysisInputError, RatingsReadError
from sessionkit.responses.export import RunRecord, find_runs, read_run
from sessionkit.responses.run_folder import latest_responses

ANSWER_COLUMNS: tuple[str, ...] = (
    "reader_id",
    "arm",
    "read",
    "session_id",
    "page_id",
    "page_instance",
    "repetition",
    "case_id",
    "modality",
    "truth",
    "question_set_index",
    "question_index",
    "question_descriptor",
    "question_type",
    "answer",
    "answer_numeric",
    "answered_at",
    "reading_time_s",
)

#: The server's default idle timeout (``serve --idle-timeout``), seconds.
DEFAULT_IDLE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class FinalAnswer:
    """One reader's last acknowledged answer to one question of one page instance (analysis.md §4).

    ``answer`` is the selected option label (Radio), the selected labels joined by ``|`` (CheckBox),
    or the typed values joined by ``|`` (Text, IntegerValue, FloatValue, Button); empty when
    unanswered. ``answer_numeric`` is a Radio answer's label as a number when every label of the
    question is numeric, else its 1-based option index; the number of IntegerValue/FloatValue
    (single option); else ``None``. ``case_id``/``modality``/``truth`` are empty for pages the design
    does not list. ``reading_time_s`` is the page instance's open time (seconds), idle gaps excluded.
    """

    reader_id: str
    arm: str
    read: int
    session_id: str
    page_id: str
    page_instance: str
    repetition: int
    case_id: str
    modality: str
    truth: str
    question_set_index: int
    question_index: int
    question_descriptor: str
    question_type: str
    answer: str
    answer_numeric: float | None
    answered_at: str
    reading_time_s: float
    page_index: int = 0
    question_id: str = ""


@dataclass(frozen=True)
class RunAnswers:
    """The runs read: their answers, and the runs left out (not complete) with the reason."""

    answers: list[FinalAnswer]
    excluded: list[tuple[Path, str]]
    training_pages: list[str]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _answer(question_type: str, options: Sequence[Mapping[str, str]]) -> tuple[str, float | None]:
    """The answer text and number of one question from its options' latest rows (in option order)."""
    if question_type in ("Radio", "CheckBox"):
        chosen = [row for row in options if row["value"] == "Y"]
        text = "|".join(row["option"] for row in chosen)
        if question_type != "Radio" or len(chosen) != 1:
            return text, None
        labels = [_number(row["option"]) for row in options]
        if all(label is not None for label in labels):
            return text, _number(chosen[0]["option"])
        return text, float(int(chosen[0]["option_index"]))
    values = [row["value"] for row in options]
    number = _number(options[0]["value_numeric"]) if len(options) == 1 and options[0]["value_numeric"] else None
    return "|".join(values) if any(values) else "", number


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def reading_time(rows: Iterable[Mapping[str, str]], idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S) -> float:
    """Seconds a page instance was open, from its response rows, without idle gaps (analysis.md §4).

    Each submission spans ``started_at`` (question set displayed) to ``saved_at``; overlapping spans
    are one visit. Within a visit, the moments of input (``answered_at``, ``saved_at``) split it into
    gaps, and a gap longer than ``idle_timeout_s`` is not counted (the reader was away).
    """
    spans: list[tuple[datetime, datetime]] = []
    inputs: list[datetime] = []
    for row in rows:
        start, end = _moment(row.get("started_at", "")), _moment(row.get("saved_at", ""))
        if start is not None and end is not None and end >= start:
            spans.append((start, end))
            inputs.append(end)
        answered = _moment(row.get("answered_at", ""))
        if answered is not None:
            inputs.append(answered)
    total = 0.0
    merged: list[list[datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        points = sorted({start, end, *(moment for moment in inputs if start < moment < end)})
        for before, after in pairwise(points):
            gap = (after - before).total_seconds()
            total += gap if gap <= idle_timeout_s else 0.0
    return round(total, 3)


def study_info(run: RunRecord) -> tuple[str, int]:
    """(arm, read) from ``.sessionkit/study.json``; a single-session run is arm = session, read 1."""
    path = run.run_dir / ".sessionkit" / "study.json"
    arm = str(run.state.get("session_id") or run.run_dir.name)
    if not path.is_file():
        return arm, 1
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return str(info.get("arm") or arm), int(info.get("read", 1))
    except (OSError, ValueError, TypeError) as exc:
        raise RatingsReadError(f"{path}: cannot read the study record ({exc})") from exc


def run_answers(
    run: RunRecord, design: Design | None = None, idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S
) -> list[FinalAnswer]:
    """Final answers of one run, in page-index, repetition and question order.

    Parameters
    ----------
    run : RunRecord
        A run folder read by :func:`sessionkit.responses.export.read_run` (acknowledged rows only).
    design : Design, optional
        Joins ``case_id``, ``modality``, ``truth`` by (arm, page ID).
    idle_timeout_s : float
        Gaps without input longer than this are not reading time.
    """
    arm, read = study_info(run)
    latest = latest_responses(run.responses)
    by_question: dict[tuple[int, int, str], list[Mapping[str, str]]] = defaultdict(list)
    for (page_index, rep, question_id, _), row in sorted(latest.items()):
        by_question[(page_index, rep, question_id)].append(row)
    by_instance: dict[tuple[int, int], list[Mapping[str, str]]] = defaultdict(list)
    for row in run.responses:
        by_instance[(int(row["page_index"]), int(row["repetition"]))].append(row)
    times = {key: reading_time(rows, idle_timeout_s) for key, rows in by_instance.items()}
    answers = []
    for (page_index, rep, question_id), options in sorted(
        by_question.items(), key=lambda item: (item[0][0], item[0][1], tuple(int(p) for p in item[0][2].split(".")))
    ):
        first = options[0]
        text, number = _answer(first["question_type"], options)
        design_row = design.lookup(arm, first["page_id"]) if design else None
        answers.append(
            FinalAnswer(
                reader_id=first["reader_id"],
                arm=arm,
                read=read,
                session_id=first["session_id"],
                page_id=first["page_id"],
                page_instance=first["page_instance"],
                repetition=rep,
                case_id=design_row.case_id if design_row else "",
                modality=design.modality(design_row, arm) if design and design_row else "",
                truth=design_row.truth if design_row else "",
                question_set_index=int(first["question_set_index"]),
                question_index=int(first["question_index"]),
                question_descriptor=first["question_descriptor"],
                question_type=first["question_type"],
                answer=text,
                answer_numeric=number,
                answered_at=max(option["answered_at"] for option in options),
                reading_time_s=times.get((page_index, rep), 0.0),
                page_index=page_index,
                question_id=question_id,
            )
        )
    return answers


def collect_answers(
    paths: Iterable[str | Path],
    design: Design | None = None,
    *,
    include_incomplete: bool = False,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
) -> RunAnswers:
    """Final answers of every run folder under ``paths`` (results roots or run folders).

    Runs not complete (no Finish) are left out and listed in ``excluded`` unless ``include_incomplete``;
    pages the design does not list are listed in ``training_pages`` (their answers keep empty case IDs).

    Raises
    ------
    ResponseLogError
        No run folder under a path, or an unreadable ``state.json``/log.
    RatingsReadError
        An unreadable ``study.json``.
    """
    answers: list[FinalAnswer] = []
    excluded: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in paths:
        for run_dir in find_runs(Path(path)):
            if run_dir.resolve() in seen:
                continue
            seen.add(run_dir.resolve())
            run = read_run(run_dir)
            machine = run.state.get("machine", {})
            if not include_incomplete and not machine.get("run_complete", False):
                excluded.append((run_dir, "run not complete (the reader did not Finish)"))
                continue
            answers.extend(run_answers(run, design, idle_timeout_s))
    training = sorted({a.page_id for a in answers if not a.case_id}) if design else []
    return RunAnswers(answers, excluded, training)


def number_text(value: float) -> str:
    """A number as text without loss: ``3`` for 3.0, else Python's shortest round-trip form."""
    return f"{value:.0f}" if value.is_integer() else repr(value)


def answers_csv(answers: Iterable[FinalAnswer]) -> bytes:
    """``export --format answers``: the columns of analysis.md §4, UTF-8, CRLF, header once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ANSWER_COLUMNS)
    for answer in answers:
        record = asdict(answer)
        number = record["answer_numeric"]
        record["answer_numeric"] = "" if number is None else number_text(number)
        writer.writerow([record[name] for name in ANSWER_COLUMNS])
    return buffer.getvalue().encode("utf-8")



def select_rating(answers: Sequence[FinalAnswer], rating: str) -> list[FinalAnswer]:
    """The answers of the question ``--rating`` names (analysis.md §1).

    ``rating`` is a question descriptor, ``PAGE_ID:Q`` (that page's question), or a 1-based question
    index ``Q`` or ``S.Q`` (question set S) on every page.

    Raises
    ------
    AnalysisInputError
        No question matches, or two questions of one page share the descriptor (the message lists the
        candidates as ``PAGE_ID:S.Q``).
    """
    page, _, position = rating.rpartition(":") if ":" in rating else ("", "", rating)

    def at(answer: FinalAnswer, where: str) -> bool:
        parts = where.split(".")
        if not all(part.isdigit() for part in parts) or len(parts) > 2:
            return False
        qs, q = (int(parts[0]), int(parts[1])) if len(parts) == 2 else (answer.question_set_index, int(parts[0]))
        return (answer.question_set_index, answer.question_index) == (qs, q)

    if page:
        chosen = [a for a in answers if a.page_id == page and (at(a, position) or a.question_descriptor == position)]
    else:
        chosen = [a for a in answers if a.question_descriptor == rating] or [a for a in answers if at(a, rating)]
    if not chosen:
        descriptors = sorted({a.question_descriptor for a in answers})
        raise AnalysisInputError(
            f"--rating {rating!r} matches no question; the questions are: {', '.join(descriptors)}",
        )
    per_instance: dict[tuple[str, int, str, int, str], set[str]] = defaultdict(set)
    for a in chosen:
        per_instance[(a.reader_id, a.read, a.arm, a.repetition, a.page_instance)].add(
            f"{a.page_id}:{a.question_set_index}.{a.question_index}"
        )
    clashes = sorted({name for names in per_instance.values() if len(names) > 1 for name in names})
    if clashes:
        raise AnalysisInputError(
            f"--rating {rating!r} names {len(clashes)} questions on one page: {', '.join(clashes)}; "
            "name one as PAGE_ID:S.Q"
        )
    return chosen


def mrmc_records(answers: Sequence[FinalAnswer], source: str) -> list[RatingRecord]:
    """MRMC rating records from one question's final answers (first read, original instances only).

    Raises
    ------
    AnalysisInputError
        An answer without a number, or a design truth that is not 0/1 (reader, page, found, the fix).
    """
    problems, records = [], []
    for a in answers:
        if a.read != 1 or a.repetition != 0 or not a.case_id:
            continue
        where = f"reader {a.reader_id}, page {a.page_instance}"
        if a.truth not in ("0", "1"):
            problems.append(f"{where}: design truth {a.truth!r} is not 0 or 1; MRMC needs truth 0/1 in design.csv")
        elif a.answer_numeric is None:
            problems.append(f"{where}: {a.question_descriptor!r} has no numeric answer ({a.answer!r})")
        else:
            records.append(RatingRecord(a.reader_id, a.modality, a.case_id, int(a.truth), a.answer_numeric, where))
    if problems:
        raise AnalysisInputError(f"{source}: {len(problems)} problem(s)\n  " + "\n  ".join(problems[:20]), problems)
    return records


def imrmc_text(table: RatingTable, title: str = "sessionkit export") -> str:
    """A ``.imrmc`` file (iMRMC, RJafroc ``DfReadDataFile``) of a fully crossed ratings table."""
    n1 = int((table.truth == 1).sum())
    lines = [
        title,
        f"N0:{len(table.cases) - n1}",
        f"N1:{n1}",
        f"NR:{len(table.readers)}",
        f"NM:{len(table.modalities)}",
        "BEGIN DATA:",
    ]
    lines += [f"-1,{case},truth,{int(t)}" for case, t in zip(table.cases, table.truth, strict=True)]
    for r, reader in enumerate(table.readers):
        for t, modality in enumerate(table.modalities):
            lines += [
                f"{reader},{case},{modality},{number_text(float(table.scores[t, r, k]))}"
                for k, case in enumerate(table.cases)
            ]
    return "\n".join(lines) + "\n"


def study_ratings(answers: Sequence[FinalAnswer], rating: str, source: str) -> RatingTable:
    """The fully crossed MRMC ratings table of the ``--rating`` question (first read, design cases).

    Raises
    ------
    AnalysisInputError
        ``rating`` names no question or two on one page; a truth not 0/1; an answer without a number;
        an incomplete design (the missing reader, modality and case cells).
    """
    return build_rating_table(mrmc_records(select_rating(answers, rating), source), source)
