"""Picture, Button and interaction-log routes (session-format §7, D9, D17; reading-flow §14.4) via TestClient."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from sessionkit.errors import RequestError
from sessionkit.responses.interaction_log import INTERACTION_COLUMNS
from sessionkit.server.app import create_app
from sessionkit.server.page_extras import picture_path
from tests.server._hostile import LOCAL

SESSION = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="P1" Layout="OneUpRedSlice" UserInteractionLog="Y">
    <Image ID="CT" Type="Volume">
      <Path>ct.nii.gz</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="QS1" Descriptor="Widgets">
      <Question Type="Picture" Descriptor="Reference">
        <Option>pics/ref.png</Option>
        <Option>notes.txt</Option>
        <Option>scan.tif</Option>
      </Question>
      <Question Type="Button" Descriptor="Run">
        <Option>record_click.py</Option>
      </Question>
      <Question Type="Button" Descriptor="Other" ButtonToggleColorOff="1 2 3">
        <Option>unknown_tool.py</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="P2" Layout="OneUpRedSlice">
    <QuestionSet ID="QS2" Descriptor="End"/>
  </Page>
</Session>
"""
#: 8 x 6 x 4 voxels, 2 x 3 x 4 mm, RAS origin (10, -20, 30).
AFFINE = np.array([[2.0, 0, 0, 10], [0, 3.0, 0, -20], [0, 0, 4.0, 30], [0, 0, 0, 1]])


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    nib.save(nib.Nifti1Image(np.zeros((8, 6, 4), dtype=np.int16), AFFINE), tmp_path / "ct.nii.gz")
    (tmp_path / "pics").mkdir()
    Image.new("RGB", (5, 3), (0, 255, 0)).save(tmp_path / "pics" / "ref.png")
    (tmp_path / "notes.txt").write_text("not a picture", encoding="utf-8")
    Image.new("L", (4, 2), 77).save(tmp_path / "scan.tif")
    (tmp_path / "session.xml").write_text(SESSION, encoding="utf-8")
    return TestClient(base_url=LOCAL, app=create_app(tmp_path / "session.xml", results_root=tmp_path / "runs"))


