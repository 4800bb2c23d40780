"""The HTTP API (clarifications C1) through Starlette's TestClient, on real images and a real run folder."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from starlette.testclient import TestClient

from sessionkit.errors import ServerConfigError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io import write_nrrd
from sessionkit.server.app import TOKEN_COOKIE, create_app
from sessionkit.server.run import check_bind, is_loopback
from tests.server._hostile import LOCAL

HERE = Path(__file__).resolve().parent
SESSION = HERE / "reading_session.xml"
IMAGES_ROOT = HERE.parent.parent / "sample_sessions"
TOKEN = "s3cret-token"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app = create_app(SESSION, images_root=IMAGES_ROOT, results_root=tmp_path / "runs")
    return TestClient(base_url=LOCAL, app=app)


def _login(client: TestClient, reader_id: str = "reader01") -> dict[str, Any]:
    response = client.post("/api/login", json={"reader_id": reader_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _page(client: TestClient, run_id: str) -> dict[str, Any]:
    response = client.get(f"/api/runs/{run_id}/page")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _submit(client: TestClient, run_id: str, page: dict[str, Any], transition: str, answers: dict[str, list[str]]):
    return client.post(
        f"/api/runs/{run_id}/submit",
        json={
            "state_version": page["state_version"],
            "transition": transition,
            "answers": answers,
            "viewer_state": {"views": [{"destination": "Red", "slice_offset": 1.5}]},
            "client": "sessionkit-web/test (pytest 0; Linux)",
            "started_at": "2026-01-01T00:00:00.000Z",
        },
    )


PAGE1_ANSWERS = {"2": ["Y", "N"], "3": ["N", "Y", "Y"], "4": ["looks fine"]}


def _responses(client: TestClient, run_id: str) -> list[dict[str, str]]:
    api = client.app.state.api  # type: ignore[attr-defined]
    path = api.service.run_dir(run_id) / ".sessionkit" / "responses.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_healthz_and_info(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    info = client.get("/api/info").json()
    assert info["access_token_required"] is False
    assert info["version"]
    assert info["idle_timeout_s"] == 600  # reading-flow §4: idle autosave after 10 minutes by default


def test_info_reports_the_idle_timeout(tmp_path: Path) -> None:
    app = create_app(SESSION, images_root=IMAGES_ROOT, results_root=tmp_path / "runs", idle_timeout_minutes=0.5)
    assert TestClient(base_url=LOCAL, app=app).get("/api/info").json()["idle_timeout_s"] == 30


def test_exit_saves_partially_and_review_only_navigates(client: TestClient) -> None:
    """Save & exit (§4) logs partial answers as ``exit``; a complete run is review: nothing written (§13)."""
    run_id = _login(client)["run_id"]
    page = _page(client, run_id)
    assert _submit(client, run_id, page, "exit", {"2": ["Y", "N"]}).status_code == 200
    exits = [r for r in _responses(client, run_id) if r["event"] == "exit"]
    assert {(r["question_id"], r["value"]) for r in exits} >= {("1.1.2", "Y"), ("1.1.2", "N")}
    assert all(r["qs_completion"] == "partial" and r["page_complete"] == "N" for r in exits)
    refused = _submit(client, run_id, _page(client, run_id), "review", {})
    assert refused.status_code == 422 and refused.json()["code"] == "HTTP422"


def test_static_viewer_is_served(client: TestClient) -> None:
    index = client.get("/")
    assert index.status_code == 200
    assert 'src="vendor/niivue.umd.js"' in index.text and 'src="app.js"' in index.text
    assert client.get("/app.js").status_code == 200
    bundle = client.get("/vendor/niivue.umd.js")
    assert bundle.status_code == 200 and len(bundle.content) == 2284381


def test_login_creates_then_resumes_the_same_run(client: TestClient) -> None:
    first = _login(client)
    assert first["nav_position"] == 1 and first["nav_total"] == 3
    assert first["resumed"] is False and first["complete"] is False
    again = _login(client)
    assert again["run_id"] == first["run_id"]
    assert again["resumed"] is True
    other = _login(client, "reader02")
    assert other["run_id"] != first["run_id"]


@pytest.mark.parametrize(
    "body", [{"reader_id": "../etc"}, {"reader_id": ".."}, {"reader_id": ""}, {"reader_id": 7}, {}]
)
def test_login_refuses_bad_reader_ids(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/login", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "HTTP400" and error["message"] and "hint" in error


def test_login_refuses_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post("/api/login", content=b"reader01", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "HTTP400"


def test_page_has_questions_answers_and_scene_with_volume_urls(client: TestClient) -> None:
    run_id = _login(client)["run_id"]
    page = _page(client, run_id)
    assert page["page_id"] == "Chest" and page["progress_text"]
    assert [q["type"] for q in page["question_set"]["questions"]] == ["InfoBox", "Radio", "CheckBox", "Text"]
    assert page["answers"] == {"2": ["", ""], "3": ["", "", ""], "4": [""]}
    assert page["editable"] is True and page["can_previous"] is False and page["can_next"] is True
    scene = page["scene"]
    assert scene["layout"] == "OneUpRedSlice"
    (view,) = scene["views"]
    assert view["destination"] == "Red" and view["orientation"] == "Axial"
    background, *labels = view["layers"]
    assert background["kind"] == "volume" and background["url"].startswith(f"/api/runs/{run_id}/volumes/")
    assert background["url"].endswith(".nii.gz?page=1")
    table = labels[0]["colormap_label"]
    assert len(table["I"]) == 8  # background + 7 segments
    assert all(volume["url"] for volume in scene["volumes"])
    assert "CTChest4" not in str(page) and "nrrd" not in str(page)  # no file names reach the reader


def test_volume_route_serves_gzipped_nifti(client: TestClient) -> None:
    run_id = _login(client)["run_id"]
    view = _page(client, run_id)["scene"]["views"][0]
    background, segmentation = view["layers"][0], view["layers"][1]
    response = client.get(background["url"])
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    image = nib.Nifti1Image.from_bytes(gzip.decompress(response.content))
    assert image.shape == (128, 128, 34)
    labels = nib.Nifti1Image.from_bytes(gzip.decompress(client.get(segmentation["url"]).content))
    assert labels.shape == (128, 128, 34)
    assert int(labels.header["intent_code"]) == 1002
    assert set(np.unique(np.asarray(labels.dataobj))) >= {0, 1}
    # Without ?page= the current page is used.
    bare = background["url"].split("?")[0]
    assert client.get(bare).content == response.content


def test_volume_route_404_for_unknown_key_or_page(client: TestClient) -> None:
    run_id = _login(client)["run_id"]
    missing = client.get(f"/api/runs/{run_id}/volumes/nope.nii.gz?page=1")
    assert missing.status_code == 404 and missing.json()["code"] == "HTTP404"
    assert client.get(f"/api/runs/{run_id}/volumes/nope.nii.gz?page=99").status_code == 404
    assert client.get(f"/api/runs/{run_id}/volumes/nope.nii.gz?page=x").status_code == 400


def test_unknown_run_is_404(client: TestClient) -> None:
    _login(client)
    assert client.get("/api/runs/00000000-0000-0000-0000-000000000000/page").status_code == 404
    assert client.get("/api/runs/not%20a%20run/page").status_code == 404


def test_submit_next_saves_rows_then_moves(client: TestClient) -> None:
    run_id = _login(client)["run_id"]
    page = _page(client, run_id)
    response = _submit(client, run_id, page, "next", PAGE1_ANSWERS)
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["saved"] is True and moved["page_id"] == "Lungs" and moved["nav_position"] == 2
    rows = _responses(client, run_id)
    assert [(r["question_index"], r["option"], r["value"]) for r in rows] == [
        ("2", "Yes", "Y"),
        ("2", "No", "N"),
        ("3", "Ribs", "N"),
        ("3", "Lungs", "Y"),
        ("3", "Spine", "Y"),
        ("4", "Comment", "looks fine"),
    ]
    assert {r["event"] for r in rows} == {"next"} and {r["seq"] for r in rows} == {"1"}
    assert rows[0]["client"] == "sessionkit-web/test (pytest 0; Linux)"
    # Back on page 1, the saved answers come back with the page.
    back = _submit(client, run_id, moved, "previous", {"1": [""], "2": [""]})
    assert back.status_code == 200
    assert _page(client, run_id)["answers"] == PAGE1_ANSWERS


def test_submit_refusals_are_json_and_write_nothing(client: TestClient) -> None:
    run_id = _login(client)["run_id"]
    page = _page(client, run_id)
    missing = _submit(client, run_id, page, "next", {"2": ["N", "N"], "3": ["N", "N", "N"], "4": [""]})
    assert missing.status_code == 422
    body = missing.json()
    assert body["code"] == "SK910" and "Segmentation acceptable?" in body["message"]
    stale = _submit(client, run_id, {**page, "state_version": page["state_version"] + 5}, "next", PAGE1_ANSWERS)
    assert stale.status_code == 409 and stale.json()["code"] == "SK909"
    api = client.app.state.api  # type: ignore[attr-defined]
    responses = api.service.run_dir(run_id) / ".sessionkit" / "responses.csv"
    assert not responses.exists() or len(responses.read_text(encoding="utf-8").splitlines()) <= 1
    # Out-of-range integer on page 2.
    moved = _submit(client, run_id, page, "next", PAGE1_ANSWERS).json()
    out_of_range = _submit(client, run_id, moved, "next", {"1": ["7"], "2": ["12.5"]})
    assert out_of_range.status_code == 422
    assert out_of_range.json()["code"] == "SK911" and "Contour quality" in out_of_range.json()["message"]
    not_available = _submit(client, run_id, moved, "finish", {"1": ["4"], "2": ["12.5"]})
    assert not_available.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"state_version": "1", "transition": "next", "answers": {}},
        {"state_version": True, "transition": "next", "answers": {}},
        {"state_version": 1, "transition": "jump", "answers": {}},
        {"state_version": 1, "transition": "next", "answers": []},
        {"state_version": 1, "transition": "next", "answers": {"x": ["Y"]}},
        {"state_version": 1, "transition": "next", "answers": {"1": "Y"}},
        {"state_version": 1, "transition": "next", "answers": {}, "client": 5},
    ],
)
def test_submit_rejects_malformed_bodies(client: TestClient, body: dict[str, Any]) -> None:
    run_id = _login(client)["run_id"]
    response = client.post(f"/api/runs/{run_id}/submit", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "HTTP400"


def test_finish_completes_the_run_and_login_then_reports_complete(client: TestClient) -> None:
    run_id = _login(client)["run_id"]
    page = _submit(client, run_id, _page(client, run_id), "next", PAGE1_ANSWERS).json()
    page = _submit(client, run_id, page, "next", {"1": ["4"], "2": ["12.5"]}).json()
    assert page["is_last"] is True
    done = _submit(client, run_id, page, "finish", {"1": ["Y", "N"]})
    assert done.status_code == 200, done.text
    assert done.json()["complete"] is True
    assert _login(client)["complete"] is True
    events = [r["event"] for r in _responses(client, run_id)]
    assert events[-2:] == ["finish", "finish"]
    # Review (§13, C1): read-only, navigation only (next/previous/review), nothing written.
    meta = client.app.state.api.service.run_dir(run_id) / ".sessionkit"  # type: ignore[attr-defined]
    before = {name: (meta / name).read_bytes() for name in ("responses.csv", "state.json")}
    review = _page(client, run_id)
    assert review["nav_position"] == 1 and review["editable"] is False and review["scene"] is not None
    moved = _submit(client, run_id, review, "next", {"2": ["N", "Y"]}).json()
    assert moved["nav_position"] == 2 and moved["editable"] is False
    back = _submit(client, run_id, moved, "review", {}).json()
    assert back["nav_position"] == 1
    assert {name: (meta / name).read_bytes() for name in before} == before


def test_access_token_guards_every_api_call(tmp_path: Path) -> None:
    app = create_app(SESSION, images_root=IMAGES_ROOT, results_root=tmp_path / "runs", access_token=TOKEN)
    client = TestClient(base_url=LOCAL, app=app)
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/info").json()["access_token_required"] is True
    refused = client.post("/api/login", json={"reader_id": "reader01"})
    assert refused.status_code == 401 and refused.json()["code"] == "HTTP401"
    wrong = client.post("/api/login", json={"reader_id": "reader01"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    login = client.post("/api/login", json={"reader_id": "reader01"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert login.status_code == 200
    assert login.cookies.get(TOKEN_COOKIE) == TOKEN
    run_id = login.json()["run_id"]
    # The cookie set at login authorises the calls the page cannot add headers to (volume loads).
    page = client.get(f"/api/runs/{run_id}/page")
    assert page.status_code == 200
    assert client.get(page.json()["scene"]["views"][0]["layers"][0]["url"]).status_code == 200
    fresh = TestClient(base_url=LOCAL, app=app)
    assert fresh.get(f"/api/runs/{run_id}/page").status_code == 401


def test_bind_rules() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", TOKEN)
    with pytest.raises(ServerConfigError, match="--access-token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(ServerConfigError, match="at least 8"):
        check_bind("0.0.0.0", "short")


def test_csv_has_one_header(client: TestClient) -> None:
    run_id = _login(client)["run_id"]
    _submit(client, run_id, _page(client, run_id), "next", PAGE1_ANSWERS)
    api = client.app.state.api  # type: ignore[attr-defined]
    text = (api.service.run_dir(run_id) / ".sessionkit" / "responses.csv").read_text(encoding="utf-8")
    assert text.count("log_version") == 1
    assert len(list(csv.reader(io.StringIO(text)))) == 7


def test_labelmap_colours_come_from_the_roi_color_file(tmp_path: Path) -> None:
    grid = ImageGrid((4, 6, 6), np.diag([2.0, 1.0, 1.0, 1.0]))
    labels = np.zeros((4, 6, 6), dtype=np.int16)
    labels[1:3, 1:3, 1:3] = 1
    labels[1:3, 3:5, 3:5] = 2
    (tmp_path / "images").mkdir()
    write_nrrd(Volume(np.arange(144, dtype=np.float32).reshape(4, 6, 6), grid), tmp_path / "images" / "bg.nrrd")
    write_nrrd(Volume(labels, grid), tmp_path / "images" / "labels.nrrd")
    (tmp_path / "colors.txt").write_text("1 lesion 255 0 0 255\n2 cyst 0 0 255 255\n", encoding="utf-8")
    session = tmp_path / "colour_session.xml"
    session.write_text(
        """<Session ROIColorFile="colors" ContourVisibility="Fill">
  <Page ID="P1" Layout="OneUpRedSlice">
    <Image ID="BG" Type="Volume"><Path>images/bg.nrrd</Path><DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation><Layer>Background</Layer></Image>
    <Image ID="LM" Type="LabelMap"><Path>images/labels.nrrd</Path><DefaultDestination>Red</DefaultDestination>
      <Layer>Label</Layer></Image>
    <QuestionSet ID="Q"><Question Type="Radio" Descriptor="Seen?"><Option>Yes</Option><Option>No</Option></Question>
    </QuestionSet>
  </Page>
