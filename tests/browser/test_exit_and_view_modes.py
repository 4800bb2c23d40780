"""Save & exit, resume, "repeat or continue?" on Next, view modes and idle autosave in real Chromium.

One session over a 16 x 16 x 12 phantom written with nibabel: page ``Lesion`` (Loop="Y", one axial
viewport) and page ``Summary``. The reader switches the viewport to "3 Planes" and presses Save & exit
(the viewing mode is captured without restoring the layout), signs in again and resumes with the answer
shown, switches to "1 Plane Sagittal" and answers Next's "repeat or continue?" with Repeat (the state is
captured, then the layout restored on the copy, which keeps the same viewport), then waits idle with a
draft: it is autosaved without a question, with a notice, and the reader stays on the page.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from tests.browser._pages import open_and_sign_in, sign_in

pytestmark = pytest.mark.browser


SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="Lesion" Descriptor="finding" Layout="OneUpRedSlice" Loop="Y">
    <Image ID="CT" Type="Volume">
      <Path>ct.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="QS1" Descriptor="Finding">
      <Question Type="Radio" Descriptor="Malignant">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="Summary" Descriptor="end" Layout="OneUpRedSlice">
    <Image ID="CT" Type="Volume">
      <Path>ct.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="QS2" Descriptor="Summary">
      <Question Type="Text" Descriptor="Comment"><Option>Comment</Option></Question>
    </QuestionSet>
  </Page>
</Session>
"""


def _write_session(folder: Path) -> Path:
    data = np.zeros((16, 16, 12), dtype=np.int16)
    data[4:12, 3:13, 2:10] = 200 + 10 * np.arange(8)[None, None, :]
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0])), folder / "ct.nii.gz")
    session = folder / "exit_session.xml"
    session.write_text(SESSION_XML, encoding="utf-8")
    return session


def _meta(out: Path) -> Path:
    return out / "r1" / "exit_session" / ".sessionkit"


def _rows(out: Path) -> list[dict[str, str]]:
    with (_meta(out) / "responses.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _events(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (_meta(out) / "events.jsonl").read_text().splitlines()]


def _viewer_states(out: Path) -> list[dict[str, Any]]:
    return [e["viewer_state"]["views"][0] for e in _events(out) if e["kind"] == "viewer_state"]


def _wait_ready(page: Any, instance: str) -> None:
    page.wait_for_function(
        "window.sessionkit.readyPage !== null && window.sessionkit.state.current"
        f" && window.sessionkit.state.current.page_instance === '{instance}' && !window.sessionkit.state.busy"
    )


def _slice_type(page: Any) -> int:
    return int(page.evaluate("window.sessionkit.state.views[0].nv.opts.sliceType"))


def test_save_exit_resume_repeat_choice_view_modes_and_idle_autosave(
    browser: Any, start_server: Any, tmp_path: Path
) -> None:
    session = _write_session(tmp_path)
    out = tmp_path / "runs"
    server = start_server(out, session=session, images_root=tmp_path)
    page = open_and_sign_in(browser, server.url, "r1", width=1100, height=700)
    _wait_ready(page, "Lesion")
    assert page.is_visible("#exit-button")

    # "3 Planes": Niivue multiplanar; the canvas shows other planes than the axial slice.
    default_shot = page.locator("#view-Red").screenshot()
    page.select_option("#view-mode-Red", "3 Planes")
    assert _slice_type(page) == 3
    page.wait_for_timeout(200)
    assert page.locator("#view-Red").screenshot() != default_shot
    page.check("#q1-o2")

    # Save & exit: confirmation, partial save (event exit), signed-out screen.
    page.click("#exit-button")
    assert "resume later" in str(page.text_content("#confirm-text"))
    page.click("#confirm-ok")
    page.wait_for_selector("#signedout-screen:not([hidden])")
    assert page.is_hidden("#reading-screen")
    exits = [r for r in _rows(out) if r["event"] == "exit"]
    assert [(r["page_instance"], r["option"], r["value"], r["page_complete"]) for r in exits] == [
        ("Lesion", "Yes", "N", "N"),
        ("Lesion", "No", "Y", "N"),
    ]
    assert _viewer_states(out)[-1]["viewing_mode"] == "3 Planes"  # captured without restoring
    switch = next(e for e in _events(out) if e["kind"] == "view_mode")  # state captured before the switch
    assert switch["viewing_mode"] == "3 Planes" and switch["viewer_state"]["views"][0]["viewing_mode"] == "Default"

    # Sign in again: resumes on the same page with the answer; the viewport starts in Default.
    page.click("#signin-again")
    page.wait_for_selector("#login-screen:not([hidden])")
    sign_in(page, "r1")
    _wait_ready(page, "Lesion")
    assert page.is_checked("#q1-o2") and "resuming" in str(page.text_content("#banner"))
    assert _slice_type(page) == 0 and page.input_value("#view-mode-Red") == "Default"

    # Next on a Loop page asks "repeat or continue?"; Cancel stays, Repeat makes Lesion-Rep1.
    page.select_option("#view-mode-Red", "1 Plane Sagittal")
    assert _slice_type(page) == 2
    page.click("#next-button")
    assert page.is_visible("#confirm-alt") and page.text_content("#confirm-alt") == "Repeat"
    page.click("#confirm-cancel")
    page.wait_for_function("!window.sessionkit.state.busy")
    assert page.evaluate("window.sessionkit.state.current.page_instance") == "Lesion"
    page.click("#next-button")
    page.click("#confirm-alt")
    _wait_ready(page, "Lesion-Rep1")
    last = _viewer_states(out)[-1]
    assert (last["viewing_mode"], last["orientation"]) == ("1 Plane Sagittal", "Sagittal")
    assert _slice_type(page) == 0 and page.input_value("#view-mode-Red") == "Default"  # layout restored
    submissions = [e for e in _events(out) if e["kind"] == "submission"]
    assert [e["event"] for e in submissions] == ["exit", "repeat"]  # unchanged answers: no new CSV rows

    # Idle autosave: a draft, no input for the timeout -> saved, notice, still on the same page and form.
    page.check("#q1-o1")
    assert page.get_attribute("#saved", "data-state") == "draft"
    page.evaluate("window.sessionkit.idleTimeoutS = 1")
    page.wait_for_selector("#notice:not([hidden])")
    page.wait_for_function("!window.sessionkit.state.busy")
    assert "automatically" in str(page.text_content("#notice"))
    assert page.evaluate("window.sessionkit.state.current.page_instance") == "Lesion-Rep1"
    assert page.is_checked("#q1-o1") and page.get_attribute("#saved", "data-state") == "saved"
    autosaved = [r for r in _rows(out) if r["event"] == "autosave"]
    assert [(r["page_instance"], r["value"]) for r in autosaved] == [("Lesion-Rep1", "Y"), ("Lesion-Rep1", "N")]
    page.close()
