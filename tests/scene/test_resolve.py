"""Page resolver on models built in memory (no files, no browser)."""

from __future__ import annotations

import numpy as np
import pytest

from sessionkit.errors import SegmentationError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segment, Segmentation, Volume
from sessionkit.scene.model import VolumeSource
from sessionkit.scene.resolve import resolve_page, visible_segments
from sessionkit.session.model import Location, Page, QuestionSet, Session, SessionImage

GRID = ImageGrid.from_parts((2, 3, 4), spacing=(3.0, 1.0, 1.0))
LOC = Location("t.xml")
SEGMENTS = (
    Segment("Segment_1", "right lung", 1, (128, 174, 128), 0),
    Segment("Segment_2", "left lung", 2, (241, 214, 145), 0),
    Segment("Segment_3", "ribs", 3, (177, 122, 101), 0),
    Segment("Segment_4", "sphere", 1, (200, 0, 0), 1),
)
SEGMENTATION = Segmentation(np.zeros((2, *GRID.spatial_shape), dtype=np.uint8), GRID, SEGMENTS)


def _image(index: int, image_id: str, image_type: str, path: str, **kw: object) -> SessionImage:
    return SessionImage(id=image_id, type=image_type, index=index, location=LOC, path=path, raw_path=path, **kw)  # type: ignore[arg-type]


def _loader(source: VolumeSource) -> Segmentation | Volume:
    if source.image_type == "Segmentation":
        return SEGMENTATION
    return Volume(np.zeros(GRID.spatial_shape, dtype=np.int16), GRID)


def _session(*images: SessionImage, layout: str | None = None, contour: str | None = None) -> tuple[Session, Page]:
    page = Page(id="P1", index=1, location=LOC, layout=layout, images=images, question_sets=(QuestionSet(1, LOC),))  # type: ignore[arg-type]
    return Session(file="t.xml", sha256="0", location=LOC, pages=(page,), contour_visibility=contour), page  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "rois", "expected"),
    [
        ("All", (), {"Segment_1", "Segment_2", "Segment_3", "Segment_4"}),
        (None, (), {"Segment_1", "Segment_2", "Segment_3", "Segment_4"}),
        ("None", (), set()),
        ("Select", ("right lung", "left lung"), {"Segment_1", "Segment_2"}),
        ("Select", ("Segment_3",), {"Segment_3"}),  # no name matches: the segment ID is tried
        ("Select", ("Right Lung",), set()),  # case-sensitive
        ("Ignore", ("ribs", "sphere"), {"Segment_1", "Segment_2"}),
    ],
)
def test_roi_visibility_codes(code: str | None, rois: tuple[str, ...], expected: set[str]) -> None:
    image = _image(1, "Seg", "Segmentation", "seg.seg.nrrd", roi_visibility_code=code, rois=rois)
    assert visible_segments(image, SEGMENTS) == expected


def test_views_layers_and_colours() -> None:
    session, page = _session(
        _image(1, "CT", "Volume", "ct.nrrd", destination="Red", orientation="Axial", window_level=(400, 40)),
        _image(2, "CT", "Volume", "ct.nrrd", destination="Green", orientation="Coronal"),
        _image(
            3,
            "Seg",
            "Segmentation",
            "seg.seg.nrrd",
            destination="Red",
            roi_visibility_code="Select",
            rois=("left lung",),
        ),
        _image(4, "PET", "Volume", "pet.nrrd", destination="Red", layer="Foreground", opacity=0.3, color_table="Iron"),
    )
    scene = resolve_page(session, page, _loader)
    assert [v.destination for v in scene.views] == ["Red", "Green"]  # FourUp order: Red, Yellow, Green
    red, green = scene.views
    assert (red.orientation, green.orientation) == ("Axial", "Coronal")
    assert [layer.role for layer in red.layers] == ["Background", "Foreground", "Segmentation", "Segmentation"]
    background, foreground, seg_layer0, seg_layer1 = red.layers
    assert background.window_level == (400, 40) and background.opacity == 1.0
    assert (foreground.opacity, foreground.colormap) == (0.3, "Iron")
    # both elements of ct.nrrd share one volume key (one loaded object)
    assert green.layers[0].volume_key == background.volume_key
    # two segmentation layers become two label volumes
    assert {seg_layer0.volume_key, seg_layer1.volume_key} == {s.key for s in scene.volumes if s.label}
    assert {s.layer for s in scene.volumes if s.label} == {0, 1}
    lut = seg_layer0.colormap_label()
    assert lut["I"] == [0, 2] and lut["labels"] == ["", "left lung"]  # only "left lung" is shown (C13)
    assert lut["A"] == [0, 255]
    assert (lut["R"][1], lut["G"][1], lut["B"][1]) == (241, 214, 145)
    assert seg_layer1.segments == ()
    shown = {s.layer: s.shown_labels for s in scene.volumes if s.label}
    assert shown == {0: frozenset({2}), 1: frozenset()}
    assert seg_layer0.outline  # D1: ContourVisibility defaults to Outline
    assert scene.to_json()["views"][0]["layers"][2]["colormap_label"] == lut


def test_layout_hides_viewports_it_lacks_and_fill_mode() -> None:
    session, page = _session(
        _image(1, "CT", "Volume", "ct.nrrd"),
        _image(2, "CT", "Volume", "ct.nrrd", destination="Yellow"),
        layout="OneUpRedSlice",
        contour="Fill",
    )
    scene = resolve_page(session, page, _loader)
    assert [v.destination for v in scene.views] == ["Red"]
    assert scene.contour_visibility == "Fill"


def test_label_type_on_a_volume_file_is_a_clear_error() -> None:
    session, page = _session(_image(1, "Seg", "Segmentation", "ct.nrrd"))
    with pytest.raises(SegmentationError, match="needs a label image"):
        resolve_page(session, page, lambda source: Volume(np.zeros(GRID.spatial_shape), GRID))


def test_zoom_pan_and_slice_offset_come_from_each_viewports_background_only() -> None:
    """D7: one ZoomFactor/PanOrigin/InitialSliceOffset per viewport, from its Background (IQ compounds zoom)."""
    session, page = _session(
        _image(
            1,
            "CT",
            "Volume",
            "ct.nrrd",
            destination="Red",
            zoom_factor=2.0,
            pan_origin=(1.0, 2.0, 3.0),
            initial_slice_offset=-4.5,
        ),
        _image(
            2,
            "MR",
            "Volume",
            "mr.nrrd",
            destination="Red",
            layer="Foreground",
            zoom_factor=3.0,
            pan_origin=(9.0, 9.0, 9.0),
            initial_slice_offset=7.0,
            opacity=0.25,
        ),
        _image(3, "Seq", "VolumeSequence", "seq.nrrd", destination="Yellow"),
        layout="SideBySideRedYellow",
    )
    red, yellow = resolve_page(session, page, _loader).views
    assert (red.zoom_factor, red.pan_origin, red.initial_slice_offset) == (2.0, (1.0, 2.0, 3.0), -4.5)
    assert red.layers[1].role == "Foreground" and red.layers[1].opacity == 0.25 and not red.layers[0].sequence
    assert (yellow.zoom_factor, yellow.pan_origin, yellow.initial_slice_offset) == (1.0, None, None)
    assert yellow.layers[0].sequence
    data = resolve_page(session, page, _loader).to_json()
    assert data["views"][0]["pan_origin"] == (1.0, 2.0, 3.0) and data["views"][1]["layers"][0]["sequence"] is True
