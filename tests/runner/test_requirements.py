"""Contour (SK912) and line (SK913) requirements from annotation rows (reading-flow §7, §11, §14.3)."""

from __future__ import annotations

import hashlib
import json

import pytest

from sessionkit.errors import ResponseLogError, RunnerStateError
from sessionkit.responses.csvlog import ANNOTATION_COLUMNS, read_rows
from sessionkit.runner.annotation_store import store_annotation
from sessionkit.runner.machine import Submit, new_run, step
from sessionkit.runner.navigation import Instance
from sessionkit.runner.requirements import page_issues
from sessionkit.runner.service import ReadingService
from sessionkit.session.model import Location, SessionImage

LOC = Location("test.xml")


def image(image_id, itype="Volume", **kw):
    return SessionImage(image_id, itype, 1, LOC, path=f"images/{image_id}.nrrd", **kw)


def row(kind, image_id="CT", *, sha="a", voxels="10", file=None):
    return {
        "kind": kind,
        "image_id": image_id,
        "image_path": f"images/{image_id}.nrrd",
        "sha256": sha,
        "voxel_count": voxels,
        "file": file or f"{image_id}-{kind}",
    }


def codes(page, rows):
    return [issue.code for issue in page_issues(page, rows)]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], ["SK912"]),
        ([row("labelmap", voxels="0")], ["SK912"]),
        ([row("labelmap")], []),
        ([row("labelmap", "Seg")], ["SK912"]),  # a Segmentation image cannot be contoured
        ([row("redisplay", sha="s"), row("labelmap", sha="s")], ["SK912"]),  # redisplayed, unmodified
        ([row("redisplay", sha="s"), row("labelmap", sha="t")], []),
        ([row("labelmap"), row("labelmap", voxels="0")], ["SK912"]),  # latest map erased
    ],
)
def test_segment_required_on_any_image(make, rows, expected):
    page = make.page("P", segment_required_on_any_image=True, images=(image("CT"), image("Seg", "Segmentation")))
    assert codes(page, rows) == expected


def test_segment_required_on_specific_images(make):
    page = make.page("P", images=(image("CT", segment_required=True), image("MR", segment_required=True)))
    assert [i.message for i in page_issues(page, [row("labelmap", "CT")])] == ["Draw or modify a contour on image MR"]
    assert codes(page, [row("labelmap", "CT"), row("labelmap", "MR")]) == []


def test_lines_on_any_image_and_specific_images(make):
    any_page = make.page("P", min_markup_lines_required_on_any_image=2, images=(image("CT"), image("MR")))
    one = [row("line", "CT", file="l1")]
    two = [*one, row("line", "MR", file="l2")]
    assert codes(any_page, one) == ["SK913"]
    assert codes(any_page, two) == []
    assert codes(any_page, [*two, row("line_deleted", "MR", file="l2", sha="")]) == ["SK913"]
    specific = make.page("P", images=(image("CT", min_markup_lines_required=1), image("MR")))
    assert codes(specific, [row("line", "MR", file="l2")]) == ["SK913"]
    assert codes(specific, one) == []


def test_pages_without_requirements_have_no_issues(make):
    assert page_issues(make.page("P", images=(image("CT"),)), []) == ()


def test_machine_refuses_next_with_page_issues_and_recomputes(make):
    session = make.session(make.page("A", allow_multiple_response=True), make.page("B"))
    state = new_run(session, None)
    issues = page_issues(make.page("X", segment_required_on_any_image=True), [])
    with pytest.raises(RunnerStateError) as info:
        step(state, Submit("next", 0, {1: ["Y", "N"]}, issues))
    assert info.value.code == "SK912" and info.value.hint == "draw or modify the contour"
    state = step(state, Submit("next", 0, {1: ["Y", "N"]}))
    state = step(state, Submit("previous", state.version, {}))
    assert Instance(1) in state.complete
    state = step(state, Submit("exit", state.version, {1: ["Y", "N"]}, issues))  # e.g. the contour was erased
    assert Instance(1) not in state.complete


