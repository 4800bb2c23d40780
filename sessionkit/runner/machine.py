"""The reading state machine: ``step(state, event) -> state`` (reading-flow §4-§10, §13).

Pure: no files, no clock. A :class:`RunState` holds the session snapshot, the run's instances and
group order, the position in the navigation list, completion per instance, the latest logged value
per option and the effect of the last step (what a caller must log). Illegal or refused transitions
raise :class:`~sessionkit.errors.RunnerStateError` and leave the state untouched (it is immutable).

Error codes: SK909 stale state version, SK910 missing answer (or an earlier question set of the page
incomplete), SK911 invalid value, SK912/SK913 contour/line requirement unmet, SK914 Finish with incomplete
page instances, ``"HTTP422"`` for a
transition the UI never offers (Next on the last entry, Previous on the first, Repeat where it is not
available, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from sessionkit.errors import RunnerStateError
from sessionkit.runner.answers import AnswerIssue, button_stem, evaluate, required_issues
from sessionkit.runner.navigation import GroupOrder, Instance, NavEntry, build_navigation
from sessionkit.session.model import Page, QuestionSet, Session

Transition = Literal["next", "previous", "finish", "goto_bookmark", "repeat", "exit", "autosave", "review"]
#: Submission transitions (clarifications C1); ``review`` is review-only: back to entry 1 of a complete run.
TRANSITIONS: tuple[str, ...] = ("next", "previous", "finish", "goto_bookmark", "repeat", "exit", "autosave", "review")
#: Transitions that require every answer of the question set (reading-flow §4).
REQUIRING: frozenset[str] = frozenset({"next", "finish", "repeat"})
#: CSV ``event`` name of each transition (reading-flow §14.2).
CSV_EVENT: dict[str, str] = {t: ("bookmark" if t == "goto_bookmark" else t) for t in TRANSITIONS if t != "review"}
#: Code of transitions the UI never offers at this position.
ILLEGAL = "HTTP422"
STATE_FORMAT = 1

#: (page_index, rep, question_set_index, question_index)
AnswerKey = tuple[int, int, int, int]


@dataclass(frozen=True)
class Submit:
    """A transition sent with the current question set's answers and the run's state version.

    ``answers`` maps the 1-based question index to one string per option (see :mod:`.answers`).
    ``page_issues`` are the current instance's unmet contour/line requirements (SK912, SK913), as
    computed by :func:`sessionkit.runner.requirements.page_issues` from the annotation log.
    """

    transition: str
    version: int
    answers: Mapping[int, Sequence[str]] = field(default_factory=dict)
    page_issues: tuple[AnswerIssue, ...] = ()


@dataclass(frozen=True)
class Resume:
    """A reader signs in: land per reading-flow §13."""


Event = Submit | Resume


@dataclass(frozen=True)
class Effect:
    """What the last accepted :class:`Submit` did, for the caller to log (reading-flow §5).

    ``logged`` is ``None`` when no CSV rows are due (read-only page, review, or values unchanged).
    """

    transition: str
    entry: NavEntry
    nav_position: int
    logged: Mapping[int, tuple[str, ...]] | None
    numeric: Mapping[int, tuple[str, ...]]
    qs_completion: str
    page_complete: bool


@dataclass(frozen=True)
class RunState:
    """Everything the runner knows about one run.

    Attributes
    ----------
    session : Session
        The run's snapshot.
    version : int
        State version; increases with every accepted event (stale submissions are SK909).
    group_order : GroupOrder or None
        Stored group order (never recomputed, §3.3 step 5); ``None`` keeps file order.
    instances : tuple of Instance
        Every page instance, sorted by (page_index, rep).
    nav : tuple of NavEntry
        Navigation list derived from ``instances`` and ``group_order``.
    position : int
        1-based position in ``nav``.
    complete : frozenset of Instance
        Complete page instances (§7).
    entered : frozenset of Instance
        Instances the reader has been shown (``PageComplete`` is exported for these).
    answers : mapping of AnswerKey to tuple of str
        Latest logged value per option.
    button_reset : frozenset of (Instance, int)
        Question sets whose Buttons show ``<stem>`` again (``ButtonScriptRerunRequired``, §8).
    landing : int or None
        Position of the resume landing entry while the reader is still on it (editable, §8).
    run_complete : bool
        Finish accepted; the run is locked (review only).
    last : Effect or None
        Effect of the last accepted Submit.
    """

    session: Session
    version: int
    group_order: GroupOrder | None
    instances: tuple[Instance, ...]
    nav: tuple[NavEntry, ...]
    position: int
    complete: frozenset[Instance] = frozenset()
    entered: frozenset[Instance] = frozenset()
    answers: Mapping[AnswerKey, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    button_reset: frozenset[tuple[Instance, int]] = frozenset()
    landing: int | None = None
    run_complete: bool = False
    last: Effect | None = None

    @property
    def entry(self) -> NavEntry:
        """The current navigation entry."""
        return self.nav[self.position - 1]

    def page(self, instance: Instance | None = None) -> Page:
        """The Page of ``instance`` (default: the current one)."""
        inst = instance or self.entry.instance
        return self.session.pages[inst.page_index - 1]

    def question_set(self, entry: NavEntry | None = None) -> QuestionSet | None:
        """The question set of ``entry`` (default: current), ``None`` for a page without any."""
        target = entry or self.entry
        sets = self.page(target.instance).question_sets
        return sets[target.question_set_index - 1] if sets else None


def new_run(session: Session, order: GroupOrder | None) -> RunState:
    """A fresh run at entry 1, version 0, one instance (rep 0) per page (reading-flow §1)."""
    instances = tuple(Instance(page.index) for page in session.pages)
    nav = build_navigation(session, instances, order.order if order else None)
    if not nav:
        raise RunnerStateError("The session has no pages", code=ILLEGAL, hint="add a Page")
    return RunState(session, 0, order, instances, nav, 1, entered=frozenset({nav[0].instance}))


def _illegal(message: str) -> RunnerStateError:
    return RunnerStateError(message, code=ILLEGAL, hint="reload the page")


def is_last_question_set(state: RunState, entry: NavEntry | None = None) -> bool:
    """True when ``entry`` (default: current) is its instance's last question set."""
    target = entry or state.entry
    return target.question_set_index >= max(1, len(state.page(target.instance).question_sets))


