"""Hidden segments never leave the server (issue 17 item 1, clarifications C13), with TestClient.

Every ``ROIVisibilityCode`` at the default ``ContourVisibility`` (attribute absent: Outline), on real
files: the demo's chest CT and its 7-segment Slicer ``.seg.nrrd`` (corpus D, shipped by slicerio),
an RT Structure Set (corpus A1, ROI ``GTV-1``) and a label map read with the session colour table.
For each page the ``/page`` JSON and the DECODED bytes of every label volume it names are checked:
a hidden segment's name appears nowhere in the JSON and its label value nowhere in the voxels.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from starlette.testclient import TestClient

from sessionkit.imaging import Segmentation
from sessionkit.io import read_image, read_nifti_bytes
from sessionkit.server.app import create_app
from tests.server._hostile import LOCAL

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"
SEG = SAMPLES / "images" / "Segmentation.seg.nrrd"
A1 = "A1-rtstruct-ibsi-ct-phantom/dicom"

QUESTIONS = """<QuestionSet ID="qs{n}"><Question Type="InfoBox" Descriptor="Look"><Option>Look</Option></Question>
    </QuestionSet>"""


def _page(n: int, rois: str, *, start: bool = False) -> str:
    attributes = ' EnableSegmentEditor="Y"' if start else ""
    contour = ' StartingContourID="Anatomy"' if start else ""
    return f"""
  <Page ID="P{n}" Descriptor="page {n}" Layout="OneUpRedSlice"{attributes}>
    <Image ID="CT" Type="Volume"{contour}>
      <Path>images/CTChest4.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="Anatomy" Type="Segmentation">
      <Path>images/Segmentation.seg.nrrd</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      {rois}
    </Image>
    {QUESTIONS.format(n=n)}
  </Page>"""


#: (ROIs element, names shown) per page; All first, so a cache keyed without the shown set would
#: serve page 1's seven labels on the later pages.
SEG_PAGES = [
    ('<ROIs ROIVisibilityCode="All"/>', None),
    ('<ROIs ROIVisibilityCode="None"/>', set()),
    ('<ROIs ROIVisibilityCode="Select"><ROI>right lung</ROI><ROI>left lung</ROI></ROIs>', {"right lung", "left lung"}),
    ('<ROIs ROIVisibilityCode="Ignore"><ROI>tissue</ROI><ROI>ribs</ROI></ROIs>', None),
]


def _walk(client: TestClient) -> tuple[str, list[dict[str, Any]]]:
    """Sign in and press Next through every page; the run id and the ``/page`` JSON of each page."""
    run_id = client.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"]
    pages = [client.get(f"/api/runs/{run_id}/page").json()]
    while not pages[-1]["is_last"]:
        moved = client.post(
            f"/api/runs/{run_id}/submit",
            json={"state_version": pages[-1]["state_version"], "transition": "next", "answers": {}},
        )
        assert moved.status_code == 200, moved.text
        pages.append(client.get(f"/api/runs/{run_id}/page").json())
    return run_id, pages


def _label_values(client: TestClient, page: dict[str, Any]) -> dict[str, set[int]]:
    """Volume key -> the label values in the decoded bytes of each label volume of the page."""
    values: dict[str, set[int]] = {}
    for volume in page["scene"]["volumes"]:
        if volume["label"]:
            response = client.get(volume["url"])
            assert response.status_code == 200, response.text
            data = np.asarray(nib.Nifti1Image.from_bytes(gzip.decompress(response.content)).dataobj)
            values[volume["key"]] = set(np.unique(data).tolist()) - {0}
    return values


def _segments(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for view in page["scene"]["views"] for layer in view["layers"] for s in layer["segments"]]


def test_segmentation_pages_send_only_the_shown_segments(tmp_path: Path) -> None:
    session = tmp_path / "blind.xml"
    body = "".join(_page(n, rois) for n, (rois, _) in enumerate(SEG_PAGES, start=1))
    session.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<Session>{body}\n</Session>\n', encoding="utf-8")
    client = TestClient(base_url=LOCAL, app=create_app(session, images_root=SAMPLES, results_root=tmp_path / "runs"))
    source = read_image(SEG)
    assert isinstance(source, Segmentation)
    value_of = {s.name: s.label_value for s in source.segments}
    everything = set(value_of)
    expected = [everything, set(), {"right lung", "left lung"}, everything - {"tissue", "ribs"}]

    _, pages = _walk(client)
    assert [p["scene"]["contour_visibility"] for p in pages] == ["Outline"] * 4  # the default (D1)
    for page, shown in zip(pages, expected, strict=True):
        hidden = everything - shown
        text = json.dumps(page)
        assert {s["name"] for s in _segments(page)} == shown
        assert all(f'"{name}"' not in text for name in hidden), (page["page_id"], hidden)
        (values,) = _label_values(client, page).values()
        assert values == {value_of[name] for name in shown}, page["page_id"]


def test_rtstruct_roi_none_hides_the_gtv(tmp_path: Path, corpus: Path) -> None:
    images = """
    <Image ID="CT" Type="Volume" DicomRead="Y">
      <Path>{a1}/image/DCM_IMG_00000.dcm</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <Image ID="RS" Type="RTStruct" DicomRead="Y">
      <Path>{a1}/mask/DCM_RS_00060.dcm</Path>
      <DefaultDestination>Red</DefaultDestination>
      <Layer>Segmentation</Layer>
      <ROIs ROIVisibilityCode="{code}"/>
    </Image>"""
    pages = "".join(
        f'<Page ID="P{n}" Layout="OneUpRedSlice">{images.format(a1=A1, code=code)}{QUESTIONS.format(n=n)}</Page>'
        for n, code in ((1, "None"), (2, "All"))
    )
    session = tmp_path / "rt.xml"
    session.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<Session>{pages}</Session>\n', encoding="utf-8")
    client = TestClient(base_url=LOCAL, app=create_app(session, images_root=corpus, results_root=tmp_path / "runs"))
    _, (hidden, shown) = _walk(client)
    assert "GTV" not in json.dumps(hidden) and _segments(hidden) == []
    assert list(_label_values(client, hidden).values()) == [set()]
    # the same file with All: the GTV and its voxels are there (the check above can see them)
    assert [s["name"] for s in _segments(shown)] == ["GTV-1"]
    assert [len(v) for v in _label_values(client, shown).values()] == [1]


def test_labelmap_select_keeps_only_the_listed_colour_table_names(tmp_path: Path) -> None:
    labels = np.zeros((12, 10, 6), dtype=np.uint8)
    labels[1:4], labels[4:8], labels[8:11] = 1, 2, 3
    nib.save(nib.Nifti1Image(labels, np.eye(4)), tmp_path / "labels.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((12, 10, 6), dtype=np.int16), np.eye(4)), tmp_path / "ct.nii.gz")
    (tmp_path / "colors.txt").write_text("1 liver 255 0 0 255\n2 spleen 0 255 0 255\n3 kidney 0 0 255 255\n")
    session = tmp_path / "lm.xml"
    session.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<Session ROIColorFile="colors">
  <Page ID="P1" Layout="OneUpRedSlice">
    <Image ID="CT" Type="Volume"><Path>ct.nii.gz</Path><DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation><Layer>Background</Layer></Image>
    <Image ID="Organs" Type="LabelMap"><Path>labels.nii.gz</Path><DefaultDestination>Red</DefaultDestination>
      <Layer>Label</Layer><ROIs ROIVisibilityCode="Select"><ROI>spleen</ROI></ROIs></Image>
    {QUESTIONS.format(n=1)}
  </Page>
</Session>
""",
        encoding="utf-8",
    )
    client = TestClient(base_url=LOCAL, app=create_app(session, images_root=tmp_path, results_root=tmp_path / "runs"))
    _, (page,) = _walk(client)
    text = json.dumps(page)
    assert [s["name"] for s in _segments(page)] == ["spleen"]
    assert '"liver"' not in text and '"kidney"' not in text
    assert list(_label_values(client, page).values()) == [{2}]


