"""Contouring in real Chromium (issue #7): mouse strokes saved exactly on the background grid.

A small asymmetric volume (48 columns x 40 rows x 12 slices, spacing 0.8 x 0.9 x 2.5 mm, LPS, off-centre
origin) is written with the package's NRRD writer; the session shows it axial (Red), coronal
(Yellow) and sagittal (Green) with ``EnableSegmentEditor="Y"``, ``SegmentRequired="Y"`` and a
three-label colour file whose values (3, 7, 12) are not Niivue's defaults. The test

* asks for "no contours drawn" (SK915) and honours Cancel, then shows the server's SK912 refusal;
* paints one stroke in the axial view with label 3 and one each in the coronal and sagittal views
  with label 7 (mouse
  down / move with steps / up), with the target voxels mapped to canvas pixels by Niivue itself;
* checks the three viewports share one drawing, undo and redo, a filled outline (label 12), an erase
  stroke, hide/show;
* saves, then reads the ``-quizlabel.nrrd``: same grid as the background, labels from the colour file,
  painted voxels where the strokes went (Niivue's pen leaves the end voxel of an open stroke unset);
* draws again, SIGKILLs the server before that save: the saved file is complete and unchanged; after a
  restart the page shows the saved contour again;
* a stroke, a server restart under the open page, then Next: the viewer signs in again and saves the
  stroke before the move; Previous from the next (drawable, empty) page
  asks SK915 and the first page shows the updated contour;
* a third page with ``DisplayLabelMapID`` starts from that contour, its edits are saved to its own file;
  after Finish the contour is shown read-only, without tools.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io import read_nrrd, write_nrrd
from tests.browser._pages import TIMEOUT_MS, open_and_sign_in

pytestmark = pytest.mark.browser

SHAPE = (12, 40, 48)  # slice, row, column
SPACING = (2.5, 0.9, 0.8)  # mm along slice, row, column
ORIGIN = (-20.5, 13.25, 40.0)  # LPS mm of voxel (0, 0, 0)

SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session ROIColorFile="labels">
  <Page ID="Draw" Descriptor="Outline" EnableSegmentEditor="Y" Layout="TwoOverTwo"
        ContourToolRadius="0.4">
    <Image ID="CT" Type="Volume" SegmentRequired="Y" LabelMapID="organs">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="CT" Type="Volume" SegmentRequired="Y" LabelMapID="organs">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Yellow</DefaultDestination>
      <DefaultOrientation>Coronal</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="CT" Type="Volume" SegmentRequired="Y" LabelMapID="organs">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Green</DefaultDestination>
      <DefaultOrientation>Sagittal</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs1" Descriptor="Outline">
      <Question Type="Radio" Descriptor="Done?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="Second" Descriptor="Again" EnableSegmentEditor="Y" Layout="OneUpRedSlice">
    <Image ID="CT" Type="Volume">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs2" Descriptor="Again">
      <Question Type="Radio" Descriptor="Agree?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="Review" Descriptor="Review" EnableSegmentEditor="Y" Layout="OneUpRedSlice">
    <Image ID="CT" Type="Volume" DisplayLabelMapID="organs">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs3" Descriptor="Review">
      <Question Type="Radio" Descriptor="Fine?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""

COLORS = "# id name r g b a\n3 liver 200 120 40 255\n7 lesion 40 220 90 255\n12 vessel 60 80 240 255\n"


def _affine() -> npt.NDArray[np.float64]:
    """(slice, row, column, 1) -> LPS: columns along L, rows along P, slices along S."""
    affine = np.zeros((4, 4))
    affine[0, 2], affine[1, 1], affine[2, 0] = SPACING[2], SPACING[1], SPACING[0]
    affine[:3, 3] = ORIGIN
    affine[3, 3] = 1.0
    return affine


def _write_session(folder: Path) -> Path:
    grid = ImageGrid(SHAPE, _affine())
    s, r, c = np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij")
    array = (10 * c + 3 * r + 40 * s).astype(np.int16)  # no symmetry along any axis
    write_nrrd(Volume(array, grid, None, "phantom"), folder / "phantom.nrrd")
    (folder / "labels.txt").write_text(COLORS)
    session = folder / "contour_session.xml"
    session.write_text(SESSION_XML)
    return session


def _sign_in(browser: Any, url: str) -> Any:
    return open_and_sign_in(browser, url, "reader01", width=1400, height=760)


def _wait_drawing(page: Any, instance: str) -> None:
    page.wait_for_function(
        f"window.sessionkitDrawing.state.loaded === {instance!r} && !window.sessionkit.state.busy",
        timeout=TIMEOUT_MS,
    )


def _voxel_to_screen(page: Any, destination: str, voxel: tuple[float, float, float]) -> tuple[float, float]:
    """Page (CSS px) position of voxel ``(slice, row, column)`` in one viewport, which is first moved
    to that voxel's slice. The voxel's LPS centre goes through Niivue's own mm2frac / frac2canvasPos."""
    lps = _affine() @ np.array([*voxel, 1.0])
    ras = [-float(lps[0]), -float(lps[1]), float(lps[2])]
    xy = page.evaluate(
        """([destination, ras]) => {
            const view = window.sessionkit.state.views.find((v) => v.destination === destination);
            const nv = view.nv;
            const frac = nv.mm2frac(ras);
            nv.scene.crosshairPos = frac;
            nv.drawScene();
            const pos = nv.frac2canvasPos(frac);
            const rect = nv.canvas.getBoundingClientRect();
            return [rect.left + pos[0] / nv.uiData.dpr, rect.top + pos[1] / nv.uiData.dpr];
        }""",
        [destination, ras],
    )
    return float(xy[0]), float(xy[1])