def editable(state: RunState) -> bool:
    """Editability of the current entry (reading-flow §8)."""
    if state.run_complete:
        return False
    if state.entry.instance not in state.complete or state.landing == state.position:
        return True
    return state.page().allow_multiple_response


def logged_answers(state: RunState, entry: NavEntry) -> dict[int, tuple[str, ...]]:
    """Latest answers of ``entry``'s question set as shown, Buttons reset when pending (§8)."""
    qs = state.question_set(entry)
    if qs is None:
        return {}
    inst = entry.instance
    shown: dict[int, tuple[str, ...]] = {}
    reset = (inst, entry.question_set_index) in state.button_reset
    for question in qs.questions:
        key = (inst.page_index, inst.rep, entry.question_set_index, question.index)
        if reset and question.type == "Button":
            shown[question.index] = tuple(button_stem(o.label) for o in question.options)
        elif key in state.answers:
            shown[question.index] = state.answers[key]
    return shown


def _instance_entries(state: RunState, instance: Instance) -> list[NavEntry]:
    return [e for e in state.nav if e.instance == instance]


def _questions_ok(state: RunState, instance: Instance) -> bool:
    return all(
        not (qs := state.question_set(e)) or not required_issues(qs, logged_answers(state, e))
        for e in _instance_entries(state, instance)
    )