EVERY_SEGMENT = {"ribs", "cervical vertebral column", "thoracic vertebral column", "lumbar vertebral column"} | {
    "right lung",
    "left lung",
    "tissue",
}


@pytest.mark.parametrize(
    ("rois", "shown"),
    [
        ('<ROIs ROIVisibilityCode="Select"><ROI>left lung</ROI></ROIs>', {"left lung"}),
        ('<ROIs ROIVisibilityCode="Ignore"><ROI>tissue</ROI></ROIs>', EVERY_SEGMENT - {"tissue"}),
        # None on a starting-contour source keeps it from being overlaid as well (docs/contours.md)
        ('<ROIs ROIVisibilityCode="None"/>', EVERY_SEGMENT),
    ],
)
def test_starting_contour_paints_only_the_shown_segments(tmp_path: Path, rois: str, shown: set[str]) -> None:
    session = tmp_path / "start.xml"
    session.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Session>{_page(1, rois, start=True)}\n</Session>\n', encoding="utf-8"
    )
    client = TestClient(base_url=LOCAL, app=create_app(session, images_root=SAMPLES, results_root=tmp_path / "runs"))
    run_id, _ = _walk(client)
    response = client.get(f"/api/runs/{run_id}/drawings/CT.nii.gz")
    assert response.status_code == 200, response.text
    drawn = read_nifti_bytes(response.content).array
    source = read_image(SEG)
    assert isinstance(source, Segmentation) and {s.name for s in source.segments} == EVERY_SEGMENT
    expected = sum(source.voxel_count(s) for s in source.segments if s.name in shown)
    assert int(np.count_nonzero(drawn)) == expected
    assert len(set(np.unique(drawn).tolist()) - {0}) == len(shown)
