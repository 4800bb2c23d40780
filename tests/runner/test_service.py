"""ReadingService against a real run folder: CSV rows, refusals, resume, recovery after crashes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lxml import etree

from sessionkit.errors import ResponseLogError, RunnerStateError
from sessionkit.responses.csvlog import RESPONSE_COLUMNS, append_rows, read_rows
from sessionkit.responses.run_folder import latest_responses
from sessionkit.runner.annotation_store import store_annotation
from sessionkit.runner.lines import save_line
from sessionkit.runner.service import ReadingService
from sessionkit.session import load_session
from sessionkit.session.model import Location, Option, Page, Question, QuestionSet, Session

CURRENT_KEYS = {
    "page_index", "page_id", "page_instance", "rep", "descriptor", "question_set_index", "question_set", "answers",
    "nav_position", "nav_total", "progress_text", "editable", "can_previous", "can_next", "is_last", "can_repeat",
    "bookmark", "complete", "state_version", "restore_views", "confirm_no_contours", "user_interaction_log",
}  # fmt: skip


@pytest.fixture
def study(make, tmp_path):
    """A session file on disk plus its model: P1 (Radio + IntegerValue), P2 (loop, Text), P3 (bookmark back to P1)."""
    path = tmp_path / "study.xml"
    path.write_bytes(b"<Session><!-- snapshot bytes --></Session>")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    p1 = make.qset(
        make.question("Radio", "Lesion present?", ("Yes", "No")),
        make.question("IntegerValue", "PI-RADS", ("score",), min="1", max="5"),
        make.question("InfoBox", "Note", ("read me",)),
        id="qs-a",
    )
    session = make.session(
        make.page("P1", p1, descriptor="Prostate", bookmark_id="start"),
        make.page("P2", make.qset(make.question("Text", "Finding", ("where",))), loop=True),
        make.page("P3", go_to_bookmark="start"),
        sha256=sha,
    )
    return session, path


def submit(service, run_id, transition, answers, **kw):
    version = service.current(run_id)["state_version"]
    return service.submit(run_id, state_version=version, transition=transition, answers=answers, **kw)


def meta(tmp_path, reader="alice"):
    return tmp_path / "out" / reader / "study" / ".sessionkit"


def test_login_creates_the_run_folder(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    login = service.login("alice")
    assert set(login) == {"run_id", "state_version", "nav_position", "nav_total", "resumed", "complete"}
    assert (login["nav_position"], login["nav_total"], login["resumed"], login["complete"]) == (1, 3, False, False)
    folder = meta(tmp_path)
    assert (folder / "snapshot.xml").read_bytes() == path.read_bytes()
    state = json.loads((folder / "state.json").read_text())
    assert state["run_id"] == login["run_id"] and state["last_seq"] == 0 and len(state["logins"]) == 1
    assert state["machine"]["group_order"] is None
    assert service.run_dir(login["run_id"]) == tmp_path / "out" / "alice" / "study"
    again = service.login("alice")
    assert again["run_id"] == login["run_id"] and again["resumed"]
    logins = json.loads((folder / "state.json").read_text())["logins"]
    assert len(logins) == 2 and logins[0]["login_id"] != logins[1]["login_id"]
    assert service.login("bob")["run_id"] != login["run_id"]


def test_current_describes_the_position(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    current = service.current(run_id)
    assert set(current) == CURRENT_KEYS
    assert current["page_instance"] == "P1" and current["progress_text"] == "P1  Prostate  1 of 3"
    assert current["answers"] == {"1": ["", ""], "2": [""]}  # InfoBox carries no answer
    qs = current["question_set"]
    assert qs["id"] == "qs-a" and [q["type"] for q in qs["questions"]] == ["Radio", "IntegerValue", "InfoBox"]
    assert qs["questions"][1]["min"] == "1" and qs["questions"][0]["options"][1] == {"index": 2, "label": "No"}
    assert (current["can_previous"], current["can_next"], current["is_last"], current["bookmark"]) == (
        False, True, False, None
    )  # fmt: skip
    with pytest.raises(RunnerStateError) as info:
        service.current("no-such-run")
    assert info.value.code == "HTTP404"


def test_submissions_write_the_spec_rows(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    login = service.login("alice")
    run_id = login["run_id"]
    after = submit(service, run_id, "next", {"1": ["Y", "N"], "2": [" 4 "]}, client="test/1", started_at="T0")
    assert after["page_instance"] == "P2" and after["can_repeat"]
    after = submit(service, run_id, "repeat", {"1": ["apex"]})
    assert after["page_instance"] == "P2-Rep1" and after["rep"] == 1 and after["nav_total"] == 4
    after = submit(service, run_id, "next", {"1": ["base"]})
    assert after["page_instance"] == "P3" and after["bookmark"] == {"label": "Return"}
    after = submit(service, run_id, "goto_bookmark", {"1": ["N", "Y"]})
    assert after["page_instance"] == "P1" and not after["editable"]
    assert after["answers"] == {"1": ["Y", "N"], "2": ["4"]}

    rows = read_rows(meta(tmp_path) / "responses.csv", RESPONSE_COLUMNS)
    first = rows[0]
    assert first["event"] == "next" and first["seq"] == "1" and first["run_id"] == run_id
    assert first["session_sha256"] == session.sha256 and first["session_id"] == "study"
    assert (first["page_index"], first["page_id"], first["page_instance"], first["page_descriptor"]) == (
        "1", "P1", "P1", "Prostate"
    )  # fmt: skip
    assert (first["question_id"], first["question_type"], first["option"], first["value"]) == (
        "1.1.1", "Radio", "Yes", "Y"
    )  # fmt: skip
    assert first["client"] == "test/1" and first["started_at"] == "T0" and first["qs_completion"] == "complete"
    assert first["page_complete"] == "Y" and first["question_set_id"] == "qs-a" and first["page_group"] == "1"
    score = rows[2]
    assert (score["question_id"], score["value"], score["value_numeric"]) == ("1.1.2", "4", "4")
    assert [r["question_type"] for r in rows[:3]] == ["Radio", "Radio", "IntegerValue"]  # InfoBox not logged
    repeat = rows[3]
    assert (repeat["event"], repeat["page_instance"], repeat["repetition"], repeat["value"]) == (
        "repeat", "P2", "0", "apex"
    )  # fmt: skip
    copy = rows[4]
    assert (copy["page_instance"], copy["repetition"], copy["question_id"]) == ("P2-Rep1", "1", "2.1.1")
    bookmark = rows[5]
    assert bookmark["event"] == "bookmark" and bookmark["page_instance"] == "P3"
    assert bookmark["qs_completion"] == "complete" and bookmark["value"] == "N"
    assert bookmark["page_complete"] == "N" and bookmark["nav_position"] == "4"
    assert len(rows) == 7 and rows[6]["option"] == "No"
    assert len({r["submission_id"] for r in rows}) == 4 and len({r["login_id"] for r in rows}) == 1
    for r in rows:
        assert r["saved_at"].endswith("Z") and len(r["saved_at"]) == len("2025-01-31T14:05:09.123Z")
    assert rows[1]["answered_at"] == ""  # "No" never set


def test_answered_at_carries_over_unchanged_options(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    submit(service, run_id, "autosave", {"1": ["Y", "N"], "2": ["2"]})
    logged = read_rows(meta(tmp_path) / "responses.csv", RESPONSE_COLUMNS)
    first = {r["question_id"] + r["option_index"]: r for r in logged}
    submit(service, run_id, "autosave", {"1": ["Y", "N"], "2": ["3"]})
    rows = read_rows(meta(tmp_path) / "responses.csv", RESPONSE_COLUMNS)[3:]
    assert len(rows) == 3
    assert rows[0]["answered_at"] == first["1.1.11"]["answered_at"]
    assert rows[2]["value"] == "3" and rows[2]["answered_at"] == rows[2]["saved_at"]
    submit(service, run_id, "autosave", {"1": ["Y", "N"], "2": ["3"]})
    assert len(read_rows(meta(tmp_path) / "responses.csv", RESPONSE_COLUMNS)) == 6  # unchanged: no rows


def test_refused_submission_writes_nothing(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    submit(service, run_id, "autosave", {"1": ["Y", "N"]})
    folder = meta(tmp_path)
    before = {name: (folder / name).read_bytes() for name in ("responses.csv", "state.json")}
    cases = [
        ("next", {"1": ["N", "N"], "2": ["3"]}, "SK910"),
        ("next", {"1": ["Y", "N"], "2": ["6"]}, "SK911"),
        ("next", {"9": ["x"]}, "SK911"),
        ("previous", {}, "HTTP422"),
    ]
    for transition, answers, code in cases:
        with pytest.raises(RunnerStateError) as info:
            submit(service, run_id, transition, answers)
        assert info.value.code == code
    with pytest.raises(RunnerStateError) as info:
        service.submit(run_id, state_version=0, transition="next", answers={"1": ["Y", "N"], "2": ["3"]})
    assert info.value.code == "SK909"
    assert {name: (folder / name).read_bytes() for name in before} == before
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert [e["code"] for e in events if e["kind"] == "refused"] == ["SK910", "SK911", "SK911", "HTTP422", "SK909"]


def test_finish_then_review(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    submit(service, run_id, "next", {"1": ["Y", "N"], "2": ["3"]})
    submit(service, run_id, "next", {"1": ["x"]})
    with pytest.raises(RunnerStateError) as info:
        service.submit(run_id, state_version=99, transition="finish", answers={})
    assert info.value.code == "SK909"
    done = submit(service, run_id, "finish", {"1": ["Y", "N"]})
    assert done["complete"] and not done["editable"]
    size = (meta(tmp_path) / "responses.csv").stat().st_size
    restarted = ReadingService(session, path, tmp_path / "out")
    login = restarted.login("alice")
    assert login["complete"] and login["resumed"] and login["nav_position"] == 1
    state_bytes = (meta(tmp_path) / "state.json").read_bytes()
    moved = submit(restarted, run_id, "next", {"1": ["Y", "Y"]})
    assert moved["nav_position"] == 2 and not moved["editable"]
    assert submit(restarted, run_id, "exit", {"1": ["N", "N"]})["nav_position"] == 2
    assert submit(restarted, run_id, "review", {})["nav_position"] == 1
    assert (meta(tmp_path) / "responses.csv").stat().st_size == size
    assert (meta(tmp_path) / "state.json").read_bytes() == state_bytes  # review writes no state
    assert len(json.loads((meta(tmp_path) / "state.json").read_text())["logins"]) == 1  # none while complete


def test_resume_after_restart_restores_answers_and_position(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    submit(service, run_id, "next", {"1": ["N", "Y"], "2": ["5"]})
    submit(service, run_id, "repeat", {"1": ["left lobe"]})
    submit(service, run_id, "exit", {"1": ["right"]})
    restarted = ReadingService(session, path, tmp_path / "out")
    login = restarted.login("alice")
    assert login["resumed"] and login["run_id"] == run_id and login["nav_total"] == 4
    current = restarted.current(run_id)
    assert current["page_instance"] == "P2-Rep1" and current["editable"] and current["answers"] == {"1": ["right"]}
    back = submit(restarted, run_id, "previous", {"1": ["right"]})
    assert back["page_instance"] == "P2" and back["answers"] == {"1": ["left lobe"]} and not back["editable"]


def test_restart_truncates_unacknowledged_rows_and_torn_lines(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    submit(service, run_id, "autosave", {"1": ["Y", "N"], "2": ["1"]})
    csv_path = meta(tmp_path) / "responses.csv"
    acknowledged = csv_path.read_bytes()
    ghost = dict(read_rows(csv_path, RESPONSE_COLUMNS)[2]) | {"seq": "2", "value": "5", "value_numeric": "5"}
    append_rows(csv_path, RESPONSE_COLUMNS, [ghost])  # rows written, state.json never committed
    with open(csv_path, "ab") as handle:
        handle.write(b"1,study,abc,alice")  # and a torn line after them
    restarted = ReadingService(session, path, tmp_path / "out")
    restarted.login("alice")
    assert csv_path.read_bytes() == acknowledged
    assert restarted.current(run_id)["answers"]["2"] == ["1"]
    events = [json.loads(line) for line in (meta(tmp_path) / "events.jsonl").read_text().splitlines()]
    truncations = [e for e in events if e["kind"] == "log_truncated"]
    assert truncations and truncations[0]["removed_seqs"] == [2] and truncations[0]["torn_line"]
    after = submit(restarted, run_id, "autosave", {"1": ["Y", "N"], "2": ["2"]})
    assert after["answers"]["2"] == ["2"]
    assert {r["seq"] for r in read_rows(csv_path, RESPONSE_COLUMNS)} == {"1", "2"}


def test_randomized_run_stores_its_group_order(make, tmp_path):
    path = tmp_path / "study.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page("Z", page_group=0), make.page("A", page_group=1), make.page("B", page_group=2),
        make.page("C", page_group=3), randomize_page_groups=True, sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )  # fmt: skip
    service = ReadingService(session, path, tmp_path / "out", study_salt="s1")
    service.login("alice")
    stored = json.loads((meta(tmp_path) / "state.json").read_text())["machine"]["group_order"]
    assert stored["algorithm"] == "fy-sha256-v1" and stored["order"][0] == 0 and sorted(stored["order"]) == [0, 1, 2, 3]
    seed = hashlib.sha256(b"sessionkit/rand/v1\x00" + session.sha256.encode() + b"\x00alice\x00s1").hexdigest()
    assert stored["seed"] == seed


def test_invalid_reader_id(study, tmp_path):
    session, path = study
    with pytest.raises(ResponseLogError):
        ReadingService(session, path, tmp_path / "out").login("../evil")
    assert not (tmp_path / "evil").exists()


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sessionkit.session.model import Location, Option, Page, Question, QuestionSet, Session
    from sessionkit.runner.service import ReadingService

    path, out, sha = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    loc = Location(str(path))
    question = Question("Text", 1, loc, "Finding", options=(Option("where", 1, loc),))
    page = Page("L", 1, loc, loop=True, question_sets=(QuestionSet(1, loc, questions=(question,)),))
    session = Session(str(path), sha, loc, (page, Page("End", 2, loc)))
    service = ReadingService(session, path, out)
    run_id = service.login("crash")["run_id"]
    current = service.current(run_id)
    while True:
        rep = current["rep"]
        current = service.submit(run_id, state_version=current["state_version"], transition="repeat",
                                 answers={"1": [f"answer-{rep}"]})
        print(f"ACK {rep}", flush=True)
    """
)


