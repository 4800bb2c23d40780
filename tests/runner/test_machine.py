"""The pure state machine: every transition of reading-flow §4, §8-§10, §13 (table-driven where it fits)."""

from __future__ import annotations

import pytest

from sessionkit.errors import RunnerStateError
from sessionkit.runner.machine import (
    Resume,
    Submit,
    bookmark_label,
    can_repeat,
    editable,
    from_json,
    logged_answers,
    new_run,
    step,
    to_json,
)
from sessionkit.runner.navigation import Instance, group_order

YES = {1: ["Y", "N"]}
NO_ANSWER = {1: ["N", "N"]}


def go(state, transition, answers=None):
    return step(state, Submit(transition, state.version, answers or {}))


def where(state):
    entry = state.entry
    return f"{entry.instance.instance_id(state.page())}.{entry.question_set_index}"


@pytest.fixture
def linear(make):
    """A (2 question sets), B, C."""
    return make.session(make.page("A", make.radio("a1"), make.radio("a2")), make.page("B"), make.page("C"))


def test_new_run_starts_at_entry_one(linear):
    state = new_run(linear, None)
    assert (state.version, state.position, len(state.nav), where(state)) == (0, 1, 4, "A.1")
    assert editable(state) and not state.run_complete


@pytest.mark.parametrize(
    ("moves", "transition", "code"),
    [
        ([], "previous", "HTTP422"),
        ([], "finish", "HTTP422"),
        ([], "repeat", "HTTP422"),
        ([], "goto_bookmark", "HTTP422"),
        ([], "fly", "HTTP422"),
        ([("next", YES), ("next", YES), ("next", YES)], "next", "HTTP422"),
    ],
)
def test_unavailable_transitions(linear, moves, transition, code):
    state = new_run(linear, None)
    for move, answers in moves:
        state = go(state, move, answers)
    with pytest.raises(RunnerStateError) as info:
        go(state, transition, YES)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("transition", "answers", "code"),
    [
        ("next", {}, "SK910"),
        ("next", NO_ANSWER, "SK910"),
        ("next", {1: ["Y", "Y"]}, "SK911"),
    ],
)
def test_next_refused_without_answers_changes_nothing(linear, transition, answers, code):
    state = new_run(linear, None)
    with pytest.raises(RunnerStateError) as info:
        go(state, transition, answers)
    assert info.value.code == code
    assert state.version == 0 and state.position == 1 and dict(state.answers) == {}


def test_stale_version_is_sk909(linear):
    state = go(new_run(linear, None), "next", YES)
    with pytest.raises(RunnerStateError) as info:
        step(state, Submit("next", 0, YES))
    assert info.value.code == "SK909"


def test_next_logs_and_completes_only_on_the_last_question_set(linear):
    state = go(new_run(linear, None), "next", YES)
    assert where(state) == "A.2" and Instance(1) not in state.complete
    assert state.last is not None and state.last.logged == {1: ("Y", "N")} and state.last.nav_position == 1
    assert state.last.qs_completion == "complete" and not state.last.page_complete
    state = go(state, "next", YES)
    assert where(state) == "B.1" and Instance(1) in state.complete and state.last.page_complete


def test_unchanged_values_log_nothing(linear):
    state = go(new_run(linear, None), "next", YES)
    state = go(state, "previous", YES)
    state = go(state, "next", YES)
    assert state.last is not None and state.last.logged is None


def test_previous_saves_partial_and_recomputes_completion_d22(make):
    session = make.session(make.page("A", allow_multiple_response=True), make.page("B"))
    state = go(new_run(session, None), "next", YES)
    assert Instance(1) in state.complete
    state = go(state, "previous", {})
    assert where(state) == "A.1" and editable(state)
    state = go(state, "exit", NO_ANSWER)
    assert state.last is not None and state.last.logged == {1: ("N", "N")} and state.last.qs_completion == "empty"
    assert Instance(1) not in state.complete and not state.last.page_complete


