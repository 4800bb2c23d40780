"""Measurement lines in real Chromium at the defaults (issue 17 item 5).

The volume is anisotropic (0.9 x 0.7 x 3.0 mm) and oblique: its rows and columns are turned 25° about
the S axis, so Niivue's RAS grid flips both in-plane axes and its display (``frac2mm``) drops the
rotation; LPS must come from the true affine. The page sets ``MinMarkupLinesRequired="1"`` and no
segment editor. The test

* presses Next: refused (SK913), where there was no tool before;
* presses L and clicks two voxel centres: the length in mm is listed and drawn over the image, the
  ``.mrk.json`` holds the two voxel centres' LPS positions (the writer's affine) and the row in
  ``annotations.csv`` its SHA-256 and length;
* drags one end to another voxel: the file follows;
* a second line is deleted again (file removed, ``line_deleted`` logged);
* Next is accepted; Previous shows the line again, read-only; ``export --format lines`` matches the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io import write_nrrd
from tests.browser._pages import TIMEOUT_MS, open_and_sign_in, screen_point, wait_page

pytestmark = pytest.mark.browser

SHAPE = (10, 36, 40)  # slice, row, column
SPACING = (3.0, 0.7, 0.9)  # mm
ANGLE = math.radians(25.0)

SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="Measure" Descriptor="Measure">
    <Image ID="CT" Type="Volume" MinMarkupLinesRequired="1">
      <Path>oblique.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs1" Descriptor="Measure">
      <Question Type="Radio" Descriptor="Done?">
        <Option>Yes</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="After" Descriptor="After">
    <Image ID="CT" Type="Volume">
      <Path>oblique.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs2" Descriptor="After">
      <Question Type="Radio" Descriptor="Fine?">
        <Option>Yes</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""


def _affine() -> npt.NDArray[np.float64]:
    """(slice, row, column, 1) -> LPS: columns and rows turned 25° about S."""
    c, s = math.cos(ANGLE), math.sin(ANGLE)
    affine = np.eye(4)
    affine[:3, 2] = SPACING[2] * np.array([c, s, 0.0])
    affine[:3, 1] = SPACING[1] * np.array([-s, c, 0.0])
    affine[:3, 0] = SPACING[0] * np.array([0.0, 0.0, 1.0])
    affine[:3, 3] = (-12.0, 30.5, -44.0)
    return affine


def _lps(voxel: tuple[int, int, int]) -> npt.NDArray[np.float64]:
    return (_affine() @ np.array([*voxel, 1.0]))[:3]


def _screen(page: Any, voxel: tuple[int, int, int]) -> tuple[float, float]:
    """Page (CSS px) position of file voxel ``(slice, row, column)``; the view is moved to its slice.

    Niivue's RAS grid of this volume flips columns and rows (``permRAS`` [-1, -2, 3], checked)."""
    to_frac = """(nv, [s, r, c]) => {
        const back = nv.back;
        if (back.permRAS.join() !== "-1,-2,3") throw new Error("permRAS " + back.permRAS);
        return nv.vox2frac([back.dimsRAS[1] - 1 - c, back.dimsRAS[2] - 1 - r, s]);
    }"""
    return screen_point(page, to_frac, list(voxel))


def _listed(page: Any) -> list[float]:
    """Lengths (mm) the panel lists, from its "CT · line 1: 22.3 mm" texts."""
    texts = page.locator("#line-list .line-length").all_text_contents()
    return [float(re.search(r"line \d+: ([0-9.]+) mm", text).group(1)) for text in texts]  # type: ignore[union-attr]


def _settled(page: Any) -> None:
    page.evaluate("window.sessionkitLines.flush()")


def _overlay_pixels(page: Any) -> int:
    """Pixels of the line colour on the Red viewport's line overlay."""
    return int(
        page.evaluate(
            """() => {
                const canvas = document.querySelector("#view-Red ~ .line-overlay");
                const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                let n = 0;
                for (let i = 0; i < data.length; i += 4) {
                    if (data[i] > 200 && data[i + 1] > 170 && data[i + 2] < 120) n++;
                }
                return n;
            }"""
        )
    )