def _run_child_and_kill(script: Path, args: list[str], acks_wanted: int) -> list[int]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    child = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True, env=env)
    acks: list[int] = []
    assert child.stdout is not None
    try:
        for line in child.stdout:
            acks.append(int(line.split()[1]))
            if len(acks) >= acks_wanted:
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL, "the child ended before it was killed"
    return acks


def test_sigkill_mid_submissions_loses_no_acknowledged_answer(tmp_path):
    path = tmp_path / "crash.xml"
    path.write_bytes(b"<Session><Page ID='L' Loop='Y'/></Session>")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "out"
    acknowledged: list[int] = []
    for _ in range(3):  # kill, restart and continue, three times
        acknowledged += _run_child_and_kill(script, [str(path), str(out), sha], 25)
    # each round resumes on the first incomplete copy: reps only grow (a kill between commit and print skips one)
    assert acknowledged == sorted(set(acknowledged)) and len(acknowledged) == 75

    # the last kill may leave rows past last_seq; a restart (login) truncates them
    loc = Location(str(path))
    question = Question("Text", 1, loc, "Finding", options=(Option("where", 1, loc),))
    page = Page("L", 1, loc, loop=True, question_sets=(QuestionSet(1, loc, questions=(question,)),))
    service = ReadingService(Session(str(path), sha, loc, (page, Page("End", 2, loc))), path, out)
    resumed = service.login("crash")
    assert resumed["resumed"] and service.current(resumed["run_id"])["rep"] > acknowledged[-1]
    folder = out / "crash" / "crash" / ".sessionkit"
    state = json.loads((folder / "state.json").read_text())
    rows = read_rows(folder / "responses.csv", RESPONSE_COLUMNS)
    assert all(int(r["seq"]) <= state["last_seq"] for r in rows)
    latest = latest_responses(rows)
    for rep in acknowledged:
        assert latest[(1, rep, "1.1.1", 1)]["value"] == f"answer-{rep}"
    instances = {tuple(i) for i in state["machine"]["instances"]}
    assert {(1, rep + 1) for rep in acknowledged} <= instances
    assert {(1, rep) for rep in acknowledged} <= {tuple(i) for i in state["machine"]["complete"]}


