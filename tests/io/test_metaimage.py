"""MetaImage through optional SimpleITK (clarifications C5): the phantom written by SimpleITK itself,
and the message naming the extra when SimpleITK is absent."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import read_header, read_image


@pytest.mark.parametrize("suffix", [".mha", ".mhd"])
def test_phantom_written_by_simpleitk(phantom: Any, tmp_path: Path, suffix: str) -> None:
    sitk = pytest.importorskip("SimpleITK", reason="MetaImage needs the itk extra")
    image = sitk.GetImageFromArray(phantom.volume())  # (z, y, x) = (slice, row, column)
    image.SetSpacing(tuple(float(v) for v in phantom.spacing[::-1]))
    image.SetOrigin(tuple(float(v) for v in phantom.origin))
    image.SetDirection(tuple(float(v) for v in phantom.direction[:, ::-1].ravel()))
    path = tmp_path / f"v{suffix}"
    sitk.WriteImage(image, str(path))
    volume = read_image(path)
    assert isinstance(volume, Volume)
    assert volume.grid.spatial_shape == phantom.shape
    np.testing.assert_allclose(volume.grid.spacing, phantom.spacing, atol=1e-6)
    np.testing.assert_allclose(volume.grid.direction, phantom.direction, atol=1e-6)
    np.testing.assert_allclose(volume.grid.origin, phantom.origin, atol=1e-6)
    np.testing.assert_array_equal(volume.array, phantom.volume())
    assert read_header(path).grid.matches(volume.grid)
    labels = sitk.GetImageFromArray(phantom.labels())
    labels.CopyInformation(image)
    sitk.WriteImage(labels, str(tmp_path / "l.mha"))
    segmentation = read_image(tmp_path / "l.mha", image_type="LabelMap")
    assert isinstance(segmentation, Segmentation)
    np.testing.assert_array_equal(segmentation.layers[0], phantom.labels())


def test_without_simpleitk_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "v.mha"
    path.write_text(
        "ObjectType = Image\nNDims = 3\nDimSize = 1 1 1\nElementType = MET_SHORT\nElementDataFile = LOCAL\n"
    )
    monkeypatch.setitem(sys.modules, "SimpleITK", None)  # what an environment without the extra does
    with pytest.raises(ImageReadError, match=r"v\.mha: MetaImage files are read with SimpleITK.*sessionkit\[itk\]"):
        read_image(path)
