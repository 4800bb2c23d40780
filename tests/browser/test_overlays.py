"""What readers see is what the session says, in real Chromium (issue 17 items 1-3).

All on the demo's real images (slicerio's chest CT, 128 x 128 x 34, and its 7-segment Slicer
``.seg.nrrd``), at the defaults a user meets:

- blinding: one page per ``ROIVisibilityCode`` (All, None, Select, Ignore) with ``ContourVisibility``
  absent (Outline) and with ``Fill``, plus the reader's outline/fill toggle: no screen pixel has the
  colour of a hidden segment, while the shown ones are on screen;
- overlays do not hide the image: the default fill is blended at 0.5 over the CT (each tinted pixel is
  (segment colour + CT grey) / 2), the outline opaque, ``h`` shows the image alone, a segment can be
  hidden from the legend, and a changed opacity is back to 0.5 on the next page;
- progress "n of N", the refusal outline cleared by answering, the read-only note, the slice readout
  (checked against the CT's own grid) and FourUp without its 3-D tile.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from sessionkit.imaging import Segmentation
from sessionkit.io import read_image
from tests.browser._pages import TIMEOUT_MS, click_and_wait, open_and_sign_in, wait_page

pytestmark = pytest.mark.browser

IMAGES_ROOT = Path(__file__).resolve().parents[2] / "sample_sessions"
CT = IMAGES_ROOT / "images" / "CTChest4.nrrd"
SEG = IMAGES_ROOT / "images" / "Segmentation.seg.nrrd"

CT_IMAGE = """
    <Image ID="CT" Type="Volume">
      <Path>images/CTChest4.nrrd</Path>
      <DefaultDestination>{destination}</DefaultDestination>
      <DefaultOrientation>{orientation}</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>"""
SEG_IMAGE = """
    <Image ID="Anatomy" Type="Segmentation">
      <Path>images/Segmentation.seg.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      {rois}
    </Image>"""
INFO = """<QuestionSet ID="qs{n}"><Question Type="InfoBox" Descriptor="Look"><Option>Look</Option></Question>
    </QuestionSet>"""
RADIO = """<QuestionSet ID="qs{n}"><Question Type="Radio" Descriptor="Seen?"><Option>Yes</Option><Option>No</Option>
    </Question></QuestionSet>"""

#: ROIs element and the names it shows, one page each.
CODES = [
    ('<ROIs ROIVisibilityCode="All"/>', None),
    ('<ROIs ROIVisibilityCode="None"/>', set()),
    ('<ROIs ROIVisibilityCode="Select"><ROI>right lung</ROI><ROI>left lung</ROI></ROIs>', {"right lung", "left lung"}),
    ('<ROIs ROIVisibilityCode="Ignore"><ROI>tissue</ROI><ROI>ribs</ROI></ROIs>', None),
]


def _segments() -> dict[str, tuple[int, int, int]]:
    segmentation = read_image(SEG)
    assert isinstance(segmentation, Segmentation)
    return {s.name: s.color for s in segmentation.segments}


def _write(folder: Path, name: str, contour: str, pages: list[str]) -> Path:
    path = folder / name
    body = "".join(pages)
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<Session{contour}>{body}\n</Session>\n', encoding="utf-8")
    return path


def _axial_page(n: int, rois: str, questions: str = INFO) -> str:
    return (
        f'<Page ID="P{n}" Descriptor="page {n}" Layout="OneUpRedSlice">'
        f"{CT_IMAGE.format(destination='Red', orientation='Axial')}{SEG_IMAGE.format(rois=rois)}"
        f"{questions.format(n=n)}</Page>"
    )


def _shot(page: Any, destination: str = "Red") -> npt.NDArray[np.int16]:
    """RGB pixels of a viewport's canvas, the slice readout's corner band left out."""
    png = page.locator(f"#view-{destination}").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)[30:]


def _count(shot: npt.NDArray[np.int16], rgb: tuple[int, int, int]) -> int:
    return int(np.all(shot == np.array(rgb), axis=-1).sum())


def _settle(page: Any) -> None:
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_timeout(200)


def _check_blinding(page: Any, shown: set[str], colours: dict[str, tuple[int, int, int]], where: str) -> None:
    shot = _shot(page)
    counts = {name: _count(shot, rgb) for name, rgb in colours.items()}
    hidden = {name: n for name, n in counts.items() if name not in shown and n}
    assert not hidden, f"{where}: hidden segments on screen {hidden}"
    for name in {"right lung", "left lung", "tissue"} & shown:  # all three cross the middle axial slice
        assert counts[name] > 20, f"{where}: shown segment {name!r} not on screen {counts}"


@pytest.mark.parametrize("contour", ["", ' ContourVisibility="Fill"'])
def test_hidden_segments_never_show(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path, contour: str
) -> None:
    colours = _segments()
    everything = set(colours)
    shown_per_page = [everything, set(), {"right lung", "left lung"}, everything - {"tissue", "ribs"}]
    session = _write(tmp_path, "blind.xml", contour, [_axial_page(n, rois) for n, (rois, _) in enumerate(CODES, 1)])
    server = start_server(tmp_path / "runs", session=session, images_root=IMAGES_ROOT)
    page = open_and_sign_in(browser, server.url, "reader01")
    mode = "Fill" if contour else "Outline"
    for index, shown in enumerate(shown_per_page, start=1):
        wait_page(page, index)
        _settle(page)
        assert page.evaluate("window.sessionkitLegend.state.outline") == (mode == "Outline")
        _check_blinding(page, shown, colours, f"page {index} {mode}")
        legend = page.eval_on_selector_all("#legend-list .segment-name", "els => els.map(e => e.textContent)")
        assert set(legend) == shown
        if shown:  # the reader's toggle to the other mode shows no hidden segment either
            page.click("#overlays-outline")
            _settle(page)
            _check_blinding(page, shown, colours, f"page {index} toggled from {mode}")
        if index < len(shown_per_page):
            click_and_wait(page, "#next-button", index + 1)


def _blend_fraction(
    shown: npt.NDArray[np.int16], bare: npt.NDArray[np.int16], colours: list[tuple[int, int, int]]
) -> tuple[int, float]:
    """Pixels the overlay tints (neither the bare CT nor an exact segment colour), and the fraction of them
    equal (within 2 per channel) to (segment colour + CT pixel) / 2 for one of the segment colours."""
    tinted = np.any(shown != bare, axis=-1)
    for rgb in colours:
        tinted &= ~np.all(shown == np.array(rgb), axis=-1)
    if not tinted.any():
        return 0, 0.0
    expected = [(np.array(rgb) + bare[tinted]) / 2 for rgb in colours]
    matches = np.zeros(int(tinted.sum()), dtype=bool)
    for blend in expected:
        matches |= np.all(np.abs(shown[tinted] - blend) <= 2, axis=-1)
    return int(tinted.sum()), float(matches.mean())


def test_overlays_blend_legend_keys_readout_and_panel_notes(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    colours = _segments()
    four_up = (
        '<Page ID="Four" Descriptor="fill" Layout="FourUp">'
        + CT_IMAGE.format(destination="Red", orientation="Axial")
        + CT_IMAGE.format(destination="Yellow", orientation="Sagittal")
        + CT_IMAGE.format(destination="Green", orientation="Coronal")
        + SEG_IMAGE.format(rois='<ROIs ROIVisibilityCode="All"/>')
        + RADIO.format(n=1)
        + "</Page>"
    )
    lungs = _axial_page(2, '<ROIs ROIVisibilityCode="Select"><ROI>right lung</ROI></ROIs>')
    session = _write(tmp_path, "ui.xml", ' ContourVisibility="Fill"', [four_up, lungs])
    server = start_server(tmp_path / "runs", session=session, images_root=IMAGES_ROOT)
    page = open_and_sign_in(browser, server.url, "reader01")
    wait_page(page, 1)
    _settle(page)
    assert page.text_content("#progress").endswith("1 of 2")

    # FourUp without a 3-D tile: Red takes the left column at full height, Yellow and Green the right.
    assert "3-D" not in page.text_content("#viewer")
    red, yellow, green = (page.locator(f".viewport.dest-{d}").bounding_box() for d in ("Red", "Yellow", "Green"))
    assert red["height"] > 1.9 * yellow["height"] and yellow["x"] == green["x"] > red["x"] + red["width"] - 1

    # Default fill 0.5 over the CT with an opaque outline: tinted pixels are exact blends, outlines exact.
    shown = _shot(page)
    page.keyboard.press("h")  # H: the image alone
    _settle(page)
    bare = _shot(page)
    assert not any(_count(bare, rgb) for rgb in colours.values())
    assert np.all(bare[..., 0] == bare[..., 1]), "with H, only the grey CT is left"
    tinted, blended = _blend_fraction(shown, bare, list(colours.values()))
    assert tinted > 2000 and blended > 0.95, (tinted, blended)
    assert _count(shown, colours["tissue"]) > 50  # its outline, opaque
    page.keyboard.press("h")
    _settle(page)
    assert np.array_equal(_shot(page), shown)

    # Hiding one segment from the legend takes its fill and its outline off the screen.
    page.uncheck("#legend-list .segment[data-key$='/Segment_7'] .segment-visible")  # tissue
    _settle(page)
    without = _shot(page)
    assert _count(without, colours["tissue"]) == 0 and _count(without, colours["right lung"]) > 20
    assert _blend_fraction(without, bare, [colours["tissue"]])[0] < _blend_fraction(shown, bare, [colours["tissue"]])[0]

    # The reader's opacity: 0.2 here, back to the default 0.5 on the next page.
    page.evaluate(
        "(() => { const s = document.getElementById('overlays-opacity'); s.value = '0.2';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    assert page.evaluate("window.sessionkit.state.views[0].nv.volumes[1].opacity") == pytest.approx(0.2)

    # Slice readout: slice number and LPS z agree with the CT's own grid, also after scrolling.
    grid = read_image(CT).grid
    origin_z, step_z = float(grid.affine[2, 3]), float(grid.affine[2, 0])

    def readout() -> tuple[int, float]:
        text = str(page.text_content("#slice-Red"))
        match = re.fullmatch(r"Slice (\d+)/34 · S (-?\d+\.\d\d) mm", text)
        assert match, text
        return int(match[1]), float(match[2])

    number, z = readout()
    assert z == pytest.approx(origin_z + (number - 1) * step_z, abs=0.006)
    box = page.locator("#view-Red").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"!document.getElementById('slice-Red').textContent.startsWith('Slice {number}/')")
    moved, z = readout()
    assert moved != number and z == pytest.approx(origin_z + (moved - 1) * step_z, abs=0.006)

    # A refused Next outlines the unanswered question; answering it clears the outline and the message.
    page.click("#next-button")
    page.wait_for_selector(".question.refused", timeout=TIMEOUT_MS)
    assert page.text_content("#message")
    page.check("#q1-o1")
    assert page.locator(".question.refused").count() == 0 and page.text_content("#message") == ""
    click_and_wait(page, "#next-button", 2)

    # Page 2: defaults again (Fill, opacity 0.5, all overlays shown); only the selected segment is listed.
    _settle(page)
    assert page.text_content("#progress").endswith("2 of 2")
    assert page.evaluate("window.sessionkitLegend.state.opacity") == 0.5
    assert page.evaluate("window.sessionkit.state.views[0].nv.volumes[1].opacity") == 0.5
    assert page.eval_on_selector_all("#legend-list .segment-name", "els => els.map(e => e.textContent)") == [
        "right lung"
    ]
    assert page.is_hidden("#readonly-note")

    # Back on the completed page: read-only, and the panel says why.
    click_and_wait(page, "#previous-button", 1)
    assert page.is_visible("#readonly-note")
    assert "already completed this page" in str(page.text_content("#readonly-note"))