DEMO = Path(__file__).resolve().parents[2] / "sample_sessions" / "demo.xml"


def test_demo_session_end_to_end_and_snapshot_after_edit(tmp_path):
    """The packaged demo, loaded by the real loader, read to the end; a later edit of the file is SK908."""
    path = tmp_path / "demo.xml"
    path.write_bytes(DEMO.read_bytes())
    session = load_session(path)
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("r1")["run_id"]
    first = service.current(run_id)
    assert first["page_id"] == "ChestCT" and first["answers"] == {"2": ["", ""], "3": ["", "", "", ""], "4": [""]}
    submit(service, run_id, "next", {"2": ["Y", "N"], "3": ["N", "N", "N", "Y"], "4": ["fine"]})
    with pytest.raises(RunnerStateError) as info:
        submit(service, run_id, "next", {"1": ["7"], "2": ["12,5"]})
    assert info.value.code == "SK911"
    assert str(info.value) == (
        "Enter an integer between 1 and 5: Contour quality (1-5); "
        "Enter a number between 0 and 60: Estimated lung height (cm) (use a decimal point, not a comma)"
    )
    submit(service, run_id, "next", {"1": ["4"], "2": ["12.5"]})
    submit(service, run_id, "exit", {})

    edited = DEMO.read_bytes().replace(b"Is the image diagnostic?", b"Is the image usable?")
    path.write_bytes(edited)
    service = ReadingService(load_session(path), path, tmp_path / "out")
    login = service.login("r1")
    assert login["resumed"] and login["nav_position"] == 3
    current = service.current(run_id)
    assert current["question_set"]["questions"][0]["descriptor"] == "Is the image diagnostic?"  # the snapshot
    submit(service, run_id, "next", {"1": ["Y", "N"]})
    # Contour page: Next needs a contour (SK912); the starting-contour page needs nothing; Measure needs a line.
    with pytest.raises(RunnerStateError) as refused:
        submit(service, run_id, "next", {"2": ["Y", "N"]})
    assert refused.value.code == "SK912"
    store_annotation(service, run_id, "CT", "labelmap", b"label map bytes", labels=[1], voxel_count=5)
    submit(service, run_id, "next", {"2": ["Y", "N"]})
    assert service.current(run_id)["page_id"] == "EditLungs"
    submit(service, run_id, "next", {"2": ["N", "Y"]})
    with pytest.raises(RunnerStateError) as refused:
        submit(service, run_id, "finish", {"2": ["41.5"]})
    assert refused.value.code == "SK913"
    save_line(service, run_id, "CT", [[-80.0, 10.0, -120.0], [-40.0, 10.0, -120.0]])
    done = submit(service, run_id, "finish", {"2": ["41.5"]})
    assert done["complete"]
    folder = tmp_path / "out" / "r1" / "demo" / ".sessionkit"
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert any(e.get("code") == "SK908" for e in events)
    assert not [e for e in events if e["kind"] == "export_failed"]
    results = etree.fromstring((tmp_path / "out" / "r1" / "demo" / "demo.xml").read_bytes())  # regenerated
    assert results.findall("Login")[-1].get("QuizComplete") == "Y"
    assert results.find("Page[3]/QuestionSet/Question").get("Descriptor") == "Is the image diagnostic?"
    rows = read_rows(folder / "responses.csv", RESPONSE_COLUMNS)
    assert {r["session_sha256"] for r in rows} == {hashlib.sha256(DEMO.read_bytes()).hexdigest()}
    [diagnostic] = [r for r in rows if r["question_descriptor"] == "Is the image diagnostic?" and r["value"] == "Y"]
    assert diagnostic["event"] == "next" and rows[-1]["event"] == "finish"
    # a reader starting after the edit reads the new text
    assert service.current(service.login("r2")["run_id"])["page_id"] == "ChestCT"