def _login(client: TestClient) -> str:
    return str(client.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"])


def test_picture_served_from_the_session_folder_only(client: TestClient, tmp_path: Path) -> None:
    run_id = _login(client)
    response = client.get(f"/api/runs/{run_id}/pictures/1/1")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == (tmp_path / "pics" / "ref.png").read_bytes()
    assert client.get(f"/api/runs/{run_id}/pictures/1/2").status_code == 404  # not a picture format
    tiff = client.get(f"/api/runs/{run_id}/pictures/1/3")  # a Qt-only raster: converted to PNG (D17)
    assert tiff.status_code == 200 and tiff.headers["content-type"] == "image/png"
    converted = Image.open(io.BytesIO(tiff.content))
    assert converted.format == "PNG" and converted.size == (4, 2) and converted.getpixel((0, 0)) == (77, 77, 77)
    assert client.get(f"/api/runs/{run_id}/pictures/2/1").status_code == 404  # question 2 is a Button
    for escape in ("../ct.png", "/etc/passwd.png", "pics/../../x.png"):
        with pytest.raises(RequestError, match="not a picture in the session folder"):
            picture_path(tmp_path / "pics", escape)


def test_buttons_run_registered_actions_only(client: TestClient, tmp_path: Path) -> None:
    run_id = _login(client)
    registered = client.post(f"/api/runs/{run_id}/button", json={"question": 2, "option": 1}).json()
    assert registered == {"registered": True, "action": "record_click", "value": "record_click-Done", "toggle": False}
    other = client.post(f"/api/runs/{run_id}/button", json={"question": 3, "option": 1}).json()
    assert other == {"registered": False, "action": None, "value": "unknown_tool", "toggle": True}
    assert client.post(f"/api/runs/{run_id}/button", json={"question": 1, "option": 1}).status_code == 404
    not_json = client.post(f"/api/runs/{run_id}/button", content=b"[", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    events = (tmp_path / "runs" / "reader01" / "session" / ".sessionkit" / "events.jsonl").read_text()
    clicks = [json.loads(line) for line in events.splitlines() if '"button"' in line]
    assert [(c["action"], c["registered"]) for c in clicks] == [("record_click.py", True), ("unknown_tool.py", False)]


def _screen_to_ras() -> list[float]:
    # 1 px = 1 mm; screen x -> RAS x, screen y -> -RAS y (anterior up); the axial slice at z = 38 mm (k = 2).
    return [1, 0, 0, 10, 0, -1, 0, -5, 0, 0, 0, 38, 0, 0, 0, 1]


def test_interaction_rows_on_logging_pages_only(client: TestClient, tmp_path: Path) -> None:
    run_id = _login(client)
    view: dict[str, Any] = {"destination": "Red", "width": 10, "height": 12, "screen_to_ras": _screen_to_ras()}
    assert client.post(
        f"/api/runs/{run_id}/interaction", json={"uptime_ms": 5, "layout": "x", "views": [view]}
    ).json() == {"logged": 4}
    client.post(f"/api/runs/{run_id}/interaction", json={"uptime_ms": 9, "transition": "Leaving Page --Next"})
    log = tmp_path / "runs" / "reader01" / "session" / "PgGroup1_P1_" / "UserInteractionLog.csv"
    with log.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == INTERACTION_COLUMNS
        rows = list(reader)
    top_left, top_right, bottom_left, _ = rows[:4]
    assert (
        top_left["Location"] == "TopLeft" and top_left["Layout"] == "OneUpRedSlice" and top_left["Image_bg"] == "P1_CT"
    )
    # RAS (10, -5, 38) -> voxel (0, 5, 2); (20, -5) -> i 5; (10, -17) -> j 1.
    assert (top_left["I_bg"], top_left["J_bg"], top_left["K_bg"]) == ("0", "5", "2")
    assert (top_right["I_bg"], top_right["J_bg"]) == ("5", "5")
    assert (bottom_left["I_bg"], bottom_left["J_bg"]) == ("0", "1")
    assert float(top_left["m_bg(0-0)"]) == pytest.approx(0.5) and float(top_left["m_bg(1-1)"]) == pytest.approx(-1 / 3)
    assert rows[-1]["CPU Uptime"] == "9" and rows[-1]["Layout"].endswith(" Leaving Page --Next")
    page = client.get(f"/api/runs/{run_id}/page").json()
    client.post(
        f"/api/runs/{run_id}/submit",
        json={"state_version": page["state_version"], "transition": "next", "answers": {"2": ["record_click-Done"]}},
    )
    assert client.get(f"/api/runs/{run_id}/page").json()["page_id"] == "P2"
    off = client.post(f"/api/runs/{run_id}/interaction", json={"uptime_ms": 1, "transition": "Leaving Page --Next"})
    assert off.json() == {"logged": 0} and not list((tmp_path / "runs").rglob("PgGroup2_*/UserInteractionLog.csv"))


def test_view_mode_switch_logs_the_state_captured_before_it(client: TestClient, tmp_path: Path) -> None:
    """Reading-flow §12: the viewer state is captured before an alternate view mode (events.jsonl)."""
    run_id = _login(client)
    before = {"views": [{"destination": "Red", "orientation": "Axial", "viewing_mode": "Default", "slice_offset": 3.0}]}
    body = {"destination": "Red", "viewing_mode": "3 Planes", "viewer_state": before}
    assert client.post(f"/api/runs/{run_id}/view-mode", json=body).json() == {"logged": True}
    for bad in ({**body, "viewing_mode": "4 Planes"}, {**body, "viewer_state": None}, {"viewing_mode": "Default"}):
        assert client.post(f"/api/runs/{run_id}/view-mode", json=bad).status_code == 400
    events = (tmp_path / "runs" / "reader01" / "session" / ".sessionkit" / "events.jsonl").read_text()
    logged = [json.loads(line) for line in events.splitlines() if '"view_mode"' in line]
    assert len(logged) == 1 and logged[0]["viewing_mode"] == "3 Planes" and logged[0]["viewer_state"] == before
