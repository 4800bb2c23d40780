"""Every reader returns the phantom's grid and voxels, whatever format and space it was written in;
every sessionkit writer round-trips through the readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segment, Segmentation, Volume
from sessionkit.io import (
    read_header,
    read_image,
    read_nifti,
    read_nrrd,
    read_seg_nrrd,
    write_nifti,
    write_nrrd,
    write_seg_nrrd,
)

# ``phantom`` / ``phantom_files`` are the conftest fixtures (conftest is not importable under importlib mode)
VOLUME_KINDS = ["nrrd-lps", "nrrd-ras", "nhdr-lps", "nifti", "nifti-gz", "nifti-big-endian"]
LABEL_KINDS = ["nrrd-lps", "nrrd-ras", "nifti-gz"]


def phantom_grid(phantom: Any) -> ImageGrid:
    return ImageGrid.from_parts(phantom.shape, phantom.spacing, phantom.direction, phantom.origin)


def assert_same_grid(grid: ImageGrid, phantom: Any) -> None:
    assert grid.spatial_shape == phantom.shape
    np.testing.assert_allclose(grid.spacing, phantom.spacing, atol=1e-5)
    np.testing.assert_allclose(grid.direction, phantom.direction, atol=1e-5)
    np.testing.assert_allclose(grid.origin, phantom.origin, atol=1e-4)
    # the marked corner voxel lands at the same LPS point
    expected = phantom.origin + phantom.direction @ (phantom.spacing * np.array(phantom.corner))
    np.testing.assert_allclose(grid.index_to_lps([phantom.corner])[0], expected, atol=1e-4)


@pytest.mark.parametrize("kind", VOLUME_KINDS)
def test_every_reader_returns_the_phantom_volume(phantom: Any, phantom_files: Any, kind: str) -> None:
    path = phantom_files.volumes[kind]
    reader = read_nifti if kind.startswith("nifti") else read_nrrd
    for image in (reader(path), read_image(path), read_image(path, image_type="Volume")):
        assert isinstance(image, Volume)
        assert_same_grid(image.grid, phantom)
        assert image.array.dtype == np.int16 and image.array.dtype.isnative
        np.testing.assert_array_equal(image.array, phantom.volume())
        assert image.array[phantom.corner] == 2000
    header = read_header(path)
    assert header.kind == "volume" and header.dtype == "int16" and header.frames == 1
    assert_same_grid(header.grid, phantom)


@pytest.mark.parametrize("kind", LABEL_KINDS)
@pytest.mark.parametrize("image_type", ["LabelMap", "Segmentation"])
def test_label_maps_become_one_layer_segmentations(
    phantom: Any, phantom_files: Any, kind: str, image_type: str
) -> None:
    image = read_image(phantom_files.labels[kind], image_type=image_type)
    assert isinstance(image, Segmentation)
    assert_same_grid(image.grid, phantom)
    np.testing.assert_array_equal(image.layers[0], phantom.labels())
    assert [(s.label_value, s.name, s.layer) for s in image.segments] == [
        (1, "Label_1", 0),
        (2, "Label_2", 0),
        (3, "Label_3", 0),
    ]
    assert [image.voxel_count(s) for s in image.segments] == [24, 35, 1]
    assert read_header(phantom_files.labels[kind], image_type=image_type).kind == "segmentation"


def test_seg_nrrd_written_by_slicerio(phantom: Any, phantom_files: Any) -> None:
    for image in (read_seg_nrrd(phantom_files.segmentation), read_image(phantom_files.segmentation)):
        assert isinstance(image, Segmentation)
        assert_same_grid(image.grid, phantom)
        assert image.layers.shape == (2, *phantom.shape)
        np.testing.assert_array_equal(image.layers[0], phantom.labels())
        assert [(s.segment_id, s.name, s.label_value, s.layer, s.color) for s in image.segments] == [
            ("s1", "block", 1, 0, (255, 0, 0)),
            ("s2", "column", 2, 0, (0, 255, 0)),
            ("s3", "corner", 3, 0, (0, 0, 255)),
            ("s4", "cube", 1, 1, (128, 64, 255)),
        ]
        assert image.voxel_count(image.segments[3]) == 64


def _phantom_segmentation(phantom: Any) -> Segmentation:
    second = np.zeros(phantom.shape, dtype=np.uint8)
    second[0:4, 0:4, 0:4] = 1
    segments = (
        Segment("a", "block", 1, (255, 0, 0), 0),
        Segment("b", "column", 2, (0, 255, 0), 0),
        Segment("c", "corner", 3, (0, 0, 255), 0),
        Segment("d", "cube", 1, (10, 20, 30), 1),
    )
    return Segmentation(np.stack([phantom.labels(), second]), phantom_grid(phantom), segments)


@pytest.mark.parametrize("suffix", [".nrrd", ".nhdr", ".nii", ".nii.gz"])
def test_volume_round_trip(phantom: Any, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"v{suffix}"
    volume = Volume(phantom.volume(), phantom_grid(phantom))
    if suffix.startswith(".nii"):
        write_nifti(volume, path)
    else:
        write_nrrd(volume, path)
    back = read_image(path)
    assert isinstance(back, Volume)
    assert_same_grid(back.grid, phantom)
    np.testing.assert_array_equal(back.array, volume.array)


def test_seg_nrrd_round_trip_keeps_layers_and_segment_table(phantom: Any, tmp_path: Path) -> None:
    segmentation = _phantom_segmentation(phantom)
    write_seg_nrrd(segmentation, tmp_path / "s.seg.nrrd")
    back = read_seg_nrrd(tmp_path / "s.seg.nrrd")
    assert_same_grid(back.grid, phantom)
    np.testing.assert_array_equal(back.layers, segmentation.layers)
    assert back.segments == segmentation.segments


def test_one_layer_label_map_round_trips_through_nrrd(phantom: Any, tmp_path: Path) -> None:
    segmentation = Segmentation(phantom.labels()[np.newaxis], phantom_grid(phantom), ())
    write_nrrd(segmentation, tmp_path / "l.nrrd")
    back = read_image(tmp_path / "l.nrrd", image_type="LabelMap")
    assert isinstance(back, Segmentation)
    np.testing.assert_array_equal(back.layers, segmentation.layers)
    assert_same_grid(back.grid, phantom)


def test_write_nrrd_refuses_several_layers(phantom: Any, tmp_path: Path) -> None:
    from sessionkit.errors import SegmentationError

    with pytest.raises(SegmentationError, match=r"2 layers.*write_seg_nrrd"):
        write_nrrd(_phantom_segmentation(phantom), tmp_path / "x.nrrd")


def test_empty_segmentation_round_trips_as_a_segmentation(phantom: Any, tmp_path: Path) -> None:
    empty = Segmentation(np.zeros((1, *phantom.shape), dtype=np.uint8), phantom_grid(phantom), ())
    write_seg_nrrd(empty, tmp_path / "empty.seg.nrrd")
    back = read_image(tmp_path / "empty.seg.nrrd")  # sniffed by its Segmentation_* fields
    assert isinstance(back, Segmentation)
    assert back.segments == () and not back.layers.any()
    assert_same_grid(back.grid, phantom)
