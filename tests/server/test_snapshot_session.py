"""A run whose session file changed after it started keeps reading its snapshot (SK908), also over HTTP."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import nibabel as nib
import numpy as np
from starlette.testclient import TestClient

from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io import write_nrrd
from sessionkit.server.app import create_app
from tests.server._hostile import LOCAL

SESSION = """<Session ROIColorFile="colors" ContourVisibility="Fill">
  <Page ID="P1" Layout="OneUpRedSlice">
    <Image ID="BG" Type="Volume"><Path>images/{background}</Path><DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation><Layer>Background</Layer></Image>
    <Image ID="LM" Type="LabelMap"><Path>images/labels.nrrd</Path><DefaultDestination>Red</DefaultDestination>
      <Layer>Label</Layer></Image>
    <QuestionSet ID="Q"><Question Type="Radio" Descriptor="{question}"><Option>Yes</Option><Option>No</Option>
    </Question></QuestionSet>
  </Page>
</Session>
"""


def _write_images(folder: Path) -> None:
    grid = ImageGrid((4, 6, 6), np.diag([2.0, 1.0, 1.0, 1.0]))
    (folder / "images").mkdir()
    write_nrrd(Volume(np.arange(144, dtype=np.float32).reshape(4, 6, 6), grid), folder / "images" / "old.nrrd")
    other = ImageGrid((3, 5, 7), np.eye(4))
    write_nrrd(Volume(np.ones((3, 5, 7), dtype=np.float32), other), folder / "images" / "new.nrrd")
    labels = np.zeros((4, 6, 6), dtype=np.int16)
    labels[1:3, 1:3, 1:3] = 1
    write_nrrd(Volume(labels, grid), folder / "images" / "labels.nrrd")


def _served_shape(client: TestClient, url: str) -> tuple[int, ...]:
    image = nib.Nifti1Image.from_bytes(gzip.decompress(client.get(url).content))
    return tuple(int(n) for n in image.shape)


def test_scene_images_and_colours_come_from_the_runs_snapshot(tmp_path: Path) -> None:
    _write_images(tmp_path)
    session, colors = tmp_path / "study.xml", tmp_path / "colors.txt"
    session.write_text(SESSION.format(background="old.nrrd", question="Seen?"), encoding="utf-8")
    colors.write_text("1 lesion 255 0 0 255\n", encoding="utf-8")
    first = TestClient(base_url=LOCAL, app=create_app(session, results_root=tmp_path / "runs"))
    run_id = first.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"]
    before = first.get(f"/api/runs/{run_id}/page").json()
    assert _served_shape(first, before["scene"]["views"][0]["layers"][0]["url"]) == (6, 6, 4)

    # The coordinator edits the session and its colour file while the run is in progress, then restarts.
    session.write_text(SESSION.format(background="new.nrrd", question="Changed?"), encoding="utf-8")
    colors.write_text("1 tumour 0 255 0 255\n", encoding="utf-8")
    second = TestClient(base_url=LOCAL, app=create_app(session, results_root=tmp_path / "runs"))
    assert second.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"] == run_id
    page = second.get(f"/api/runs/{run_id}/page").json()
    layers = page["scene"]["views"][0]["layers"]
    assert _served_shape(second, layers[0]["url"]) == (6, 6, 4)  # the snapshot's image, not new.nrrd
    assert page["question_set"]["questions"][0]["descriptor"] == "Seen?"
    assert layers[1]["colormap_label"]["labels"] == ["", "lesion"]  # the run's copy of the colour table
    events = (second.app.state.api.service.run_dir(run_id) / ".sessionkit" / "events.jsonl").read_text()  # type: ignore[attr-defined]
    assert any(json.loads(line).get("code") == "SK908" for line in events.splitlines())

    # A new reader of the changed session sees the new image and colours.
    other = second.post("/api/login", json={"reader_id": "reader02"}).json()["run_id"]
    fresh = second.get(f"/api/runs/{other}/page").json()["scene"]["views"][0]["layers"]
    assert _served_shape(second, fresh[0]["url"]) == (7, 5, 3)
    assert fresh[1]["colormap_label"]["labels"] == ["", "tumour"]
