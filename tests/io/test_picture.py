"""Vector pages' pictures (PNG, JPEG) written by Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Volume
from sessionkit.io import read_header, read_image


def test_grey_png_keeps_values_and_orientation(tmp_path: Path) -> None:
    pixels = np.arange(6 * 9, dtype=np.uint8).reshape(6, 9)  # 6 rows, 9 columns
    Image.fromarray(pixels).save(tmp_path / "p.png")
    volume = read_image(tmp_path / "p.png", image_type="Vector")
    assert isinstance(volume, Volume)
    assert volume.grid.spatial_shape == (1, 6, 9)
    np.testing.assert_array_equal(volume.array[0], pixels)
    # column -> +x (left), row -> +y (posterior), 1 mm
    np.testing.assert_allclose(volume.grid.index_to_lps([[0, 2, 5]]), [[5.0, 2.0, 0.0]])
    assert read_header(tmp_path / "p.png").format == "picture"


def test_16_bit_png_and_rgb_jpeg(tmp_path: Path) -> None:
    deep = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "d.png")
    assert read_image(tmp_path / "d.png").array[0, 2, 3] == 55000  # type: ignore[union-attr]
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[..., 1] = 200  # pure green
    Image.fromarray(rgb).save(tmp_path / "c.jpg", quality=100)
    grey = read_image(tmp_path / "c.jpg")
    assert isinstance(grey, Volume) and grey.array.shape == (1, 4, 5)
    assert abs(int(grey.array[0, 2, 2]) - round(0.587 * 200)) <= 2  # ITU-R 601-2 luminance


def test_broken_png_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(ImageReadError, match=r"broken\.png: cannot decode the picture"):
        read_image(tmp_path / "broken.png")