def test_earlier_set_check_on_resume_landing(make):
    session = make.session(make.page("A", make.radio("a1"), make.radio("a2")), make.page("B"))
    state = new_run(session, None)
    data = to_json(state) | {"position": 2}
    state = from_json(session, data, {})
    with pytest.raises(RunnerStateError) as info:
        go(state, "next", YES)
    assert info.value.code == "SK910" and "earlier question set" in str(info.value)


def test_exit_and_autosave_stay(linear):
    state = new_run(linear, None)
    for transition in ("exit", "autosave"):
        after = go(state, transition, {1: ["Y", "N"]})
        assert after.position == 1 and after.version == state.version + 1
        assert (
            after.last is not None and after.last.logged == {1: ("Y", "N")} and after.last.qs_completion == "complete"
        )
        assert Instance(1) not in after.complete


def test_finish_requires_every_instance_complete_d22(make):
    session = make.session(make.page("A"), make.page("B"))
    state = go(new_run(session, None), "exit", {})
    state = from_json(session, to_json(state) | {"position": 2}, dict(state.answers))
    with pytest.raises(RunnerStateError) as info:
        go(state, "finish", YES)
    assert info.value.code == "SK914" and "A" in str(info.value)
    assert not state.run_complete


def test_finish_locks_the_run_and_review_only_navigates(linear):
    state = new_run(linear, None)
    for transition in ("next", "next", "next"):
        state = go(state, transition, YES)
    state = go(state, "finish", YES)
    assert state.run_complete and not editable(state)
    assert state.last is not None and state.last.page_complete
    state = step(state, Resume())
    assert state.position == 1 and not editable(state)
    state = go(state, "next", {1: ["garbage"]})  # nothing checked in review
    assert state.position == 2 and state.last is None
    state = go(state, "previous")
    assert state.position == 1
    for transition in ("finish", "repeat"):
        with pytest.raises(RunnerStateError):
            go(state, transition)


def test_review_transition_returns_to_entry_one_only_in_review(linear):
    """C1 ``transition="review"``: in a complete run it goes back to entry 1; exit/autosave stay put."""
    state = new_run(linear, None)
    with pytest.raises(RunnerStateError) as info:
        go(state, "review")
    assert info.value.code == "HTTP422"
    for transition in ("next", "next", "next", "finish"):
        state = go(state, transition, YES)
    assert state.run_complete and state.position == 4
    for transition in ("exit", "autosave"):
        state = go(state, transition, {1: ["garbage"]})
        assert state.position == 4 and state.last is None
    state = go(state, "review")
    assert state.position == 1 and state.last is None and not editable(state)


def test_read_only_revisit_without_allow_multiple_response(linear):
    state = go(new_run(linear, None), "next", YES)
    state = go(state, "next", YES)
    state = go(state, "previous", {})
    assert where(state) == "A.2" and not editable(state)
    shown = logged_answers(state, state.entry)
    state = go(state, "next", NO_ANSWER)  # read-only: nothing checked, nothing written
    assert state.last is not None and state.last.logged is None and where(state) == "B.1"
    assert logged_answers(state, state.nav[1]) == shown and Instance(1) in state.complete


def test_allow_multiple_response_revisit_is_editable_and_appends(make):
    session = make.session(make.page("A", allow_multiple_response=True), make.page("B"))
    state = go(new_run(session, None), "next", YES)
    state = go(state, "previous", {})
    assert editable(state)
    state = go(state, "next", {1: ["N", "Y"]})
    assert state.last is not None and state.last.logged == {1: ("N", "Y")}
    assert logged_answers(state, state.nav[0]) == {1: ("N", "Y")}


@pytest.fixture
def looped(make):
    return make.session(make.page("P1"), make.page("P2", loop=True), make.page("P3"))


