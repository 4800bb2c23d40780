"""Display attributes, Button/Picture questions and the interaction log, in real Chromium (issue #6).

One session over tiny phantoms written with nibabel (clarifications C12):

- page 1 ``Display`` (SideBySideRedYellow, LinkViews): Red = CT with ColorTable Iron, WindowLevel,
  ZoomFactor, PanOrigin, InitialSliceOffset, a Foreground with Opacity 0.3 and a LabelMap (Outline,
  the default D1); Yellow = the same CT, coronal.
- page 2 ``Sequence``: a 4-D VolumeSequence with a frame slider.
- page 3 ``Widgets`` (UserInteractionLog="Y"): a Picture, a registered Button (reset_window_level.py)
  and a toggle Button naming no registered action.

Each property is read from the viewer (Niivue's cal_min/cal_max, crosshair, pan/zoom, frame) or from
screenshot pixels, and the run folder is checked for the viewer state sent with each submission, the
restore of window/level and slice on a revisit (D24), the Button values and the interaction log.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from tests.browser._pages import TIMEOUT_MS, click_and_wait, open_and_sign_in, wait_page

pytestmark = pytest.mark.browser

#: CT phantom: 32 x 32 x 16 voxels (x, y, z RAS), 2 x 2 x 3 mm, value 100 + 10 * z index.
CT_AFFINE = np.array([[2.0, 0, 0, -31.0], [0, 2.0, 0, -31.0], [0, 0, 3.0, -20.0], [0, 0, 0, 1]])

SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="Display" Descriptor="attributes" Layout="SideBySideRedYellow" LinkViews="Y">
    <Image ID="CT" Type="Volume" ColorTable="Iron" WindowLevel="100 190" ZoomFactor="2"
           PanOrigin="10 6 0" InitialSliceOffset="7">
      <Path>ct.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="FG" Type="Volume" Opacity="0.3">
      <Path>fg.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Foreground</Layer>
    </Image>
    <Image ID="Mask" Type="LabelMap">
      <Path>mask.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Label</Layer>
    </Image>
    <Image ID="CT" Type="Volume" ColorTable="Iron" WindowLevel="100 190">
      <Path>ct.nii.gz</Path>
      <DefaultDestination>Yellow</DefaultDestination>
      <DefaultOrientation>Coronal</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="QS1" Descriptor="Display">
      <Question Type="Radio" Descriptor="Seen">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="Sequence" Descriptor="frames" Layout="OneUpRedSlice">
    <Image ID="Seq" Type="VolumeSequence" ColorTable="InvertedGrey" WindowLevel="200 200">
      <Path>seq.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="QS2" Descriptor="Sequence"/>
  </Page>
  <Page ID="Widgets" Descriptor="buttons" Layout="OneUpRedSlice" UserInteractionLog="Y">
    <Image ID="CT" Type="Volume">
      <Path>ct.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="QS3" Descriptor="Widgets">
      <Question Type="Picture" Descriptor="Reference">
        <Option>pictures/ref.png</Option>
      </Question>
      <Question Type="Button" Descriptor="Reset">
        <Option>reset_window_level.py</Option>
      </Question>
      <Question Type="Button" Descriptor="Custom" ButtonToggleColorOff="200 200 200">
        <Option>custom_tool.py</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""


def _write_session(folder: Path) -> Path:
    ct = (100 + 10 * np.arange(16, dtype=np.int16))[None, None, :] * np.ones((32, 32, 1), dtype=np.int16)
    nib.save(nib.Nifti1Image(ct, CT_AFFINE), folder / "ct.nii.gz")
    fg = np.zeros((32, 32, 16), dtype=np.int16)
    fg[4:12, 4:12, :] = 1000
    nib.save(nib.Nifti1Image(fg, CT_AFFINE), folder / "fg.nii.gz")
    mask = np.zeros((32, 32, 16), dtype=np.uint8)
    mask[8:24, 8:24, 2:14] = 1
    nib.save(nib.Nifti1Image(mask, CT_AFFINE), folder / "mask.nii.gz")
    seq = np.zeros((16, 16, 8, 3), dtype=np.int16)
    for frame in range(3):
        seq[..., frame] = 100 * (frame + 1)
    nib.save(nib.Nifti1Image(seq, CT_AFFINE), folder / "seq.nii.gz")
    (folder / "pictures").mkdir()
    Image.new("RGB", (8, 6), (255, 0, 0)).save(folder / "pictures" / "ref.png")
    path = folder / "display.xml"
    path.write_text(SESSION_XML, encoding="utf-8")
    return path


def _nv(page: Any, destination: str, expression: str) -> Any:
    """Evaluate ``expression`` with ``nv`` bound to the Niivue instance of ``destination``."""
    return page.evaluate(
        f"(() => {{ const nv = window.sessionkit.state.views.find(v => v.destination === '{destination}').nv;"
        f" return {expression}; }})()"
    )


def _colour_count(page: Any, destination: str, rgb: tuple[int, int, int]) -> int:
    png = page.locator(f"#view-{destination}").screenshot()
    shot = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return int(np.all(shot == np.array(rgb, dtype=np.uint8), axis=-1).sum())


def _middle_drag(page: Any, destination: str) -> list[float]:
    """Drag with the middle button (Niivue's pan) across a viewport; returns its pan2Dxyzmm after."""
    box = page.locator(f"#view-{destination}").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down(button="middle")
    page.mouse.move(x + 60, y + 40, steps=5)
    page.mouse.up(button="middle")
    page.wait_for_timeout(200)
    return list(_nv(page, destination, "Array.from(nv.scene.pan2Dxyzmm)"))


def _run_dir(out: Path) -> Path:
    return out / "reader01" / "display"


def _viewer_states(out: Path) -> list[dict[str, Any]]:
    path = _run_dir(out) / ".sessionkit" / "events.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}")]
    return [r for r in records if r.get("kind") == "viewer_state"]


