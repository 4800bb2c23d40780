"""A run whose ``state.json`` is lost or damaged resumes from what survives; no row is ever lost (issue 11 item 2)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from sessionkit.responses.csvlog import RESPONSE_COLUMNS, read_rows
from sessionkit.responses.export import find_runs, read_run
from sessionkit.runner.service import ReadingService


@pytest.fixture
def study(make, tmp_path):
    """Three pages of one Radio question each, on a session file whose bytes are the snapshot."""
    path = tmp_path / "study.xml"
    path.write_bytes(b"<Session><!-- snapshot bytes --></Session>")
    session = make.session(
        make.page("P1"), make.page("P2"), make.page("P3"), sha256=hashlib.sha256(path.read_bytes()).hexdigest()
    )
    return session, path


def submit(service, run_id, transition, answers):
    version = service.current(run_id)["state_version"]
    return service.submit(run_id, state_version=version, transition=transition, answers=answers)


def three_submissions(study, tmp_path):
    """alice answers P1 and P2 (Next twice) and P3 (autosave): rows seq 1..3, 6 rows, on P3."""
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    submit(service, run_id, "next", {"1": ["Y", "N"]})
    submit(service, run_id, "next", {"1": ["N", "Y"]})
    submit(service, run_id, "autosave", {"1": ["Y", "N"]})
    return run_id, tmp_path / "out" / "alice" / "study" / ".sessionkit"


def events(meta):
    return [json.loads(line) for line in (meta / "events.jsonl").read_text().splitlines()]


def resume(study, tmp_path):
    session, path = study
    service = ReadingService(session, path, tmp_path / "out")
    return service, service.login("alice")


@pytest.mark.parametrize("damage", ["missing", "empty", "not json", "no last_seq"])
def test_a_lost_state_json_resumes_from_history_and_keeps_every_row(study, tmp_path, damage):
    run_id, meta = three_submissions(study, tmp_path)
    acknowledged = (meta / "responses.csv").read_bytes()
    history = sorted((meta / "state-history").glob("state-*.json"))
    assert history and max(json.loads(p.read_text())["last_seq"] for p in history) < 3  # the copies lag behind
    state = meta / "state.json"
    if damage == "missing":
        state.unlink()
    else:
        damaged = {"empty": b"", "not json": b'{"run_id": "x", "last', "no last_seq": b'{"run_id": "x"}'}
        state.write_bytes(damaged[damage])

    service, login = resume(study, tmp_path)
    assert login["resumed"] and login["run_id"] == run_id  # not a new run (was: last_seq 0, rows truncated)
    assert (meta / "responses.csv").read_bytes() == acknowledged  # rows past the kept copy's last_seq stay
    restored = [e for e in events(meta) if e["kind"] == "state_restored"]
    assert restored and restored[-1]["source"].startswith("state-") and restored[-1]["last_seq"] == 3
    assert json.loads(state.read_text())["last_seq"] == 3  # committed again at once
    # answers come back from the log; the next save gets a fresh seq, and a second restart loses nothing
    submit(service, run_id, "autosave", {"1": ["N", "Y"]})
    rows = read_rows(meta / "responses.csv", RESPONSE_COLUMNS)
    assert [r["seq"] for r in rows][-2:] == ["4", "4"]
    service, _ = resume(study, tmp_path)
    assert len(read_rows(meta / "responses.csv", RESPONSE_COLUMNS)) == 8
    assert service.current(run_id)["answers"] == {"1": ["N", "Y"]}


def test_with_every_state_lost_the_rows_are_kept_and_answers_shown(study, tmp_path):
    run_id, meta = three_submissions(study, tmp_path)
    acknowledged = (meta / "responses.csv").read_bytes()
    (meta / "state.json").unlink()
    shutil.rmtree(meta / "state-history")

    service, login = resume(study, tmp_path)
    assert login["resumed"] and login["run_id"] == run_id  # the logged run id, not a new one
    assert (meta / "responses.csv").read_bytes() == acknowledged
    lost = [e for e in events(meta) if e["kind"] == "state_restored"]
    assert lost and lost[-1]["source"] is None and lost[-1]["last_seq"] == 3
    assert login["nav_position"] == 1  # the position is lost: the run starts over with its answers
    assert service.current(run_id)["answers"] == {"1": ["Y", "N"]}
    after = submit(service, run_id, "next", {"1": ["Y", "N"]})
    assert after["page_id"] == "P2" and after["answers"] == {"1": ["N", "Y"]}


def test_a_readable_state_never_cuts_below_a_kept_copy(study, tmp_path):
    """Only rows past every surviving state's ``last_seq`` are unacknowledged."""
    _, meta = three_submissions(study, tmp_path)
    state = json.loads((meta / "state.json").read_text())
    newest = max(meta.glob("state-history/state-*.json"), key=lambda p: json.loads(p.read_text())["last_seq"])
    floor = json.loads(newest.read_text())["last_seq"]
    assert floor >= 1
    (meta / "state.json").write_text(json.dumps(state | {"last_seq": 0}))  # an older state put back by hand
    resume(study, tmp_path)
    kept = {int(r["seq"]) for r in read_rows(meta / "responses.csv", RESPONSE_COLUMNS)}
    assert kept == set(range(1, floor + 1))


def test_export_reads_a_run_whose_state_json_is_lost(study, tmp_path):
    _, meta = three_submissions(study, tmp_path)
    (meta / "state.json").write_bytes(b"")
    run = read_run(meta.parent)
    assert len(run.responses) == 6 and run.state["reader_id"] == "alice"
    assert (meta / "state.json").read_bytes() == b""  # export never writes
    (meta / "state.json").unlink()
    assert find_runs(tmp_path / "out") == [meta.parent]  # found by its kept states and logs


def test_a_run_folder_without_any_state_or_log_is_created_afresh(study, tmp_path):
    """A kill inside run creation, before its first state: nothing was acknowledged."""
    session, path = study
    meta = tmp_path / "out" / "alice" / "study" / ".sessionkit"
    meta.mkdir(parents=True)
    (meta / "snapshot.xml").write_bytes(path.read_bytes())
    service = ReadingService(session, path, tmp_path / "out")
    assert not service.login("alice")["resumed"]
    assert Path(meta / "state.json").is_file()
