"""A reader works through a session in real Chromium; the server is a real uvicorn subprocess.

(a) sign in, first page rendered with the segment colours, every question type answered (with a
    refused missing answer and a refused out-of-range integer), Next, Previous, Finish; then the rows
    of responses.csv.
(b) a draft is autosaved when the page is left; the server is SIGKILLed mid-session and restarted on
    the same results root: the reader resumes on the right page and every acknowledged answer is shown;
    killed again under an open page, the page signs in again by itself on the next click.
"""

from __future__ import annotations

import csv
import io
import json
import time
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


def _refusal(page: Any, button: str) -> str:
    """Click, expect a refusal message, return it."""
    page.click(button)
    page.wait_for_function("document.getElementById('message').textContent.length > 0", timeout=TIMEOUT_MS)
    page.wait_for_function("!window.sessionkit.state.busy")
    assert page.get_attribute("#saved", "data-state") == "failed"
    return str(page.text_content("#message"))


def _screenshot(page: Any, destination: str) -> npt.NDArray[np.uint8]:
    """RGB pixels ``(row, column, 3)`` of one viewport's canvas."""
    png = page.locator(f"#view-{destination}").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _colour_counts(shot: npt.NDArray[np.uint8]) -> tuple[dict[tuple[int, int, int], int], float]:
    """Exact-colour pixel counts of a screenshot, and its non-black fraction."""
    pixels = shot.reshape(-1, 3)
    colours, numbers = np.unique(pixels, axis=0, return_counts=True)
    counts = {(int(r), int(g), int(b)): int(n) for (r, g, b), n in zip(colours, numbers, strict=True)}
    return counts, 1 - counts.get((0, 0, 0), 0) / len(pixels)


def _mean_column(shot: npt.NDArray[np.uint8], rgb: tuple[int, int, int]) -> float:
    """Mean screen column of the pixels of exactly ``rgb``."""
    return float(np.nonzero(np.all(shot == np.array(rgb, dtype=np.uint8), axis=-1))[1].mean())


def _segment_colours(page: Any, destination: str) -> dict[str, tuple[int, int, int]]:
    """Segment name -> RGB of the segments the page JSON lists for one viewport (only the shown ones)."""
    view = page.evaluate(f"window.sessionkit.state.current.scene.views.find(v => v.destination === '{destination}')")
    return {s["name"]: tuple(s["color"]) for layer in view["layers"] for s in layer["segments"]}


def _file_colours() -> dict[str, tuple[int, int, int]]:
    """Segment name -> RGB of every segment of the chest segmentation, read from the file."""
    segmentation = read_image(IMAGES_ROOT / "images" / "Segmentation.seg.nrrd")
    assert isinstance(segmentation, Segmentation)
    return {s.name: s.color for s in segmentation.segments}


def _rows(out: Path, reader_id: str) -> list[dict[str, str]]:
    path = out / reader_id / "reading_session" / ".sessionkit" / "responses.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _events(out: Path, reader_id: str) -> list[dict[str, Any]]:
    path = out / reader_id / "reading_session" / ".sessionkit" / "events.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.endswith("}")]


def _last_seq(out: Path, reader_id: str) -> int:
    """``last_seq`` of ``state.json``: submissions up to it are acknowledged (clarifications C2)."""
    path = out / reader_id / "reading_session" / ".sessionkit" / "state.json"
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["last_seq"])
    except (OSError, ValueError, KeyError):  # absent or being replaced
        return -1


def _answer_page1(page: Any) -> None:
    page.check("#q2-o1")  # Radio: Yes
    page.check("#q3-o2")  # CheckBox: Lungs
    page.check("#q3-o3")  # CheckBox: Spine
    page.fill("#q4-o1", "looks fine")  # Text