</Session>
""",
        encoding="utf-8",
    )
    client = TestClient(base_url=LOCAL, app=create_app(session, results_root=tmp_path / "runs"))
    run_id = _login(client)["run_id"]
    label_layer = _page(client, run_id)["scene"]["views"][0]["layers"][1]
    table = label_layer["colormap_label"]
    assert table["I"] == [0, 1, 2] and table["labels"] == ["", "lesion", "cyst"]
    assert (table["R"], table["G"], table["B"]) == ([0, 255, 0], [0, 0, 0], [0, 0, 255])
    served = nib.Nifti1Image.from_bytes(gzip.decompress(client.get(label_layer["url"]).content))
    assert int(served.header["intent_code"]) == 1002
    assert sorted(np.unique(np.asarray(served.dataobj)).tolist()) == [0, 1, 2]


def test_unreadable_label_image_keeps_the_questions_usable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The questions stay usable; the reader is told SK901 without the file's name (issue #11 item 7),
    which goes to the server log instead."""
    grid = ImageGrid((4, 6, 6), np.eye(4))
    (tmp_path / "images").mkdir()
    write_nrrd(Volume(np.zeros((4, 6, 6), dtype=np.int16), grid), tmp_path / "images" / "ct.nrrd")
    (tmp_path / "images" / "broken.seg.nrrd").write_bytes(b"NRRD0004\nthis is not a header\n")
    session = tmp_path / "broken_session.xml"
    session.write_text(
        """<Session ContourVisibility="Fill">
  <Page ID="P1" Layout="OneUpRedSlice">
    <Image ID="CT" Type="Volume"><Path>images/ct.nrrd</Path><DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation><Layer>Background</Layer></Image>
    <Image ID="Seg" Type="Segmentation"><Path>images/broken.seg.nrrd</Path><DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer><ROIs ROIVisibilityCode="All"/></Image>
    <QuestionSet ID="Q"><Question Type="Radio" Descriptor="Seen?"><Option>Yes</Option><Option>No</Option></Question>
    </QuestionSet>
  </Page>
</Session>
""",
        encoding="utf-8",
    )
    client = TestClient(base_url=LOCAL, app=create_app(session, results_root=tmp_path / "runs"))
    run_id = _login(client)["run_id"]
    with caplog.at_level("WARNING", logger="sessionkit.server"):
        page = _page(client, run_id)
        volume = client.get(f"/api/runs/{run_id}/volumes/i2-Seg-L0.nii.gz?page=1")
    assert page["scene"] is None
    assert page["scene_error"]["code"] == "SK901"
    assert page["question_set"]["questions"][0]["descriptor"] == "Seen?"
    assert volume.status_code == 500 and volume.json()["code"] == "SK901"
    for told in (page["scene_error"], volume.json()):
        assert "broken" not in str(told) and str(tmp_path) not in str(told) and "nrrd" not in str(told)
    assert sum("broken.seg.nrrd" in record.getMessage() for record in caplog.records) == 2