def test_display_attributes_buttons_pictures_and_interaction_log(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    session = _write_session(tmp_path)
    out = tmp_path / "runs"
    server = start_server(out, session=session, images_root=tmp_path)
    errors: list[str] = []
    page = open_and_sign_in(browser, server.url, "reader01", errors=errors)
    wait_page(page, 1)
    assert page.evaluate("window.sessionkit.lastError") is None, errors

    # -- page 1: window/level, colour table, opacity, zoom, pan, slice offset, orientation ---------------
    assert _nv(page, "Red", "[nv.volumes[0].cal_min, nv.volumes[0].cal_max]") == [140, 240]  # W 100 L 190
    assert _nv(page, "Red", "nv.volumes[0].colormap") == "hotiron"  # Slicer Iron
    assert _nv(page, "Red", "nv.volumes[1].opacity") == pytest.approx(0.3)
    assert _nv(page, "Red", "nv.opts.sliceType") == 0 and _nv(page, "Yellow", "nv.opts.sliceType") == 1
    assert _nv(page, "Red", "nv.scene.pan2Dxyzmm[3]") == 2 and _nv(page, "Yellow", "nv.scene.pan2Dxyzmm[3]") == 1
    # InitialSliceOffset 7 mm (RAS z) = voxel k 9 of the CT (origin -20 mm, 3 mm slices).
    assert _nv(page, "Red", "nv.frac2mm(nv.scene.crosshairPos)[2]") == pytest.approx(7, abs=1e-3)
    assert _nv(page, "Red", "nv.frac2vox(nv.scene.crosshairPos)[2]") == 9
    assert _nv(page, "Yellow", "nv.frac2mm(nv.scene.crosshairPos)[2]") == pytest.approx(2.5, abs=1e-3)  # centre
    # PanOrigin "10 6 0" (LPS) = RAS (-10, -6): drawn at the centre of the Red canvas.
    centre = _nv(page, "Red", "[nv.frac2canvasPos(nv.mm2frac([-10, -6, 7])), nv.gl.canvas.width, nv.gl.canvas.height]")
    (x, y), width, height = centre[0][:2], centre[1], centre[2]
    assert abs(x - width / 2) < 3 and abs(y - height / 2) < 3, centre
    # ZoomFactor 2: 10 mm span twice the pixels they span at zoom 1.
    step = "Math.abs(nv.frac2canvasPos(nv.mm2frac([0, -6, 7]))[0] - nv.frac2canvasPos(nv.mm2frac([-10, -6, 7]))[0])"
    zoomed = _nv(page, "Red", step)
    unzoomed = _nv(
        page,
        "Red",
        f"(() => {{ const p = nv.scene.pan2Dxyzmm; nv.scene.pan2Dxyzmm = [0, 0, 0, 1];"
        f" nv.drawScene(); const s = {step}; nv.scene.pan2Dxyzmm = p; nv.drawScene(); return s; }})()",
    )
    assert zoomed == pytest.approx(2 * unzoomed, rel=0.02)

    # ContourVisibility Outline (default, D1): the mask's colour covers far fewer pixels than filled.
    colour = tuple(_nv(page, "Red", "window.sessionkit.state.current.scene.views[0].layers[2].segments[0].color"))
    outline = _colour_count(page, "Red", colour)
    page.evaluate(
        "(() => { const nv = window.sessionkit.state.views[0].nv; nv.opts.atlasOutline = 0;"
        " nv.volumes[2].opacity = 1; nv.updateGLVolume(); })()"
    )
    page.wait_for_timeout(300)
    filled = _colour_count(page, "Red", colour)
    assert outline > 50, f"outline barely visible: {outline} pixels of {colour}"
    assert filled > 2 * outline, (outline, filled)

    # LinkViews: a click in Red moves the coronal Yellow view's crosshair (x) to the same place.
    box = page.locator("#view-Red").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.45)
    page.wait_for_timeout(300)
    red_mm = _nv(page, "Red", "Array.from(nv.frac2mm(nv.scene.crosshairPos)).slice(0, 3)")
    yellow_mm = _nv(page, "Yellow", "Array.from(nv.frac2mm(nv.scene.crosshairPos)).slice(0, 3)")
    assert red_mm[0] == pytest.approx(yellow_mm[0], abs=0.5) and red_mm[1] == pytest.approx(yellow_mm[1], abs=0.5)

    # Pan is free here (no interaction log): a middle-button drag moves the view.
    pan = _nv(page, "Red", "Array.from(nv.scene.pan2Dxyzmm)")
    assert _middle_drag(page, "Red") != pan

    # The reader changes the window; it is sent with the submission and restored on the revisit.
    page.evaluate(
        "(() => { const nv = window.sessionkit.state.views[0].nv; nv.volumes[0].cal_min = 0;"
        " nv.volumes[0].cal_max = 400; nv.updateGLVolume(); })()"
    )
    page.check("#q1-o1")
    click_and_wait(page, "#next-button", 2)
    red_state = next(v for v in _viewer_states(out)[-1]["viewer_state"]["views"] if v["destination"] == "Red")
    assert red_state["window"] == 400 and red_state["level"] == 200
    assert red_state["orientation"] == "Axial" and red_state["viewing_mode"] == "Default"
    assert red_state["slice_offset"] == pytest.approx(7, abs=1e-3)

    # -- page 2: VolumeSequence frame slider ------------------------------------------------------------
    assert _nv(page, "Red", "nv.volumes[0].nFrame4D") == 3
    # InvertedGrey: frame 0 (value 100, window 100..300) is drawn near white, frame 2 (300) black.
    assert _nv(page, "Red", "nv.volumes[0].colormap") == "sk_inverted_grey"
    png = page.locator("#view-Red").screenshot()
    centre = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[100:-100, 100:-100]
    assert centre.mean() > 200, centre.mean()
    page.evaluate(
        "(() => { const s = document.getElementById('frame-Red'); s.value = '2';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.wait_for_function("window.sessionkit.state.views[0].nv.volumes[0].frame4D === 2", timeout=TIMEOUT_MS)
    page.wait_for_timeout(200)
    png = page.locator("#view-Red").screenshot()
    assert np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[100:-100, 100:-100].mean() < 30
    click_and_wait(page, "#next-button", 3)
    assert _viewer_states(out)[-1]["viewer_state"]["views"][0]["frame"] == 2

    # -- page 3: Picture, Buttons, interaction log ------------------------------------------------------
    page.wait_for_function("document.getElementById('q1-o1').naturalWidth === 8", timeout=TIMEOUT_MS)
    reset = page.locator("#q2-o1")
    assert reset.text_content() == "reset_window_level"
    assert reset.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(173, 220, 237)"
    page.evaluate(
        "(() => { const nv = window.sessionkit.state.views[0].nv; nv.volumes[0].cal_min = -500;"
        " nv.volumes[0].cal_max = 500; nv.updateGLVolume(); })()"
    )
    initial = _nv(page, "Red", "window.sessionkit.state.views[0].initial.initialWindow")
    reset.click()
    page.wait_for_function("getComputedStyle(document.getElementById('q2-o1')).backgroundColor === 'rgb(0, 179, 246)'")
    cal = _nv(page, "Red", "[nv.volumes[0].cal_min, nv.volumes[0].cal_max]")
    assert cal == pytest.approx([initial["level"] - initial["window"] / 2, initial["level"] + initial["window"] / 2])
    custom = page.locator("#q3-o1")
    custom.click()
    page.wait_for_function(
        "getComputedStyle(document.getElementById('q3-o1')).backgroundColor === 'rgb(200, 200, 200)'"
    )
    # A view change: scroll two slices with the mouse wheel.
    box = page.locator("#view-Red").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 120)
    page.wait_for_timeout(400)
    slice_k = _nv(page, "Red", "nv.frac2vox(nv.scene.crosshairPos)[2]")
    # D8: zoom and pan are frozen on an interaction-log page.
    frozen = _nv(page, "Red", "Array.from(nv.scene.pan2Dxyzmm)")
    assert _middle_drag(page, "Red") == frozen
    page.click("#previous-button")
    page.wait_for_selector("#saved[data-state='saved']", timeout=TIMEOUT_MS)
    wait_page(page, 2)
    # The sequence comes back on the frame the reader left it on (restore_views "frame").
    assert _nv(page, "Red", "nv.volumes[0].frame4D") == 2
    assert page.input_value("#frame-Red") == "2"

    with (_run_dir(out) / ".sessionkit" / "responses.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["page_id"] == "Widgets"]
    values = {(r["question_index"], r["value"]) for r in rows}
    assert ("2", "reset_window_level-Done") in values and ("3", "custom_tool") in values

    log_path = next(_run_dir(out).glob("PgGroup*_Widgets_*")) / "UserInteractionLog.csv"
    with log_path.open(newline="", encoding="utf-8") as handle:
        log = list(csv.DictReader(handle))
    view_rows = [r for r in log if r["ViewName"] == "Red"]
    assert {r["Location"] for r in view_rows} == {"TopLeft", "TopRight", "BottomLeft", "BottomRight"}
    assert view_rows[0]["Layout"] == "OneUpRedSlice" and view_rows[0]["Image_bg"] == "Widgets_CT"
    assert int(view_rows[-1]["K_bg"]) == slice_k  # axial view: every corner on the displayed slice
    assert log[-1]["Layout"].endswith("Leaving Page --Previous") and log[-1]["ViewName"] == ""
    assert not any(next(_run_dir(out).glob("PgGroup*_Display_*"), tmp_path).glob("UserInteractionLog.csv"))

    # -- back on page 1: window/level and slice offset restored from navigation history (D24) ----------
    page.click("#previous-button")
    page.wait_for_selector("#saved[data-state='saved']", timeout=TIMEOUT_MS)
    wait_page(page, 1)
    assert _nv(page, "Red", "[nv.volumes[0].cal_min, nv.volumes[0].cal_max]") == [0, 400]
    assert _nv(page, "Red", "nv.frac2mm(nv.scene.crosshairPos)[2]") == pytest.approx(7, abs=1e-3)
    assert not errors, errors