def _stroke(page: Any, destination: str, start: tuple[int, int, int], end: tuple[int, int, int]) -> None:
    x0, y0 = _voxel_to_screen(page, destination, start)
    x1, y1 = _voxel_to_screen(page, destination, end)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=12)
    page.mouse.up()


def _line(start: tuple[int, int, int], end: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """Voxels of an axis-parallel segment from ``start`` to ``end`` inclusive."""
    axis = next(i for i in range(3) if start[i] != end[i])
    step = 1 if end[axis] > start[axis] else -1
    voxels = []
    for value in range(start[axis], end[axis] + step, step):
        voxel = list(start)
        voxel[axis] = value
        voxels.append((voxel[0], voxel[1], voxel[2]))
    return voxels


def _assert_stroke(labels: npt.NDArray[Any], value: int, *lines: list[tuple[int, int, int]]) -> None:
    """Every voxel of each line but possibly its end has ``value``, and nothing else has it."""
    painted = {(int(s), int(r), int(c)) for s, r, c in zip(*np.nonzero(labels == value), strict=True)}
    expected = {voxel for line in lines for voxel in line}
    required = {voxel for line in lines for voxel in line[:-1]}
    assert required <= painted, sorted(required - painted)
    assert painted <= expected, sorted(painted - expected)


def _drawn_count(page: Any, value: int) -> int:
    return int(
        page.evaluate(
            """(value) => {
                const nv = window.sessionkit.state.views[0].nv;
                return nv.drawBitmap.reduce((n, v) => n + (v === value ? 1 : 0), 0);
            }""",
            value,
        )
    )


def _render_block(page: Any, first: tuple[int, int, int], last: tuple[int, int, int]) -> npt.NDArray[np.int16]:
    """RGB pixels the Red (axial) viewport renders over voxels ``first``..``last`` of one slice.

    The crosshair is moved to voxel (slice, 30, 40), outside the block, so its lines do not cross
    it; the pixels are read with ``gl.readPixels`` right after ``drawScene`` (same task).
    """
    corners = [
        [-float(v) if i < 2 else float(v) for i, v in enumerate((_affine() @ [*c, 1.0])[:3])] for c in (first, last)
    ]
    cross = [-float(v) if i < 2 else float(v) for i, v in enumerate((_affine() @ [first[0], 30, 40, 1.0])[:3])]
    pixels = page.evaluate(
        """([a, b, cross]) => {
            const nv = window.sessionkit.state.views.find((v) => v.destination === "Red").nv;
            nv.scene.crosshairPos = nv.mm2frac(cross);
            nv.drawScene();
            const pa = nv.frac2canvasPos(nv.mm2frac(a));
            const pb = nv.frac2canvasPos(nv.mm2frac(b));
            const x = Math.round(Math.min(pa[0], pb[0])), y = Math.round(Math.min(pa[1], pb[1]));
            const w = Math.round(Math.abs(pb[0] - pa[0])) + 1, h = Math.round(Math.abs(pb[1] - pa[1])) + 1;
            const gl = nv.gl;
            const out = new Uint8Array(w * h * 4);
            gl.readPixels(x, nv.canvas.height - y - h, w, h, gl.RGBA, gl.UNSIGNED_BYTE, out);
            return [w, h, Array.from(out)];
        }""",
        [corners[0], corners[1], cross],
    )
    width, height, data = pixels
    return np.array(data, dtype=np.int16).reshape(height, width, 4)[..., :3]


def _save(page: Any) -> None:
    page.evaluate("window.sessionkitDrawing.saveNow()")
    page.wait_for_selector("#contour-saved[data-state='saved']", timeout=TIMEOUT_MS)


def test_strokes_saved_on_the_background_grid(browser: Any, start_server: Any, tmp_path: Path) -> None:
    session = _write_session(tmp_path)
    out = tmp_path / "results"
    server = start_server(out, session=session, images_root=tmp_path)
    page = _sign_in(browser, server.url)
    started = time.monotonic()
    _wait_drawing(page, "Draw")
    timings = {"first page with drawing": time.monotonic() - started}

    # The server's colour table and radius reach the tools: label 3 first, radius 0.4 mm -> 1 voxel.
    assert page.locator("#segment-list .segment").count() == 3
    assert "3 liver" in page.text_content("#segment-list")
    assert page.evaluate("window.sessionkitDrawing.penSize()") == 1
    assert "Ctrl+Z" in page.text_content("#drawing-tools")

    # SK915: nothing drawn -> confirmation; Cancel keeps the reader here without a request.
    page.click("#next-button")
    page.wait_for_selector("#confirm-dialog[open]")
    assert "No contours drawn" in page.text_content("#confirm-text")
    page.click("#confirm-cancel")
    page.wait_for_function("!window.sessionkit.state.busy")
    assert page.evaluate("window.sessionkit.state.current.page_index") == 1
    events = [json.loads(line) for line in next(out.rglob("events.jsonl")).read_text().splitlines()]
    assert {"code": "SK915", "answer": "cancel", "transition": "next"}.items() <= events[-1].items()
    # Continue anyway: the server refuses (SK912, SegmentRequired) and names the image.
    page.check("#q1-o1")
    page.click("#next-button")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.wait_for_function("document.getElementById('message').textContent.length > 0")
    message = page.text_content("#message")
    assert "CT" in message and "contour" in message, message
    assert page.evaluate("window.sessionkit.lastError.code") == "SK912"

    # Stroke 1: axial (Red), label 3, along a row of slice 5.
    axial = ((5, 10, 8), (5, 10, 30))
    _stroke(page, "Red", *axial)
    # Stroke 2: coronal (Yellow), label 7 (key "2"), across slices at row 20, column 15.
    page.keyboard.press("2")
    coronal = ((2, 20, 15), (9, 20, 15))
    _stroke(page, "Yellow", *coronal)
    # Stroke 3: sagittal (Green), label 7, along the rows of slice 1 at column 40.
    sagittal = ((1, 5, 40), (1, 35, 40))
    _stroke(page, "Green", *sagittal)
    shared = "window.sessionkit.state.views.every((w, _, v) => w.nv.drawBitmap === v[0].nv.drawBitmap)"
    assert page.evaluate(shared), "all viewports show one drawing"
    painted7 = _drawn_count(page, 7)
    assert painted7 >= len(_line(*coronal)) + len(_line(*sagittal)) - 2
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert _drawn_count(page, 7) == 0
    page.keyboard.press("Control+y")
    page.keyboard.press("Control+y")
    assert _drawn_count(page, 7) == painted7
    assert page.text_content("#contour-saved") == "Contour not saved yet"

    # Fill (F) with label 12 (key "3"): a closed outline on axial slice 8 is filled on release: the
    # voxel centres inside the traced rectangle, rows 5-15 and columns 5-20 (test_fill.py: the rule).
    page.keyboard.press("3")
    page.keyboard.press("f")
    corners = [(8, 4.5, 4.5), (8, 4.5, 20.5), (8, 15.5, 20.5), (8, 15.5, 4.5), (8, 4.5, 4.5)]
    points = [_voxel_to_screen(page, "Red", corner) for corner in corners]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=8)
    page.mouse.up()
    # Erase (E) across the label-3 row at column 12.
    page.keyboard.press("e")
    _stroke(page, "Red", (5, 8, 12), (5, 12, 12))
    page.keyboard.press("p")
    # H hides the drawing (opacity 0) and shows it again; the session's ContourVisibility is absent,
    # so Outline (D1): a nearly transparent interior and opaque rims.
    box = ((8, 4, 4), (8, 16, 21))  # the filled rectangle (label 12, rows 5-15, columns 5-20) and a voxel around
    page.keyboard.press("h")
    assert page.evaluate("window.sessionkit.state.views.every((v) => v.nv.drawOpacity === 0)")
    hidden = _render_block(page, *box)
    page.keyboard.press("h")
    assert page.evaluate(
        "window.sessionkit.state.views.every((v) => v.nv.drawOpacity > 0 && v.nv.drawOpacity < 0.01 "
        "&& v.nv.drawRimOpacity > 0.5)"
    )
    outline = np.abs(_render_block(page, *box) - hidden).max(axis=2) > 24
    # O switches to fill: the whole rectangle is coloured; in outline mode only its border was.
    page.keyboard.press("o")
    assert page.evaluate(
        "window.sessionkit.state.views.every((v) => v.nv.drawOpacity > 0.5 && v.nv.drawRimOpacity < 0)"
    )
    full = _render_block(page, *box)
    filled = np.abs(full - hidden).max(axis=2) > 24
    assert 0.6 < filled.mean() < 0.9, filled.mean()  # 11 x 16 of 13 x 18 voxel centres apart
    assert 0 < outline.sum() < 0.5 * filled.sum(), (outline.sum(), filled.sum())
    assert not outline[
        outline.shape[0] // 2 - 2 : outline.shape[0] // 2 + 3, outline.shape[1] // 2 - 2 : outline.shape[1] // 2 + 3
    ].any()
    # Per-segment opacity (the alpha of the label's draw-colormap entry): vessel (12) at 0.5 blends half-way.
    page.locator("#segment-list .segment[data-value='12'] .segment-opacity").fill("0.5")
    half = _render_block(page, *box)
    middle = (
        slice(half.shape[0] // 2 - 2, half.shape[0] // 2 + 3),
        slice(half.shape[1] // 2 - 2, half.shape[1] // 2 + 3),
    )
    ratio = np.abs(half[middle] - hidden[middle]).sum() / np.abs(full[middle] - hidden[middle]).sum()
    assert 0.35 < ratio < 0.65, ratio
    assert _drawn_count(page, 12) == 11 * 16  # display only: the drawing itself is unchanged
    print(
        "display (pixels changed, outline vs fill; half-opacity ratio):", int(outline.sum()), int(filled.sum()), ratio
    )
    page.locator("#segment-list .segment[data-value='12'] .segment-opacity").fill("1")
    page.keyboard.press("o")

    started = time.monotonic()
    _save(page)
    timings["save acknowledged"] = time.monotonic() - started
    assert page.text_content("#contour-saved").startswith("Contour saved ")

    [saved] = list(out.rglob("*-quizlabel.nrrd"))
    assert saved.name == "Draw_CT-quizlabel.nrrd"
    labels = read_nrrd(saved)
    background = read_nrrd(tmp_path / "phantom.nrrd")
    assert labels.grid.spatial_shape == background.grid.spatial_shape == SHAPE
    assert np.array_equal(labels.grid.affine, background.grid.affine)
    assert set(np.unique(labels.array).tolist()) == {0, 3, 7, 12}
    axial_voxels = _line(*axial)
    assert labels.array[5, 10, 12] == 0  # erased
    labels_3 = labels.array.copy()
    labels_3[5, 10, 12] = 3
    _assert_stroke(labels_3, 3, axial_voxels)
    _assert_stroke(labels.array, 7, _line(*coronal), _line(*sagittal))
    filled = {(int(s), int(r), int(c)) for s, r, c in zip(*np.nonzero(labels.array == 12), strict=True)}
    assert filled == {(8, r, c) for r in range(5, 16) for c in range(5, 21)}
    log = saved.parent.parent / ".sessionkit" / "annotations.csv"
    rows = list(csv.DictReader(log.read_text().splitlines()))
    assert rows[-1]["sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()

    # A third stroke, then the server dies before it is saved: the first save stays complete.
    first_bytes = saved.read_bytes()
    page.keyboard.press("1")
    _stroke(page, "Red", (7, 30, 10), (7, 30, 40))
    server.kill()
    assert saved.read_bytes() == first_bytes
    assert np.array_equal(read_nrrd(saved).array, labels.array)
    assert not list(saved.parent.glob(".*.tmp"))

    # Restart; the revisit shows the saved contour (not the unsaved stroke).
    server = start_server(out, port=server.port, session=session, images_root=tmp_path)
    page.reload()
    _wait_drawing(page, "Draw")
    for value in (3, 7, 12):
        assert _drawn_count(page, value) == int((labels.array == value).sum()), value

    # Next saves the drawing before moving (SK912 now met); the second page asks SK915 on Previous.
    page.keyboard.press("2")
    late = ((7, 30, 10), (7, 30, 40))
    _stroke(page, "Red", *late)
    page.check("#q1-o1")
    # The server restarts under the open page: Next signs in again, saves the drawing, then moves.
    server.kill()
    start_server(out, port=server.port, session=session, images_root=tmp_path)
    page.click("#next-button")
    _wait_drawing(page, "Second")
    assert page.get_attribute("#contour-saved", "data-state") == "saved"
    updated = read_nrrd(saved).array
    new_voxels = np.where(updated != labels.array, updated, 0)
    assert set(np.unique(new_voxels).tolist()) == {0, 7}
    _assert_stroke(new_voxels, 7, _line(*late))
    page.click("#previous-button")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    _wait_drawing(page, "Draw")
    for value in (3, 7, 12):
        assert _drawn_count(page, value) == int((updated == value).sum()), value

    # Page 3 (DisplayLabelMapID) starts from page 1's contour; edits there leave page 1's file alone.
    page.click("#next-button")
    _wait_drawing(page, "Second")
    page.check("#q1-o1")
    page.click("#next-button")
    page.wait_for_selector("#confirm-dialog[open]")  # SK915 on the empty second page
    page.click("#confirm-ok")
    _wait_drawing(page, "Review")
    for value in (3, 7, 12):
        assert _drawn_count(page, value) == int((updated == value).sum()), value
    # No ContourToolRadius here: IQ's default 15 x (half the smallest spacing) = 6 mm -> 15 voxels;
    # "[" narrows it by half a spacing per press, down to one voxel.
    assert page.evaluate("window.sessionkitDrawing.penSize()") == 15
    for _ in range(20):
        page.keyboard.press("[")
    assert page.evaluate("window.sessionkitDrawing.penSize()") == 1
    page.keyboard.press("1")
    _stroke(page, "Red", (3, 2, 2), (3, 2, 12))
    _save(page)
    review = next(out.rglob("Review_CT-quizlabel.nrrd"))
    edits = np.where(read_nrrd(review).array != updated, read_nrrd(review).array, 0)
    _assert_stroke(edits, 3, _line((3, 2, 2), (3, 2, 12)))
    assert np.array_equal(read_nrrd(saved).array, updated)

    # Finish: the run is locked; the contour stays visible, the tools are gone.
    page.check("#q1-o1")
    page.click("#finish-button")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.wait_for_function("window.sessionkit.state.current.complete && !window.sessionkit.state.busy")
    page.wait_for_function("document.querySelector('#drawing-tools h3').textContent === 'Contour (read-only)'")
    assert page.locator("#tool-paint").count() == 0
    assert not page.evaluate("window.sessionkit.state.views[0].nv.opts.drawingEnabled")
    assert _drawn_count(page, 3) == int((read_nrrd(review).array == 3).sum())
    print("timings (s):", {k: round(v, 2) for k, v in timings.items()})


LOOP_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session ROIColorFile="labels">
  <Page ID="Lesion" Descriptor="Each lesion" EnableSegmentEditor="Y" Loop="Y" Layout="OneUpRedSlice"
        ContourToolRadius="0.4">
    <Image ID="CT" Type="Volume">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs1" Descriptor="Lesion">
      <Question Type="Radio" Descriptor="Solid?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="End" Descriptor="End">
    <QuestionSet ID="qs2" Descriptor="End">
      <Question Type="Radio" Descriptor="Done?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""


def test_each_repetition_has_its_own_drawing(browser: Any, start_server: Any, tmp_path: Path) -> None:
    """Repeat keeps the viewports but starts an empty drawing for the new instance; each instance's
    file holds its own strokes only, and going back shows the right one."""
    session = _write_session(tmp_path)
    session.write_text(LOOP_XML)
    out = tmp_path / "results"
    server = start_server(out, session=session, images_root=tmp_path)
    page = _sign_in(browser, server.url)
    _wait_drawing(page, "Lesion")
    first = ((4, 6, 5), (4, 6, 25))
    _stroke(page, "Red", *first)
    page.check("#q1-o1")
    page.click("#repeat-button")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    _wait_drawing(page, "Lesion-Rep1")
    assert _drawn_count(page, 3) == 0
    second = ((6, 30, 10), (6, 30, 40))
    _stroke(page, "Red", *second)
    page.check("#q1-o1")
    page.click("#next-button")
    page.click("#confirm-ok")  # "repeat this page or continue?" (reading-flow §4): Continue
    page.wait_for_function("window.sessionkit.state.current.page_id === 'End' && !window.sessionkit.state.busy")
    page.wait_for_selector("#drawing-tools", state="hidden")  # no segment editor on this page

    files = {path.name: read_nrrd(path).array for path in out.rglob("*-quizlabel.nrrd")}
    assert sorted(files) == ["Lesion-Rep1_CT-quizlabel.nrrd", "Lesion_CT-quizlabel.nrrd"]
    _assert_stroke(files["Lesion_CT-quizlabel.nrrd"], 3, _line(*first))
    _assert_stroke(files["Lesion-Rep1_CT-quizlabel.nrrd"], 3, _line(*second))

    page.click("#previous-button")
    _wait_drawing(page, "Lesion-Rep1")
    assert _drawn_count(page, 3) == int((files["Lesion-Rep1_CT-quizlabel.nrrd"] == 3).sum())

    # A saved contour the server cannot read is not replaced by a new one: drawing stays off.
    page.check("#q1-o1")
    page.click("#next-button")
    page.wait_for_selector("#drawing-tools", state="hidden")
    damaged = next(out.rglob("Lesion-Rep1_CT-quizlabel.nrrd"))
    damaged.write_bytes(b"NRRD0004\nnot a label map\n")
    page.click("#previous-button")
    _wait_drawing(page, "Lesion-Rep1")
    assert "Saved contour not loaded" in page.text_content("#contour-saved")
    assert page.text_content("#drawing-tools h3") == "Contour (read-only)"
    assert not page.evaluate("window.sessionkit.state.views[0].nv.opts.drawingEnabled")