def test_repeat_creates_copies_in_place(looped):
    state = go(new_run(looped, None), "next", YES)
    assert where(state) == "P2.1" and can_repeat(state)
    state = go(state, "repeat", YES)
    assert where(state) == "P2-Rep1.1" and Instance(2) in state.complete
    assert state.last is not None and state.last.logged == {1: ("Y", "N")} and state.last.entry.instance == Instance(2)
    assert logged_answers(state, state.entry) == {}
    state = go(state, "repeat", {1: ["N", "Y"]})
    assert [where_of(state, e) for e in state.nav] == ["P1.1", "P2.1", "P2-Rep1.1", "P2-Rep2.1", "P3.1"]
    assert where(state) == "P2-Rep2.1" and state.position == 4
    state = go(state, "next", YES)
    assert where(state) == "P3.1"


def where_of(state, entry):
    return f"{entry.instance.instance_id(state.page(entry.instance))}.{entry.question_set_index}"


def test_repeat_refused_without_answers_and_when_unavailable(looped):
    state = go(new_run(looped, None), "next", YES)
    with pytest.raises(RunnerStateError) as info:
        go(state, "repeat", {})
    assert info.value.code == "SK910"
    state = go(state, "next", YES)
    state = go(state, "previous", {})
    assert where(state) == "P2.1" and not can_repeat(state)  # complete now
    with pytest.raises(RunnerStateError) as info:
        go(state, "repeat", YES)
    assert info.value.code == "HTTP422"


def test_repeat_only_on_the_last_question_set(make):
    session = make.session(make.page("L", make.radio("a"), make.radio("b"), loop=True))
    state = new_run(session, None)
    assert not can_repeat(state)
    state = go(state, "next", YES)
    assert can_repeat(state)


def test_repeat_keeps_the_group_order(make):
    session = make.session(
        make.page("A", page_group=1), make.page("B", page_group=2, loop=True), make.page("Z", page_group=0),
        randomize_page_groups=True, randomized_page_group_indices=(2, 1),
    )  # fmt: skip
    state = new_run(session, group_order(session, "r"))
    assert [where_of(state, e) for e in state.nav] == ["Z.1", "B.1", "A.1"]
    state = go(state, "next", YES)
    state = go(state, "repeat", YES)
    assert [where_of(state, e) for e in state.nav] == ["Z.1", "B.1", "B-Rep1.1", "A.1"]
    assert where(state) == "B-Rep1.1"


@pytest.fixture
def bookmarked(make):
    return make.session(
        make.page("Mark", bookmark_id="m1"),
        make.page("Mid"),
        make.page("Back", go_to_bookmark="m1 Back to start"),
        make.page("Plain", go_to_bookmark="m1"),
    )


def test_bookmark_jumps_to_the_most_recent_marked_instance(bookmarked):
    state = new_run(bookmarked, None)
    state = go(state, "next", YES)
    state = go(state, "next", YES)
    assert where(state) == "Back.1" and bookmark_label(state.page()) == "Back to start"
    state = go(state, "goto_bookmark", {1: ["N", "Y"]})  # partial save, no requirement
    assert where(state) == "Mark.1" and state.last is not None and state.last.logged == {1: ("N", "Y")}
    assert state.last.transition == "goto_bookmark"
    assert not editable(state)  # Mark is complete, AllowMultipleResponse not set (§10 -> §8)


def test_bookmark_default_label_and_partial_answers(bookmarked):
    assert bookmark_label(bookmarked.pages[3]) == "Return"
    assert bookmark_label(bookmarked.pages[0]) is None
    state = new_run(bookmarked, None)
    with pytest.raises(RunnerStateError) as info:
        go(state, "goto_bookmark", YES)
    assert info.value.code == "HTTP422"


