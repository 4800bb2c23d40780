"""Viewer-state restore walks the navigation list, not the file (reading-flow §12, fix D24)."""

from __future__ import annotations

import hashlib

from sessionkit.runner.service import ReadingService
from sessionkit.session.model import Location, SessionImage

LOC = Location("test.xml")


def ct(**kw):
    return SessionImage("CT", "Volume", 1, LOC, path="images/ct.nrrd", destination="Red", orientation="Axial", **kw)


def view(window, slice_offset, orientation="Axial"):
    return {"views": [{"destination": "Red", "orientation": orientation, "slice_offset": slice_offset,
                       "window": window, "level": window / 10, "zoom": 1}]}  # fmt: skip


def service_for(make, tmp_path, *pages):
    path = tmp_path / "s.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        *pages, randomize_page_groups=True, randomized_page_group_indices=(2, 1, 3),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )  # fmt: skip
    return ReadingService(session, path, tmp_path / "out"), session, path


def go(service, run_id, transition, viewer=None):
    current = service.current(run_id)
    return service.submit(run_id, state_version=current["state_version"], transition=transition,
                          answers={"1": ["Y", "N"]}, viewer_state=viewer)  # fmt: skip


def test_restore_uses_navigation_order_not_file_order(make, tmp_path):
    """IQ defect D24: the previous image state was looked up in XML (file) order, not navigation order,
    so under randomisation a page restored the state of a page the reader had not seen yet."""
    service, session, path = service_for(
        make, tmp_path,
        make.page("A", page_group=1, images=(ct(),)),
        make.page("B", page_group=2, images=(ct(),)),
        make.page("C", page_group=3, images=(ct(initial_slice_offset=5.0),)),
    )  # fmt: skip
    run_id = service.login("r")["run_id"]
    first = service.current(run_id)
    assert first["page_id"] == "B" and first["restore_views"][0]["window"] is None  # nothing recorded yet
    go(service, run_id, "next", view(100, -10))  # on B (file page 2)
    on_a = go(service, run_id, "next", view(200, -20))  # on A (file page 1), shown after B
    assert on_a["page_id"] == "C"
    restored = on_a["restore_views"][0]
    # IQ's file-order search would return B's record; the navigation order says A was seen last
    assert (restored["window"], restored["level"], restored["window_level_from"]) == (200, 20, "A")
    assert restored["slice_offset"] is None  # earlier instance, and C sets InitialSliceOffset
    after = go(service, run_id, "autosave", view(300, 7.5))
    assert after["restore_views"][0]["slice_offset"] == 7.5 and after["restore_views"][0]["slice_offset_from"] == "C"
    restarted = ReadingService(session, path, tmp_path / "out")  # records come back from events.jsonl
    restarted.login("r")
    assert restarted.current(run_id)["restore_views"][0]["window"] == 300


def test_slice_offset_needs_the_same_orientation(make, tmp_path):
    service, _, _ = service_for(
        make, tmp_path,
        make.page("A", page_group=1, images=(ct(),)),
        make.page("B", page_group=2, images=(ct(),)),
        make.page("C", page_group=3, images=(ct(),)),
    )  # fmt: skip
    run_id = service.login("r")["run_id"]
    go(service, run_id, "next", view(100, -10))
    on_c = go(service, run_id, "next", view(200, -20, orientation="Coronal"))
    restored = on_c["restore_views"][0]
    assert restored["window"] == 200 and (restored["slice_offset"], restored["slice_offset_from"]) == (-10, "B")
