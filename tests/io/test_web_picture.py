"""Picture-question files for the browser (D17): browser formats unchanged, other Qt rasters as PNG."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from sessionkit.errors import ImageReadError
from sessionkit.io.web_picture import read_web_picture


def test_browser_formats_unchanged_and_qt_rasters_converted(tmp_path: Path) -> None:
    Image.new("RGB", (3, 2), (10, 20, 30)).save(tmp_path / "a.JPG", format="JPEG")
    data, media_type = read_web_picture(tmp_path / "a.JPG")
    assert media_type == "image/jpeg" and data == (tmp_path / "a.JPG").read_bytes()
    Image.new("RGB", (3, 2), (10, 20, 30)).save(tmp_path / "b.ppm")
    data, media_type = read_web_picture(tmp_path / "b.ppm")
    png = Image.open(io.BytesIO(data))
    assert media_type == "image/png" and png.format == "PNG" and png.getpixel((2, 1)) == (10, 20, 30)


def test_unknown_missing_or_corrupt_pictures_are_image_read_errors(tmp_path: Path) -> None:
    (tmp_path / "x.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "y.tif").write_bytes(b"not a tiff")
    with pytest.raises(ImageReadError, match="not a picture format"):
        read_web_picture(tmp_path / "x.svg")
    with pytest.raises(ImageReadError, match="cannot decode"):
        read_web_picture(tmp_path / "y.tif")
    with pytest.raises(ImageReadError, match="does not exist"):
        read_web_picture(tmp_path / "z.png")