def test_bookmark_target_follows_navigation_order_under_randomization(make):
    session = make.session(
        make.page("M1", page_group=1, bookmark_id="m"),
        make.page("M2", page_group=2, bookmark_id="m"),
        make.page("G", page_group=3, go_to_bookmark="m"),
        randomize_page_groups=True, randomized_page_group_indices=(2, 1, 3),
    )  # fmt: skip
    state = new_run(session, group_order(session, "r"))
    state = go(go(state, "next", YES), "next", YES)
    assert where(state) == "G.1"
    state = go(state, "goto_bookmark", {})
    assert where(state) == "M1.1"  # most recent in navigation order, not in file order


def test_resume_lands_on_first_incomplete_instance(linear):
    state = go(new_run(linear, None), "next", YES)
    state = go(state, "exit", {})
    resumed = step(state, Resume())
    assert resumed.position == 1 and resumed.landing == 1 and resumed.version == state.version + 1
    state = go(resumed, "next", YES)
    state = go(state, "next", YES)
    state = go(state, "exit", {})
    assert step(state, Resume()).position == 3  # B is the first incomplete instance


def test_resume_when_all_complete_lands_on_last_entry_editable(make):
    session = make.session(make.page("A"), make.page("B"))
    state = go(new_run(session, None), "next", YES)
    state = from_json(session, to_json(state) | {"complete": [[1, 0], [2, 0]]}, dict(state.answers))
    state = step(state, Resume())
    assert state.position == 2 and editable(state)
    state = go(state, "previous", {})
    assert not editable(state)  # landing editability ends when leaving it


def test_button_script_rerun_required_resets_on_entry(make):
    button = make.qset(make.question("Button", "Run", ("tool.py",)))
    session = make.session(
        make.page("A"), make.page("S", button, allow_multiple_response=True, button_script_rerun_required=True)
    )
    state = go(new_run(session, None), "next", YES)
    state = go(state, "finish", {1: ["tool-Done"]})
    assert state.run_complete
    # a run not finished: re-enter S through Previous/Next
    state = go(new_run(session, None), "next", YES)
    state = go(state, "exit", {1: ["tool-Done"]})
    state = go(state, "previous", {1: ["tool-Done"]})
    state = go(state, "next", YES)
    assert where(state) == "S.1" and Instance(2) not in state.complete
    assert logged_answers(state, state.entry) == {1: ("tool",)}
    with pytest.raises(RunnerStateError):
        go(state, "finish", {1: ["tool"]})
    assert go(state, "finish", {1: ["tool-Done"]}).run_complete


def test_state_json_round_trip(looped):
    state = go(go(new_run(looped, None), "next", YES), "repeat", YES)
    data = to_json(state)
    back = from_json(looped, data, state.answers)
    assert (back.version, back.position, back.instances, back.complete, back.entered, back.nav) == (
        state.version, state.position, state.instances, state.complete, state.entered, state.nav
    )  # fmt: skip


@pytest.mark.parametrize("broken", [{"format": 9}, {"position": 99}, {"instances": [[7, 0]]}, {"version": "x"}])
def test_malformed_state_json(looped, broken):
    data = to_json(new_run(looped, None)) | broken
    with pytest.raises(RunnerStateError):
        from_json(looped, data, {})


def test_rerun_buttons_with_unchanged_values_clear_the_reset(make):
    button = make.qset(make.question("Button", "Run", ("tool.py",)))
    session = make.session(
        make.page("A"),
        make.page("S", button, make.radio("after"), allow_multiple_response=True, button_script_rerun_required=True),
    )
    state = go(new_run(session, None), "next", YES)
    state = go(state, "next", {1: ["tool-Done"]})
    state = go(state, "previous", YES)
    state = go(state, "previous", {1: ["tool-Done"]})  # the form as shown
    state = go(state, "next", YES)  # re-entering S resets its buttons
    assert where(state) == "S.1" and logged_answers(state, state.entry) == {1: ("tool",)}
    state = go(state, "next", {1: ["tool-Done"]})  # re-run: same value as logged, so no new rows
    assert state.last is not None and state.last.logged is None
    state = go(state, "finish", YES)  # the earlier question set now counts as answered
    assert state.run_complete