@pytest.fixture
def contour_study(make, tmp_path):
    path = tmp_path / "contour.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page("Lung", descriptor="Left lung", segment_required_on_any_image=True, images=(image("CT"),)),
        make.page("End"),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )
    return session, path


def test_service_records_annotations_and_enforces_them(contour_study, tmp_path):
    session, path = contour_study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    with pytest.raises(RunnerStateError) as info:
        service.submit(run_id, state_version=1, transition="next", answers={"1": ["Y", "N"]})
    assert info.value.code == "SK912"
    assert not service.current(run_id)["confirm_no_contours"]  # drawing is not enabled on this page
    target = service.annotation_path(run_id, "CT")
    assert target == tmp_path / "out" / "alice" / "contour" / "PgGroup1_Lung_Left lung" / "Lung_CT-quizlabel.nrrd"
    line = service.annotation_path(run_id, "CT", kind="line", number=2)
    assert line.name == "Lung_CT_MarkupsLine_1_quizline.mrk.json"
    recorded = store_annotation(service, run_id, "CT", "labelmap", b"NRRD0004 fake but hashed", labels=[2, 1, 2],
                                voxel_count=42)  # fmt: skip
    assert target.read_bytes() == b"NRRD0004 fake but hashed"
    assert recorded["file"] == "contour/PgGroup1_Lung_Left lung/Lung_CT-quizlabel.nrrd"
    assert recorded["sha256"] == hashlib.sha256(b"NRRD0004 fake but hashed").hexdigest()
    assert recorded["labels"] == "1 2" and recorded["seq"] == "1" and recorded["event"] == "autosave"
    folder = tmp_path / "out" / "alice" / "contour" / ".sessionkit"
    assert json.loads((folder / "state.json").read_text())["last_seq"] == 1
    after = service.submit(run_id, state_version=1, transition="next", answers={"1": ["Y", "N"]})
    assert after["page_id"] == "End"
    rows = read_rows(folder / "annotations.csv", ANNOTATION_COLUMNS)
    assert [r["kind"] for r in rows] == ["labelmap"] and rows[0]["image_path"] == "images/CT.nrrd"
    assert (folder / "annotations.csv").read_bytes().startswith(b"log_version,session_id,reader_id,run_id,")

    with pytest.raises(RunnerStateError):  # End has no image CT
        service.record_annotation(run_id, image_id="CT", kind="labelmap", file=target, sha256="")
    restarted = ReadingService(session, path, tmp_path / "out")
    restarted.login("alice")
    back = restarted.submit(run_id, state_version=restarted.current(run_id)["state_version"], transition="previous",
                            answers={})  # fmt: skip
    assert back["page_id"] == "Lung" and not back["editable"]
    with pytest.raises(RunnerStateError) as info:  # read-only page: no reader edits
        restarted.record_annotation(run_id, image_id="CT", kind="labelmap", file=target, sha256="")
    assert info.value.code == "HTTP422"


def test_annotation_outside_the_run_folder_is_refused(contour_study, tmp_path):
    session, path = contour_study
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    outside = tmp_path / "elsewhere.nrrd"
    outside.write_bytes(b"x")
    with pytest.raises(ResponseLogError, match="outside the run folder"):
        service.record_annotation(run_id, image_id="CT", kind="labelmap", file=outside, sha256="")
    with pytest.raises(RunnerStateError):
        service.record_annotation(run_id, image_id="CT", kind="scribble", file=outside, sha256="")


def test_confirm_no_contours_flag(make, tmp_path):
    path = tmp_path / "c.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page("Draw", enable_segment_editor=True, images=(image("CT"),)),
        make.page("End"),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("alice")["run_id"]
    assert service.current(run_id)["confirm_no_contours"]  # SK915: the UI asks before leaving
    store_annotation(service, run_id, "CT", "labelmap", b"x", voxel_count=1)
    assert not service.current(run_id)["confirm_no_contours"]
