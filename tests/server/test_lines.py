"""Measurement-line routes (issue 17 item 5) through TestClient on the sample chest CT.

A page with ``MinMarkupLinesRequired`` and no segment editor: Next is refused (SK913) until a line is
saved; lines are added, moved and deleted as Slicer ``.mrk.json`` files logged with their SHA-256; bad
bodies get the JSON error shape; ``sessionkit export --format lines`` lists what exists.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from sessionkit.cli import main
from sessionkit.io.markups import MARKUPS_SCHEMA
from sessionkit.server.app import create_app
from tests.server._hostile import LOCAL

IMAGES_ROOT = Path(__file__).resolve().parent.parent.parent / "sample_sessions"

SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="Measure" Descriptor="Measure">
    <Image ID="CT" Type="Volume" MinMarkupLinesRequired="2">
      <Path>images/CTChest4.nrrd</Path>
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
  <Page ID="Plain" Descriptor="Plain">
    <Image ID="CT" Type="Volume">
      <Path>images/CTChest4.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs2" Descriptor="Plain">
      <Question Type="Radio" Descriptor="Fine?">
        <Option>Yes</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""

JSON = {"content-type": "application/json"}
A = [[-10.5, 20.25, -100.0], [12.0, -3.5, -100.0]]
B = [[0.0, 0.0, -90.0], [3.0, 4.0, -90.0]]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[TestClient, str, Path]:
    session = tmp_path / "lines_session.xml"
    session.write_text(SESSION_XML)
    client = TestClient(
        base_url=LOCAL, app=create_app(session, images_root=IMAGES_ROOT, results_root=tmp_path / "runs")
    )
    run_id = client.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"]
    return client, run_id, tmp_path / "runs" / "reader01"


def _next(client: TestClient, run_id: str) -> Any:
    page = client.get(f"/api/runs/{run_id}/page").json()
    body = {"state_version": page["state_version"], "transition": "next", "answers": {"1": ["Y"]}}
    return client.post(f"/api/runs/{run_id}/submit", json=body)


def _rows(reader_dir: Path) -> list[dict[str, str]]:
    text = (reader_dir / "lines_session" / ".sessionkit" / "annotations.csv").read_text()
    return list(csv.DictReader(io.StringIO(text)))


def test_lines_are_saved_moved_deleted_counted_and_exported(setup: tuple[TestClient, str, Path]) -> None:
    client, run_id, reader_dir = setup
    listed = client.get(f"/api/runs/{run_id}/lines").json()
    assert listed == {"enabled": True, "editable": True, "images": ["CT"], "lines": []}
    refused = _next(client, run_id)
    assert refused.status_code == 422 and refused.json()["code"] == "SK913", refused.text

    first = client.post(f"/api/runs/{run_id}/lines/CT", json={"points": A})
    assert first.status_code == 200, first.text
    line = first.json()
    assert line["number"] == 1 and line["file"] == (
        "lines_session/PgGroup1_Measure_Measure/Measure_CT_MarkupsLine_quizline.mrk.json"
    )
    assert math.isclose(line["length_mm"], math.dist(*A))
    saved = reader_dir / line["file"]
    markup = json.loads(saved.read_text())
    assert markup["@schema"] == MARKUPS_SCHEMA
    [only] = markup["markups"]
    assert (only["type"], only["coordinateSystem"], only["coordinateUnits"]) == ("Line", "LPS", "mm")
    assert [p["position"] for p in only["controlPoints"]] == A
    assert math.isclose(only["measurements"][0]["value"], math.dist(*A))
    assert _next(client, run_id).json()["message"].endswith("1 of 2 drawn")

    second = client.post(f"/api/runs/{run_id}/lines/CT", json={"points": B}).json()
    assert second["number"] == 2 and second["file"].endswith("Measure_CT_MarkupsLine_1_quizline.mrk.json")
    moved = client.put(f"/api/runs/{run_id}/lines/CT/2", json={"points": [B[0], [6.0, 8.0, -90.0]]}).json()
    assert (moved["unchanged"], moved["length_mm"]) == (False, 10.0)
    again = client.put(f"/api/runs/{run_id}/lines/CT/2", json={"points": [B[0], [6.0, 8.0, -90.0]]}).json()
    assert again["unchanged"] is True
    rows = _rows(reader_dir)
    assert [r["kind"] for r in rows] == ["line", "line", "line"]
    assert rows[-1]["sha256"] == hashlib.sha256((reader_dir / moved["file"]).read_bytes()).hexdigest()
    assert float(rows[-1]["length_mm"]) == 10.0

    # Deleting line 1 logs line_deleted and removes the file; a new line takes the free number 1.
    deleted = client.delete(f"/api/runs/{run_id}/lines/CT/1")
    assert deleted.status_code == 200 and not saved.exists()
    assert _rows(reader_dir)[-1]["kind"] == "line_deleted"
    assert [x["number"] for x in client.get(f"/api/runs/{run_id}/lines").json()["lines"]] == [2]
    assert client.post(f"/api/runs/{run_id}/lines/CT", json={"points": A}).json()["number"] == 1
    shown = client.get(f"/api/runs/{run_id}/lines").json()["lines"]
    assert [(x["number"], x["points"]) for x in shown] == [(1, A), (2, [B[0], [6.0, 8.0, -90.0]])]
    assert _next(client, run_id).status_code == 200

    # The next page has no line tool; after Previous the lines are shown again, still editable.
    assert client.get(f"/api/runs/{run_id}/lines").json()["enabled"] is False
    refused_here = client.post(f"/api/runs/{run_id}/lines/CT", json={"points": A})
    assert refused_here.status_code == 422 and refused_here.json()["code"] == "HTTP422"

    result = CliRunner().invoke(main, ["export", str(reader_dir.parent), "--format", "lines", "-o", "x.csv"])
    assert result.exit_code == 0, result.output
    exported = list(csv.DictReader(Path("x.csv").read_text().splitlines()))
    Path("x.csv").unlink()
    assert [(r["reader_id"], r["page_id"], r["page_instance"], r["image_id"], r["line"]) for r in exported] == [
        ("reader01", "Measure", "Measure", "CT", "1"),
        ("reader01", "Measure", "Measure", "CT", "2"),
    ]
    first_row = [float(exported[0][k]) for k in ("x1", "y1", "z1", "x2", "y2", "z2")]
    assert first_row == A[0] + A[1] and math.isclose(float(exported[0]["length_mm"]), math.dist(*A))
    assert float(exported[1]["length_mm"]) == 10.0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"points": [[0, 0, 0]]}, 422),
        ({"points": [[0, 0, 0], [1, 1]]}, 422),
        ({"points": [[0, 0, 0], [1, 1, "2"]]}, 422),
        ({"points": [[0, 0, 0], [1, 1, True]]}, 422),
        ({"points": [[0, 0, 0], [1, 1, 1e300]]}, 422),
        ({"points": [[1, 2, 3], [1, 2, 3]]}, 422),
        ({"points": A, "extra": 1}, 400),
        ({"point": A}, 400),
        ([A], 400),
    ],
)
def test_bad_line_bodies_are_refused_with_the_json_error_shape(
    setup: tuple[TestClient, str, Path], body: object, status: int
) -> None:
    client, run_id, reader_dir = setup
    response = client.post(f"/api/runs/{run_id}/lines/CT", json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) >= {"code", "message", "hint"}
    assert not list(reader_dir.rglob("*.mrk.json*"))


def test_other_refusals(setup: tuple[TestClient, str, Path]) -> None:
    client, run_id, _ = setup
    nan = client.post(
        f"/api/runs/{run_id}/lines/CT",
        content=b'{"points": [[NaN, 0, 0], [1, 1, 1]]}',
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 400
    assert client.post(f"/api/runs/{run_id}/lines/CT", content=b"x" * 5000, headers=JSON).status_code == 413
    assert client.post(f"/api/runs/{run_id}/lines/MR", json={"points": A}).status_code == 404
    assert client.put(f"/api/runs/{run_id}/lines/CT/3", json={"points": A}).status_code == 404
    assert client.delete(f"/api/runs/{run_id}/lines/CT/1").status_code == 404
    assert client.delete(f"/api/runs/{run_id}/lines/CT/999").status_code == 404
    assert client.get("/api/runs/nope/lines").status_code == 404
