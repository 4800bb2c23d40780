"""The demo session resolved on its real images (slicerio's chest CT and segmentation, nibabel's MR)."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.scene import ImageCache, VolumeSource, resolve_image_path, resolve_page
from sessionkit.session import load_session

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def test_demo_pages_resolve_on_real_images() -> None:
    session = load_session(SAMPLES / "demo.xml")
    cache = ImageCache(SAMPLES)
    all_segments, lungs_only, brain = (resolve_page(session, page, cache.get) for page in session.pages)

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
