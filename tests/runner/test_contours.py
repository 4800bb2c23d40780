"""Contour saving and redisplay through ReadingService on a real run folder (issue #7, reading-flow §11)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from sessionkit.errors import GeometryError, ImageReadError, RunnerStateError
from sessionkit.geometry import ImageGrid
from sessionkit.io import encode_labelmap_nrrd, encode_nifti, read_image, read_nrrd, starting_labelmap
from sessionkit.responses.export import read_run
from sessionkit.responses.paths import pending_path
from sessionkit.responses.run_folder import acknowledged_file
from sessionkit.responses.state_file import write_bytes_atomic
from sessionkit.runner.contours import load_drawing, save_drawing
from sessionkit.runner.service import ReadingService
from sessionkit.session.model import Location, SessionImage

LOC = Location("test.xml")
YES = {"1": ["Y", "N"]}
GRID = ImageGrid.from_parts(
    (6, 20, 24),
    spacing=(2.5, 0.75, 0.8),
    direction=[[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]],
    origin=(12.25, -40.5, 101.0),
)


def ct(image_id: str = "CT", **kw):
    return SessionImage(image_id, "Volume", 1, LOC, path="images/ct.nrrd", **kw)


@pytest.fixture
def chain(make, tmp_path):
    """Draw (looped, drawable) -> Show (redisplay, drawable) -> Merge (read-only union) -> Plain."""
    path = tmp_path / "chain.xml"
    path.write_bytes(b"<Session/>")
    (tmp_path / "study.txt").write_text("1 lesion 255 0 0 255\n2 nodule 0 255 0 255\n200 edge 0 0 255 255\n")
    session = make.session(
        make.page(
            "Draw",
            loop=True,
            enable_segment_editor=True,
            descriptor="Outline",
            images=(ct(label_map_id="les"), SessionImage("Seg", "Segmentation", 2, LOC, path="images/s.seg.nrrd")),
        ),
        make.page("Show", enable_segment_editor=True, images=(ct(display_label_map_id="les"),)),
        make.page("Merge", images=(ct(display_label_map_id="les", merge_label_maps=True),)),
        make.page("Plain", images=(ct(),)),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
        roi_color_file="study",
    )
    service = ReadingService(session, path, tmp_path / "out")
    return service, service.login("r1")["run_id"]


def go(service, run_id, transition="next"):
    version = service.current(run_id)["state_version"]
    return service.submit(run_id, state_version=version, transition=transition, answers=YES)


def drawing(labels, grid=GRID, gzip=False):
    """What the viewer uploads: NIfTI of the drawing on the background's grid."""
    return encode_nifti(labels, grid, label=True, compression_level=1 if gzip else None)


def box(value=1, grid=GRID):
    labels = np.zeros(grid.spatial_shape, dtype=np.uint8)
    labels[2, 5:9, 3:10] = value
    return labels


def annotation_rows(service, run_id):
    log = service.run_dir(run_id) / ".sessionkit" / "annotations.csv"
    return log.read_text().splitlines() if log.exists() else []


