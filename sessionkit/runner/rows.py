"""Rows of ``responses.csv`` for one accepted submission (reading-flow §5 step 5, §14.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sessionkit.responses.csvlog import LOG_VERSION
from sessionkit.runner.machine import CSV_EVENT, AnswerKey, RunState


@dataclass(frozen=True)
class RowContext:
    """Columns shared by every row of one submission."""

    session_id: str
    reader_id: str
    run_id: str
    login_id: str
    submission_id: str
    seq: int
    saved_at: str
    client: str
    started_at: str


def answered_at(value: str, before: str | None, old: str, saved_at: str, question_type: str) -> str:
    """Last change of an option's value: carried over when unchanged, empty if never set (§14.2)."""
    if before is None:
        unset = value == "" or (question_type in ("Radio", "CheckBox") and value == "N")
        return "" if unset or (question_type == "Button" and not value.endswith("-Done")) else saved_at
    return old if value == before else saved_at


def response_rows(
    context: RowContext, before: RunState, after: RunState, times: dict[AnswerKey, tuple[str, ...]]
) -> list[dict[str, object]]:
    """One row per option of every logged question of ``after.last`` (empty when nothing is logged).

    Parameters
    ----------
    context : RowContext
    before, after : RunState
        The state the submission was applied to, and the result (its ``last`` effect says what to log).
    times : dict
        ``answered_at`` per option, updated in place for the logged questions.

    Returns
    -------
    list of dict
        Rows keyed by :data:`~sessionkit.responses.csvlog.RESPONSE_COLUMNS` names.
    """
    effect = after.last
    if effect is None or effect.logged is None:
        return []
    entry = effect.entry
    inst = entry.instance
    page = after.page(inst)
    qs = after.question_set(entry)
    if qs is None:
        return []
    group = after.session.effective_page_groups()[page.index - 1]
    rows: list[dict[str, object]] = []
    for question in qs.questions:
        values = effect.logged.get(question.index)
        if values is None:
            continue
        key = (inst.page_index, inst.rep, entry.question_set_index, question.index)
        previous = before.answers.get(key)
        old_times = times.get(key, ("",) * len(values))
        stamps = tuple(
            answered_at(value, None if previous is None else previous[i], old_times[i], context.saved_at, question.type)
            for i, value in enumerate(values)
        )
        times[key] = stamps
        numeric = effect.numeric.get(question.index, ("",) * len(values))
        for option, value, stamp, number in zip(question.options, values, stamps, numeric, strict=True):
            rows.append(
                {
                    "log_version": LOG_VERSION,
                    "session_id": context.session_id,
                    "session_sha256": after.session.sha256,
                    "reader_id": context.reader_id,
                    "run_id": context.run_id,
                    "login_id": context.login_id,
                    "submission_id": context.submission_id,
                    "seq": context.seq,
                    "event": CSV_EVENT[effect.transition],
                    "nav_position": effect.nav_position,
                    "page_index": page.index,
                    "page_id": page.id,
                    "page_instance": inst.instance_id(page),
                    "page_descriptor": page.descriptor,
                    "page_group": group,
                    "repetition": inst.rep,
                    "question_set_index": entry.question_set_index,
                    "question_set_id": qs.id,
                    "question_index": question.index,
                    "question_id": f"{page.index}.{entry.question_set_index}.{question.index}",
                    "question_descriptor": question.descriptor,
                    "question_type": question.type,
                    "option_index": option.index,
                    "option": option.label,
                    "value": value,
                    "value_numeric": number,
                    "qs_completion": effect.qs_completion,
                    "page_complete": "Y" if effect.page_complete else "N",
                    "started_at": context.started_at,
                    "answered_at": stamp,
                    "saved_at": context.saved_at,
                    "client": context.client,
                }
            )
    return rows
