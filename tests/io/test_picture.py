"""Vector pages' pictures (PNG, JPEG, BMP) written by Pillow; colour ones stay RGB up to the viewer's NIfTI."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import nrrd
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from sessionkit.cli import main
from sessionkit.errors import ImageReadError, SegmentationError
from sessionkit.imaging import Volume
from sessionkit.io import read_header, read_image, read_nifti, write_image, write_nifti
from sessionkit.scene.loading import ImageCache
from sessionkit.scene.resolve import resolve_page
from sessionkit.session.model import Location, Page, QuestionSet, Session, SessionImage


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


def test_16_bit_png_and_grey_rgb_jpeg(tmp_path: Path) -> None:
    deep = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "d.png")
    assert read_image(tmp_path / "d.png").array[0, 2, 3] == 55000  # type: ignore[union-attr]
    grey_rgb = np.repeat(np.arange(20, dtype=np.uint8).reshape(4, 5, 1) * 10, 3, axis=2)
    Image.fromarray(grey_rgb).save(tmp_path / "g.png")
    grey = read_image(tmp_path / "g.png")
    assert isinstance(grey, Volume) and not grey.is_rgb and grey.array.shape == (1, 4, 5)
    np.testing.assert_array_equal(grey.array[0], grey_rgb[..., 0])


def _colour_pixels() -> np.ndarray:
    """6 rows x 9 columns: red ramp along columns, green along rows, blue constant, marked corner."""
    rgb = np.zeros((6, 9, 3), dtype=np.uint8)
    rgb[..., 0] = np.arange(9, dtype=np.uint8) * 25
    rgb[..., 1] = (np.arange(6, dtype=np.uint8) * 40)[:, np.newaxis]
    rgb[..., 2] = 77
    rgb[0, 0] = (255, 255, 0)
    return rgb


def test_rgb_png_keeps_colour_and_orientation(tmp_path: Path) -> None:
    rgb = _colour_pixels()
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "c.png")  # alpha is dropped
    volume = read_image(tmp_path / "c.png", image_type="Vector")
    assert isinstance(volume, Volume) and volume.is_rgb and volume.frames == 1
    assert volume.array.shape == (1, 6, 9, 3) and volume.array.dtype == np.uint8
    np.testing.assert_array_equal(volume.array[0], rgb)
    np.testing.assert_allclose(volume.grid.index_to_lps([[0, 2, 5]]), [[5.0, 2.0, 0.0]])
    header = read_header(tmp_path / "c.png")
    assert header.grid.spatial_shape == (1, 6, 9) and header.frames == 1


def test_rgb_jpeg_and_bmp(tmp_path: Path) -> None:
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[..., 1] = 200  # pure green
    Image.fromarray(rgb).save(tmp_path / "c.jpg", quality=100)
    Image.fromarray(_colour_pixels()).save(tmp_path / "c.bmp")
    jpeg = read_image(tmp_path / "c.jpg")
    assert isinstance(jpeg, Volume) and jpeg.is_rgb
    assert np.abs(jpeg.array[0, 2, 2].astype(int) - (0, 200, 0)).max() <= 2  # lossy JPEG
    bmp = read_image(tmp_path / "c.bmp")
    assert isinstance(bmp, Volume) and bmp.is_rgb
    np.testing.assert_array_equal(bmp.array[0], _colour_pixels())


def test_rgb_picture_is_not_a_label_map(tmp_path: Path) -> None:
    Image.fromarray(_colour_pixels()).save(tmp_path / "c.png")
    with pytest.raises(ImageReadError, match="colour"):
        read_image(tmp_path / "c.png", image_type="LabelMap")


def test_rgb_png_to_nifti_rgb24(tmp_path: Path) -> None:
    """The NIfTI the viewer gets is RGB24 (datatype 128), read back by nibabel and by read_nifti."""
    rgb = _colour_pixels()
    Image.fromarray(rgb).save(tmp_path / "c.png")
    volume = read_image(tmp_path / "c.png")
    assert isinstance(volume, Volume)
    write_nifti(volume, tmp_path / "c.nii")
    image = nib.load(tmp_path / "c.nii")
    assert int(image.header["datatype"]) == 128 and int(image.header["bitpix"]) == 24
    data = np.asanyarray(image.dataobj)
    assert data.dtype.names == ("R", "G", "B") and data.shape == (9, 6, 1)  # (i, j, k)
    for channel, name in enumerate("RGB"):
        np.testing.assert_array_equal(data[name][:, :, 0].T, rgb[..., channel])
    grey_affine = nib.Nifti1Image.from_bytes(
        write_nifti(Volume(np.zeros((1, 6, 9), np.uint8), volume.grid), compression_level=None)
    ).affine
    np.testing.assert_array_equal(image.affine, grey_affine)  # same grid as a grey picture
    back = read_nifti(tmp_path / "c.nii")
    assert back.is_rgb and back.grid.matches(volume.grid)
    np.testing.assert_array_equal(back.array, volume.array)
    with pytest.raises(SegmentationError, match="RGB"):
        write_nifti(volume, label=True)


def test_broken_png_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(ImageReadError, match=r"broken\.png: cannot decode the picture"):
        read_image(tmp_path / "broken.png")


def test_vector_picture_is_a_background_volume_in_the_scene(tmp_path: Path) -> None:
    """The resolver puts a Vector image in the Background; the viewer's bytes for it are RGB24."""
    Image.fromarray(_colour_pixels()).save(tmp_path / "c.png")
    location = Location("t.xml")
    image = SessionImage(id="Pic", type="Vector", index=1, location=location, path="c.png", raw_path="c.png")
    page = Page(id="P1", index=1, location=location, images=(image,), question_sets=(QuestionSet(1, location),))
    session = Session(file="t.xml", sha256="0", location=location, pages=(page,))
    cache = ImageCache(tmp_path)
    scene = resolve_page(session, page, cache.get)
    (layer,) = scene.views[0].layers
    assert (layer.role, layer.kind, layer.sequence) == ("Background", "volume", False)
    (source,) = scene.volumes
    assert not source.label
    nifti = nib.Nifti1Image.from_bytes(gzip.decompress(cache.nifti(source)))
    assert int(nifti.header["datatype"]) == 128


def test_rgb_volume_to_nrrd_rgb_color_axis(tmp_path: Path) -> None:
    """NRRD keeps the colour as a leading ``RGB-color`` axis (checked with pynrrd) and reads back RGB."""
    Image.fromarray(_colour_pixels()).save(tmp_path / "c.png")
    volume = read_image(tmp_path / "c.png")
    assert isinstance(volume, Volume)
    write_image(volume, tmp_path / "c.nrrd")
    data, header = nrrd.read(str(tmp_path / "c.nrrd"))  # Fortran order: (channel, i, j, k)
    assert list(header["kinds"]) == ["RGB-color", "domain", "domain", "domain"] and data.shape == (3, 9, 6, 1)
    np.testing.assert_array_equal(data[:, 0, 0, 0], (255, 255, 0))  # the marked corner
    back = read_image(tmp_path / "c.nrrd")
    assert isinstance(back, Volume) and back.is_rgb and back.grid.matches(volume.grid)
    np.testing.assert_array_equal(back.array, volume.array)
    assert read_header(tmp_path / "c.nrrd").frames == 1


def test_inspect_shows_a_colour_picture(tmp_path: Path) -> None:
    Image.fromarray(_colour_pixels()).save(tmp_path / "c.png")
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert "colour picture" in result.output and "[1, 6, 9]" in result.output
