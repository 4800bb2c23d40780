"""Rebuild a run's answers and viewer-state history from its logs on resume (reading-flow §13, C2).

``responses.csv`` is the truth for answers (latest row per option by ``seq``); ``events.jsonl``
holds the viewer-state records (§12) used to restore window/level and slice offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sessionkit.errors import ResponseLogError, RunnerStateError
from sessionkit.runner.history import ViewRecord
from sessionkit.runner.machine import AnswerKey
from sessionkit.runner.navigation import Instance


def restored_answers(
    latest: Mapping[tuple[int, int, str, int], Mapping[str, str]],
) -> tuple[dict[AnswerKey, tuple[str, ...]], dict[AnswerKey, tuple[str, ...]]]:
    """Answers and their ``answered_at`` stamps per (page_index, rep, question set, question).

    Parameters
    ----------
    latest : mapping
        ``(page_index, repetition, question_id, option_index) -> row`` (latest row by ``seq``).

    Returns
    -------
    tuple of dict
        Values and ``answered_at`` per answer key, one string per option (missing options empty).

    Raises
    ------
    ResponseLogError
        A ``question_id`` that is not ``<page>.<question set>.<question>``.
    """
    answers: dict[AnswerKey, list[str]] = {}
    times: dict[AnswerKey, list[str]] = {}
    for (page_index, rep, question_id, option_index), row in sorted(latest.items()):
        parts = question_id.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ResponseLogError(f"responses.csv: unreadable question_id {question_id!r}")
        key = (page_index, rep, int(parts[1]), int(parts[2]))
        values, stamps = answers.setdefault(key, []), times.setdefault(key, [])
        while len(values) < option_index:
            values.append("")
            stamps.append("")
        values[option_index - 1], stamps[option_index - 1] = row["value"], row["answered_at"]
    return {k: tuple(v) for k, v in answers.items()}, {k: tuple(v) for k, v in times.items()}


def restored_views(events: Iterable[Mapping[str, Any]], last_seq: int) -> list[ViewRecord]:
    """The acknowledged viewer-state records of ``events.jsonl`` (``seq <= last_seq``), in log order."""
    return [
        ViewRecord(Instance(int(e["page_index"]), int(e["rep"])), int(e["seq"]), tuple(e["viewer_state"]["views"]))
        for e in events
        if e.get("kind") == "viewer_state" and view_event_ok(e) and int(e["seq"]) <= last_seq
    ]


def view_event_ok(record: Mapping[str, Any]) -> bool:
    """True for a viewer-state record with an instance, a seq and a list of view dicts."""
    viewer = record.get("viewer_state")
    views = viewer.get("views") if isinstance(viewer, dict) else None
    return (
        all(isinstance(record.get(k), int) for k in ("seq", "page_index", "rep"))
        and isinstance(views, list)
        and all(isinstance(v, dict) for v in views)
    )


def parse_answers(answers: Mapping[str, Sequence[str]]) -> dict[int, Sequence[str]]:
    """Submitted answers keyed by 1-based question index.

    Raises
    ------
    RunnerStateError
        SK911 when a key is not a question index or a value is not a list.
    """
    parsed: dict[int, Sequence[str]] = {}
    for key, values in answers.items():
        if not isinstance(key, str) or not key.isdigit() or not isinstance(values, list | tuple):
            raise RunnerStateError(
                f"Answer keys must be question indices and values lists of strings, got {key!r}",
                code="SK911",
                hint="reload the page",
            )
        parsed[int(key)] = values
    return parsed
