"""A reader walks a 12-page randomised session in real Chromium while the server is SIGKILLed twice (issue #6).

The session has ``RandomizePageGroups="Y"``, group-0 pages (one of them last in the file), a ``Loop``
page repeated twice with the Repeat control, and a ``BookmarkID``/``GoToBookmark`` pair in one group;
one page shows a tiny volume. The expected order is computed here from the session bytes and the
reader id with the runner's ``fy-sha256-v1`` functions (reading-flow §3.3). The server is killed
once between two pages (the tab is reloaded and resumes) and once with an answered, unsaved page on
screen (the next click signs in again and retries). Then ``responses.csv`` and the IQ-XML export
(``sessionkit export RUN_DIR --format iq-xml``) are checked against the expected sequence.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from lxml import etree

from sessionkit.runner.navigation import permutation_seed, seeded_permutation
from tests.browser._pages import TIMEOUT_MS, open_and_sign_in

pytestmark = pytest.mark.browser

READER = "reader07"
#: (page id, PageGroup, extra Page attributes); file order.
PAGES: list[tuple[str, int, str]] = [
    ("P01", 0, ""),
    ("P02", 1, ""),
    ("P03", 1, ""),
    ("P04", 2, 'Loop="Y"'),
    ("P05", 3, 'BookmarkID="mark3"'),
    ("P06", 3, ""),
    ("P07", 3, 'GoToBookmark="mark3 Back to P05"'),
    ("P08", 4, ""),
    ("P09", 5, ""),
    ("P10", 5, ""),
    ("P11", 6, ""),
    ("P12", 0, ""),
]
IMAGE_PAGE = "P08"
LOOP_PAGE, BOOKMARK_PAGE, GOTO_PAGE = "P04", "P05", "P07"


def _page_xml(page_id: str, group: int, extra: str) -> str:
    image = (
        """
    <Image ID="Vol" Type="Volume">
      <Path>tiny.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>"""
        if page_id == IMAGE_PAGE
        else ""
    )
    return f"""
  <Page ID="{page_id}" Descriptor="d{page_id}" Layout="OneUpRedSlice" PageGroup="{group}" {extra}>{image}
    <QuestionSet ID="QS" Descriptor="Q{page_id}">
      <Question Type="Radio" Descriptor="Finding on {page_id}">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>"""


def _write_session(folder: Path) -> Path:
    volume = np.arange(16 * 16 * 8, dtype=np.int16).reshape(16, 16, 8)
    nib.save(nib.Nifti1Image(volume, np.diag([2.0, 2.0, 3.0, 1.0])), folder / "tiny.nii.gz")
    body = "".join(_page_xml(*page) for page in PAGES)
    path = folder / "walk.xml"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<Session RandomizePageGroups="Y">{body}\n</Session>\n')
    return path


def _expected(session: Path) -> tuple[list[int], list[str]]:
    """Group order and the page instances in the order their answers are first saved."""
    groups = [group for _, group, _ in PAGES]
    distinct = list(dict.fromkeys(g for g in groups if g != 0))
    seed = permutation_seed(hashlib.sha256(session.read_bytes()).hexdigest(), READER)
    order = [0, *seeded_permutation(distinct, seed)]
    instances: list[str] = []
    for group in order:
        for page_id, page_group, _ in PAGES:
            if page_group == group:
                instances += [page_id, f"{page_id}-Rep1", f"{page_id}-Rep2"] if page_id == LOOP_PAGE else [page_id]
    return order, instances


def _answer_value(instance: str) -> str:
    """Option to pick: 'Yes' (option 1) on odd page numbers and on loop copies, else 'No'."""
    return "1" if int(instance[1:3]) % 2 or "-Rep" in instance else "2"


def _current(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("window.sessionkit.state.current"))


def _wait_shown(page: Any) -> dict[str, Any]:
    page.wait_for_function(
        "(() => { const s = window.sessionkit; const c = s.state.current;"
        " return c && !s.state.busy && s.readyPage === c.page_index; })()",
        timeout=TIMEOUT_MS,
    )
    return _current(page)


def _act(page: Any, selector: str, confirm: bool = False) -> dict[str, Any]:
    """Click a control (and OK in the confirmation dialog); wait until another entry is shown."""
    before = _current(page)
    page.click(selector)
    if confirm:
        page.click("#confirm-ok")
    page.wait_for_function(
        f"(() => {{ const s = window.sessionkit; const c = s.state.current; return c && !s.state.busy"
        f" && (c.nav_position !== {before['nav_position']} || c.page_instance !== '{before['page_instance']}'"
        f" || c.complete) && s.readyPage === c.page_index; }})()",
        timeout=TIMEOUT_MS,
    )
    return _current(page)


def test_randomised_walk_with_loop_bookmark_and_two_server_kills(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    session = _write_session(tmp_path)
    order, expected_instances = _expected(session)
    assert order[1:] != sorted(order[1:])  # this reader's permutation really reorders the groups
    out = tmp_path / "runs"
    server = start_server(out, session=session, images_root=tmp_path)
    errors: list[str] = []
    page = open_and_sign_in(browser, server.url, READER, width=1100, height=700, errors=errors)
    current = _wait_shown(page)

    shown: list[str] = []  # page instances in display order
    bookmarked = False
    kills = 0
    for _ in range(40):
        shown.append(current["page_instance"])
        if len(shown) == 3 and kills == 0:
            # Kill between two pages; the reloaded tab signs in again and resumes on this entry.
            server.kill()
            server = start_server(out, port=server.port, session=session, images_root=tmp_path)
            kills += 1
            page.reload()
            assert _wait_shown(page)["page_instance"] == current["page_instance"]
        if current["editable"]:
            page.check(f"#q1-o{_answer_value(current['page_instance'])}")
        if len(shown) == 9 and kills == 1 and current["editable"]:
            # Kill with an answered, unsaved page on screen: the next click signs in again and retries.
            server.kill()
            server = start_server(out, port=server.port, session=session, images_root=tmp_path)
            kills += 1
        page_id = current["page_id"]
        if current["can_repeat"] and current["rep"] < 2:
            assert page_id == LOOP_PAGE
            current = _act(page, "#repeat-button", confirm=True)
        elif page_id == GOTO_PAGE and not bookmarked:
            assert page.text_content("#bookmark-button") == "Back to P05"
            bookmarked = True
            current = _act(page, "#bookmark-button")
            assert current["page_instance"] == BOOKMARK_PAGE and not current["editable"]  # complete: read-only
        elif current["is_last"]:
            current = _act(page, "#finish-button", confirm=True)
            break
        else:  # on the Loop page, Next asks "repeat this page or continue?" (reading-flow §4): Continue
            current = _act(page, "#next-button", confirm=current["can_repeat"])
    assert current["complete"] and kills == 2, (current, kills)
    assert not errors, errors
    assert page.evaluate("window.sessionkit.lastError") is None

    # Display order: the expected instances, with the bookmark detour (P05, P06 read-only, P07 again).
    detour = shown.index(GOTO_PAGE)
    assert shown[detour + 1 : detour + 4] == [BOOKMARK_PAGE, "P06", GOTO_PAGE]
    assert shown[: detour + 1] + shown[detour + 4 :] == expected_instances
    # State: the stored group order is the one computed here.
    run_dir = out / READER / "walk"
    state_order = json.loads((run_dir / ".sessionkit" / "state.json").read_text())["machine"]
    assert state_order["group_order"]["order"] == order

    # responses.csv: one save per instance in expected order, values as answered, groups as in the file.
    with (run_dir / ".sessionkit" / "responses.csv").open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: int(r["seq"]))
    saved = list(dict.fromkeys(r["page_instance"] for r in rows))
    assert saved == expected_instances
    group_of = {page_id: group for page_id, group, _ in PAGES}
    latest: dict[tuple[str, str], str] = {}
    for row in rows:
        assert int(row["page_group"]) == group_of[row["page_id"]]
        latest[(row["page_instance"], row["option_index"])] = row["value"]
    for instance in expected_instances:
        yes = _answer_value(instance) == "1"
        assert (latest[(instance, "1")], latest[(instance, "2")]) == (("Y", "N") if yes else ("N", "Y")), instance
    events = {r["page_instance"]: r["event"] for r in rows}
    assert events[LOOP_PAGE] == events[f"{LOOP_PAGE}-Rep1"] == "repeat"
    assert events[GOTO_PAGE] == "bookmark"  # saved on the way to the bookmark; unchanged on its later Next
    if expected_instances[-1] != GOTO_PAGE:
        assert events[expected_instances[-1]] == "finish"

    # IQ-XML export: every instance, its group, completion, the answers and the group order.
    result = subprocess.run(
        [sys.executable, "-c", "from sessionkit.cli import main; main()", "export", str(run_dir), "--format", "iq-xml"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    xml_files = list((run_dir / "exports").glob("*.xml"))
    assert len(xml_files) == 1
    root = etree.parse(str(xml_files[0])).getroot()
    assert root.findtext("RandomizedPageGroupIndices") == ",".join(str(g) for g in order)
    pages = root.findall("Page")
    file_order = [
        instance
        for page_id, _, _ in PAGES
        for instance in ([page_id, f"{page_id}-Rep1", f"{page_id}-Rep2"] if page_id == LOOP_PAGE else [page_id])
    ]
    assert [p.get("ID") for p in pages] == file_order
    for element in pages:
        instance = str(element.get("ID"))
        assert element.get("PageComplete") == "Y" and int(str(element.get("PageGroup"))) == group_of[instance[:3]]
        options = element.findall("QuestionSet/Question/Option")
        last = [option.findall("Response")[-1].text for option in options]
        yes = _answer_value(instance) == "1"
        assert last == (["Y", "N"] if yes else ["N", "Y"]), instance
    goto = next(p for p in pages if p.get("ID") == GOTO_PAGE)
    assert goto.find("QuestionSet/Question/Option/Response").get("Event") == "GoToBookmark"
    logins = root.findall("Login")
    assert len(logins) >= 3 and logins[-1].get("QuizComplete") == "Y"
