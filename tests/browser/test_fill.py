"""Fill fills the polygon the pointer traced, at the default brush, in real Chromium (issue 17 item 4).

Niivue's filled pen paints the traced outline with the brush and fills inside that painted outline, so
with the default 15-voxel brush an 11 x 8-voxel outline was saved as 26 x 23 voxels. The page here sets
no ``ContourToolRadius`` (the default brush a reader meets). A rectangle is traced in the axial view and
a triangle in the coronal view of an anisotropic volume (0.8 x 0.9 x 2.5 mm); the saved
``-quizlabel.nrrd`` must hold exactly the voxels whose centres lie inside each traced polygon, as
:func:`sessionkit.io.rtstruct.fill_polygons` (the RTSTRUCT rule) computes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io import read_nrrd, write_nrrd
from sessionkit.io.rtstruct import fill_polygons
from tests.browser._pages import TIMEOUT_MS, open_and_sign_in, screen_point

pytestmark = pytest.mark.browser

SHAPE = (12, 40, 48)  # slice, row, column
SPACING = (2.5, 0.9, 0.8)  # mm along slice, row, column
ORIGIN = (-20.5, 13.25, 40.0)

SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session ROIColorFile="labels">
  <Page ID="Fill" Descriptor="Fill" EnableSegmentEditor="Y" Layout="SideBySideRedYellow">
    <Image ID="CT" Type="Volume">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="CT" Type="Volume">
      <Path>phantom.nrrd</Path>
      <DefaultDestination>Yellow</DefaultDestination>
      <DefaultOrientation>Coronal</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs1" Descriptor="Fill">
      <Question Type="Radio" Descriptor="Done?">
        <Option>Yes</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""

COLORS = "# id name r g b a\n3 liver 200 120 40 255\n7 lesion 40 220 90 255\n"

#: Axial slice 6: an 11 x 8-voxel rectangle, rows 5-15 and columns 5-12 (corners between voxel centres).
AXIAL = [(4.5, 4.5), (4.5, 12.5), (15.5, 12.5), (15.5, 4.5)]  # (row, column)
#: Coronal plane at row 30: a triangle over slices and columns whose slanted edges cross each slice
#: half-way between two voxel centres (0.5 voxel from the nearest, several pointer pixels).
CORONAL = [(0.5, 6.5), (8.5, 22.5), (0.5, 38.5)]  # (slice, column)


def _affine() -> npt.NDArray[np.float64]:
    affine = np.zeros((4, 4))
    affine[0, 2], affine[1, 1], affine[2, 0] = SPACING[2], SPACING[1], SPACING[0]
    affine[:3, 3] = ORIGIN
    affine[3, 3] = 1.0
    return affine


def _screen(page: Any, destination: str, voxel: tuple[float, float, float]) -> tuple[float, float]:
    """Page (CSS px) position of the fractional voxel ``(slice, row, column)`` in one viewport."""
    lps = _affine() @ np.array([*voxel, 1.0])
    ras = [-float(lps[0]), -float(lps[1]), float(lps[2])]
    return screen_point(page, "(nv, ras) => nv.mm2frac(ras)", ras, destination)


def _trace(page: Any, destination: str, voxels: list[tuple[float, float, float]]) -> None:
    """Press, move along the closed outline through ``voxels`` (several steps per edge), release."""
    points = [_screen(page, destination, voxel) for voxel in [*voxels, voxels[0]]]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=10)
    page.mouse.up()


def test_fill_is_the_traced_polygon_at_the_default_brush(browser: Any, start_server: Any, tmp_path: Path) -> None:
    grid = ImageGrid(SHAPE, _affine())
    s, r, c = np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij")
    write_nrrd(Volume((10 * c + 3 * r + 40 * s).astype(np.int16), grid, None, "phantom"), tmp_path / "phantom.nrrd")
    (tmp_path / "labels.txt").write_text(COLORS)
    session = tmp_path / "fill.xml"
    session.write_text(SESSION_XML)
    out = tmp_path / "results"
    server = start_server(out, session=session, images_root=tmp_path)
    page = open_and_sign_in(browser, server.url, "reader01", width=1400, height=760)
    page.wait_for_function(
        "window.sessionkitDrawing.state.loaded === 'Fill' && !window.sessionkit.state.busy", timeout=TIMEOUT_MS
    )
    assert page.evaluate("window.sessionkitDrawing.penSize()") == 15  # the default brush (session-format §5)

    page.keyboard.press("f")
    _trace(page, "Red", [(6, row, column) for row, column in AXIAL])
    page.keyboard.press("2")  # lesion (7); the tool stays Fill
    page.keyboard.press("f")
    _trace(page, "Yellow", [(slice_, 30, column) for slice_, column in CORONAL])
    page.evaluate("window.sessionkitDrawing.saveNow()")
    page.wait_for_selector("#contour-saved[data-state='saved']", timeout=TIMEOUT_MS)

    labels = read_nrrd(out.rglob("Fill_CT-quizlabel.nrrd").__next__()).array
    axial = np.zeros(SHAPE, dtype=bool)
    axial[6] = fill_polygons([np.array(AXIAL)], SHAPE[1:])
    coronal = np.zeros(SHAPE, dtype=bool)
    coronal[:, 30, :] = fill_polygons([np.array(CORONAL)], (SHAPE[0], SHAPE[2]))
    assert axial.sum() == 11 * 8
    assert coronal.sum() == 128
    rows, columns = np.nonzero(labels[6] == 3)
    print("axial fill (rows x columns):", np.ptp(rows) + 1, "x", np.ptp(columns) + 1)
    assert np.array_equal(labels == 3, axial)
    assert np.array_equal(labels == 7, coronal), (np.argwhere((labels == 7) != coronal)[:10], coronal.sum())