def test_reader_answers_every_question_type_and_finishes(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    server = start_server(out)
    page = open_and_sign_in(browser, server.url, "reader01")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    wait_page(page, 1)

    # First page: the CT with all seven segments in their own colours.
    shot = _screenshot(page, "Red")
    counts, non_black = _colour_counts(shot)
    assert non_black > 0.2, "the canvas is (nearly) blank"
    colours = _segment_colours(page, "Red")
    assert colours == _file_colours()  # ROIVisibilityCode="All": the seven segments
    shown = {name: counts.get(rgb, 0) for name, rgb in colours.items()}
    for name in ("right lung", "left lung", "tissue", "ribs"):
        assert shown[name] > 100, f"segment {name!r} colour barely on screen: {shown}"
    # Radiological convention: the patient's right lung is on the left of the screen.
    right, left = (_mean_column(shot, colours[name]) for name in ("right lung", "left lung"))
    assert right < shot.shape[1] / 2 < left
    assert (
        page.text_content("#questions .question[data-type='InfoBox']")
        .strip()
        .endswith("Seven segments over a chest CT.")
    )

    # Next without the required Radio answer is refused, naming the question; nothing is saved.
    page.check("#q3-o2")
    message = _refusal(page, "#next-button")
    assert "Segmentation acceptable?" in message and "Comments" in message
    refused = page.eval_on_selector_all(".question.refused legend", "els => els.map(e => e.textContent)")
    assert refused == ["Segmentation acceptable?", "Comments"]  # outlined; the answered CheckBox is not
    assert page.evaluate("window.sessionkit.lastError.code") == "SK910"

    _answer_page1(page)
    page.press("#q4-o1", "Enter")  # must not submit the form (a reload would lose the draft)
    assert page.evaluate("window.sessionkit.readyPage") == 1 and page.input_value("#q4-o1") == "looks fine"
    click_and_wait(page, "#next-button", 2)

    # A reload of the tab signs in again by itself and comes back to page 2.
    page.reload()
    wait_page(page, 2)
    assert "resuming" in str(page.text_content("#banner"))

    # Page 2: two viewports; only the two lungs are shown (ROIVisibilityCode="Select").
    assert page.locator("#view-Red").count() == 1 and page.locator("#view-Yellow").count() == 1
    counts, _ = _colour_counts(_screenshot(page, "Red"))
    assert set(_segment_colours(page, "Red")) == {"right lung", "left lung"}  # hidden ones are not sent (C13)
    colours = _file_colours()
    assert counts.get(colours["right lung"], 0) > 100 and counts.get(colours["left lung"], 0) > 100
    assert counts.get(colours["ribs"], 0) == 0 and counts.get(colours["tissue"], 0) == 0
    assert "minimum 1" in str(page.text_content(".question[data-type='IntegerValue']"))

    page.fill("#q1-o1", "7")  # IntegerValue, Max 5
    page.fill("#q2-o1", "12.5")  # FloatValue
    message = _refusal(page, "#next-button")
    assert "Contour quality" in message and "5" in message
    assert page.evaluate("window.sessionkit.lastError.code") == "SK911"
    page.fill("#q1-o1", "4")
    click_and_wait(page, "#next-button", 3)

    # Previous shows page 2 again with its saved answers; then back to the last page and finish.
    assert page.is_visible("#finish-button") and not page.is_visible("#next-button")
    click_and_wait(page, "#previous-button", 2)
    assert page.input_value("#q1-o1") == "4" and page.input_value("#q2-o1") == "12.5"
    click_and_wait(page, "#next-button", 3)
    page.check("#q1-o1")
    page.click("#finish-button")
    page.click("#confirm-ok")
    page.wait_for_function(
        "document.getElementById('banner').textContent.includes('Session complete')", timeout=TIMEOUT_MS
    )
    assert page.evaluate("window.sessionkit.state.current.complete") is True
    assert page.is_disabled("#q1-o1")  # locked after Finish
    page.click("#signout-button")  # back to the sign-in form, not resumed on reload
    page.wait_for_selector("#login-screen:not([hidden])")
    assert page.input_value("#reader-id") == "" and page.is_hidden("#reading-screen")
    assert errors == []
    page.close()

    rows = _rows(out, "reader01")
    seen = [(r["seq"], r["event"], r["page_id"], r["question_index"], r["option"], r["value"]) for r in rows]
    assert seen[:8] == [
        ("1", "next", "Chest", "2", "Yes", "Y"),
        ("1", "next", "Chest", "2", "No", "N"),
        ("1", "next", "Chest", "3", "Ribs", "N"),
        ("1", "next", "Chest", "3", "Lungs", "Y"),
        ("1", "next", "Chest", "3", "Spine", "Y"),
        ("1", "next", "Chest", "4", "Comment", "looks fine"),
        ("2", "next", "Lungs", "1", "Score", "4"),
        ("2", "next", "Lungs", "2", "Height", "12.5"),
    ]
    assert [r["value_numeric"] for r in rows[6:8]] == ["4", "12.5"]
    final = [(r["event"], r["page_id"], r["option"], r["value"]) for r in rows if r["event"] == "finish"]
    assert final == [("finish", "Last", "Yes", "Y"), ("finish", "Last", "No", "N")]
    seqs = [int(r["seq"]) for r in rows]
    assert seqs == sorted(seqs)
    assert all(r["client"].startswith("sessionkit-web/") for r in rows)
    assert all(r["reader_id"] == "reader01" and r["saved_at"].endswith("Z") for r in rows)
    # Each submission also carried the viewer state of every viewport (events.jsonl, reading-flow §12).
    states = [e["viewer_state"]["views"] for e in _events(out, "reader01") if e["kind"] == "viewer_state"]
    assert states and states[0][0]["destination"] == "Red" and states[0][0]["image_id"] == "CT"
    assert isinstance(states[0][0]["slice_offset"], int | float) and states[0][0]["window"] > 0


def test_reader_resumes_after_the_server_is_killed(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    server = start_server(out)
    page = open_and_sign_in(browser, server.url, "reader02")
    wait_page(page, 1)
    _answer_page1(page)
    click_and_wait(page, "#next-button", 2)
    page.fill("#q1-o1", "3")
    page.fill("#q2-o1", "20.25")
    click_and_wait(page, "#next-button", 3)  # acknowledged: the UI said "Saved"
    # A draft on page 3, never submitted with a button: leaving the page autosaves it (beacon).
    page.check("#q1-o2")
    assert page.get_attribute("#saved", "data-state") == "draft"
    page.goto("about:blank")
    # Wait until acknowledged (state.json committed), not merely until its CSV rows appear.
    deadline = time.monotonic() + 30
    while _last_seq(out, "reader02") < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _last_seq(out, "reader02") == 3

    server.kill()
    assert server.process.returncode == -9
    page.close()

    restarted = start_server(out)
    page = open_and_sign_in(browser, restarted.url, "reader02")
    wait_page(page, 3)  # the first unfinished page
    assert "resuming" in str(page.text_content("#banner"))
    assert page.text_content("#page-title") == "Final: Confidence"
    assert not page.is_checked("#q1-o1") and page.is_checked("#q1-o2")  # the autosaved draft

    # Killed again while this page stays open: the next click signs in again and goes through.
    restarted.kill()
    start_server(out, port=restarted.port)
    click_and_wait(page, "#previous-button", 2)
    assert page.input_value("#q1-o1") == "3" and page.input_value("#q2-o1") == "20.25"
    click_and_wait(page, "#previous-button", 1)
    assert page.is_checked("#q2-o1") and not page.is_checked("#q2-o2")
    assert not page.is_checked("#q3-o1") and page.is_checked("#q3-o2") and page.is_checked("#q3-o3")
    assert page.input_value("#q4-o1") == "looks fine"
    page.close()

    rows = _rows(out, "reader02")
    before_kill = [(r["seq"], r["page_id"], r["option"], r["value"]) for r in rows if r["seq"] in ("1", "2")]
    logins = [event for event in _events(out, "reader02") if event["kind"] == "login"]
    assert [login["resumed"] for login in logins] == [False, True, True]  # the third: the page's own
    autosaved = [(r["event"], r["page_id"], r["option"], r["value"]) for r in rows if r["seq"] == "3"]
    assert autosaved == [("autosave", "Last", "Yes", "N"), ("autosave", "Last", "No", "Y")]
    assert before_kill == [
        ("1", "Chest", "Yes", "Y"),
        ("1", "Chest", "No", "N"),
        ("1", "Chest", "Ribs", "N"),
        ("1", "Chest", "Lungs", "Y"),
        ("1", "Chest", "Spine", "Y"),
        ("1", "Chest", "Comment", "looks fine"),
        ("2", "Lungs", "Score", "3"),
        ("2", "Lungs", "Height", "20.25"),
    ]