def bookmark_target(state: RunState) -> int | None:
    """Position of the first entry of the most recent earlier instance carrying the bookmark (§10)."""
    spec = state.page().go_to_bookmark
    if not spec or not spec.split():
        return None
    target_id = spec.split()[0]
    for index in range(state.position - 2, -1, -1):
        inst = state.nav[index].instance
        page = state.page(inst)
        if inst.rep == 0 and page.bookmark_id == target_id and inst != state.entry.instance:
            return next(i for i, e in enumerate(state.nav, start=1) if e.instance == inst)
    return None


def bookmark_label(page: Page) -> str | None:
    """Label of the GoToBookmark button (second and later tokens, default ``Return``; D12)."""
    if not page.go_to_bookmark or not page.go_to_bookmark.split():
        return None
    tokens = page.go_to_bookmark.split()
    return " ".join(tokens[1:]) or "Return"


def can_repeat(state: RunState) -> bool:
    """Availability of Repeat at the current entry (reading-flow §4, §9)."""
    page = state.page()
    inst = state.entry.instance
    if state.run_complete or not page.loop or inst in state.complete or not is_last_question_set(state):
        return False
    if not editable(state):
        return False
    if page.button_script_rerun_required:
        if inst.rep != max(i.rep for i in state.instances if i.page_index == inst.page_index):
            return False
        following = [e.instance for e in state.nav[state.position :] if e.instance != inst]
        if following and following[0] in state.complete:
            return False
    return True


def landing_position(state: RunState) -> int:
    """Resume landing (§13): first entry of the first incomplete instance, else the last entry."""
    for position, entry in enumerate(state.nav, start=1):
        if entry.instance not in state.complete:
            return position
    return len(state.nav)


def _refuse(issues: Sequence[AnswerIssue]) -> None:
    """Raise for the listed issues; the code is the first of SK911, SK910, SK912, SK913 present."""
    if issues:
        codes = {issue.code for issue in issues}
        code = next(c for c in ("SK911", "SK910", "SK912", "SK913") if c in codes)
        hints = {"SK912": "draw or modify the contour", "SK913": "add the measurement lines"}
        raise RunnerStateError(
            "; ".join(issue.message for issue in issues), code=code, hint=hints.get(code, "answer the listed questions")
        )


def _check_earlier_sets(state: RunState) -> None:
    current = state.entry
    for entry in _instance_entries(state, current.instance):
        if entry.question_set_index >= current.question_set_index:
            continue
        qs = state.question_set(entry)
        if qs is not None and required_issues(qs, logged_answers(state, entry)):
            name = qs.id or qs.descriptor or f"question set {qs.index}"
            raise RunnerStateError(
                f"An earlier question set of this page is incomplete: {name}",
                code="SK910",
                hint="go back and answer it",
            )


def _enter(state: RunState, position: int) -> RunState:
    """Move to ``position``; entering another instance applies ButtonScriptRerunRequired (§8)."""
    target = state.nav[position - 1].instance
    changed_instance = target != state.entry.instance
    moved = replace(state, position=position, landing=None if position != state.position else state.landing)
    page = state.page(target)
    if changed_instance and page.button_script_rerun_required and page.allow_multiple_response:
        resets = {(target, e.question_set_index) for e in _instance_entries(state, target)}
        moved = replace(moved, complete=moved.complete - {target}, button_reset=moved.button_reset | resets)
    return replace(moved, entered=moved.entered | {target})


def _review_step(state: RunState, event: Submit) -> RunState:
    """Review (reading-flow §13): navigation only; ``review`` goes back to entry 1, exit/autosave stay."""
    target = {"next": state.position + 1, "previous": state.position - 1, "review": 1}.get(event.transition)
    if event.transition == "goto_bookmark":
        target = bookmark_target(state)
    if event.transition in ("exit", "autosave"):
        target = state.position
    if target is None or not 1 <= target <= len(state.nav):
        raise _illegal(f"{event.transition!r} is not available in review")
    return replace(state, version=state.version + 1, position=target, last=None)


