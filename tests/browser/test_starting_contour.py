"""Starting contour in real Chromium (issue #7 item 5 and its round-trip test).

Corpus D as shipped in ``sample_sessions/images``: the chest CT (128 x 128 x 34) and its Slicer
``Segmentation.seg.nrrd`` (7 segments on the same grid). ``Image@StartingContourID`` names the
segmentation; the page opens with it as the editable drawing (the drawBitmap holds every source voxel),
the reader paints one stroke and saves, and the saved ``-quizlabel.nrrd`` equals the source everywhere
except on the stroke.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sessionkit.imaging import Segmentation
from sessionkit.io import read_image, read_nrrd
from tests.browser.test_contouring import _line, _save, _sign_in, _wait_drawing

pytestmark = pytest.mark.browser

IMAGES_ROOT = Path(__file__).resolve().parent.parent.parent / "sample_sessions"
SOURCE = IMAGES_ROOT / "images" / "Segmentation.seg.nrrd"
BACKGROUND = IMAGES_ROOT / "images" / "CTChest4.nrrd"
#: The segments' own values and names (spaces written as "_", matched as spaces).
COLORS = """# id name r g b a
1 ribs 253 232 158 255
2 cervical_vertebral_column 255 255 207 255
3 thoracic_vertebral_column 226 202 134 255
4 lumbar_vertebral_column 212 188 102 255
5 right_lung 22 197 71 255
6 left_lung 197 25 99 255
7 tissue 128 174 128 255
"""
SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session ROIColorFile="organs" ContourVisibility="Fill">
  <Page ID="Edit" Descriptor="Correct the organs" EnableSegmentEditor="Y" Layout="OneUpRedSlice"
        ContourToolRadius="1">
    <Image ID="CT" Type="Volume" StartingContourID="Auto">
      <Path>images/CTChest4.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="Auto" Type="Segmentation">
      <Path>images/Segmentation.seg.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="None"/>
    </Image>
    <QuestionSet ID="qs" Descriptor="Edit">
      <Question Type="Radio" Descriptor="Done?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""


def _bitmap_counts(page: Any) -> dict[int, int]:
    counts = page.evaluate(
        """() => {
            const bitmap = window.sessionkit.state.views[0].nv.drawBitmap;
            const counts = {};
            for (const v of bitmap) if (v) counts[v] = (counts[v] || 0) + 1;
            return counts;
        }"""
    )
    return {int(k): int(v) for k, v in counts.items()}


def _stroke(page: Any, affine: np.ndarray, start: tuple[int, int, int], end: tuple[int, int, int]) -> None:
    """Mouse stroke in the Red viewport between two voxel centres, mapped by Niivue's mm2frac/frac2canvasPos."""
    points = []
    for voxel in (start, end):
        lps = affine @ np.array([*voxel, 1.0])
        ras = [-float(lps[0]), -float(lps[1]), float(lps[2])]
        xy = page.evaluate(
            """(ras) => {
                const nv = window.sessionkit.state.views[0].nv;
                const frac = nv.mm2frac(ras);
                nv.scene.crosshairPos = frac;
                nv.drawScene();
                const pos = nv.frac2canvasPos(frac);
                const rect = nv.canvas.getBoundingClientRect();
                return [rect.left + pos[0] / nv.uiData.dpr, rect.top + pos[1] / nv.uiData.dpr];
            }""",
            ras,
        )
        points.append((float(xy[0]), float(xy[1])))
    page.mouse.move(*points[0])
    page.mouse.down()
    page.mouse.move(*points[1], steps=20)
    page.mouse.up()


def test_page_opens_with_the_starting_contour_and_saves_edits_only(
    browser: Any, start_server: Any, tmp_path: Path
) -> None:
    (tmp_path / "session.xml").write_text(SESSION_XML)
    (tmp_path / "organs.txt").write_text(COLORS)
    source = read_image(SOURCE)
    assert isinstance(source, Segmentation)
    expected = np.asarray(source.layers[0])
    out = tmp_path / "results"
    server = start_server(out, session=tmp_path / "session.xml", images_root=IMAGES_ROOT)
    page = _sign_in(browser, server.url)
    _wait_drawing(page, "Edit")

    # The starting contour is drawn: every source voxel, per label, in the editable bitmap; nothing saved.
    values, counts = np.unique(expected[expected > 0], return_counts=True)
    assert _bitmap_counts(page) == dict(zip(values.tolist(), counts.tolist(), strict=True))
    assert sum(counts) > 200_000
    assert not list(out.rglob("*-quizlabel.nrrd"))
    assert page.evaluate("window.sessionkitDrawing.penSize()") == 1
    assert page.evaluate("window.sessionkit.state.views[0].nv.drawRimOpacity") < 0  # ContourVisibility="Fill"

    # One stroke with segment 3 along row 64 of slice 17, then save.
    page.keyboard.press("3")
    line = _line((17, 64, 20), (17, 64, 100))
    _stroke(page, read_image(BACKGROUND).grid.affine, line[0], line[-1])
    _save(page)
    [saved_path] = list(out.rglob("*-quizlabel.nrrd"))
    saved = read_nrrd(saved_path)
    assert np.array_equal(saved.grid.affine, read_image(BACKGROUND).grid.affine)
    changed = {(int(s), int(r), int(c)) for s, r, c in zip(*np.nonzero(saved.array != expected), strict=True)}
    assert changed <= set(line), sorted(changed - set(line))[:5]  # unedited voxels identical to the source
    assert all(saved.array[v] == 3 for v in line[:-1])  # Niivue's pen may leave the end voxel unset
    assert changed, "the stroke crossed voxels of other segments"

    # Revisit (reload): the reader's saved map is shown, not the starting contour again.
    page.reload()
    _wait_drawing(page, "Edit")
    values, counts = np.unique(saved.array[saved.array > 0], return_counts=True)
    assert _bitmap_counts(page) == dict(zip(values.tolist(), counts.tolist(), strict=True))
