"""Exports derived from a real run folder: CSV, JSON and IQ results XML (reading-flow §14.1, C10)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from lxml import etree

from sessionkit.errors import ResponseLogError
from sessionkit.responses.csvlog import RESPONSE_COLUMNS, append_rows
from sessionkit.responses.export import (
    IQ_EVENT,
    build_iq_xml,
    export_csv,
    export_json,
    find_runs,
    iq_time,
    read_run,
)
from sessionkit.runner.annotation_store import store_annotation
from sessionkit.runner.service import ReadingService
from sessionkit.session import load_session

DATA = Path(__file__).parent / "data"
VIEWS = {"views": [{"destination": "Red", "orientation": "Axial", "slice_offset": -12.5, "window": 400, "level": 40}]}


def go(service, run_id, transition, answers, **kw):
    version = service.current(run_id)["state_version"]
    return service.submit(run_id, state_version=version, transition=transition, answers=answers, **kw)


@pytest.fixture
def finished_run(tmp_path):
    """Reader r1 on loop.xml: Repeat on Case, a restart (second login), a bookmark jump from Other, Finish."""
    path = tmp_path / "loop.xml"
    shutil.copy(DATA / "loop.xml", path)
    session = load_session(path)
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("r1")["run_id"]
    bookmarked = False
    while not service.current(run_id)["complete"]:
        current = service.current(run_id)
        if current["page_id"] == "Other" and not bookmarked:
            go(service, run_id, "goto_bookmark", {"1": ["Y", "N"]})
            bookmarked = True
        elif current["page_instance"] == "Case" and current["can_repeat"]:
            go(service, run_id, "repeat", {"1": ["apex"], "2": ["12"]})
            service = ReadingService(session, path, tmp_path / "out")  # restart: a second login
            service.login("r1")
        else:
            answers = {"Intro": {}, "Other": {"1": ["Y", "N"]}}.get(current["page_id"], {"1": ["base"], "2": ["7"]})
            viewer = VIEWS if current["page_id"] == "Intro" else None
            go(service, run_id, "finish" if current["is_last"] else "next", answers, viewer_state=viewer)
    return tmp_path / "out" / "r1" / "loop"


def test_find_runs(finished_run, tmp_path):
    assert find_runs(finished_run) == [finished_run]
    assert find_runs(tmp_path / "out") == [finished_run]
    with pytest.raises(ResponseLogError):
        find_runs(tmp_path)


def test_csv_export_concatenates_acknowledged_rows(finished_run):
    run = read_run(finished_run)
    meta = finished_run / ".sessionkit"
    ghost = dict(run.responses[0]) | {"seq": "999", "value": "=HYPERLINK(1)"}
    append_rows(meta / "responses.csv", RESPONSE_COLUMNS, [ghost])  # unacknowledged: left out
    data = export_csv([read_run(finished_run)])
    assert data.startswith(",".join(RESPONSE_COLUMNS).encode() + b"\r\n")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == len(run.responses) and "999" not in {r["seq"] for r in rows}
    formula = dict(run.responses[0]) | {"value": "=1+1"}
    escaped = export_csv([read_run(finished_run).__class__(finished_run, run.state, [formula], [], [])],
                         escape_formulas=True)  # fmt: skip
    assert b",'=1+1," in escaped


def test_json_export(finished_run):
    data = export_json([read_run(finished_run)])
    run = data["runs"][0]
    assert run["state"]["machine"]["run_complete"] is True
    assert {e["kind"] for e in run["events"]} >= {"run_created", "login", "submission", "viewer_state"}


def test_iq_xml_export(finished_run):
    run = read_run(finished_run)
    root = etree.fromstring(build_iq_xml(run))
    assert root.get("UserName") == "r1" and root.get("RandomizePageGroups") == "Y"
    pages = root.findall("Page")
    ids = [p.get("ID") for p in pages]
    assert ids[0] == "Intro" and ids.count("Case") == 1 and "Case-Rep1" in ids  # pre-randomization order
    assert ids.index("Case-Rep1") == ids.index("Case") + 1
    copy = pages[ids.index("Case-Rep1")]
    assert copy.get("Rep") == "1" and copy.get("BookmarkID") is None and copy.get("PageGroup") == "1"
    assert pages[0].get("Rep") == "0" and pages[0].get("BookmarkID") == "start" and pages[0].get("PageGroup") == "0"
    assert all(p.get("PageComplete") == "Y" for p in pages)
    info = pages[0].find("QuestionSet/Question/Option/Response")
    assert info is not None and info.text is None and info.get("Event") == "NextBtn"
    state = pages[0].findall("Image/State")
    assert state == []  # Intro has no image; viewer state is kept per Volume image only
    case_responses = pages[ids.index("Case")].findall("QuestionSet/Question/Option/Response")
    assert [r.text for r in case_responses] == ["apex", "12"]
    assert case_responses[0].get("Event") == "Repeat"
    assert case_responses[0].get("ResponseTime").count("_") == 1 and len(case_responses[0].get("LoginTime")) == 24
    rep_values = [r.text for r in copy.findall("QuestionSet/Question/Option/Response")]
    assert rep_values == ["base", "7"]
    other = pages[ids.index("Other")].findall("QuestionSet/Question/Option/Response")
    assert [(r.text, r.get("Event")) for r in other] == [("Y", "GoToBookmark"), ("N", "GoToBookmark")]
    order = root.findtext("RandomizedPageGroupIndices")
    assert order is not None and order.split(",")[0] == "0" and sorted(order.split(",")) == ["0", "1", "2"]
    logins = root.findall("Login")
    assert len(logins) == 2 and logins[-1].get("QuizComplete") == "Y" and logins[0].get("QuizComplete") is None
    assert list(root).index(logins[0]) > list(root).index(pages[-1])


def test_iq_time_and_event_names():
    assert iq_time("2025-01-31T14:05:09.123Z") == "20250131_14:05:09.123000"
    assert iq_time("") == ""
    assert IQ_EVENT["bookmark"] == "GoToBookmark" and IQ_EVENT["autosave"] == "Exit ...X"


def test_iq_xml_states_and_label_map_paths(tmp_path):
    demo = Path(__file__).resolve().parents[2] / "sample_sessions" / "demo.xml"
    path = tmp_path / "demo.xml"
    shutil.copy(demo, path)
    service = ReadingService(load_session(path), path, tmp_path / "out")
    run_id = service.login("r2")["run_id"]
    store_annotation(service, run_id, "CT", "labelmap", b"label map bytes", labels=[1], voxel_count=5)
    go(service, run_id, "exit", {"2": ["Y", "N"]}, viewer_state=VIEWS)
    root = etree.fromstring(build_iq_xml(read_run(tmp_path / "out" / "r2" / "demo")))
    first = root.findall("Page")[0]
    images = first.findall("Image")
    red, green = images[0], images[1]
    assert [s.get("Window") for s in red.findall("State")] == ["400"] and green.findall("State") == []
    state = red.find("State")
    assert state is not None and (state.get("SliceOffset"), state.get("Level"), state.get("ViewingMode")) == (
        "-12.5", "40", "Default"
    )  # fmt: skip
    paths = [e.text for e in first.iter("LabelMapPath")]
    assert paths == ["demo\\PgGroup1_ChestCT_All segments\\ChestCT_CT-quizlabel.nrrd"] * 3  # three CT elements
    assert first.get("PageComplete") == "N"


@pytest.mark.parametrize(("fmt", "produced"), [("iq-xml", "loop.xml"), ("csv", "responses.csv"), ("json", "runs.json")])
def test_export_cli(finished_run, fmt, produced):
    from click.testing import CliRunner

    from sessionkit.cli import main

    result = CliRunner().invoke(main, ["export", str(finished_run), "--format", fmt])
    assert result.exit_code == 0, result.output
    written = finished_run / "exports" / produced
    assert result.output.strip() == str(written) and written.stat().st_size > 0
    root = finished_run.parent.parent
    everyone = CliRunner().invoke(main, ["export", str(root), "--format", fmt, "-o", str(root.parent / "x" / produced)])
    assert everyone.exit_code == 0, everyone.output


def test_export_cli_without_runs(tmp_path):
    from click.testing import CliRunner

    from sessionkit.cli import main

    result = CliRunner().invoke(main, ["export", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 2 and "No run folder" in result.output


def test_event_is_kept_per_response_on_revisits(tmp_path):
    """IQ overwrote Response@Event on revisits; every written submission keeps its own event here."""
    path = tmp_path / "revisit.xml"
    shutil.copy(DATA / "revisit.xml", path)
    service = ReadingService(load_session(path), path, tmp_path / "out")
    run_id = service.login("r")["run_id"]
    go(service, run_id, "next", {"1": ["Y", "N"]})
    go(service, run_id, "previous", {"1": ["9"]})  # partial save: the invalid number is logged empty
    go(service, run_id, "next", {"1": ["N", "Y"]})  # A allows multiple responses: appended
    go(service, run_id, "finish", {"1": ["4"]})
    root = etree.fromstring(build_iq_xml(read_run(tmp_path / "out" / "r" / "revisit")))
    a, b = root.findall("Page")
    yes = a.find("QuestionSet/Question/Option")
    assert [(r.text, r.get("Event")) for r in yes.findall("Response")] == [("Y", "NextBtn"), ("N", "NextBtn")]
    score = b.find("QuestionSet/Question/Option")
    assert [(r.text, r.get("Event")) for r in score.findall("Response")] == [(None, "Previous"), ("4", "Finish")]
    assert root.get("UserName") == "r" and a.get("PageGroup") == "1" and a.get("Rep") is None