def _target_position(state: RunState, transition: str) -> int | None:
    """Where a transition leads, or ``None`` for Repeat (decided after the copy exists)."""
    last = len(state.nav)
    if transition == "next":
        if state.position >= last:
            raise _illegal("Next is not available on the last entry; use Finish")
        return state.position + 1
    if transition == "previous":
        if state.position <= 1:
            raise _illegal("Previous is not available on the first entry")
        return state.position - 1
    if transition == "finish":
        if state.position != last:
            raise _illegal("Finish is only available on the last entry")
        return state.position
    if transition == "goto_bookmark":
        target = bookmark_target(state)
        if target is None:
            raise _illegal("This page has no GoToBookmark target before it")
        return target
    if transition == "repeat":
        if not can_repeat(state):
            raise _illegal("Repeat is not available here")
        return None
    return state.position


def step(state: RunState, event: Event) -> RunState:
    """Apply one event and return the new state (reading-flow §4-§5, §13).

    Parameters
    ----------
    state : RunState
    event : Submit or Resume

    Returns
    -------
    RunState
        New state with ``version + 1``; for a Submit, ``last`` says what to log.

    Raises
    ------
    RunnerStateError
        SK909 stale version; SK910/SK911 missing or invalid answers on Next/Finish/Repeat; SK914
        Finish while page instances are incomplete; ``"HTTP422"`` for a transition not available here.
    """
    if isinstance(event, Resume):
        if state.run_complete:
            return replace(state, version=state.version + 1, position=1, landing=None, last=None)
        land = landing_position(state)
        moved = replace(state, version=state.version + 1, position=land, landing=land, last=None)
        return replace(moved, entered=moved.entered | {moved.entry.instance})
    if event.version != state.version:
        raise RunnerStateError(
            f"Submission based on state version {event.version}, the run is at version {state.version}",
            code="SK909",
            hint="reload the page",
        )
    if event.transition not in TRANSITIONS:
        raise _illegal(f"Unknown transition {event.transition!r}; expected one of {', '.join(TRANSITIONS)}")
    if state.run_complete:
        return _review_step(state, event)
    if event.transition == "review":
        raise _illegal("Review is available once the run is complete (after Finish)")
    target = _target_position(state, event.transition)
    entry, inst = state.entry, state.entry.instance
    requiring = event.transition in REQUIRING
    last_qs = is_last_question_set(state)
    can_edit = editable(state)
    qs = state.question_set()
    answers = dict(state.answers)
    resets = state.button_reset
    complete = set(state.complete)
    logged: dict[int, tuple[str, ...]] | None = None
    numeric: dict[int, tuple[str, ...]] = {}
    qs_completion = "complete"
    if can_edit:
        evaluation = evaluate(qs, event.answers, partial=not requiring) if qs else None
        if evaluation is not None:
            if requiring:
                _refuse(evaluation.issues)
            qs_completion, numeric = evaluation.completion, evaluation.numeric
            keys = {q: (inst.page_index, inst.rep, entry.question_set_index, q) for q in evaluation.logged}
            if any(answers.get(keys[q]) != values for q, values in evaluation.logged.items()):
                logged = evaluation.logged
                answers.update({keys[q]: values for q, values in evaluation.logged.items()})
            resets = resets - {(inst, entry.question_set_index)}  # the reader saw and saved this form
        if requiring and last_qs:
            _check_earlier_sets(state)
            _refuse(event.page_issues)
            complete.add(inst)
    saved = replace(state, answers=MappingProxyType(answers), button_reset=resets, complete=frozenset(complete))
    recompute = can_edit and not (requiring and last_qs) and inst in saved.complete
    if recompute and (event.page_issues or not _questions_ok(saved, inst)):
        saved = replace(saved, complete=saved.complete - {inst})
    effect = Effect(event.transition, entry, state.position, logged, numeric, qs_completion, inst in saved.complete)
    saved = replace(saved, version=state.version + 1, last=effect)
    if event.transition == "finish":
        missing = [i for i in saved.instances if i not in saved.complete]
        if missing:
            names = ", ".join(i.instance_id(state.page(i)) for i in missing)
            raise RunnerStateError(
                f"Finish refused: these pages are incomplete: {names}", code="SK914", hint="complete the listed pages"
            )
        return replace(saved, run_complete=True, landing=None)
    if event.transition == "repeat" or target is None:
        return _repeat(saved, inst)
    return _enter(saved, target)