def test_save_writes_quizlabel_on_the_background_grid_and_logs_after(chain):
    service, run_id = chain
    labels = box(1)
    labels[4, 0, 0] = 2
    result = save_drawing(service, run_id, "CT", drawing(labels, gzip=True), GRID)
    saved = service.run_dir(run_id) / "PgGroup1_Draw_Outline" / "Draw_CT-quizlabel.nrrd"
    assert result["file"] == "chain/PgGroup1_Draw_Outline/Draw_CT-quizlabel.nrrd"
    assert result["sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert (result["labels"], result["voxel_count"], result["unknown_labels"]) == ([1, 2], 29, [])
    volume = read_nrrd(saved)
    assert volume.array.dtype == np.uint8 and np.array_equal(volume.array, labels)
    # exact grid: spacing, origin and direction written unrounded
    assert np.array_equal(volume.grid.affine, GRID.affine)
    assert b"space: left-posterior-superior" in saved.read_bytes()[:600]
    row = annotation_rows(service, run_id)[-1].split(",")
    assert row[13:18] == ["labelmap", result["file"], result["sha256"], "1 2", "29"]
    assert service.current(run_id)["confirm_no_contours"] is False
    assert not list(saved.parent.glob(".*.tmp"))


def test_values_outside_the_colour_table_are_kept_and_reported_sk907(chain):
    service, run_id = chain
    result = save_drawing(service, run_id, "CT", drawing(box(7)), GRID)
    assert result["labels"] == [7] and result["unknown_labels"] == [7]
    text = (service.run_dir(run_id) / ".sessionkit/events.jsonl").read_text()
    events = [json.loads(line) for line in text.splitlines()]
    problem = [e for e in events if e.get("code") == "SK907"]
    assert problem and problem[-1]["values"] == [7] and problem[-1]["image_id"] == "CT"


def test_refusals_write_nothing(chain):
    service, run_id = chain
    before = annotation_rows(service, run_id)
    other = ImageGrid.from_parts(GRID.spatial_shape, spacing=(2.5, 0.75, 0.8), origin=(12.25, -40.5, 101.5))
    with pytest.raises(GeometryError, match=r"origin .* vs .*"):
        save_drawing(service, run_id, "CT", drawing(box(), grid=other), GRID)
    with pytest.raises(GeometryError, match="size"):
        small = ImageGrid.from_parts((6, 20, 23))
        save_drawing(service, run_id, "CT", drawing(np.zeros((6, 20, 23), np.uint8), grid=small), GRID)
    with pytest.raises(ImageReadError):
        save_drawing(service, run_id, "CT", b"not a nifti at all" * 30, GRID)
    with pytest.raises(RunnerStateError, match="cannot be drawn") as refused:
        save_drawing(service, run_id, "Seg", drawing(box()), GRID)
    assert refused.value.code == "HTTP422"
    assert not list(service.run_dir(run_id).rglob("*.nrrd"))
    assert annotation_rows(service, run_id) == before
    go(service, run_id)
    go(service, run_id)
    go(service, run_id)
    assert service.current(run_id)["page_id"] == "Plain"
    with pytest.raises(RunnerStateError, match="cannot be drawn"):
        save_drawing(service, run_id, "CT", drawing(box()), GRID)


def test_read_only_revisit_refuses_the_drawing(chain):
    service, run_id = chain
    save_drawing(service, run_id, "CT", drawing(box()), GRID)
    go(service, run_id)
    go(service, run_id, "previous")  # Draw is complete and AllowMultipleResponse is off: read-only
    assert service.current(run_id)["editable"] is False
    with pytest.raises(RunnerStateError, match="read-only"):
        save_drawing(service, run_id, "CT", drawing(box(2)), GRID)
    assert np.array_equal(load_drawing(service, run_id, "CT", GRID), box())


def test_redisplay_is_copied_once_and_edits_persist_d23(chain):
    """IQ defect D23: the label-map history was re-copied at every display, over the reader's edits.

    The DisplayLabelMapID source is copied once, at the instance's first display; later displays load
    the instance's own file, so edits persist.
    """
    service, run_id = chain
    first = box(1)
    source = service.run_dir(run_id).parent / save_drawing(service, run_id, "CT", drawing(first), GRID)["file"]
    go(service, run_id)
    assert service.current(run_id)["page_id"] == "Show"
    shown = load_drawing(service, run_id, "CT", GRID)
    assert np.array_equal(shown, first)
    copy = service.run_dir(run_id) / "PgGroup2_Show_" / "Show_CT-quizlabel.nrrd"
    assert copy.read_bytes() == source.read_bytes()
    assert annotation_rows(service, run_id)[-1].split(",")[13] == "redisplay"
    edited = first.copy()
    edited[3, 1:4, 1:4] = 2
    save_drawing(service, run_id, "CT", drawing(edited), GRID)
    rows = len(annotation_rows(service, run_id))
    assert np.array_equal(load_drawing(service, run_id, "CT", GRID), edited)  # not re-copied
    assert len(annotation_rows(service, run_id)) == rows
    go(service, run_id, "previous")
    go(service, run_id)  # Show is complete now but displayed again: still the edit, no copy
    assert np.array_equal(load_drawing(service, run_id, "CT", GRID), edited)
    assert len(annotation_rows(service, run_id)) == rows


def test_merge_is_the_int32_maximum_of_every_looped_copy_d25(chain):
    """IQ defect D25: label maps were merged in their unsigned type, which can overflow.

    The merge is the voxel-wise maximum computed in int32 over every looped copy.
    """
    service, run_id = chain
    a = np.zeros(GRID.spatial_shape, np.uint8)
    a[1, :5, :5] = 200
    b = np.zeros(GRID.spatial_shape, np.uint8)
    b[1, 3:8, 3:8] = 100  # overlaps a: maximum 200 there, never 200 + 100 (uint8 overflow) or 100 - 200
    save_drawing(service, run_id, "CT", drawing(a), GRID)
    go(service, run_id, "repeat")
    save_drawing(service, run_id, "CT", drawing(b), GRID)
    go(service, run_id)
    go(service, run_id)
    assert service.current(run_id)["page_id"] == "Merge"
    merged = load_drawing(service, run_id, "CT", GRID)
    assert merged is not None and merged.dtype == np.uint8
    assert np.array_equal(merged, np.maximum(a, b)) and merged[1, 4, 4] == 200 and merged[1, 7, 7] == 100
    merge_file = service.run_dir(run_id) / "PgGroup3_Merge_" / "Merge_CT-quizlabel.nrrd"
    assert np.array_equal(read_nrrd(merge_file).array, merged)
    rows = len(annotation_rows(service, run_id))
    load_drawing(service, run_id, "CT", GRID)
    assert len(annotation_rows(service, run_id)) == rows  # unchanged union: not rewritten


def test_nothing_to_show_and_starting_contour(chain):
    service, run_id = chain
    assert load_drawing(service, run_id, "CT", GRID) is None
    start = box(2)
    assert load_drawing(service, run_id, "CT", GRID, starting=start) is start
    assert not list(service.run_dir(run_id).rglob("*.nrrd"))  # a starting contour is shown, not saved


def test_corpus_d_starting_contour_round_trip(make, tmp_path, corpus: Path):
    """A Slicer seg.nrrd starts the drawing; after an edit the unedited voxels equal the source."""
    folder = corpus / "D-segnrrd-slicerio"
    background = read_image(folder / "CTChest4.nrrd")
    source = read_image(folder / "Segmentation.seg.nrrd")
    path = tmp_path / "s.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page("P", enable_segment_editor=True, images=(ct(),)), sha256=hashlib.sha256(b"<Session/>").hexdigest()
    )
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("r")["run_id"]
    grid = background.grid
    start = starting_labelmap(source, grid)
    assert np.array_equal(start, source.layers[0])
    shown = load_drawing(service, run_id, "CT", grid, starting=start)
    edited = shown.copy()
    edited[17, 40:60, 50:70] = 3  # the reader paints a patch
    edited[20, 64, :] = 0  # and erases a line
    touched = np.zeros(grid.spatial_shape, bool)
    touched[17, 40:60, 50:70] = touched[20, 64, :] = True
    save_drawing(service, run_id, "CT", drawing(edited, grid=grid, gzip=True), grid)
    saved = read_nrrd(service.annotation_path(run_id, "CT"))
    assert saved.grid.matches(grid) and np.array_equal(saved.grid.affine, grid.affine)
    assert np.array_equal(saved.array[~touched], source.layers[0][~touched])
    assert np.array_equal(saved.array[touched], edited[touched])
    assert np.array_equal(load_drawing(service, run_id, "CT", grid), edited)


