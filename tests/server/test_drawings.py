"""Contour routes (C1 ``PUT/GET /api/runs/{run_id}/drawings/...``) through TestClient on the chest CT.

The uploads are built the way Niivue builds them: the background NIfTI the server sent (its header
and float32 affine) with the uint8 drawing as data, uncompressed (``saveImage``) or gzipped
(``saveToUint8Array``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from starlette.testclient import TestClient

from sessionkit.io import read_image, read_nifti_bytes, read_nrrd
from sessionkit.server.app import create_app
from sessionkit.server.drawings import DRAWING_ROUTES
from tests.server._drawing_api import login, next_to_review, niivue_upload
from tests.server._hostile import LOCAL

HERE = Path(__file__).resolve().parent
SESSION = HERE / "drawing_session.xml"
IMAGES_ROOT = HERE.parent.parent / "sample_sessions"
BACKGROUND = IMAGES_ROOT / "images" / "CTChest4.nrrd"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app = create_app(SESSION, images_root=IMAGES_ROOT, results_root=tmp_path / "runs")
    if not any(route in app.routes for route in DRAWING_ROUTES):
        pytest.skip("DRAWING_ROUTES are not registered in create_app yet")
    return TestClient(base_url=LOCAL, app=app)


def _strokes(shape: tuple[int, int, int]) -> np.ndarray:
    labels = np.zeros(shape, dtype=np.uint8)
    labels[12, 40:60, 30:70] = 1
    labels[20, 64, 10:90] = 2
    return labels


def _annotations(tmp_path: Path) -> list[dict[str, str]]:
    text = (tmp_path / "runs" / "reader01" / "drawing_session" / ".sessionkit" / "annotations.csv").read_text()
    return list(csv.DictReader(io.StringIO(text)))


def test_put_saves_the_drawing_on_the_exact_background_grid(client: TestClient, tmp_path: Path) -> None:
    run_id, page = login(client)
    assert client.get(f"/api/runs/{run_id}/drawings/CT.nii.gz").status_code == 204
    background = read_image(BACKGROUND)
    labels = _strokes(background.grid.spatial_shape)
    responses = [
        client.put(f"/api/runs/{run_id}/drawings/CT", content=niivue_upload(client, page, labels, gz=gz))
        for gz in (False, True)
    ]
    assert [r.status_code for r in responses] == [200, 200], responses[-1].text
    assert [r.json()["unchanged"] for r in responses] == [False, True]  # the same drawing twice: one save
    body = responses[0].json()
    assert responses[1].json()["sha256"] == body["sha256"]
    assert body["file"] == "drawing_session/PgGroup1_Draw_Outline/Draw_CT-quizlabel.nrrd"
    assert (body["labels"], body["voxel_count"], body["unknown_labels"]) == ([1, 2], 20 * 40 + 80, [])
    saved = read_nrrd(tmp_path / "runs" / "reader01" / body["file"])
    assert saved.array.dtype == np.uint8 and np.array_equal(saved.array, labels)
    assert np.array_equal(saved.grid.affine, background.grid.affine)  # spacing, origin, direction exactly
    rows = _annotations(tmp_path)
    assert [r["kind"] for r in rows] == ["labelmap"] and rows[-1]["sha256"] == body["sha256"]
    assert rows[-1]["labels"] == "1 2" and rows[-1]["event"] == "autosave"
    shown = client.get(f"/api/runs/{run_id}/drawings/CT.nii.gz")
    assert shown.status_code == 200 and shown.content[:2] == b"\x1f\x8b"
    returned = read_nifti_bytes(shown.content)
    assert returned.grid.matches(background.grid) and np.array_equal(returned.array, labels)
    assert client.get(f"/api/runs/{run_id}/page").json()["confirm_no_contours"] is False


def test_refused_uploads_name_the_problem_and_write_nothing(client: TestClient, tmp_path: Path) -> None:
    run_id, page = login(client)
    shape = read_image(BACKGROUND).grid.spatial_shape
    good = niivue_upload(client, page, _strokes(shape), gz=False)
    shifted: Any = nib.Nifti1Image.from_bytes(good)
    moved = shifted.affine.copy()
    moved[2, 3] += 5.0
    wrong_grid: bytes = nib.Nifti1Image(np.asanyarray(shifted.dataobj), moved, shifted.header).to_bytes()
    cases = [
        ("CT", wrong_grid, 422, "origin"),
        ("CT", b"\x00" * 400, 422, "NIfTI"),
        ("Anatomy", good, 422, "cannot be drawn"),
        ("Nope", good, 404, "no image"),
    ]
    for image_id, content, status, text in cases:
        response = client.put(f"/api/runs/{run_id}/drawings/{image_id}", content=content)
        assert response.status_code == status, response.text
        assert text in response.json()["message"] and response.json()["code"] == f"HTTP{status}"
    assert not list((tmp_path / "runs").rglob("*.nrrd"))
    assert not (tmp_path / "runs" / "reader01" / "drawing_session" / ".sessionkit" / "annotations.csv").exists()
    assert client.put("/api/runs/not-a-run/drawings/CT", content=good).status_code == 404


def test_redisplay_page_starts_from_the_earlier_drawing_and_keeps_edits(client: TestClient, tmp_path: Path) -> None:
    run_id, page = login(client)
    shape = read_image(BACKGROUND).grid.spatial_shape
    first = _strokes(shape)
    assert client.put(f"/api/runs/{run_id}/drawings/CT", content=niivue_upload(client, page, first, gz=True))
    page = next_to_review(client, run_id, page)
    shown = read_nifti_bytes(client.get(f"/api/runs/{run_id}/drawings/CT.nii.gz").content)
    assert np.array_equal(shown.array, first)
    edited = first.copy()
    edited[12, 40:50, 30:40] = 0
    response = client.put(f"/api/runs/{run_id}/drawings/CT", content=niivue_upload(client, page, edited, gz=True))
    assert response.status_code == 200 and response.json()["file"].endswith("Review_CT-quizlabel.nrrd")
    again = read_nifti_bytes(client.get(f"/api/runs/{run_id}/drawings/CT.nii.gz").content)
    assert np.array_equal(again.array, edited)
    assert [r["kind"] for r in _annotations(tmp_path)] == ["labelmap", "redisplay", "labelmap"]
