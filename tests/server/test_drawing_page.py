"""What the viewer's contour tools get from the server: the ``drawing`` block of ``/page`` and the
SK915 confirmation log (issue #7, reading-flow §4), through Starlette's TestClient on real images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sessionkit.server.app import create_app
from tests.server._hostile import LOCAL

HERE = Path(__file__).resolve().parent
IMAGES_ROOT = HERE.parent.parent / "sample_sessions"


def _client(tmp_path: Path, session: str) -> tuple[TestClient, str]:
    app = create_app(HERE / session, images_root=IMAGES_ROOT, results_root=tmp_path / "runs")
    client = TestClient(base_url=LOCAL, app=app)
    run_id = client.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"]
    return client, str(run_id)


def test_page_of_a_drawing_page_carries_the_colour_table(tmp_path: Path) -> None:
    client, run_id = _client(tmp_path, "drawing_session.xml")
    page = client.get(f"/api/runs/{run_id}/page").json()
    assert page["drawing"] == {
        "images": ["CT"],
        "radius_mm": None,
        "segments": [
            {"value": 1, "name": "lesion", "color": [255, 0, 0, 255]},
            {"value": 2, "name": "nodule", "color": [0, 255, 0, 255]},
        ],
        "required": [],
        "required_any": False,
    }
    assert page["confirm_no_contours"] is True


def test_page_without_the_segment_editor_has_no_drawing(tmp_path: Path) -> None:
    client, run_id = _client(tmp_path, "reading_session.xml")
    assert client.get(f"/api/runs/{run_id}/page").json()["drawing"] is None


def test_sk915_answers_are_logged(tmp_path: Path) -> None:
    client, run_id = _client(tmp_path, "drawing_session.xml")
    body = {"code": "SK915", "answer": "cancel", "transition": "next"}
    response = client.post(f"/api/runs/{run_id}/confirmations", json=body)
    assert response.status_code == 200, response.text
    events_file = client.app.state.api.service.run_dir(run_id) / ".sessionkit" / "events.jsonl"  # type: ignore[attr-defined]
    last = json.loads(events_file.read_text().splitlines()[-1])
    assert last["kind"] == "confirmation"
    assert {"code": "SK915", "answer": "cancel", "transition": "next", "nav_position": 1}.items() <= last.items()


@pytest.mark.parametrize(
    "body",
    [
        {"code": "SK999", "answer": "cancel", "transition": "next"},
        {"code": "SK915", "answer": "maybe", "transition": "next"},
        {"code": "SK915", "answer": "cancel", "transition": "jump"},
    ],
)
def test_unknown_confirmations_are_refused(tmp_path: Path, body: dict[str, str]) -> None:
    client, run_id = _client(tmp_path, "drawing_session.xml")
    response = client.post(f"/api/runs/{run_id}/confirmations", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "HTTP400"