def test_full_session_copies_its_colour_table(tmp_path):
    valid = Path(__file__).resolve().parents[1] / "data" / "sessions" / "valid"
    for name in ("full.xml", "study_colors.txt"):
        shutil.copy(valid / name, tmp_path / name)
    path = tmp_path / "full.xml"
    service = ReadingService(load_session(path), path, tmp_path / "out")
    login = service.login("r1")
    colors = tmp_path / "out" / "r1" / "full" / ".sessionkit" / "colors.txt"
    assert colors.read_bytes() == (valid / "study_colors.txt").read_bytes()
    state = json.loads((colors.parent / "state.json").read_text())
    assert state["machine"]["group_order"]["algorithm"] in ("fy-sha256-v1", "forced")
    assert service.current(login["run_id"])["nav_total"] == login["nav_total"] > 1


def _robot_answer(question):
    count, qtype = len(question["options"]), question["type"]
    if qtype in ("Radio", "CheckBox"):
        return ["Y"] + ["N"] * (count - 1)
    if qtype in ("IntegerValue", "FloatValue"):
        return [question["min"] or "1"] * count
    if qtype == "Button":
        return [Path(o["label"]).stem + "-Done" for o in question["options"]]
    return ["ok"] * count


def test_robot_reader_walks_the_full_session(tmp_path):
    """Every feature of tests/data/sessions/valid/full.xml: forced group order, contour and line requirements,
    Loop/Repeat, bookmark back to an AllowMultipleResponse page, Finish, then the IQ results export."""
    valid = Path(__file__).resolve().parents[1] / "data" / "sessions" / "valid"
    for name in ("full.xml", "study_colors.txt"):
        shutil.copy(valid / name, tmp_path / name)
    path = tmp_path / "full.xml"
    service = ReadingService(load_session(path), path, tmp_path / "out")
    run_id = service.login("robot")["run_id"]
    seen, refusals, repeated, bookmarked = [], [], False, False
    while not (current := service.current(run_id))["complete"]:
        seen.append(f"{current['page_instance']}/{current['descriptor']}.{current['question_set_index']}")
        questions = current["question_set"]["questions"] if current["question_set"] else []
        answers = {str(q["index"]): _robot_answer(q) for q in questions if q["type"] not in ("InfoBox", "Picture")}
        if current["can_repeat"] and not repeated:
            transition, repeated = "repeat", True
        elif current["bookmark"] and not bookmarked:
            transition, bookmarked = "goto_bookmark", True
        else:
            transition = "finish" if current["is_last"] else "next"
        try:
            service.submit(run_id, state_version=current["state_version"], transition=transition, answers=answers)
        except RunnerStateError as exc:
            refusals.append((current["page_instance"], exc.code))
            assert exc.code in ("SK912", "SK913"), exc
            if transition == "repeat":
                repeated = False
            if exc.code == "SK912":
                content = current["page_instance"].encode()
                store_annotation(service, run_id, "CT", "labelmap", content, labels=[1], voxel_count=9)
            else:
                for number in (1, 2):
                    store_annotation(service, run_id, "Histo", "line", b"{}", number=number, length_mm=12.5)
    assert refusals == [("CaseB", "SK913"), ("CaseA", "SK912"), ("CaseA-Rep1", "SK912")]
    assert seen[:5] == ["Intro/Welcome.1", "CaseB/.1", "CaseB/.1", "CaseA/Contour.1", "CaseA/Contour.2"]
    assert "CaseA-Rep1/Contour.1" in seen and seen[-1] == "CaseA/Review.1"
    assert seen.count("CaseA/Review.1") == 2  # the bookmark jump came back through the loop copy

    results = etree.fromstring((tmp_path / "out" / "robot" / "full" / "full.xml").read_bytes())
    pages = results.findall("Page")
    assert [p.get("ID") for p in pages] == ["Intro", "CaseA", "CaseA-Rep1", "CaseA", "CaseB"]
    assert [p.get("Rep") for p in pages] == ["0", "0", "1", "0", "0"]
    assert all(p.get("PageComplete") == "Y" for p in pages)
    assert results.findtext("RandomizedPageGroupIndices") == "0,2,1"
    assert len(pages[4].findall("Image/MarkupLinePath")) == 2
    assert pages[2].find("Image/LabelMapPath").text == "full\\PgGroup1_CaseA-Rep1_Contour\\CaseA-Rep1_CT-quizlabel.nrrd"
    bookmark_events = [r.get("Event") for r in pages[3].iter("Response")]
    assert bookmark_events == ["GoToBookmark", "GoToBookmark"]  # Finish repeated the same answers: no new rows
    assert results.findall("Login")[-1].get("QuizComplete") == "Y"


