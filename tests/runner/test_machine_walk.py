"""Random walks through the state machine: invariants hold after every accepted or refused event."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit.errors import RunnerStateError
from sessionkit.runner.machine import TRANSITIONS, Resume, Submit, from_json, new_run, step, to_json
from sessionkit.runner.navigation import build_navigation, group_order
from tests.runner.conftest import Make

SESSION = Make.session(
    Make.page("Intro", page_group=0, bookmark_id="b"),
    Make.page("Loop", Make.radio("a"), Make.radio("b"), page_group=1, loop=True, allow_multiple_response=True),
    Make.page("Back", page_group=2, go_to_bookmark="b"),
    Make.page("Last", page_group=1),
    randomize_page_groups=True,
)
ANSWERS = st.sampled_from([{}, {1: ["Y", "N"]}, {1: ["N", "Y"]}, {1: ["N", "N"]}])
EVENTS = st.lists(st.tuples(st.sampled_from([*TRANSITIONS, "resume"]), ANSWERS), max_size=40)


@settings(max_examples=150, deadline=None)
@given(events=EVENTS, reader=st.sampled_from(["r1", "r2", "r3"]))
def test_invariants_of_random_walks(events, reader):
    state = new_run(SESSION, group_order(SESSION, reader))
    for transition, answers in events:
        before = state
        try:
            state = step(state, Resume() if transition == "resume" else Submit(transition, state.version, answers))
        except RunnerStateError as exc:
            assert exc.code in {"SK910", "SK911", "SK914", "HTTP422"}
            assert state is before
            continue
        assert state.version == before.version + 1
        assert 1 <= state.position <= len(state.nav)
        assert state.nav == build_navigation(SESSION, state.instances, state.group_order.order)
        assert set(state.complete) <= set(state.instances) and state.entry.instance in state.entered
        if state.run_complete:
            assert set(state.complete) == set(state.instances)
        reps = sorted(i.rep for i in state.instances if i.page_index == 2)
        assert reps == list(range(len(reps)))  # copies numbered without gaps
        back = from_json(SESSION, to_json(state), state.answers)
        assert (back.position, back.complete, back.instances, back.nav) == (
            state.position, state.complete, state.instances, state.nav
        )  # fmt: skip