def test_two_clicks_make_a_saved_line_in_lps(browser: Any, start_server: Any, tmp_path: Path) -> None:
    grid = ImageGrid(SHAPE, _affine())
    s, r, c = np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij")
    write_nrrd(Volume((5 * c + 3 * r + 20 * s).astype(np.int16), grid, None, "oblique"), tmp_path / "oblique.nrrd")
    session = tmp_path / "lines.xml"
    session.write_text(SESSION_XML)
    out = tmp_path / "results"
    server = start_server(out, session=session, images_root=tmp_path)
    page = open_and_sign_in(browser, server.url, "reader01", width=1400, height=800)
    wait_page(page, 1)
    page.wait_for_function("window.sessionkitLines.state.loaded === 'Measure'", timeout=TIMEOUT_MS)

    # Before any line: Next is refused (SK913) and says why.
    page.check("#q1-o1")
    page.click("#next-button")
    page.wait_for_function("document.getElementById('message').textContent.length > 0")
    assert "measurement lines" in page.text_content("#message")

    # The viewer's voxel -> LPS mapping is the writer's affine (float32 in the NIfTI header it gets).
    corners = [(0, 0, 0), (9, 35, 39), (5, 8, 10), (2, 30, 3)]
    mapped = page.evaluate(
        """(voxels) => {
            const nv = window.sessionkit.state.views[0].nv;
            const d = nv.back.dimsRAS;
            return voxels.map(([s, r, c]) => window.sessionkitLines.vox2lps(nv, [d[1] - 1 - c, d[2] - 1 - r, s]));
        }""",
        corners,
    )
    assert np.abs(np.array(mapped) - np.array([_lps(v) for v in corners])).max() < 1e-3

    start, end = (5, 8, 10), (5, 25, 31)
    page.keyboard.press("l")
    assert page.get_attribute("#tool-line", "aria-pressed") == "true"
    page.mouse.click(*_screen(page, start))
    page.mouse.click(*_screen(page, end))
    page.wait_for_function("window.sessionkitLines.state.data.lines.length === 1", timeout=TIMEOUT_MS)
    _settled(page)
    expected = np.array([_lps(start), _lps(end)])
    length = float(np.linalg.norm(expected[1] - expected[0]))
    assert _listed(page) == pytest.approx([length], abs=0.15)
    page.wait_for_function("window.sessionkitLines.state.views.every((e) => e.signature)")
    assert _overlay_pixels(page) > 30  # the line, its ends and the length text are drawn

    [saved] = list(out.rglob("*.mrk.json"))
    assert saved.name == "Measure_CT_MarkupsLine_quizline.mrk.json"
    [markup] = json.loads(saved.read_text())["markups"]
    assert (markup["type"], markup["coordinateSystem"]) == ("Line", "LPS")
    points = np.array([p["position"] for p in markup["controlPoints"]])
    print("line end error (mm):", np.abs(points - expected).max(), "length", length)
    assert np.abs(points - expected).max() < 0.15  # Chrome's mouse events have whole pixels (~0.08 mm here)
    assert points[0, 2] == pytest.approx(expected[0, 2], abs=1e-4)  # on the slice plane exactly
    rows = list(csv.DictReader((saved.parents[1] / ".sessionkit" / "annotations.csv").read_text().splitlines()))
    assert rows[-1]["kind"] == "line" and rows[-1]["sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert float(rows[-1]["length_mm"]) == pytest.approx(length, abs=0.15)

    # Drag the second end to another voxel: the file follows.
    moved = (5, 20, 35)
    target = _screen(page, moved)
    page.mouse.move(*_screen(page, end))
    page.mouse.down()
    page.mouse.move(*target, steps=6)
    page.mouse.up()
    _settled(page)
    points = np.array([p["position"] for p in json.loads(saved.read_text())["markups"][0]["controlPoints"]])
    assert np.abs(points[1] - _lps(moved)).max() < 0.15 and np.abs(points[0] - expected[0]).max() < 0.15

    # A second line, deleted again: its file goes, its deletion is logged.
    page.mouse.click(*_screen(page, (5, 30, 5)))
    page.mouse.click(*_screen(page, (5, 30, 20)))
    page.wait_for_function("window.sessionkitLines.state.data.lines.length === 2", timeout=TIMEOUT_MS)
    _settled(page)
    second = saved.with_name("Measure_CT_MarkupsLine_1_quizline.mrk.json")
    assert second.is_file()
    page.click("#line-list .line-item[data-number='2'] .line-delete")
    page.wait_for_function("window.sessionkitLines.state.data.lines.length === 1", timeout=TIMEOUT_MS)
    _settled(page)
    assert not second.exists() and saved.is_file()
    rows = list(csv.DictReader((saved.parents[1] / ".sessionkit" / "annotations.csv").read_text().splitlines()))
    assert [r["kind"] for r in rows] == ["line", "line", "line", "line_deleted"]

    page.click("#next-button")
    wait_page(page, 2)
    assert page.query_selector("#line-tools") is None  # no line tool on a page without lines
    page.click("#previous-button")
    wait_page(page, 1)
    page.wait_for_function("window.sessionkitLines.state.loaded === 'Measure'", timeout=TIMEOUT_MS)
    moved_length = float(np.linalg.norm(_lps(moved) - expected[0]))
    assert _listed(page) == pytest.approx([moved_length], abs=0.15)
    assert "read-only" in page.text_content("#line-tools h3") and page.query_selector("#tool-line") is None
    page.wait_for_function("window.sessionkitLines.state.views.every((e) => e.signature)")
    assert _overlay_pixels(page) > 30  # shown again on revisit

    result = CliRunner().invoke(main, ["export", str(out), "--format", "lines", "-o", str(tmp_path / "lines.csv")])
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader((tmp_path / "lines.csv").read_text().splitlines()))
    assert (row["reader_id"], row["page_id"], row["image_id"], row["line"]) == ("reader01", "Measure", "CT", "1")
    exported = np.array([float(row[k]) for k in ("x1", "y1", "z1", "x2", "y2", "z2")]).reshape(2, 3)
    assert np.array_equal(exported, points) and float(row["length_mm"]) == pytest.approx(moved_length, abs=0.15)