def test_concurrent_submissions_on_one_version_accept_exactly_one(study, tmp_path):
    import threading

    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    version = service.current(run_id)["state_version"]
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def worker(value: str) -> None:
        barrier.wait()
        try:
            service.submit(run_id, state_version=version, transition="autosave", answers={"2": [value]})
            outcomes.append("ok")
        except RunnerStateError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=worker, args=(str(i % 5 + 1),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["SK909"] * 7 + ["ok"]
    rows = read_rows(meta(tmp_path) / "responses.csv", RESPONSE_COLUMNS)
    assert {r["seq"] for r in rows} == {"1"} and json.loads((meta(tmp_path) / "state.json").read_text())[
        "last_seq"
    ] == 1


def test_group_presets_and_administrator_reset(make, tmp_path):
    path = tmp_path / "study.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page("A", page_group=1), make.page("B", page_group=2), make.page("C", page_group=3),
        randomize_page_groups=True, sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )  # fmt: skip
    service = ReadingService(session, path, tmp_path / "out", group_presets={"alice": [3, 1]})
    first = service.login("alice")
    assert service.current(first["run_id"])["page_id"] == "C"
    state = json.loads((meta(tmp_path) / "state.json").read_text())["machine"]["group_order"]
    assert state == {"order": [3, 1, 2], "seed": None, "algorithm": "forced"}
    submit(service, first["run_id"], "next", {"1": ["Y", "N"]})
    archive = service.reset_run("alice")
    assert archive == tmp_path / "out" / "alice" / ".archive" / f"study-{first['run_id']}"
    assert (archive / ".sessionkit" / "responses.csv").is_file() and not meta(tmp_path).exists()
    with pytest.raises(RunnerStateError):
        service.current(first["run_id"])
    second = service.login("alice")
    assert second["run_id"] != first["run_id"] and not second["resumed"] and second["nav_position"] == 1
    with pytest.raises(ResponseLogError):
        service.reset_run("nobody")
