"""Label-map history lookups: redisplay source and merge sources in navigation order (§11, D23, D25)."""

from __future__ import annotations

import hashlib

import pytest

from sessionkit.errors import RunnerStateError
from sessionkit.runner.annotation_store import store_annotation
from sessionkit.runner.service import ReadingService
from sessionkit.session.model import Location, SessionImage

LOC = Location("test.xml")
YES = {"1": ["Y", "N"]}


def ct(**kw):
    return SessionImage("CT", "Volume", 1, LOC, path="images/ct.nrrd", **kw)


@pytest.fixture
def chain(make, tmp_path):
    path = tmp_path / "chain.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page("Draw", loop=True, enable_segment_editor=True, images=(ct(label_map_id="les"),)),
        make.page(
            "Other", images=(SessionImage("CT", "Volume", 1, LOC, path="images/other.nrrd", label_map_id="les"),)
        ),
        make.page("Show", enable_segment_editor=True, images=(ct(display_label_map_id="les"),)),
        make.page("Merge", images=(ct(display_label_map_id="les", merge_label_maps=True),)),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )
    service = ReadingService(session, path, tmp_path / "out")
    return service, service.login("r")["run_id"]


def go(service, run_id, transition):
    version = service.current(run_id)["state_version"]
    return service.submit(run_id, state_version=version, transition=transition, answers=YES)


def draw(service, run_id, content, kind="labelmap"):
    store_annotation(service, run_id, "CT", kind, content, labels=[1], voxel_count=3)
    return service.annotation_path(run_id, "CT")


def test_redisplay_and_merge_follow_navigation_history(chain):
    service, run_id = chain
    plan = service.labelmap_plan(run_id, "CT")
    assert (plan.own_file, plan.source_file, plan.copy_needed, plan.merge_files) == (None, None, False, ())
    first = draw(service, run_id, b"rep0")
    assert service.labelmap_plan(run_id, "CT").own_file == first
    go(service, run_id, "repeat")
    second = draw(service, run_id, b"rep1")
    go(service, run_id, "next")
    go(service, run_id, "next")
    assert service.current(run_id)["page_id"] == "Show"
    plan = service.labelmap_plan(run_id, "CT")
    assert plan.source_file == second and plan.source_instance == "Draw-Rep1" and plan.copy_needed
    copy = draw(service, run_id, second.read_bytes(), kind="redisplay")
    assert copy.name == "Show_CT-quizlabel.nrrd"
    plan = service.labelmap_plan(run_id, "CT")
    assert plan.own_file == copy and not plan.copy_needed  # D23: never copied over again
    copy.write_bytes(b"edited")
    draw(service, run_id, b"edited")
    assert not service.labelmap_plan(run_id, "CT").copy_needed
    go(service, run_id, "next")
    plan = service.labelmap_plan(run_id, "CT")
    assert plan.merge_files == (first, second) and not plan.copy_needed  # every Draw instance, oldest first


def test_a_source_without_a_drawing_shows_nothing(chain):
    service, run_id = chain
    for _ in range(2):
        go(service, run_id, "next")
    assert service.current(run_id)["page_id"] == "Show"  # Other has LabelMapID "les" on another path
    plan = service.labelmap_plan(run_id, "CT")
    assert plan.source_instance == "Draw" and plan.source_file is None and not plan.copy_needed
    with pytest.raises(RunnerStateError):
        service.labelmap_plan(run_id, "PET")