def test_an_unchanged_drawing_is_not_written_again_d10(chain):
    service, run_id = chain
    first = save_drawing(service, run_id, "CT", drawing(box()), GRID)
    rows = len(annotation_rows(service, run_id))
    again = save_drawing(service, run_id, "CT", drawing(box(), gzip=True), GRID)
    assert again["unchanged"] and not first["unchanged"]
    assert (again["file"], again["sha256"], again["labels"]) == (first["file"], first["sha256"], first["labels"])
    assert len(annotation_rows(service, run_id)) == rows


def test_unmodified_redisplay_does_not_meet_segment_required_sk912(make, tmp_path):
    path = tmp_path / "s.xml"
    path.write_bytes(b"<Session/>")
    session = make.session(
        make.page("Draw", enable_segment_editor=True, images=(ct(label_map_id="les"),)),
        make.page("Check", enable_segment_editor=True, images=(ct(display_label_map_id="les", segment_required=True),)),
        make.page("End"),
        sha256=hashlib.sha256(b"<Session/>").hexdigest(),
    )
    service = ReadingService(session, path, tmp_path / "out")
    run_id = service.login("r")["run_id"]
    save_drawing(service, run_id, "CT", drawing(box()), GRID)
    go(service, run_id)
    assert np.array_equal(load_drawing(service, run_id, "CT", GRID), box())
    assert save_drawing(service, run_id, "CT", drawing(box()), GRID)["unchanged"]  # autosave of the copy
    with pytest.raises(RunnerStateError) as refused:
        go(service, run_id)
    assert refused.value.code == "SK912"
    edited = box()
    edited[0, 0, 0] = 1
    assert not save_drawing(service, run_id, "CT", drawing(edited), GRID)["unchanged"]
    assert go(service, run_id)["page_id"] == "End"


