"""The demo session resolved on its real images (slicerio's chest CT and segmentation, nibabel's MR)."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.io import starting_labelmap
from sessionkit.scene import ImageCache, VolumeSource, color_lookup, resolve_image_path, resolve_page
from sessionkit.session import load_session, read_color_table
from sessionkit.session.colors import color_file_path

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def test_demo_pages_resolve_on_real_images() -> None:
    session = load_session(SAMPLES / "demo.xml")
    cache = ImageCache(SAMPLES)
    all_segments, lungs_only, brain = (resolve_page(session, page, cache.get) for page in session.pages[:3])

    red = all_segments.views[0]
    assert [v.destination for v in all_segments.views] == ["Red", "Yellow", "Green"]
    assert [v.orientation for v in all_segments.views] == ["Axial", "Sagittal", "Coronal"]
    seg_layer = red.layers[1]
    names = {s.name: s for s in seg_layer.segments}
    assert len(names) == 7
    # slicerio's Segment0_Color for "ribs" is 0.992157 0.909804 0.619608 -> 253 232 158
    assert names["ribs"].color == (253, 232, 158)

    shown = {s.name for s in lungs_only.views[0].layers[1].segments}
    assert shown == {"right lung", "left lung"}  # the five hidden segments are not in the scene (C13)
    assert [v.destination for v in lungs_only.views] == ["Red"]

    assert [v.orientation for v in brain.views] == ["Axial", "Sagittal"]
    assert brain.views[0].layers[0].volume_key == brain.views[1].layers[0].volume_key


def test_nifti_for_the_viewer_keeps_the_segment_voxels() -> None:
    session = load_session(SAMPLES / "demo.xml")
    cache = ImageCache(SAMPLES)
    scene = resolve_page(session, session.pages[0], cache.get)
    label_source = next(s for s in scene.volumes if s.label)
    image = nib.Nifti1Image.from_bytes(gzip.decompress(cache.nifti(label_source)))
    assert int(image.header["intent_code"]) == 1002
    labels = np.asarray(image.dataobj)
    assert labels.shape == (128, 128, 34)
    assert sorted(np.unique(labels).tolist()) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert cache.nifti(label_source) is cache.nifti(label_source)  # cached


def test_paths_cannot_leave_the_images_root(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="outside the images root"):
        resolve_image_path(tmp_path, "../secret.nrrd")
    with pytest.raises(ImageReadError, match="absolute"):
        ImageCache(tmp_path).get(VolumeSource("k", "/etc/passwd", "Volume", label=False))


def test_demo_contouring_starting_contour_and_measurement_pages() -> None:
    """Pages 4-6 (issue 17 item 6): a nodule to outline from the colour table, the Slicer segmentation as
    a starting contour in the table's values (hidden as a layer), and a page that needs a line."""
    session = load_session(SAMPLES / "demo.xml")
    table = read_color_table(color_file_path(SAMPLES / "demo.xml", session.roi_color_file))
    assert table.entries[0].name == "nodule"  # the drawing tools' default segment
    contour, edit, measure = session.pages[3:]
    assert contour.enable_segment_editor and contour.segment_required_on_any_image
    cache = ImageCache(SAMPLES)
    assert [v.orientation for v in resolve_page(session, contour, cache.get).views] == ["Axial", "Coronal"]

    ct, anatomy = edit.images
    assert edit.enable_segment_editor and ct.starting_contour_id == "Anatomy"
    scene = resolve_page(session, edit, cache.get)
    assert all(not layer.segments for view in scene.views for layer in view.layers)  # ROIVisibilityCode="None"
    background = cache.get(VolumeSource("ct", ct.path, "Volume", label=False))
    segmentation = cache.get(VolumeSource("seg", anatomy.path, "Segmentation", label=True))
    labels = starting_labelmap(segmentation, background.grid, color_lookup(table))
    values = {entry.name: entry.label_value for entry in table.entries}
    assert sorted(np.unique(labels).tolist()) == [0, *sorted(v for n, v in values.items() if n != "nodule")]

    [image] = measure.images
    assert image.min_markup_lines_required == 1 and not measure.enable_segment_editor
