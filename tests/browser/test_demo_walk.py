"""The demo session read to the end in real Chromium (issue 17 item 6): contour, starting contour, line.

``sample_sessions/demo.xml`` as ``sessionkit demo`` serves it (its images and ``demo_colors.txt``): pages
1-3 are passed with Next; on page 4 the default segment is the colour table's ``nodule`` and a traced
outline is saved; page 5 starts from the Slicer segmentation (``StartingContourID``), in the table's
values; on page 6 Next is refused until a line is drawn with two clicks, then Finish completes the run
with the ``.mrk.json`` and both label maps on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sessionkit.io import read_nrrd
from tests.browser._pages import TIMEOUT_MS, open_and_sign_in, screen_point, wait_page

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def _screen(page: Any, vox: tuple[int, int, int]) -> tuple[float, float]:
    """Page position of voxel ``vox`` of Niivue's RAS grid in the first viewport (moved to its slice)."""
    return screen_point(page, "(nv, vox) => nv.vox2frac(vox)", list(vox))


def _next(page: Any, index: int) -> None:
    page.click("#next-button")
    wait_page(page, index)


def test_demo_contour_starting_contour_and_line(browser: Any, start_server: Any, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    server = start_server(out, session=SAMPLES / "demo.xml", images_root=SAMPLES)
    page = open_and_sign_in(browser, server.url, "demo-reader", width=1400, height=800)
    wait_page(page, 1)
    page.check("#q2-o1")
    page.check("#q3-o4")
    page.fill("#q4-o1", "fine")
    _next(page, 2)
    page.fill("#q1-o1", "4")
    page.fill("#q2-o1", "24.5")
    _next(page, 3)
    page.check("#q1-o1")
    _next(page, 4)

    page.wait_for_function("window.sessionkitDrawing.state.loaded === 'Contour'", timeout=TIMEOUT_MS)
    assert page.locator("#segment-list .segment").first.text_content().startswith("1 nodule")
    page.keyboard.press("f")
    corners = [(60, 60, 17), (75, 60, 17), (75, 72, 17), (60, 72, 17), (60, 60, 17)]
    points = [_screen(page, corner) for corner in corners]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=6)
    page.mouse.up()
    page.check("#q2-o1")
    _next(page, 5)

    page.wait_for_function("window.sessionkitDrawing.state.loaded === 'EditLungs'", timeout=TIMEOUT_MS)
    values = page.evaluate("[...new Set(window.sessionkit.state.views[0].nv.drawBitmap)].sort((a, b) => a - b)")
    assert values == [0, 2, 3, 4, 5, 6, 7, 8]  # the segmentation in the colour table's values (nodule is 1)
    page.check("#q2-o2")
    _next(page, 6)

    page.wait_for_function("window.sessionkitLines.state.loaded === 'Measure'", timeout=TIMEOUT_MS)
    page.fill("#q2-o1", "91.4")
    page.click("#finish-button")  # the last page: Finish, refused without a line
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.wait_for_function("document.getElementById('message').textContent.includes('measurement lines')")
    page.keyboard.press("l")
    page.mouse.click(*_screen(page, (30, 64, 17)))
    page.mouse.click(*_screen(page, (60, 64, 17)))
    page.wait_for_function("window.sessionkitLines.state.data.lines.length === 1", timeout=TIMEOUT_MS)
    assert " mm" in page.text_content("#line-list")
    page.click("#finish-button")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.wait_for_function("window.sessionkit.state.current && window.sessionkit.state.current.complete")

    run = out / "demo-reader" / "demo"
    [line] = list(run.rglob("*.mrk.json"))
    assert line.name == "Measure_CT_MarkupsLine_quizline.mrk.json"
    nodule = read_nrrd(next(run.rglob("Contour_CT-quizlabel.nrrd"))).array
    assert (nodule == 1).sum() > 50 and set(nodule.ravel().tolist()) == {0, 1}
    assert next(run.rglob("EditLungs_CT-quizlabel.nrrd"), None) is None  # not edited: nothing saved