def test_a_file_of_another_page_is_not_logged_here(chain):
    service, run_id = chain
    stale = service.annotation_path(run_id, "CT")  # a save started on Draw ...
    stale.write_bytes(b"x")
    go(service, run_id)  # ... while the reader moved on
    with pytest.raises(RunnerStateError) as refused:
        service.record_annotation(run_id, image_id="CT", kind="labelmap", file=stale, sha256="0" * 64, labels=[1])
    assert refused.value.code == "HTTP409"


def test_overlapping_saves_and_displays_never_interleave(chain):
    """An autosave and a pre-transition save of one drawing may arrive together (two server threads)."""
    service, run_id = chain
    drawings = [box(v) for v in (1, 2)]
    payloads = [drawing(d) for d in drawings]
    errors: list[BaseException] = []

    def saver(payload: bytes) -> None:
        try:
            for _ in range(15):
                save_drawing(service, run_id, "CT", payload, GRID)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=saver, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    saved = service.annotation_path(run_id, "CT")
    final = read_nrrd(saved).array
    assert any(np.array_equal(final, d) for d in drawings)
    rows = annotation_rows(service, run_id)
    assert rows[-1].split(",")[15] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert not list(saved.parent.glob(".*.tmp"))
    go(service, run_id)  # Show: two displays at once copy the source once
    shown: list[object] = []
    viewers = [threading.Thread(target=lambda: shown.append(load_drawing(service, run_id, "CT", GRID))) for _ in "ab"]
    for thread in viewers:
        thread.start()
    for thread in viewers:
        thread.join()
    kinds = [row.split(",")[13] for row in annotation_rows(service, run_id)]
    assert kinds.count("redisplay") == 1 and len(shown) == 2


def test_a_transition_waits_while_a_contour_is_written_and_logged(chain):
    """The file of the current page instance and its annotations.csv row are one step under the run's
    lock: a Next sent meanwhile waits, so it cannot move the run between the write and the log."""
    import threading

    service, run_id = chain
    moved = threading.Event()

    def submit_next():
        go(service, run_id)
        moved.set()

    with service.exclusive(run_id):
        first_instance = service.current(run_id)["page_instance"]
        worker = threading.Thread(target=submit_next)
        worker.start()
        assert not moved.wait(0.5)  # blocked by the held lock
        # still on the same instance: a save here lands in its folder and is logged for it
        assert save_drawing(service, run_id, "CT", drawing(box(2)), GRID)["unchanged"] is False
        assert service.current(run_id)["page_instance"] == first_instance
    worker.join(10)
    assert moved.is_set()
    rows = annotation_rows(service, run_id)
    assert [row.split(",")[8] for row in rows[1:]] == [first_instance]  # header, then page_instance column