def _repeat(state: RunState, source: Instance) -> RunState:
    """Create the next copy of ``source``'s page and land on its first question set (§9)."""
    rep = max(i.rep for i in state.instances if i.page_index == source.page_index) + 1
    copy = Instance(source.page_index, rep)
    instances = tuple(sorted((*state.instances, copy)))
    nav = build_navigation(state.session, instances, state.group_order.order if state.group_order else None)
    position = nav.index(NavEntry(copy, 1)) + 1
    rebuilt = replace(state, instances=instances, nav=nav, landing=None)
    return replace(rebuilt, position=position, entered=rebuilt.entered | {copy})


def _pairs(instances: Iterable[Instance]) -> list[list[int]]:
    return [[i.page_index, i.rep] for i in sorted(instances)]


def to_json(state: RunState) -> dict[str, Any]:
    """The machine part of ``state.json`` (answers live in ``responses.csv``)."""
    order = state.group_order
    return {
        "format": STATE_FORMAT,
        "version": state.version,
        "position": state.position,
        "group_order": None
        if order is None
        else {"order": list(order.order), "seed": order.seed, "algorithm": order.algorithm},
        "instances": _pairs(state.instances),
        "complete": _pairs(state.complete),
        "entered": _pairs(state.entered),
        "button_reset": [[i.page_index, i.rep, qs] for i, qs in sorted(state.button_reset)],
        "landing": state.landing,
        "run_complete": state.run_complete,
    }


def from_json(session: Session, data: Mapping[str, Any], answers: Mapping[AnswerKey, tuple[str, ...]]) -> RunState:
    """Rebuild a :class:`RunState` from :func:`to_json` output and the answers read from the CSV.

    Raises
    ------
    RunnerStateError
        SK909-free structural problems (unknown format, instance of a page not in the session).
    """
    try:
        if data["format"] != STATE_FORMAT:
            raise RunnerStateError(f"Unknown state format {data['format']!r}", code=ILLEGAL, hint="upgrade sessionkit")
        raw_order = data["group_order"]
        order = (
            None
            if raw_order is None
            else GroupOrder(tuple(int(g) for g in raw_order["order"]), raw_order["seed"], raw_order["algorithm"])
        )
        instances = tuple(sorted(Instance(int(p), int(r)) for p, r in data["instances"]))
        if any(not 1 <= i.page_index <= len(session.pages) for i in instances):
            raise RunnerStateError("state.json names a page the session does not have", code=ILLEGAL, hint="")
        nav = build_navigation(session, instances, order.order if order else None)
        position = int(data["position"])
        if not 1 <= position <= len(nav):
            raise RunnerStateError(f"state.json position {position} outside 1..{len(nav)}", code=ILLEGAL, hint="")
        return RunState(
            session=session,
            version=int(data["version"]),
            group_order=order,
            instances=instances,
            nav=nav,
            position=position,
            complete=frozenset(Instance(int(p), int(r)) for p, r in data["complete"]),
            entered=frozenset(Instance(int(p), int(r)) for p, r in data["entered"]),
            answers=MappingProxyType(dict(answers)),
            button_reset=frozenset((Instance(int(p), int(r)), int(q)) for p, r, q in data["button_reset"]),
            landing=None if data["landing"] is None else int(data["landing"]),
            run_complete=bool(data["run_complete"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RunnerStateError(f"state.json is malformed: {exc}", code=ILLEGAL, hint="restore a kept version") from exc
