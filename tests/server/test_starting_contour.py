"""``Image@StartingContourID`` through the drawing route (issue #7 item 5) with TestClient.

The chest CT of ``sample_sessions/images`` (corpus D: CTChest4.nrrd and its Slicer Segmentation.seg.nrrd,
same grid) starts the reader's drawing from the segmentation. Segments named in the session colour
table take the table's value; the others keep their own value unless it is taken (then the lowest free
value), as :func:`sessionkit.io.starting_labelmap` documents.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import read_image, read_nifti_bytes, read_nrrd, write_nrrd
from sessionkit.server.app import create_app
from sessionkit.session import validate_session
from tests.server._drawing_api import login, next_to_review, niivue_upload
from tests.server._hostile import LOCAL

IMAGES_ROOT = Path(__file__).resolve().parent.parent.parent / "sample_sessions"
BACKGROUND = IMAGES_ROOT / "images" / "CTChest4.nrrd"
SOURCE = IMAGES_ROOT / "images" / "Segmentation.seg.nrrd"
COLORS = "# id name r g b a\n1 right_lung 0 255 0 255\n2 Left_Lung 0 0 255 255\n3 ribs 255 255 0 255\n"
#: Segment name -> value in the drawing under COLORS (table names first, then own value or lowest free).
EXPECTED_VALUE = {
    "right lung": 1,
    "left lung": 2,
    "ribs": 3,
    "cervical vertebral column": 4,  # own 2 taken -> lowest free
    "thoracic vertebral column": 5,  # own 3 taken
    "lumbar vertebral column": 6,  # own 4 taken
    "tissue": 7,  # own 7 free
}
IMAGES = """
    <Image ID="CT" Type="Volume" {attributes}>
      <Path>images/CTChest4.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="Anatomy" Type="Segmentation">
      <Path>images/Segmentation.seg.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="All"/>
    </Image>
    <QuestionSet ID="qs" Descriptor="Q">
      <Question Type="Radio" Descriptor="Done?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>"""
SESSION = f"""<?xml version="1.0" encoding="UTF-8"?>
<Session ROIColorFile="colors">
  <Page ID="Start" Descriptor="Outline" EnableSegmentEditor="Y" Layout="OneUpRedSlice">
{IMAGES.format(attributes='StartingContourID="Anatomy" LabelMapID="organs"')}
  </Page>
  <Page ID="Review" Descriptor="Check" EnableSegmentEditor="Y" Layout="OneUpRedSlice">
{IMAGES.format(attributes='StartingContourID="Anatomy" DisplayLabelMapID="organs"')}
  </Page>
</Session>
"""


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "session.xml").write_text(SESSION, encoding="utf-8")
    (tmp_path / "colors.txt").write_text(COLORS, encoding="utf-8")
    app = create_app(tmp_path / "session.xml", images_root=IMAGES_ROOT, results_root=tmp_path / "runs")
    return TestClient(base_url=LOCAL, app=app)


def _expected_start() -> np.ndarray:
    """The source's voxels relabelled per EXPECTED_VALUE, computed from the file's own masks."""
    source = read_image(SOURCE)
    assert isinstance(source, Segmentation) and {s.name for s in source.segments} == set(EXPECTED_VALUE)
    out = np.zeros(source.grid.spatial_shape, dtype=np.uint8)
    for segment in source.segments:
        out[source.mask(segment)] = EXPECTED_VALUE[segment.name]
    return out


def _shown(client: TestClient, run_id: str) -> np.ndarray:
    response = client.get(f"/api/runs/{run_id}/drawings/CT.nii.gz")
    assert response.status_code == 200, response.text
    returned = read_nifti_bytes(response.content)
    assert returned.grid.matches(read_image(BACKGROUND).grid)
    return np.asarray(returned.array)


def test_starting_contour_is_shown_unsaved_then_edited_and_saved(client: TestClient, tmp_path: Path) -> None:
    run_id, page = login(client)
    start = _expected_start()
    assert len(np.unique(start)) == 8
    assert np.array_equal(_shown(client, run_id), start)
    assert not list((tmp_path / "runs").rglob("*.nrrd"))  # shown, not saved
    edited = start.copy()
    edited[17, 40:60, 50:70] = 3  # paint ribs over a patch
    edited[20, 64, :] = 0  # erase a row
    touched = np.zeros(start.shape, bool)
    touched[17, 40:60, 50:70] = touched[20, 64, :] = True
    response = client.put(f"/api/runs/{run_id}/drawings/CT", content=niivue_upload(client, page, edited, gz=True))
    assert response.status_code == 200, response.text
    saved = read_nrrd(tmp_path / "runs" / "reader01" / response.json()["file"])
    assert np.array_equal(saved.grid.affine, read_image(BACKGROUND).grid.affine)
    assert np.array_equal(saved.array[~touched], start[~touched])  # unedited voxels identical to the source
    assert np.array_equal(saved.array[touched], edited[touched])
    assert np.array_equal(_shown(client, run_id), edited)  # the reader's map now wins over the file


def test_display_label_map_source_wins_over_the_starting_contour(client: TestClient) -> None:
    run_id, page = login(client)
    own = np.zeros(_expected_start().shape, dtype=np.uint8)
    own[10, 5:9, 5:9] = 2
    assert (
        client.put(f"/api/runs/{run_id}/drawings/CT", content=niivue_upload(client, page, own, gz=True)).status_code
        == 200
    )
    next_to_review(client, run_id, page)
    assert np.array_equal(_shown(client, run_id), own)


def test_without_a_redisplay_source_the_starting_contour_is_shown(client: TestClient) -> None:
    run_id, page = login(client)
    next_to_review(client, run_id, page)
    assert np.array_equal(_shown(client, run_id), _expected_start())


def test_label_map_image_as_starting_contour(tmp_path: Path) -> None:
    """A plain label volume (``Type="LabelMap"``) starts the drawing with its own values."""
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(BACKGROUND, images / "CTChest4.nrrd")
    source = read_image(SOURCE)
    assert isinstance(source, Segmentation)
    labels = np.where(source.layers[0] == 7, 0, source.layers[0]).astype(np.uint8)  # tissue removed
    write_nrrd(Volume(labels, source.grid, None, "organs"), images / "organs.nrrd")
    xml = SESSION.replace('Type="Segmentation"', 'Type="LabelMap"').replace(
        "images/Segmentation.seg.nrrd", "images/organs.nrrd"
    )
    xml = xml.replace("<Layer>Segmentation</Layer>", "<Layer>Label</Layer>")
    (tmp_path / "session.xml").write_text(xml, encoding="utf-8")
    (tmp_path / "colors.txt").write_text(COLORS, encoding="utf-8")
    app = create_app(tmp_path / "session.xml", images_root=tmp_path, results_root=tmp_path / "runs")
    client = TestClient(base_url=LOCAL, app=app)
    assert [p.code for p in validate_session(tmp_path / "session.xml", images_root=tmp_path) if p.is_error] == []
    run_id, _ = login(client)
    assert np.array_equal(_shown(client, run_id), labels)