# -- a kill inside a save never costs the acknowledged map (issue 11 item 1) ---------------------------------
# Each test leaves the run folder exactly as a SIGKILL at one step of store_annotation leaves it (the steps are
# the real calls, stopped early), then restarts the service; tests/server/test_crash_injection.py kills a real
# server at every fsync and rename.


def saved_map(labels):
    """The bytes a save stores for ``labels`` (deterministic encoding)."""
    return encode_labelmap_nrrd(labels, GRID)


def restart(service):
    again = ReadingService(service.session, service.session_path, service.results_root)
    again.login("r1")
    return again


def test_kill_after_the_row_is_acknowledged_before_the_rename(chain):
    service, run_id = chain
    save_drawing(service, run_id, "CT", drawing(box(1)), GRID)
    target = service.annotation_path(run_id, "CT")
    new = saved_map(box(2))
    write_bytes_atomic(pending_path(target), new)  # store_annotation step 1
    row = service.record_annotation(  # step 2: acknowledged; killed before step 3 (the rename)
        run_id, image_id="CT", kind="labelmap", file=target, sha256=hashlib.sha256(new).hexdigest(), labels=[2]
    )
    assert target.read_bytes() == saved_map(box(1))  # the acknowledged file was not replaced
    exported = read_run(service.run_dir(run_id))  # an export before any restart reads the pending bytes
    assert acknowledged_file(target, exported.annotations[-1]["sha256"]) == pending_path(target)

    again = restart(service)
    assert target.read_bytes() == new and not pending_path(target).exists()  # renamed into place at resume
    assert hashlib.sha256(target.read_bytes()).hexdigest() == row["sha256"]
    log = (target.parents[1] / ".sessionkit" / "events.jsonl").read_text()
    settled = [json.loads(line) for line in log.splitlines()]
    assert any(e["kind"] == "annotation_settled" and e["seq"] == row["seq"] for e in settled)
    assert np.array_equal(load_drawing(again, run_id, "CT", GRID), box(2))


def test_kill_before_the_row_keeps_the_acknowledged_map_and_a_resend_is_saved(chain):
    service, run_id = chain
    first = save_drawing(service, run_id, "CT", drawing(box(1)), GRID)
    target = service.annotation_path(run_id, "CT")
    write_bytes_atomic(pending_path(target), saved_map(box(2)))  # killed before the row
    again = restart(service)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == first["sha256"]  # the acknowledged map
    assert not pending_path(target).exists()  # the unacknowledged bytes are gone
    resent = save_drawing(again, run_id, "CT", drawing(box(2)), GRID)
    assert not resent["unchanged"] and annotation_rows(again, run_id)[-1].count(resent["sha256"]) == 1
    assert hashlib.sha256(target.read_bytes()).hexdigest() == resent["sha256"]


def test_unchanged_is_judged_against_the_log_not_the_file(chain):
    """The file on disk is not the acknowledgement: a drawing equal to it but not logged is saved."""
    service, run_id = chain
    save_drawing(service, run_id, "CT", drawing(box(1)), GRID)
    target = service.annotation_path(run_id, "CT")
    target.write_bytes(saved_map(box(2)))  # the file as the pre-fix order could leave it
    resent = save_drawing(service, run_id, "CT", drawing(box(2)), GRID)
    assert not resent["unchanged"]
    assert annotation_rows(service, run_id)[-1].count(resent["sha256"]) == 1
    same = save_drawing(service, run_id, "CT", drawing(box(2)), GRID)
    assert same["unchanged"] and same["saved_at"] == resent["saved_at"]  # the logged row's time
